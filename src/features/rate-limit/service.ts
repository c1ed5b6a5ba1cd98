import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { lt, sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../../db/client';
import { groupCommitPerHandle } from '../../db/group-commit';
import { runPrepared } from '../../db/query';
import { rateLimitCounters } from '../../db/schema-ratelimit';
import type { EngineKeys } from '../../platform/keys';
import type { LimitedAction } from './limits';

/** The counter key: a keyed hash, so the table holds no address or subject in clear. */
export function counterKey(keys: EngineKeys, action: LimitedAction, scope: 'address' | 'identity', value: string): Uint8Array {
  const key = keys.keyring.keyFor(keys.keyring.currentVersion, 'rate-limit');
  return hmac(sha256, key, new TextEncoder().encode(`${action}\u0000${scope}\u0000${value}`));
}

/**
 * Counts one request in the current fixed window and returns the count so far (this request
 * included) and when the window ends. Atomic across processes: on PostgreSQL, requests that arrive
 * together are counted by one upsert (see countBatch), so a limit costs a signature no round trip
 * of its own. The embedded database lives inside one process (ENGINE_PROCESSES needs PostgreSQL), so
 * its counters are kept in that process's memory, with the same rules: a statement of its own on
 * the single connection cost every batch of signatures about a sixth of the embedded rate.
 */
export function countRequest(handle: DatabaseHandle, key: Uint8Array, windowSeconds: number, now: Date): Promise<{ count: number; resetAt: Date }> {
  const windowMs = windowSeconds * 1000;
  const request = { key: bytesToHex(key), windowStart: Math.floor(now.getTime() / windowMs) * windowMs, windowMs };
  if (handle.kind === 'pglite') return Promise.resolve(countInMemory(handle, request));
  return counters(handle).submit(request);
}

interface CountedRequest {
  key: string;
  windowStart: number;
  windowMs: number;
}

/** Keys per statement at most. */
const MAX_BATCH = 1000;

/**
 * One upsert for a batch of requests: a key met several times is counted once by the number of its
 * requests, and each request gets its own place in that count, in arrival order. A window that has
 * ended starts again at this statement's count; a request stamped with an earlier window than the
 * stored one (another process's clock) counts in the stored window.
 */
const countStatement = (batchJson: string) => sql`
  insert into rate_limit_counters (key, window_start, count)
  select decode(t.key, 'hex'), to_timestamp(t.window_ms / 1000.0), t.n
  from jsonb_to_recordset(${batchJson}::jsonb) as t(key text, window_ms float8, n integer)
  order by t.key
  on conflict (key) do update set
    count = case when excluded.window_start > rate_limit_counters.window_start then excluded.count
                 else rate_limit_counters.count + excluded.count end,
    window_start = greatest(rate_limit_counters.window_start, excluded.window_start)
  returning encode(key, 'hex') as key, count, (extract(epoch from window_start) * 1000)::float8 as window_ms`;

async function countBatch(handle: DatabaseHandle, batch: CountedRequest[]): Promise<{ count: number; resetAt: Date }[]> {
  const byKey = new Map<string, number[]>();
  batch.forEach((request, i) => {
    const same = byKey.get(request.key);
    if (same) same.push(i);
    else byKey.set(request.key, [i]);
  });
  const rows = [...byKey].map(([key, places]) => ({ key, window_ms: Math.max(...places.map((i) => batch[i]!.windowStart)), n: places.length }));
  const result = await runPrepared<{ key: string; count: number; window_ms: number }>(handle, countStatement(JSON.stringify(rows)));
  const counted = new Array<{ count: number; resetAt: Date }>(batch.length);
  for (const row of result) {
    const places = byKey.get(row.key)!;
    const before = Number(row.count) - places.length;
    places.forEach((i, n) => (counted[i] = { count: before + n + 1, resetAt: new Date(Number(row.window_ms) + batch[i]!.windowMs) }));
  }
  return counted;
}

const counters = groupCommitPerHandle(countBatch, MAX_BATCH);

/** The embedded database's counters, by key: the window they count in and the count so far. */
const inMemory = new WeakMap<DatabaseHandle, Map<string, { windowStart: number; count: number }>>();

/** The upsert's rules, for one request: a window that has ended starts again; an earlier stamp counts in the stored window. */
function countInMemory(handle: DatabaseHandle, request: CountedRequest): { count: number; resetAt: Date } {
  let counters = inMemory.get(handle);
  if (!counters) inMemory.set(handle, (counters = new Map()));
  const stored = counters.get(request.key);
  const counter = stored && stored.windowStart >= request.windowStart ? stored : { windowStart: request.windowStart, count: 0 };
  counter.count++;
  counters.set(request.key, counter);
  return { count: counter.count, resetAt: new Date(counter.windowStart + request.windowMs) };
}

/** Forgets counters of windows that have ended (a scheduled task). */
export async function sweepRateLimits(handle: DatabaseHandle, windowSeconds: number, now: Date): Promise<void> {
  const before = now.getTime() - windowSeconds * 1000;
  const counters = inMemory.get(handle);
  for (const [key, counter] of counters ?? []) if (counter.windowStart < before) counters!.delete(key);
  await handle.db.delete(rateLimitCounters).where(lt(rateLimitCounters.windowStart, new Date(before)));
}
