import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Database, Executor } from '../../db/client';
import { initiatives, jurisdictions } from '../../db/schema';
import { webhookDeliveries, webhookSubscriptions } from '../../db/schema-webhooks';
import { afterCursor, pageOf } from '../../platform/cursor';
import type { AppDeps, Principal } from '../../platform/http';
import { problems } from '../../platform/problems';
import { appendAudit } from '../audit/service';
import type { CreateWebhook, DeliveriesQuery } from './schema';
import { generateWebhookSecret, sealWebhookSecret } from './secret';
import { AddressRefusedError, checkedAddresses, resolveWithNodeDns } from './sender';

export type SubscriptionRow = typeof webhookSubscriptions.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** Enough for any integration; bounds what one account can make the dispatcher do. */
const MAX_SUBSCRIPTIONS_PER_OWNER = 25;

/**
 * Subscribing an address to events, and turning it on or off, goes into the audit trail of the
 * jurisdiction concerned (an initiative's: its jurisdiction's), where its clerks see who sends what where.
 */
async function auditWebhook(tx: Executor, action: 'webhook.created' | 'webhook.enabled' | 'webhook.deleted', row: SubscriptionRow, actor: string, at: Date) {
  let jurisdictionId = row.jurisdictionId;
  if (!jurisdictionId && row.initiativeId) {
    const [initiative] = await tx.select({ jurisdictionId: initiatives.jurisdictionId }).from(initiatives).where(eq(initiatives.id, row.initiativeId));
    jurisdictionId = initiative?.jurisdictionId ?? null;
  }
  await appendAudit(tx, { actor, action, at, jurisdictionId, initiativeId: row.initiativeId, details: { webhook: row.id, ...auditedAddress(row.url), events: row.events } });
}

/**
 * Where a subscription sends, as the permanent audit trail keeps it: the origin, and a SHA-256 of the
 * whole address that its owner's copy can be matched against. Many receivers (chat webhooks) take
 * the address itself as their secret, in its path or query; the clerks who read the trail must not
 * be able to post to it.
 */
function auditedAddress(url: string): { destination: string; urlSha256: string } {
  return { destination: new URL(url).origin, urlSha256: bytesToHex(sha256(new TextEncoder().encode(url))) };
}

export function webhookView(row: SubscriptionRow) {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    jurisdictionId: row.jurisdictionId,
    initiativeId: row.initiativeId,
    status: row.status,
    disabledReason: row.disabledReason,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

export function deliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    eventId: row.eventId,
    eventType: row.eventType,
    status: row.status,
    attempts: row.attempts,
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    nextAttemptAt: row.status === 'pending' ? row.nextAttemptAt.toISOString() : null,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Refuses a URL whose host is, or resolves to, a loopback, link-local or private address. */
export async function assertDeliverableUrl(deps: Pick<AppDeps, 'config' | 'webhooks'>, url: string, field = 'body.url'): Promise<void> {
  if (deps.config.webhookAllowPrivate) return;
  const { hostname } = new URL(url);
  try {
    await checkedAddresses(hostname, false, deps.webhooks?.resolve ?? resolveWithNodeDns);
  } catch (error) {
    if (error instanceof AddressRefusedError) {
      throw problems.validation(
        [{ field, message: `The host resolves to ${error.address}: loopback, link-local and private addresses are refused.` }],
        'Webhooks are only delivered to public addresses.',
      );
    }
    throw problems.validation([{ field, message: `The host "${hostname}" does not resolve.` }]);
  }
}

export async function createWebhook(deps: AppDeps, principal: Principal, input: CreateWebhook, now: Date) {
  const db = deps.db.db;
  if (input.jurisdictionId) {
    if (!principal.isAdmin) throw problems.forbidden("Only an administrator may subscribe to a jurisdiction's events.");
    const [found] = await db.select({ id: jurisdictions.id }).from(jurisdictions).where(eq(jurisdictions.id, input.jurisdictionId));
    if (!found) throw problems.validation([{ field: 'body.jurisdictionId', message: `Unknown jurisdiction "${input.jurisdictionId}".` }]);
  } else {
    const [initiative] = await db
      .select({ sponsorSubject: initiatives.sponsorSubject, status: initiatives.status })
      .from(initiatives)
      .where(eq(initiatives.id, input.initiativeId!));
    // A draft is seen by its sponsor alone: to anyone else it is as unknown here as on its own page.
    const hidden = initiative?.status === 'draft' && initiative.sponsorSubject !== principal.subject && !principal.isAdmin;
    if (!initiative || hidden) throw problems.validation([{ field: 'body.initiativeId', message: `Unknown initiative "${input.initiativeId}".` }]);
    if (initiative.sponsorSubject !== principal.subject && !principal.isAdmin) {
      throw problems.forbidden("Only the initiative's sponsor may subscribe to its events.");
    }
  }
  await assertDeliverableUrl(deps, input.url);

  const [owned] = await db.select({ n: count() }).from(webhookSubscriptions).where(eq(webhookSubscriptions.ownerSubject, principal.subject));
  if ((owned?.n ?? 0) >= MAX_SUBSCRIPTIONS_PER_OWNER) {
    throw problems.conflict('too-many-webhooks', 'Too many webhooks', `At most ${MAX_SUBSCRIPTIONS_PER_OWNER} webhooks per account; delete one first.`);
  }
  const secret = generateWebhookSecret();
  const sealed = await sealWebhookSecret(deps.keys, secret);
  const row = await db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(webhookSubscriptions)
      .values({
        id: crypto.randomUUID(),
        ownerSubject: principal.subject,
        jurisdictionId: input.jurisdictionId ?? null,
        initiativeId: input.initiativeId ?? null,
        url: input.url,
        events: input.events,
        secret: sealed,
        status: 'active',
        createdAt: now,
      })
      .returning();
    await auditWebhook(tx, 'webhook.created', inserted!, principal.subject, now);
    return inserted!;
  });
  return { ...webhookView(row), secret };
}

export async function listWebhooks(db: Database, principal: Principal) {
  return db
    .select()
    .from(webhookSubscriptions)
    .where(eq(webhookSubscriptions.ownerSubject, principal.subject))
    .orderBy(desc(webhookSubscriptions.createdAt), desc(webhookSubscriptions.id));
}

/** The caller's own subscription; someone else's is "not found" so ids reveal nothing. */
export async function ownWebhook(db: Database, principal: Principal, id: string): Promise<SubscriptionRow> {
  const [row] = await db
    .select()
    .from(webhookSubscriptions)
    .where(and(eq(webhookSubscriptions.id, id), eq(webhookSubscriptions.ownerSubject, principal.subject)));
  if (!row) throw problems.notFound('Webhook', id);
  return row;
}

/**
 * Turns one of the caller's disabled subscriptions back on (its address is checked again): events
 * from now on are delivered, not those that happened while it was off; its failed deliveries stay in its log.
 */
export async function enableWebhook(deps: AppDeps, principal: Principal, id: string, now: Date): Promise<SubscriptionRow> {
  const db = deps.db.db;
  const row = await ownWebhook(db, principal, id);
  if (row.status === 'active') return row;
  // The subscription's own address, not a field of this request.
  await assertDeliverableUrl(deps, row.url, 'url');
  return db.transaction(async (tx) => {
    const [updated] = await tx
      .update(webhookSubscriptions)
      .set({ status: 'active', disabledAt: null, disabledReason: null })
      .where(and(eq(webhookSubscriptions.id, id), eq(webhookSubscriptions.ownerSubject, principal.subject)))
      .returning();
    if (!updated) throw problems.notFound('Webhook', id);
    await auditWebhook(tx, 'webhook.enabled', updated, principal.subject, now);
    return updated;
  });
}

export async function deleteWebhook(db: Database, principal: Principal, id: string, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    const [deleted] = await tx
      .delete(webhookSubscriptions)
      .where(and(eq(webhookSubscriptions.id, id), eq(webhookSubscriptions.ownerSubject, principal.subject)))
      .returning();
    if (!deleted) throw problems.notFound('Webhook', id);
    await auditWebhook(tx, 'webhook.deleted', deleted, principal.subject, now);
  });
}

export async function listDeliveries(db: Database, principal: Principal, id: string, query: DeliveriesQuery) {
  await ownWebhook(db, principal, id);
  const conditions: (SQL | undefined)[] = [eq(webhookDeliveries.subscriptionId, id)];
  if (query.status) conditions.push(eq(webhookDeliveries.status, query.status));
  if (query.cursor) {
    conditions.push(afterCursor(query.cursor, webhookDeliveries.createdAt, webhookDeliveries.id));
  }
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(...conditions))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(query.limit + 1);
  const page = pageOf(rows, query.limit, (row) => ({ at: row.createdAt, id: row.id }));
  return { items: page.items.map(deliveryView), nextCursor: page.nextCursor };
}
