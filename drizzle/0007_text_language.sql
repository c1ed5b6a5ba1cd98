ALTER TABLE "initiatives" ADD COLUMN "language" text DEFAULT 'fr' NOT NULL;--> statement-breakpoint
ALTER TABLE "referendum_items" ADD COLUMN "language" text DEFAULT 'fr' NOT NULL;