DROP INDEX "outbox_undispatched";--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "sequence" bigint NOT NULL GENERATED ALWAYS AS IDENTITY (sequence name "outbox_sequence_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1);--> statement-breakpoint
CREATE INDEX "outbox_undispatched" ON "outbox" USING btree ("sequence") WHERE dispatched_at is null;