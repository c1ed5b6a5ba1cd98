ALTER TABLE "committee_members" ADD COLUMN "member_hash" "bytea";--> statement-breakpoint
ALTER TABLE "committee_members" ADD COLUMN "key_version" text;--> statement-breakpoint
ALTER TABLE "initiatives" ADD COLUMN "sponsor_hash" "bytea";--> statement-breakpoint
CREATE UNIQUE INDEX "committee_members_one_per_person" ON "committee_members" USING btree ("initiative_id","member_hash");