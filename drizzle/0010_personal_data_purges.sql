CREATE TABLE "personal_data_purges" (
	"initiative_id" uuid PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"begun_at" timestamp with time zone NOT NULL,
	"after_created_at" timestamp with time zone,
	"after" uuid,
	"destroyed" integer DEFAULT 0 NOT NULL,
	"done_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "personal_data_purges" ADD CONSTRAINT "personal_data_purges_initiative_id_initiatives_id_fk" FOREIGN KEY ("initiative_id") REFERENCES "public"."initiatives"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Purges finished before pages: each recorded by its audit entry, done at its time.
INSERT INTO "personal_data_purges" ("initiative_id", "status", "begun_at", "destroyed", "done_at")
SELECT DISTINCT ON ("initiative_id") "initiative_id", coalesce("details"->>'status', ''), "at", coalesce(("details"->>'signatures')::int, 0), "at"
FROM "audit_log"
WHERE "action" = 'personal-data.destroyed' AND "initiative_id" IS NOT NULL
ORDER BY "initiative_id", "seq";
