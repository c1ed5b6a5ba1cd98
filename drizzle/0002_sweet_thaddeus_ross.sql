CREATE TABLE "verification_decisions" (
	"initiative_id" uuid NOT NULL,
	"signature_id" uuid NOT NULL,
	"decision" text NOT NULL,
	"reason" text,
	"source" text NOT NULL,
	"clerk" text NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	CONSTRAINT "verification_decisions_initiative_id_signature_id_pk" PRIMARY KEY("initiative_id","signature_id")
);
--> statement-breakpoint
CREATE TABLE "verification_roll_checks" (
	"initiative_id" uuid NOT NULL,
	"signature_id" uuid NOT NULL,
	"result" text NOT NULL,
	"roll_district" text,
	CONSTRAINT "verification_roll_checks_initiative_id_signature_id_pk" PRIMARY KEY("initiative_id","signature_id")
);
--> statement-breakpoint
CREATE TABLE "verification_samples" (
	"initiative_id" uuid NOT NULL,
	"signature_id" uuid NOT NULL,
	"position" integer NOT NULL,
	CONSTRAINT "verification_samples_initiative_id_signature_id_pk" PRIMARY KEY("initiative_id","signature_id")
);
--> statement-breakpoint
ALTER TABLE "verifications" ADD COLUMN "population" integer;--> statement-breakpoint
CREATE INDEX "verification_decisions_decided" ON "verification_decisions" USING btree ("initiative_id","decided_at");--> statement-breakpoint
CREATE UNIQUE INDEX "verification_samples_position" ON "verification_samples" USING btree ("initiative_id","position");