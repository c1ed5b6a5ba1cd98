import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Webhook subscriptions: to a jurisdiction's events (admin) or one initiative's (its sponsor). */
export const webhookSubscriptions = pgTable(
  'webhook_subscriptions',
  {
    id: uuid('id').primaryKey(),
    ownerSubject: text('owner_subject').notNull(),
    jurisdictionId: text('jurisdiction_id'),
    initiativeId: uuid('initiative_id'),
    url: text('url').notNull(),
    events: jsonb('events').$type<string[]>().notNull(),
    /** The signing secret, encrypted (compact JWE) with a key derived from the personal-data key. */
    secret: text('secret').notNull(),
    status: text('status', { enum: ['active', 'disabled'] }).notNull(),
    disabledReason: text('disabled_reason'),
    disabledAt: at('disabled_at'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    index('webhook_subscriptions_owner').on(t.ownerSubject, t.createdAt),
    index('webhook_subscriptions_jurisdiction').on(t.jurisdictionId).where(sql`jurisdiction_id is not null`),
    index('webhook_subscriptions_initiative').on(t.initiativeId).where(sql`initiative_id is not null`),
  ],
);

/** One event to one subscription: pending until a 2xx answer, failed after 24 hours of retries. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey(),
    subscriptionId: uuid('subscription_id')
      .notNull()
      .references(() => webhookSubscriptions.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id').notNull(),
    eventType: text('event_type').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: at('next_attempt_at').notNull(),
    lastAttemptAt: at('last_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    deliveredAt: at('delivered_at'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    // Fan-out may run twice for one event (at least once): one delivery per event and subscription.
    uniqueIndex('webhook_deliveries_event').on(t.subscriptionId, t.eventId),
    index('webhook_deliveries_due').on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index('webhook_deliveries_log').on(t.subscriptionId, t.createdAt),
  ],
);
