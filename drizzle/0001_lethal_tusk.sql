CREATE TABLE "paper_batches" (
	"initiative_id" uuid NOT NULL,
	"digest" "bytea" NOT NULL,
	"entries" integer NOT NULL,
	"keyed_by" text NOT NULL,
	"keyed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "paper_batches_initiative_id_digest_pk" PRIMARY KEY("initiative_id","digest")
);
--> statement-breakpoint
CREATE TABLE "paper_entry_tallies" (
	"initiative_id" uuid NOT NULL,
	"sheet" text NOT NULL,
	"collector" text NOT NULL,
	"outcome" text NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "paper_entry_tallies_initiative_id_sheet_collector_outcome_pk" PRIMARY KEY("initiative_id","sheet","collector","outcome")
);
--> statement-breakpoint
CREATE TABLE "roll_entries" (
	"import_id" uuid NOT NULL,
	"roll_hash" "bytea" NOT NULL,
	"district" text NOT NULL,
	CONSTRAINT "roll_entries_import_id_roll_hash_pk" PRIMARY KEY("import_id","roll_hash")
);
--> statement-breakpoint
CREATE TABLE "roll_imports" (
	"id" uuid PRIMARY KEY NOT NULL,
	"jurisdiction_id" text NOT NULL,
	"key_version" text NOT NULL,
	"status" text NOT NULL,
	"imported_by" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	"imported" integer,
	"rejected" integer,
	"duplicates" integer
);
--> statement-breakpoint
ALTER TABLE "signatures" ADD COLUMN "personal_data" text;--> statement-breakpoint
ALTER TABLE "signatures" ADD COLUMN "sheet" text;--> statement-breakpoint
ALTER TABLE "signatures" ADD COLUMN "collector" text;--> statement-breakpoint
ALTER TABLE "roll_imports" ADD CONSTRAINT "roll_imports_jurisdiction_id_jurisdictions_id_fk" FOREIGN KEY ("jurisdiction_id") REFERENCES "public"."jurisdictions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "roll_imports_one_current" ON "roll_imports" USING btree ("jurisdiction_id") WHERE status = 'current';--> statement-breakpoint
CREATE UNIQUE INDEX "roll_imports_one_loading" ON "roll_imports" USING btree ("jurisdiction_id") WHERE status = 'loading';--> statement-breakpoint
CREATE INDEX "roll_imports_jurisdiction" ON "roll_imports" USING btree ("jurisdiction_id","started_at");