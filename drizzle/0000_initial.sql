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
	"created_at" timestamp with time zone NOT NULL,
	"dispatched_at" timestamp with time zone
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
	"withdrawn_at" timestamp with time zone,
	"personal_data" text,
	"sheet" text,
	"collector" text
);
--> statement-breakpoint
CREATE TABLE "verifications" (
	"initiative_id" uuid PRIMARY KEY NOT NULL,
	"method" text NOT NULL,
	"seed" text,
	"sample_size" integer,
	"population" integer,
	"started_by" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	"outcome" text,
	"reason" text
);
--> statement-breakpoint
CREATE TABLE "signature_hours" (
	"initiative_id" uuid NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"district" text NOT NULL,
	"signed" integer NOT NULL,
	"withdrawn" integer NOT NULL,
	CONSTRAINT "signature_hours_initiative_id_district_hour_pk" PRIMARY KEY("initiative_id","district","hour")
);
--> statement-breakpoint
CREATE TABLE "signature_rollup_seals" (
	"initiative_id" uuid PRIMARY KEY NOT NULL,
	"sealed_until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
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
CREATE TABLE "rate_limit_counters" (
	"key" "bytea" PRIMARY KEY NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer NOT NULL
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
CREATE TABLE "log_nodes" (
	"initiative_id" uuid NOT NULL,
	"level" smallint NOT NULL,
	"idx" bigint NOT NULL,
	"hash" "bytea" NOT NULL,
	CONSTRAINT "log_nodes_initiative_id_level_idx_pk" PRIMARY KEY("initiative_id","level","idx")
);
--> statement-breakpoint
CREATE TABLE "log_sequencers" (
	"initiative_id" uuid PRIMARY KEY NOT NULL,
	"size" bigint NOT NULL,
	"root" "bytea" NOT NULL,
	"sequenced_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "log_tree_heads" (
	"initiative_id" uuid NOT NULL,
	"size" bigint NOT NULL,
	"root" "bytea" NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"signature" text NOT NULL,
	CONSTRAINT "log_tree_heads_initiative_id_size_pk" PRIMARY KEY("initiative_id","size")
);
--> statement-breakpoint
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
CREATE TABLE "webhook_deliveries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"subscription_id" uuid NOT NULL,
	"event_id" uuid NOT NULL,
	"event_type" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"last_status_code" integer,
	"last_error" text,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_subscriptions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_subject" text NOT NULL,
	"jurisdiction_id" text,
	"initiative_id" uuid,
	"url" text NOT NULL,
	"events" jsonb NOT NULL,
	"secret" text NOT NULL,
	"status" text NOT NULL,
	"disabled_reason" text,
	"disabled_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "committee_members" ADD CONSTRAINT "committee_members_initiative_id_initiatives_id_fk" FOREIGN KEY ("initiative_id") REFERENCES "public"."initiatives"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "initiative_crossings" ADD CONSTRAINT "initiative_crossings_initiative_id_initiatives_id_fk" FOREIGN KEY ("initiative_id") REFERENCES "public"."initiatives"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "initiatives" ADD CONSTRAINT "initiatives_jurisdiction_id_jurisdictions_id_fk" FOREIGN KEY ("jurisdiction_id") REFERENCES "public"."jurisdictions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jurisdiction_clerks" ADD CONSTRAINT "jurisdiction_clerks_jurisdiction_id_jurisdictions_id_fk" FOREIGN KEY ("jurisdiction_id") REFERENCES "public"."jurisdictions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referendum_items" ADD CONSTRAINT "referendum_items_initiative_id_initiatives_id_fk" FOREIGN KEY ("initiative_id") REFERENCES "public"."initiatives"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referendum_items" ADD CONSTRAINT "referendum_items_jurisdiction_id_jurisdictions_id_fk" FOREIGN KEY ("jurisdiction_id") REFERENCES "public"."jurisdictions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verifications" ADD CONSTRAINT "verifications_initiative_id_initiatives_id_fk" FOREIGN KEY ("initiative_id") REFERENCES "public"."initiatives"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "roll_imports" ADD CONSTRAINT "roll_imports_jurisdiction_id_jurisdictions_id_fk" FOREIGN KEY ("jurisdiction_id") REFERENCES "public"."jurisdictions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_subscription_id_webhook_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."webhook_subscriptions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
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
CREATE INDEX "outbox_undispatched" ON "outbox" USING btree ("created_at") WHERE dispatched_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX "signatures_one_per_signer" ON "signatures" USING btree ("initiative_id","signer_hash") WHERE status <> 'withdrawn';--> statement-breakpoint
CREATE INDEX "signatures_initiative_created" ON "signatures" USING btree ("initiative_id","created_at");--> statement-breakpoint
CREATE INDEX "signatures_initiative_withdrawn" ON "signatures" USING btree ("initiative_id","withdrawn_at") WHERE withdrawn_at is not null;--> statement-breakpoint
CREATE INDEX "rate_limit_counters_window" ON "rate_limit_counters" USING btree ("window_start");--> statement-breakpoint
CREATE UNIQUE INDEX "roll_imports_one_current" ON "roll_imports" USING btree ("jurisdiction_id") WHERE status = 'current';--> statement-breakpoint
CREATE UNIQUE INDEX "roll_imports_one_loading" ON "roll_imports" USING btree ("jurisdiction_id") WHERE status = 'loading';--> statement-breakpoint
CREATE INDEX "roll_imports_jurisdiction" ON "roll_imports" USING btree ("jurisdiction_id","started_at");--> statement-breakpoint
CREATE INDEX "verification_decisions_decided" ON "verification_decisions" USING btree ("initiative_id","decided_at");--> statement-breakpoint
CREATE UNIQUE INDEX "verification_samples_position" ON "verification_samples" USING btree ("initiative_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_event" ON "webhook_deliveries" USING btree ("subscription_id","event_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_log" ON "webhook_deliveries" USING btree ("subscription_id","created_at");--> statement-breakpoint
CREATE INDEX "webhook_subscriptions_owner" ON "webhook_subscriptions" USING btree ("owner_subject","created_at");--> statement-breakpoint
CREATE INDEX "webhook_subscriptions_jurisdiction" ON "webhook_subscriptions" USING btree ("jurisdiction_id") WHERE jurisdiction_id is not null;--> statement-breakpoint
CREATE INDEX "webhook_subscriptions_initiative" ON "webhook_subscriptions" USING btree ("initiative_id") WHERE initiative_id is not null;