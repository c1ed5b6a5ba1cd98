import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { auditEntryHash } from '../../core/audit-chain';
import type { Database, Executor } from '../../db/client';
import { auditHead, auditLog } from '../../db/schema';

export interface AuditEntry {
  actor: string;
  action: string;
  at: Date;
  jurisdictionId?: string | null;
  initiativeId?: string | null;
  details?: Record<string, unknown>;
}

/** The hash of an entry after `prevHash` (the recipe is in core, shared with the standalone verifier). */
export function auditEntryDigest(prevHash: string, e: { seq: number; at: Date; actor: string; action: string; jurisdictionId: string | null; initiativeId: string | null; details: Record<string, unknown> }): string {
  return auditEntryHash(prevHash, { ...e, at: e.at.toISOString() });
}

/** Appends to the hash chain inside the caller's transaction; the head row serialises appenders. */
export async function appendAudit(tx: Executor, entry: AuditEntry): Promise<void> {
  await tx.insert(auditHead).values({ id: 1, seq: 0, hash: '' }).onConflictDoNothing();
  const [head] = await tx.select().from(auditHead).where(eq(auditHead.id, 1)).for('update');
  const seq = head!.seq + 1;
  const row = {
    seq,
    at: entry.at,
    actor: entry.actor,
    action: entry.action,
    jurisdictionId: entry.jurisdictionId ?? null,
    initiativeId: entry.initiativeId ?? null,
    details: entry.details ?? {},
  };
  const hash = auditEntryDigest(head!.hash, row);
  await tx.insert(auditLog).values({ ...row, prevHash: head!.hash, hash });
  await tx.update(auditHead).set({ seq, hash }).where(eq(auditHead.id, 1));
}

/** The newest entry of the whole trail (seq 0 and an empty hash before the first), as the head row holds it. */
export async function auditTrailHead(db: Executor): Promise<{ seq: number; hash: string; at: Date | null }> {
  const [row] = await db
    .select({ seq: auditHead.seq, hash: auditHead.hash, at: auditLog.at })
    .from(auditHead)
    .leftJoin(auditLog, eq(auditLog.seq, auditHead.seq))
    .where(eq(auditHead.id, 1));
  return row ?? { seq: 0, hash: '', at: null };
}

export interface AuditQuery {
  jurisdictionIds: string[] | 'all';
  initiativeId?: string;
  jurisdictionId?: string;
  action?: string;
  actor?: string;
  /** Entries at or after this instant. */
  from?: Date;
  /** Entries before this instant. */
  to?: Date;
  before?: number;
  limit: number;
}

export async function listAudit(db: Database, q: AuditQuery) {
  const where: SQL[] = [];
  if (q.jurisdictionIds !== 'all') {
    if (q.jurisdictionIds.length === 0) return [];
    where.push(sql`${auditLog.jurisdictionId} in ${q.jurisdictionIds}`);
  }
  if (q.initiativeId) where.push(eq(auditLog.initiativeId, q.initiativeId));
  if (q.jurisdictionId) where.push(eq(auditLog.jurisdictionId, q.jurisdictionId));
  if (q.action) where.push(eq(auditLog.action, q.action));
  if (q.actor) where.push(eq(auditLog.actor, q.actor));
  if (q.from) where.push(gte(auditLog.at, q.from));
  if (q.to) where.push(lt(auditLog.at, q.to));
  if (q.before) where.push(lt(auditLog.seq, q.before));
  return db
    .select()
    .from(auditLog)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(auditLog.seq))
    .limit(q.limit);
}

/** Recomputes the chain from the first entry; returns the first broken sequence number, if any. */
export async function verifyAuditChain(db: Database): Promise<{ ok: boolean; entries: number; brokenAt?: number }> {
  const rows = await db.select().from(auditLog).orderBy(auditLog.seq);
  let prev = '';
  for (const row of rows) {
    if (row.prevHash !== prev || auditEntryDigest(prev, row) !== row.hash) return { ok: false, entries: rows.length, brokenAt: row.seq };
    prev = row.hash;
  }
  return { ok: true, entries: rows.length };
}
