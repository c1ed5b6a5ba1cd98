ALTER TABLE "verifications" ADD COLUMN "roll_check_import" uuid;--> statement-breakpoint
ALTER TABLE "verifications" ADD COLUMN "roll_check_requested_by" text;--> statement-breakpoint
ALTER TABLE "verifications" ADD COLUMN "roll_check_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "verifications" ADD COLUMN "roll_check_after" uuid;--> statement-breakpoint
ALTER TABLE "verifications" ADD COLUMN "roll_check_done_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "verifications" ADD COLUMN "roll_check_missing_key" text;