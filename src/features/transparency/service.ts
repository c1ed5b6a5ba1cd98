import { and, asc, desc, eq, gte, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import {
  appendLeaves,
  consistencyProofRanges,
  EMPTY_ROOT,
  foldSubtrees,
  frontierOf,
  inclusionProofRanges,
  leafHash,
  rangeHash,
  subtreesForRanges,
  toBase64,
  type LeafRange,
  type Subtree,
  type SubtreeId,
} from '../../core/merkle';
import type { Executor, Transaction } from '../../db/client';
import { logEntries } from '../../db/schema';
import { logNodes, logSequencers, logTreeHeads } from '../../db/schema-transparency';
import type { AppDeps } from '../../platform/http';
import { signWithEngineKey } from '../../platform/keys';
import { Problem, problems } from '../../platform/problems';
import { getInitiative } from '../initiatives/service';

/** SPEC §6: the default maximum merge delay. */
export const DEFAULT_LOG_MERGE_DELAY_MS = 1000;
/** Entries integrated per transaction: bounds how long the sequencer row stays locked. */
const BATCH_SIZE = 4096;
/** Rows per statement when writing nodes or leaf indexes (keeps bind parameters well under 65535). */
const CHUNK = 1000;
/** Largest page of `GET /log/entries`. */
export const MAX_ENTRIES_PAGE = 1000;

export type LogDeps = Pick<AppDeps, 'db' | 'keys' | 'config'>;

export interface SignedTreeHead {
  size: number;
  /** Base64 of the RFC 9162 root hash. */
  root: string;
  timestamp: string;
  /** Compact JWS (EdDSA, typ tree-head+jwt) over initiative, size, root and timestamp. */
  signature: string;
}

export const mergeDelayMs = (deps: Pick<AppDeps, 'config'>) => deps.config.logMergeDelayMs ?? DEFAULT_LOG_MERGE_DELAY_MS;

function signTreeHead(deps: LogDeps, initiativeId: string, size: number, root: Uint8Array, timestamp: Date): Promise<string> {
  return signWithEngineKey(
    deps.keys,
    'tree-head+jwt',
    { initiative: initiativeId, size, root: toBase64(root), timestamp: timestamp.toISOString() },
    { issuer: deps.config.publicUrl, now: timestamp },
  );
}

const nodeKey = (node: SubtreeId) => `${node.level}/${node.index}`;

/** Reads stored complete subtrees in one query; a missing one means the stored tree is damaged. */
async function readSubtrees(db: Executor, initiativeId: string, ids: SubtreeId[]): Promise<(node: SubtreeId) => Uint8Array> {
  const found = new Map<string, Uint8Array>();
  if (ids.length > 0) {
    const rows = await db
      .select({ level: logNodes.level, index: logNodes.index, hash: logNodes.hash })
      .from(logNodes)
      .where(and(eq(logNodes.initiativeId, initiativeId), or(...ids.map((n) => and(eq(logNodes.level, n.level), eq(logNodes.index, n.index))))));
    for (const row of rows) found.set(nodeKey(row), row.hash);
  }
  return (node) => {
    const hash = found.get(nodeKey(node));
    if (!hash) throw new Error(`log of ${initiativeId} lacks subtree ${nodeKey(node)}`);
    return hash;
  };
}

/**
 * Integrates up to one batch of pending entries in the caller's transaction. The sequencer row,
 * locked FOR UPDATE, makes one sequencer at a time per initiative on any number of processes;
 * reading the frontier and writing the new subtrees costs O(k + log n).
 */
async function integrateBatch(deps: LogDeps, tx: Executor, initiativeId: string, now: Date): Promise<{ added: number; size: number }> {
  await tx.insert(logSequencers).values({ initiativeId, size: 0, root: EMPTY_ROOT, sequencedAt: now }).onConflictDoNothing();
  const [sequencer] = await tx.select().from(logSequencers).where(eq(logSequencers.initiativeId, initiativeId)).for('update');
  const size = sequencer!.size;
  const pending = await tx
    .select({ id: logEntries.id, data: logEntries.data })
    .from(logEntries)
    .where(and(eq(logEntries.initiativeId, initiativeId), isNull(logEntries.leafIndex)))
    .orderBy(asc(logEntries.id))
    .limit(BATCH_SIZE);
  if (pending.length === 0) return { added: 0, size };

  const frontierIds = frontierOf(size);
  const lookup = await readSubtrees(tx, initiativeId, frontierIds);
  const frontier: Subtree[] = frontierIds.map((id) => ({ ...id, hash: lookup(id) }));
  // The leaf is hashed from the stored bytes, so what /log/entries serves is what the tree holds.
  const { created, frontier: next } = appendLeaves(frontier, size, pending.map((p) => leafHash(p.data)));

  for (let i = 0; i < created.length; i += CHUNK) {
    await tx.insert(logNodes).values(created.slice(i, i + CHUNK).map((n) => ({ initiativeId, level: n.level, index: n.index, hash: n.hash })));
  }
  for (let i = 0; i < pending.length; i += CHUNK) {
    const chunk = pending.slice(i, i + CHUNK);
    const cases = sql.join(
      chunk.map((p, j) => sql`when ${p.id} then ${size + i + j}`),
      sql` `,
    );
    const updated = await tx
      .update(logEntries)
      .set({ leafIndex: sql`(case ${logEntries.id} ${cases} end)::bigint` })
      // Only entries still without a place: an integrated entry is never moved or rewritten.
      .where(and(inArray(logEntries.id, chunk.map((p) => p.id)), isNull(logEntries.leafIndex)))
      .returning({ id: logEntries.id });
    if (updated.length !== chunk.length) throw new Error(`log of ${initiativeId}: entries changed while being sequenced`);
  }

  const newSize = size + pending.length;
  const root = foldSubtrees(next.map((n) => n.hash));
  // Tree heads never go back in time, whatever the clocks of several engine processes say.
  const timestamp = now > sequencer!.sequencedAt ? now : sequencer!.sequencedAt;
  await tx.update(logSequencers).set({ size: newSize, root, sequencedAt: timestamp }).where(eq(logSequencers.initiativeId, initiativeId));
  const signature = await signTreeHead(deps, initiativeId, newSize, root, timestamp);
  await tx.insert(logTreeHeads).values({ initiativeId, size: newSize, root, timestamp, signature });
  return { added: pending.length, size: newSize };
}

/**
 * Integrates every pending entry of an initiative's log, one transaction per batch, each
 * ending with a new signed tree head. Signing never waits on this: entries queue meanwhile.
 */
export async function sequenceLog(deps: LogDeps, initiativeId: string, now: Date): Promise<{ added: number; size: number }> {
  let added = 0;
  for (;;) {
    const batch = await deps.db.db.transaction((tx) => integrateBatch(deps, tx, initiativeId, now));
    added += batch.added;
    if (batch.added < BATCH_SIZE) return { added, size: batch.size };
  }
}

/** The scheduler's task: sequences the log of every initiative that has pending entries. */
export async function sequenceLogs(deps: LogDeps & Pick<AppDeps, 'logger'>, now: Date): Promise<{ initiatives: number; added: number }> {
  const waiting = await deps.db.db.selectDistinct({ initiativeId: logEntries.initiativeId }).from(logEntries).where(isNull(logEntries.leafIndex));
  let added = 0;
  for (const { initiativeId } of waiting) {
    try {
      added += (await sequenceLog(deps, initiativeId, now)).added;
    } catch (error) {
      // One initiative's trouble must not hold back the others' merge delay.
      deps.logger.warn('log sequencing failed', { initiativeId, error: error instanceof Error ? error.message.split('\nparams:')[0] : String(error) });
    }
  }
  return { initiatives: waiting.length, added };
}

const headView = (row: typeof logTreeHeads.$inferSelect): SignedTreeHead => ({
  size: row.size,
  root: toBase64(row.root),
  timestamp: row.timestamp.toISOString(),
  signature: row.signature,
});

async function latestTreeHead(db: Executor, initiativeId: string): Promise<SignedTreeHead | null> {
  const [row] = await db.select().from(logTreeHeads).where(eq(logTreeHeads.initiativeId, initiativeId)).orderBy(desc(logTreeHeads.size)).limit(1);
  return row ? headView(row) : null;
}

/**
 * For the certificate: integrates anything still pending inside the verification's transaction
 * and returns the tree head that covers every entry of the initiative (null for an empty log).
 */
export async function treeHeadAtClose(deps: LogDeps & Pick<AppDeps, 'clock'>, tx: Transaction | Executor, initiativeId: string): Promise<SignedTreeHead | null> {
  const now = deps.clock();
  while ((await integrateBatch(deps, tx, initiativeId, now)).added === BATCH_SIZE);
  return latestTreeHead(tx, initiativeId);
}

/** The log is public wherever the initiative is: drafts stay their sponsor's. */
async function requirePublicInitiative(db: Executor, initiativeId: string) {
  const initiative = await getInitiative(db, initiativeId);
  if (initiative.status === 'draft') throw problems.notFound('Initiative', initiativeId);
  return initiative;
}

async function currentSize(db: Executor, initiativeId: string): Promise<number> {
  const [row] = await db.select({ size: logSequencers.size }).from(logSequencers).where(eq(logSequencers.initiativeId, initiativeId));
  return row?.size ?? 0;
}

/** The latest signed tree head; an empty log gets a freshly signed head of size 0. */
export async function logHead(deps: LogDeps & Pick<AppDeps, 'clock'>, initiativeId: string): Promise<SignedTreeHead> {
  const db = deps.db.db;
  await requirePublicInitiative(db, initiativeId);
  const head = await latestTreeHead(db, initiativeId);
  if (head) return head;
  const now = deps.clock();
  return { size: 0, root: toBase64(EMPTY_ROOT), timestamp: now.toISOString(), signature: await signTreeHead(deps, initiativeId, 0, EMPTY_ROOT, now) };
}

const outOfRange = (field: string, message: string) => problems.validation([{ field: `query.${field}`, message }], message);

/** Integrated entries [start, end) as stored (base64), at most MAX_ENTRIES_PAGE of them. */
export async function logEntriesPage(deps: LogDeps, initiativeId: string, start: number, end: number | undefined) {
  const db = deps.db.db;
  await requirePublicInitiative(db, initiativeId);
  const size = await currentSize(db, initiativeId);
  if (start >= size) throw outOfRange('start', `start must be below the log's size (${size}).`);
  if (end !== undefined && end <= start) throw outOfRange('end', 'end must be greater than start.');
  if (end !== undefined && end > size) throw outOfRange('end', `end must not exceed the log's size (${size}).`);
  const last = Math.min(end ?? size, start + MAX_ENTRIES_PAGE);
  const rows = await db
    .select({ index: logEntries.leafIndex, data: logEntries.data })
    .from(logEntries)
    .where(and(eq(logEntries.initiativeId, initiativeId), gte(logEntries.leafIndex, start), lt(logEntries.leafIndex, last)))
    .orderBy(asc(logEntries.leafIndex));
  return { start, end: last, size, entries: rows.map((r) => ({ index: r.index!, data: toBase64(r.data) })) };
}

async function proofFrom(db: Executor, initiativeId: string, ranges: LeafRange[]): Promise<string[]> {
  const lookup = await readSubtrees(db, initiativeId, subtreesForRanges(ranges));
  return ranges.map((range) => toBase64(rangeHash(range, lookup)));
}

/** Inclusion proof of the entry at `index`, or of the `sign` entry of signature `ref`, in the tree of `size`. */
export async function inclusionProofFor(deps: Pick<AppDeps, 'db' | 'config'>, initiativeId: string, query: { index?: number; ref?: string; size?: number }) {
  const db = deps.db.db;
  await requirePublicInitiative(db, initiativeId);
  if ((query.index === undefined) === (query.ref === undefined)) {
    throw problems.validation([{ field: 'query.index', message: 'Give either index or ref.' }], 'Give either the leaf index or the signature id (ref).');
  }
  const current = await currentSize(db, initiativeId);
  const size = query.size ?? current;
  if (size > current) throw outOfRange('size', `size must not exceed the log's size (${current}).`);
  let index = query.index;
  if (query.ref !== undefined) {
    const [entry] = await db
      .select({ index: logEntries.leafIndex })
      .from(logEntries)
      .where(and(eq(logEntries.initiativeId, initiativeId), eq(logEntries.ref, query.ref), eq(logEntries.type, 'sign')))
      .limit(1);
    if (!entry) throw problems.notFound('Log entry', query.ref);
    if (entry.index === null) {
      const seconds = Math.max(1, Math.ceil(mergeDelayMs(deps) / 1000));
      throw new Problem({
        status: 404,
        code: 'log-entry-pending',
        title: 'Not yet in the log',
        detail: 'The entry is recorded and waits for the sequencer; it is integrated within the maximum merge delay.',
        headers: { 'Retry-After': String(seconds) },
      });
    }
    index = entry.index;
  }
  if (index! >= size) throw outOfRange(query.ref === undefined ? 'index' : 'size', `the entry (index ${index}) is not in a tree of ${size}.`);
  const [leaf] = await db
    .select({ hash: logNodes.hash })
    .from(logNodes)
    .where(and(eq(logNodes.initiativeId, initiativeId), eq(logNodes.level, 0), eq(logNodes.index, index!)));
  return { index: index!, size, leaf: toBase64(leaf!.hash), proof: await proofFrom(db, initiativeId, inclusionProofRanges(index!, size)) };
}

/** Consistency proof between two tree sizes, both at most the log's size. */
export async function consistencyProofFor(deps: Pick<AppDeps, 'db'>, initiativeId: string, from: number, to: number | undefined) {
  const db = deps.db.db;
  await requirePublicInitiative(db, initiativeId);
  const current = await currentSize(db, initiativeId);
  const second = to ?? current;
  if (second > current) throw outOfRange('to', `to must not exceed the log's size (${current}).`);
  if (from > second) throw outOfRange('from', `from must not exceed to (${second}).`);
  return { from, to: second, proof: await proofFrom(db, initiativeId, consistencyProofRanges(from, second)) };
}
