CREATE TABLE "audit_head" (
	"id" smallint PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"jurisdiction_id" text,
	"initiative_id" uuid,
	"details" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "committee_members" (
	"initiative_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"joined_at" timestamp with time zone NOT NULL,
	CONSTRAINT "committee_members_initiative_id_subject_pk" PRIMARY KEY("initiative_id","subject")
);
--> statement-breakpoint
CREATE TABLE "initiative_crossings" (
	"initiative_id" uuid NOT NULL,
	"key" text NOT NULL,
	"signatures" integer NOT NULL,
	"reached_at" timestamp with time zone NOT NULL,
	CONSTRAINT "initiative_crossings_initiative_id_key_pk" PRIMARY KEY("initiative_id","key")
);
--> statement-breakpoint
CREATE TABLE "initiatives" (
	"id" uuid PRIMARY KEY NOT NULL,
	"jurisdiction_id" text NOT NULL,
	"kind" text NOT NULL,
	"title" text NOT NULL,
	"summary" text NOT NULL,
	"text" text NOT NULL,
	"question" text,
	"sponsor_subject" text NOT NULL,
	"committee_code" text NOT NULL,
	"status" text NOT NULL,
	"rules" jsonb,
	"pepper_version" text NOT NULL,
	"opens_at" timestamp with time zone,
	"closes_at" timestamp with time zone,
	"reason" text,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jurisdiction_clerks" (
	"jurisdiction_id" text NOT NULL,
	"subject" text NOT NULL,
	"granted_by" text NOT NULL,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "jurisdiction_clerks_jurisdiction_id_subject_pk" PRIMARY KEY("jurisdiction_id","subject")
);
--> statement-breakpoint
CREATE TABLE "jurisdictions" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"electorate" integer NOT NULL,
	"minimum_age" integer NOT NULL,
	"require_roll" boolean DEFAULT false NOT NULL,
	"minimum_assurance" text NOT NULL,
	"committee_minimum" integer DEFAULT 0 NOT NULL,
	"time_zone" text DEFAULT 'Europe/Paris' NOT NULL,
	"districts" jsonb NOT NULL,
	"rules" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "log_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"initiative_id" uuid NOT NULL,
	"type" text NOT NULL,
	"ref" uuid NOT NULL,
	"data" "bytea" NOT NULL,
	"leaf_hash" "bytea" NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"leaf_index" bigint
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"initiative_id" uuid,
	"jurisdiction_id" text,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "referendum_items" (
	"id" uuid PRIMARY KEY NOT NULL,
	"initiative_id" uuid NOT NULL,
	"jurisdiction_id" text NOT NULL,
	"kind" text NOT NULL,
	"title" text NOT NULL,
	"question" text,
	"valid_signatures" integer NOT NULL,
	"districts" jsonb NOT NULL,
	"method" text NOT NULL,
	"certified_at" timestamp with time zone NOT NULL,
	"certificate" text NOT NULL,
	CONSTRAINT "referendum_items_initiative_id_unique" UNIQUE("initiative_id")
);
--> statement-breakpoint
CREATE TABLE "signature_counts" (
	"initiative_id" uuid NOT NULL,
	"district" text NOT NULL,
	"slot" smallint NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "signature_counts_initiative_id_district_slot_pk" PRIMARY KEY("initiative_id","district","slot")
);
--> statement-breakpoint
CREATE TABLE "signatures" (
	"id" uuid PRIMARY KEY NOT NULL,
	"initiative_id" uuid NOT NULL,
	"signer_hash" "bytea" NOT NULL,
	"key_version" text NOT NULL,
	"channel" text NOT NULL,
	"assurance" text NOT NULL,
	"district" text NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"withdrawn_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "verifications" (
	"initiative_id" uuid PRIMARY KEY NOT NULL,
	"method" text NOT NULL,
	"seed" text,
	"sample_size" integer,
	"started_by" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	"outcome" text,
	"reason" text
);
--> statement-breakpoint
ALTER TABLE "committee_members" ADD CONSTRAINT "committee_members_initiative_id_initiatives_id_fk" FOREIGN KEY ("initiative_id") REFERENCES "public"."initiatives"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "initiative_crossings" ADD CONSTRAINT "initiative_crossings_initiative_id_initiatives_id_fk" FOREIGN KEY ("initiative_id") REFERENCES "public"."initiatives"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "initiatives" ADD CONSTRAINT "initiatives_jurisdiction_id_jurisdictions_id_fk" FOREIGN KEY ("jurisdiction_id") REFERENCES "public"."jurisdictions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jurisdiction_clerks" ADD CONSTRAINT "jurisdiction_clerks_jurisdiction_id_jurisdictions_id_fk" FOREIGN KEY ("jurisdiction_id") REFERENCES "public"."jurisdictions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referendum_items" ADD CONSTRAINT "referendum_items_initiative_id_initiatives_id_fk" FOREIGN KEY ("initiative_id") REFERENCES "public"."initiatives"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referendum_items" ADD CONSTRAINT "referendum_items_jurisdiction_id_jurisdictions_id_fk" FOREIGN KEY ("jurisdiction_id") REFERENCES "public"."jurisdictions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verifications" ADD CONSTRAINT "verifications_initiative_id_initiatives_id_fk" FOREIGN KEY ("initiative_id") REFERENCES "public"."initiatives"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_initiative" ON "audit_log" USING btree ("initiative_id","seq");--> statement-breakpoint
CREATE INDEX "audit_jurisdiction" ON "audit_log" USING btree ("jurisdiction_id","seq");--> statement-breakpoint
CREATE INDEX "initiatives_status_closes" ON "initiatives" USING btree ("status","closes_at");--> statement-breakpoint
CREATE INDEX "initiatives_created" ON "initiatives" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "initiatives_jurisdiction" ON "initiatives" USING btree ("jurisdiction_id");--> statement-breakpoint
CREATE INDEX "jurisdiction_clerks_subject" ON "jurisdiction_clerks" USING btree ("subject");--> statement-breakpoint
CREATE UNIQUE INDEX "log_entries_leaf" ON "log_entries" USING btree ("initiative_id","leaf_index");--> statement-breakpoint
CREATE INDEX "log_entries_pending" ON "log_entries" USING btree ("initiative_id","id") WHERE leaf_index is null;--> statement-breakpoint
CREATE INDEX "log_entries_ref" ON "log_entries" USING btree ("initiative_id","ref");--> statement-breakpoint
CREATE INDEX "outbox_created" ON "outbox" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "signatures_one_per_signer" ON "signatures" USING btree ("initiative_id","signer_hash") WHERE status <> 'withdrawn';--> statement-breakpoint
CREATE INDEX "signatures_initiative_created" ON "signatures" USING btree ("initiative_id","created_at");