import { and, asc, eq, inArray, isNotNull, isNull, lt, lte, ne, notExists, or, sql, type SQL } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import type { Database } from '../../db/client';
import { outbox } from '../../db/schema';
import { webhookDeliveries, webhookSubscriptions } from '../../db/schema-webhooks';
import type { AppDeps } from '../../platform/http';
import { atMostEvery } from '../../platform/scheduler';
import { openWebhookSecret, WebhookSecretKeyError } from './secret';
import { DeliveryError, nodeWebhookSender, resolveWithNodeDns, type WebhookSender } from './sender';

const FAN_OUT_BATCH = 100;
const FAN_OUT_BATCHES_PER_TICK = 10;
const DELIVERY_BATCH = 20;
/** How long a claimed delivery is left to the process that claimed it before another may retry it. */
const CLAIM_LEASE_MS = 60_000;
export const RETRY_FOR_MS = 24 * 3_600_000;
const FIRST_RETRY_MS = 5_000;
const LONGEST_RETRY_MS = 3_600_000;
const DEFAULT_TIMEOUT_MS = 5_000;
/** How long a finished delivery stays in its subscription's log, and a dispatched event in the outbox. */
export const WEBHOOK_HISTORY_DAYS = 30;
/** Rows deleted per statement: a backlog is worked off without one long transaction. */
const PURGE_BATCH = 5_000;
/** The purge reads the deliveries by age (no index): once an hour is enough. */
const PURGE_EVERY_MS = 3_600_000;

/** Delay before retry number `attempt` (1-based): doubling from 5 s up to an hour, with jitter so failures spread out. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}

/**
 * Scheduler task: fans new outbox events out to matching subscriptions, then sends the deliveries
 * that are due. At least once: a delivery is marked delivered only after a 2xx answer.
 */
export async function dispatchWebhooks(deps: AppDeps, now: Date): Promise<{ fannedOut: number; attempted: number; delivered: number }> {
  let fannedOut = 0;
  for (let i = 0; i < FAN_OUT_BATCHES_PER_TICK; i++) {
    const n = await fanOut(deps.db.db, now);
    fannedOut += n;
    if (n < FAN_OUT_BATCH) break;
  }
  const { attempted, delivered } = await deliverDue(deps, now);
  return { fannedOut, attempted, delivered };
}

/** One delivery per event and matching subscription; SKIP LOCKED lets two engines share the outbox. */
async function fanOut(db: Database, now: Date): Promise<number> {
  return db.transaction(async (tx) => {
    const events = await tx
      .select({ id: outbox.id, type: outbox.type, initiativeId: outbox.initiativeId, jurisdictionId: outbox.jurisdictionId, createdAt: outbox.createdAt })
      .from(outbox)
      .where(isNull(outbox.dispatchedAt))
      .orderBy(asc(outbox.sequence))
      .limit(FAN_OUT_BATCH)
      .for('update', { skipLocked: true });
    if (events.length === 0) return 0;
    const jurisdictionIds = [...new Set(events.map((e) => e.jurisdictionId).filter((v): v is string => !!v))];
    const initiativeIds = [...new Set(events.map((e) => e.initiativeId).filter((v): v is string => !!v))];
    const scopes = [
      ...(jurisdictionIds.length ? [inArray(webhookSubscriptions.jurisdictionId, jurisdictionIds)] : []),
      ...(initiativeIds.length ? [inArray(webhookSubscriptions.initiativeId, initiativeIds)] : []),
    ];
    const subscriptions = scopes.length
      ? await tx
          .select({
            id: webhookSubscriptions.id,
            jurisdictionId: webhookSubscriptions.jurisdictionId,
            initiativeId: webhookSubscriptions.initiativeId,
            events: webhookSubscriptions.events,
            createdAt: webhookSubscriptions.createdAt,
          })
          .from(webhookSubscriptions)
          .where(and(eq(webhookSubscriptions.status, 'active'), or(...scopes)))
      : [];
    const deliveries = events.flatMap((event) =>
      subscriptions
        .filter(
          (s) =>
            s.events.includes(event.type) &&
            // A subscription receives what happens after it was made, not the past.
            s.createdAt <= event.createdAt &&
            ((s.jurisdictionId !== null && s.jurisdictionId === event.jurisdictionId) || (s.initiativeId !== null && s.initiativeId === event.initiativeId)),
        )
        .map((s) => ({
          id: crypto.randomUUID(),
          subscriptionId: s.id,
          eventId: event.id,
          eventType: event.type,
          status: 'pending' as const,
          attempts: 0,
          nextAttemptAt: now,
          createdAt: now,
        })),
    );
    if (deliveries.length) await tx.insert(webhookDeliveries).values(deliveries).onConflictDoNothing();
    await tx.update(outbox).set({ dispatchedAt: now }).where(inArray(outbox.id, events.map((e) => e.id)));
    return events.length;
  });
}

interface Claimed {
  delivery: typeof webhookDeliveries.$inferSelect;
  subscription: { url: string; secret: string; status: string };
  event: { type: string; sequence: number; payload: Record<string, unknown>; createdAt: Date } | null;
}

/**
 * Claims due deliveries (SKIP LOCKED, then a lease written in the same transaction, so no other
 * process picks them while they are in flight) and sends them outside any transaction.
 */
async function deliverDue(deps: AppDeps, now: Date): Promise<{ attempted: number; delivered: number }> {
  const db = deps.db.db;
  const claimed: Claimed[] = await db.transaction(async (tx) => {
    const rows = await tx
      .select({
        delivery: webhookDeliveries,
        subscription: { url: webhookSubscriptions.url, secret: webhookSubscriptions.secret, status: webhookSubscriptions.status },
        event: { type: outbox.type, sequence: outbox.sequence, payload: outbox.payload, createdAt: outbox.createdAt },
      })
      .from(webhookDeliveries)
      .innerJoin(webhookSubscriptions, eq(webhookSubscriptions.id, webhookDeliveries.subscriptionId))
      .leftJoin(outbox, eq(outbox.id, webhookDeliveries.eventId))
      .where(and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now)))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(DELIVERY_BATCH)
      .for('update', { of: webhookDeliveries, skipLocked: true });
    if (rows.length === 0) return [];
    await tx
      .update(webhookDeliveries)
      .set({ nextAttemptAt: new Date(now.getTime() + CLAIM_LEASE_MS), attempts: sql`${webhookDeliveries.attempts} + 1`, lastAttemptAt: now })
      .where(inArray(webhookDeliveries.id, rows.map((r) => r.delivery.id)));
    return rows as Claimed[];
  });

  const send = deps.webhooks?.send ?? nodeWebhookSender(deps.webhooks?.resolve ?? resolveWithNodeDns);
  const outcomes = await Promise.all(claimed.map((c) => attempt(deps, send, c, now)));
  return { attempted: claimed.length, delivered: outcomes.filter(Boolean).length };
}

async function attempt(deps: AppDeps, send: WebhookSender, claimed: Claimed, now: Date): Promise<boolean> {
  const { delivery, subscription, event } = claimed;
  const db = deps.db.db;
  const attempts = delivery.attempts + 1;
  if (subscription.status !== 'active' || !event) {
    await db
      .update(webhookDeliveries)
      .set({ status: 'failed', attempts, lastError: event ? 'The subscription is disabled.' : 'The event no longer exists.' })
      .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.status, 'pending')));
    return false;
  }

  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const body = JSON.stringify({ type: event.type, sequence: event.sequence, timestamp: event.createdAt.toISOString(), data: event.payload });
    // The receiver checks the timestamp against its own wall clock to refuse replays: it is the real sending time.
    const sentAt = new Date();
    const signature = new Webhook(await openWebhookSecret(deps.keys, subscription.secret)).sign(delivery.id, sentAt, body);
    const response = await send({
      url: subscription.url,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'civic-initiative-engine-webhooks/1',
        'webhook-id': delivery.id,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      timeoutMs: deps.webhooks?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      allowPrivate: deps.config.webhookAllowPrivate ?? false,
    });
    statusCode = response.status;
    if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
  } catch (e) {
    error = e instanceof DeliveryError || e instanceof WebhookSecretKeyError ? e.message : 'The delivery could not be sent.';
  }

  if (!error) {
    await db
      .update(webhookDeliveries)
      .set({ status: 'delivered', attempts, deliveredAt: now, lastStatusCode: statusCode, lastError: null })
      .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.status, 'pending')));
    deps.logger.info('webhook delivered', { deliveryId: delivery.id, subscriptionId: delivery.subscriptionId, status: statusCode, attempts });
    return true;
  }

  const deadline = delivery.createdAt.getTime() + RETRY_FOR_MS;
  if (now.getTime() >= deadline) {
    await giveUp(db, delivery, attempts, statusCode, error, now);
    deps.logger.warn('webhook disabled', { deliveryId: delivery.id, subscriptionId: delivery.subscriptionId, error });
    return false;
  }
  const next = Math.min(now.getTime() + retryDelayMs(attempts), deadline);
  await db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: new Date(next), attempts, lastStatusCode: statusCode, lastError: error })
    .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.status, 'pending')));
  deps.logger.info('webhook attempt failed', { deliveryId: delivery.id, subscriptionId: delivery.subscriptionId, attempts, error });
  return false;
}

/** After 24 hours of failures: the delivery fails and the subscription is disabled, its other pending deliveries with it. */
async function giveUp(
  db: Database,
  delivery: Claimed['delivery'],
  attempts: number,
  statusCode: number | null,
  error: string,
  now: Date,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(webhookDeliveries)
      .set({ status: 'failed', attempts, lastStatusCode: statusCode, lastError: error })
      .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.status, 'pending')));
    await tx
      .update(webhookSubscriptions)
      .set({
        status: 'disabled',
        disabledAt: now,
        disabledReason: `Deliveries failed for 24 hours (last error: ${error}).`,
      })
      .where(and(eq(webhookSubscriptions.id, delivery.subscriptionId), eq(webhookSubscriptions.status, 'active')));
    await tx
      .update(webhookDeliveries)
      .set({ status: 'failed', lastError: 'The subscription was disabled.' })
      .where(and(eq(webhookDeliveries.subscriptionId, delivery.subscriptionId), eq(webhookDeliveries.status, 'pending')));
  });
}

/**
 * Scheduler task: forgets what the webhooks no longer need once WEBHOOK_HISTORY_DAYS have passed —
 * finished (delivered or failed) deliveries, then dispatched events that no pending delivery still
 * has to send — so that neither table grows without end. Runs once an hour at most.
 */
export function webhookHistoryPurger(deps: Pick<AppDeps, 'db'>) {
  const due = atMostEvery(PURGE_EVERY_MS);
  // The database is read at each run: on Workers it is bound to the request (the cron trigger's) running the task.
  return async (now: Date): Promise<{ deliveries: number; events: number }> => (due(now) ? purgeWebhookHistory(deps.db.db, now) : { deliveries: 0, events: 0 });
}

export async function purgeWebhookHistory(db: Database, now: Date): Promise<{ deliveries: number; events: number }> {
  const before = new Date(now.getTime() - WEBHOOK_HISTORY_DAYS * 86_400_000);
  const deliveries = await deleteInBatches(db, webhookDeliveries, and(ne(webhookDeliveries.status, 'pending'), lt(webhookDeliveries.createdAt, before)));
  const stillToSend = db
    .select({ one: sql`1` })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.eventId, outbox.id), eq(webhookDeliveries.status, 'pending')));
  const events = await deleteInBatches(db, outbox, and(isNotNull(outbox.dispatchedAt), lt(outbox.createdAt, before), notExists(stillToSend)));
  return { deliveries, events };
}

/** Deletes the rows `where` picks, PURGE_BATCH at a time: a backlog is worked off without one long transaction. */
async function deleteInBatches(db: Database, table: typeof webhookDeliveries | typeof outbox, where: SQL | undefined): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = db.select({ id: table.id }).from(table).where(where).limit(PURGE_BATCH);
    const n = (await db.delete(table).where(inArray(table.id, batch)).returning({ id: table.id })).length;
    total += n;
    if (n < PURGE_BATCH) return total;
  }
}
