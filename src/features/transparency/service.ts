import { bytesToHex as toHex } from '@noble/hashes/utils.js';
import { and, asc, desc, eq, gte, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
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
  treeRoot,
  type LeafRange,
  type Subtree,
  type SubtreeId,
  type SubtreeLookup,
} from '../../core/merkle';
import type { DatabaseHandle, Executor, Transaction } from '../../db/client';
import { rowsOf, runPrepared } from '../../db/query';
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

/** A PostgreSQL array literal of integers: one bind parameter, and one statement text, whatever the count. */
const intArray = (values: readonly number[]) => `{${values.join(',')}}`;

interface NodeRow {
  level: number | null;
  idx: string | null;
  hash: Uint8Array | null;
}

/**
 * The stored subtrees `ids`, joined to the primary key one by one from the arrays: a generic plan
 * of index lookups, planned once per connection (an OR of (level, index) pairs had a statement
 * text per proof length and was planned on every call).
 */
const subtreesJoin = (initiativeId: string | SQL, ids: readonly SubtreeId[]) => sql`
  select w.level, w.idx::text as idx, n.hash
  from unnest(${intArray(ids.map((n) => n.level))}::smallint[], ${intArray(ids.map((n) => n.index))}::bigint[]) as w(level, idx)
  join log_nodes n on n.initiative_id = ${initiativeId} and n.level = w.level and n.idx = w.idx`;

function lookupOf(initiativeId: string, rows: readonly NodeRow[]): SubtreeLookup {
  const found = new Map<string, Uint8Array>();
  for (const row of rows) if (row.hash) found.set(`${row.level}/${row.idx}`, row.hash);
  return (node) => {
    const hash = found.get(nodeKey(node));
    if (!hash) throw new Error(`log of ${initiativeId} lacks subtree ${nodeKey(node)}`);
    return hash;
  };
}

/**
 * Integrates up to one batch of pending entries in the caller's transaction. The sequencer row,
 * locked FOR UPDATE, makes one sequencer at a time per initiative on any number of processes;
 * reading the frontier and writing the new subtrees costs O(k + log n). Three statements whatever
 * the batch (lock; pending entries and frontier; every write), since each round trip waits behind
 * the signing load on a busy engine.
 */
async function integrateBatch(deps: LogDeps, tx: Executor, initiativeId: string, now: Date): Promise<{ added: number; size: number }> {
  const lock = () =>
    tx.select({ size: logSequencers.size, sequencedAt: logSequencers.sequencedAt }).from(logSequencers).where(eq(logSequencers.initiativeId, initiativeId)).for('update');
  let [sequencer] = await lock();
  if (!sequencer) {
    await tx.insert(logSequencers).values({ initiativeId, size: 0, root: EMPTY_ROOT, sequencedAt: now }).onConflictDoNothing();
    [sequencer] = await lock();
  }
  const size = sequencer!.size;
  // Read after the lock (a statement of its own, so with a snapshot taken after it): nothing integrates meanwhile.
  const frontierIds = frontierOf(size);
  const rows = rowsOf<{ id: string; data: Uint8Array; level: number | null; at_ms: number | string | null }>(
    await tx.execute(sql`
      (select e.id::text as id, e.data, null::smallint as level, (extract(epoch from e.created_at) * 1000)::float8 as at_ms
       from log_entries e where e.initiative_id = ${initiativeId} and e.leaf_index is null order by e.id limit ${BATCH_SIZE})
      union all
      (select f.idx, f.hash, f.level, null::float8 from (${subtreesJoin(initiativeId, frontierIds)}) f)`),
  );
  const pending = rows.filter((r) => r.level === null).map((r) => ({ id: Number(r.id), data: r.data, at: Number(r.at_ms) }));
  if (pending.length === 0) return { added: 0, size };
  pending.sort((x, y) => x.id - y.id);
  const lookup = lookupOf(initiativeId, rows.filter((r) => r.level !== null).map((r) => ({ level: r.level, idx: r.id, hash: r.data })));
  const frontier: Subtree[] = frontierIds.map((id) => ({ ...id, hash: lookup(id) }));
  // The leaf is hashed from the stored bytes, so what /log/entries serves is what the tree holds.
  const { created, frontier: next } = appendLeaves(frontier, size, pending.map((p) => leafHash(p.data)));

  const newSize = size + pending.length;
  const root = foldSubtrees(next.map((n) => n.hash));
  // Tree heads never go back in time, whatever the clocks of several engine processes say, and are
  // never dated before an entry they hold (one written after this run read its clock, or by a process whose clock is ahead).
  const timestamp = new Date(Math.max(now.getTime(), sequencer!.sequencedAt.getTime(), ...pending.map((p) => p.at)));
  const signature = await signTreeHead(deps, initiativeId, newSize, root, timestamp);
  // Arrays bound as single parameters: no per-row SQL. The i-th pending entry (from 1) gets leaf size + i - 1.
  const [written] = rowsOf<{ placed: number }>(
    await tx.execute(sql`
      with nodes as (
        insert into log_nodes (initiative_id, level, idx, hash)
        select ${initiativeId}, w.level, w.idx, decode(w.hash, 'hex')
        from unnest(${intArray(created.map((n) => n.level))}::smallint[], ${intArray(created.map((n) => n.index))}::bigint[], ${`{${created.map((n) => toHex(n.hash)).join(',')}}`}::text[]) as w(level, idx, hash)
      ), placed as (
        update log_entries e set leaf_index = ${size}::bigint + w.ord - 1
        from unnest(${intArray(pending.map((p) => p.id))}::bigint[]) with ordinality as w(id, ord)
        -- Only entries still without a place: an integrated entry is never moved or rewritten.
        where e.id = w.id and e.leaf_index is null
        returning e.id
      ), sequencer as (
        update log_sequencers set size = ${newSize}, root = ${root}, sequenced_at = ${timestamp.toISOString()}::timestamptz where initiative_id = ${initiativeId}
      ), head as (
        insert into log_tree_heads (initiative_id, size, root, timestamp, signature) values (${initiativeId}, ${newSize}, ${root}, ${timestamp.toISOString()}::timestamptz, ${signature})
      )
      select count(*)::int as placed from placed`),
  );
  // Rolls the whole batch back, tree head included.
  if (Number(written!.placed) !== pending.length) throw new Error(`log of ${initiativeId}: entries changed while being sequenced`);
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
  // start = size: nothing new yet (a reader polling from where it stopped, or an empty log), an empty page.
  if (start > size) throw outOfRange('start', `start must not exceed the log's size (${size}).`);
  if (start === size && (end === undefined || end === size)) return { start, end: size, size, entries: [] };
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

/** The leaves read around an entry for its inclusion proof: the subtrees below this level are hashed from them. */
const WINDOW_LEVELS = 5;
/**
 * Subtrees from this level up, and those on the right edge of the tree asked for, are shared by
 * many proofs and never change: kept in memory once read.
 */
const SHARED_LEVEL = 10;
/** At most this many shared subtrees kept per database (about 250 bytes each); the oldest go first. */
const SHARED_LIMIT = 20_000;
const sharedSubtrees = new WeakMap<DatabaseHandle, Map<string, Uint8Array>>();

/** The aligned block of 2^WINDOW_LEVELS leaves holding `index`, cut at `size`. */
function windowOf(index: number, size: number): LeafRange {
  const width = 2 ** WINDOW_LEVELS;
  const start = index - (index % width);
  return [start, Math.min(size, start + width)];
}

/**
 * One statement for a proof: whether the initiative's log is public, the log's size, the
 * signature entry's leaf index when asked by `ref`, the leaves of `window` and the stored
 * subtrees `ids` not already in memory. A 404 for an unknown initiative or a draft, as everywhere.
 * Subtrees are written once and never change, so whatever was read or kept answers for any tree
 * that holds them.
 */
async function readLog(handle: DatabaseHandle, initiativeId: string, read: { ids?: readonly SubtreeId[]; size?: number; window?: LeafRange; ref?: string }) {
  let shared = sharedSubtrees.get(handle);
  if (!shared) sharedSubtrees.set(handle, (shared = new Map()));
  const sharedKey = (node: SubtreeId) => `${initiativeId}/${node.level}/${node.index}`;
  const edge = new Set(read.size ? frontierOf(read.size).map(nodeKey) : []);
  const [from, to] = read.window ?? [0, 0];
  const inWindow = (node: SubtreeId) => node.level < WINDOW_LEVELS && node.index * 2 ** node.level >= from && (node.index + 1) * 2 ** node.level <= to;
  const ids = (read.ids ?? []).filter((node) => !inWindow(node) && !shared.has(sharedKey(node)));
  const rows = await runPrepared<NodeRow & { status: string; size: string | null; ref_index: string | null }>(
    handle,
    sql`
      select i.status, s.size::text as size,
             ${read.ref === undefined ? sql`null` : sql`(select coalesce(e.leaf_index::text, 'pending') from log_entries e where e.initiative_id = i.id and e.ref = ${read.ref} and e.type = 'sign' limit 1)`} as ref_index,
             n.level, n.idx, n.hash
      from initiatives i
      left join log_sequencers s on s.initiative_id = i.id
      left join lateral (
        -- The window's leaves as one value (level -1, idx their count): one row to send and parse, not 32.
        select -1::smallint as level, count(*)::text as idx, string_agg(l.hash, ''::bytea order by l.idx) as hash
        from log_nodes l where l.initiative_id = i.id and l.level = 0 and l.idx >= ${from} and l.idx < ${to}
        union all
        ${subtreesJoin(sql`i.id`, ids)}
      ) n on true
      where i.id = ${initiativeId}`,
  );
  const [first] = rows;
  if (!first || first.status === 'draft') throw problems.notFound('Initiative', initiativeId);
  const found = new Map<string, Uint8Array>();
  for (const row of rows) {
    if (!row.hash) continue;
    if (row.level === -1) {
      // Leaves [from, to) in order; only a full window counts (a gap would shift every leaf after it).
      if (Number(row.idx) === to - from && row.hash.length === 32 * (to - from)) {
        for (let i = 0; i < to - from; i++) found.set(`0/${from + i}`, row.hash.subarray(32 * i, 32 * (i + 1)));
      }
      continue;
    }
    const key = `${row.level}/${row.idx}`;
    found.set(key, row.hash);
    if (row.level! >= SHARED_LEVEL || edge.has(key)) {
      if (shared.size >= SHARED_LIMIT) shared.delete(shared.keys().next().value!);
      // A copy: the driver's buffer may be a view into a larger one that must not be kept alive.
      shared.set(`${initiativeId}/${key}`, new Uint8Array(row.hash));
    }
  }
  const lookup: SubtreeLookup = (node) => {
    const hash = found.get(nodeKey(node)) ?? shared.get(sharedKey(node));
    if (hash) return hash;
    if (inWindow(node)) {
      const width = 2 ** node.level;
      return treeRoot(Array.from({ length: width }, (_, i) => lookup({ level: 0, index: node.index * width + i })));
    }
    throw new Error(`log of ${initiativeId} lacks subtree ${nodeKey(node)}`);
  };
  return { size: Number(first.size ?? 0), refIndex: first.ref_index, lookup };
}

const proofOf = (ranges: readonly LeafRange[], lookup: SubtreeLookup) => ranges.map((range) => toBase64(rangeHash(range, lookup)));
const inclusionNodes = (index: number, size: number): SubtreeId[] => [{ level: 0, index }, ...subtreesForRanges(inclusionProofRanges(index, size))];
/** Inclusion proof of the entry at `index`, or of the `sign` entry of signature `ref`, in the tree of `size`. */
export async function inclusionProofFor(deps: Pick<AppDeps, 'db' | 'config'>, initiativeId: string, query: { index?: number; ref?: string; size?: number }) {
  const read = (index: number, size: number) => ({ ids: inclusionNodes(index, size), size, window: windowOf(index, size) });
  // Index and size given (a client checking against a tree head it holds): the first statement reads everything.
  const known = query.ref === undefined && query.index !== undefined && query.size !== undefined && query.index < query.size;
  const log = await readLog(deps.db, initiativeId, known ? read(query.index!, query.size!) : { ref: query.ref });
  if ((query.index === undefined) === (query.ref === undefined)) {
    throw problems.validation([{ field: 'query.index', message: 'Give either index or ref.' }], 'Give either the leaf index or the signature id (ref).');
  }
  const current = log.size;
  const size = query.size ?? current;
  if (size > current) throw outOfRange('size', `size must not exceed the log's size (${current}).`);
  let index = query.index;
  if (query.ref !== undefined) {
    if (log.refIndex === null) throw problems.notFound('Log entry', query.ref);
    if (log.refIndex === 'pending') {
      const seconds = Math.max(1, Math.ceil(mergeDelayMs(deps) / 1000));
      throw new Problem({
        status: 404,
        code: 'log-entry-pending',
        title: 'Not yet in the log',
        detail: 'The entry is recorded and waits for the sequencer; it is integrated within the maximum merge delay.',
        headers: { 'Retry-After': String(seconds) },
      });
    }
    index = Number(log.refIndex);
  }
  if (index! >= size) throw outOfRange(query.ref === undefined ? 'index' : 'size', `the entry (index ${index}) is not in a tree of ${size}.`);
  // The log only grows: the subtrees of a tree no larger than the size read are there on a second read.
  const { lookup } = known ? log : await readLog(deps.db, initiativeId, read(index!, size));
  return { index: index!, size, leaf: toBase64(lookup({ level: 0, index: index! })), proof: proofOf(inclusionProofRanges(index!, size), lookup) };
}

/** Consistency proof between two tree sizes, both at most the log's size. */
export async function consistencyProofFor(deps: Pick<AppDeps, 'db'>, initiativeId: string, from: number, to: number | undefined) {
  const known = to !== undefined && from <= to;
  const log = await readLog(deps.db, initiativeId, known ? { ids: subtreesForRanges(consistencyProofRanges(from, to)), size: to } : {});
  const current = log.size;
  const second = to ?? current;
  if (second > current) throw outOfRange('to', `to must not exceed the log's size (${current}).`);
  if (from > second) throw outOfRange('from', to === undefined ? `from must not exceed the log's size (${current}).` : `from must not exceed to (${second}).`);
  const ranges = consistencyProofRanges(from, second);
  const { lookup } = known ? log : await readLog(deps.db, initiativeId, { ids: subtreesForRanges(ranges), size: second });
  return { from, to: second, proof: proofOf(ranges, lookup) };
}

/**
 * What the public log says happened to a signature after it was recorded: withdrawn by its signer,
 * or invalidated by a clerk (the log's `withdraw` and `invalidate` entries that reference it).
 */
export async function laterLogEntry(db: Executor, initiativeId: string, signatureId: string): Promise<'withdraw' | 'invalidate' | null> {
  const [entry] = await db
    .select({ type: logEntries.type })
    .from(logEntries)
    .where(and(eq(logEntries.initiativeId, initiativeId), eq(logEntries.ref, signatureId), inArray(logEntries.type, ['withdraw', 'invalidate'])))
    .orderBy(desc(logEntries.id))
    .limit(1);
  return entry?.type === 'withdraw' || entry?.type === 'invalidate' ? entry.type : null;
}
