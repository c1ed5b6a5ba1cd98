CREATE TABLE "signature_hours" (
	"initiative_id" uuid NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"district" text NOT NULL,
	"signed" integer NOT NULL,
	"withdrawn" integer NOT NULL,
	CONSTRAINT "signature_hours_initiative_id_hour_district_pk" PRIMARY KEY("initiative_id","hour","district")
);
--> statement-breakpoint
CREATE TABLE "signature_rollup_seals" (
	"initiative_id" uuid PRIMARY KEY NOT NULL,
	"sealed_until" timestamp with time zone NOT NULL
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
ALTER TABLE "outbox" ADD COLUMN "dispatched_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_subscription_id_webhook_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."webhook_subscriptions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_event" ON "webhook_deliveries" USING btree ("subscription_id","event_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_log" ON "webhook_deliveries" USING btree ("subscription_id","created_at");--> statement-breakpoint
CREATE INDEX "webhook_subscriptions_owner" ON "webhook_subscriptions" USING btree ("owner_subject","created_at");--> statement-breakpoint
CREATE INDEX "webhook_subscriptions_jurisdiction" ON "webhook_subscriptions" USING btree ("jurisdiction_id") WHERE jurisdiction_id is not null;--> statement-breakpoint
CREATE INDEX "webhook_subscriptions_initiative" ON "webhook_subscriptions" USING btree ("initiative_id") WHERE initiative_id is not null;--> statement-breakpoint
CREATE INDEX "outbox_undispatched" ON "outbox" USING btree ("created_at") WHERE dispatched_at is null;--> statement-breakpoint
CREATE INDEX "signatures_initiative_withdrawn" ON "signatures" USING btree ("initiative_id","withdrawn_at") WHERE withdrawn_at is not null;