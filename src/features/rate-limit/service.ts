import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { lt, sql } from 'drizzle-orm';
import type { DatabaseHandle, Executor } from '../../db/client';
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
 * included) and when the window ends. Atomic across processes: requests that arrive together are
 * counted by one upsert (see CounterBatcher), so a limit costs a signature no round trip of its own.
 */
export function countRequest(handle: DatabaseHandle, key: Uint8Array, windowSeconds: number, now: Date): Promise<{ count: number; resetAt: Date }> {
  let batcher = batchers.get(handle);
  if (!batcher) {
    batcher = new CounterBatcher(handle, handle.kind === 'pglite' ? 1 : Math.max(1, Math.floor(handle.poolUse().max / 3)));
    batchers.set(handle, batcher);
  }
  const windowMs = windowSeconds * 1000;
  return batcher.count(bytesToHex(key), Math.floor(now.getTime() / windowMs) * windowMs, windowMs);
}

interface PendingCount {
  key: string;
  windowStart: number;
  windowMs: number;
  resolve: (counted: { count: number; resetAt: Date }) => void;
  reject: (error: unknown) => void;
}

/** Keys per statement at most. */
const MAX_BATCH = 1000;

const later: (fn: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? (fn) => void globalThis.setImmediate(fn) : (fn) => void setTimeout(fn, 0);

/**
 * Group commit for counters, as for signatures: the requests counted while earlier statements run
 * go together in the next one. A key met several times in one statement is counted once by the
 * number of its requests, and each request gets its own place in that count, in arrival order.
 * A window that has ended starts again at this statement's count; a request stamped with an
 * earlier window than the stored one (another process's clock) counts in the stored window.
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

class CounterBatcher {
  private readonly queue: PendingCount[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly handle: DatabaseHandle,
    private readonly maxInFlight: number,
  ) {}

  count(key: string, windowStart: number, windowMs: number): Promise<{ count: number; resetAt: Date }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, windowStart, windowMs, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    later(() => {
      this.scheduled = false;
      while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
        const batch = this.queue.splice(0, MAX_BATCH);
        this.inFlight++;
        void this.run(batch).finally(() => {
          this.inFlight--;
          if (this.queue.length > 0) this.schedule();
        });
      }
    });
  }

  private async run(batch: PendingCount[]): Promise<void> {
    const byKey = new Map<string, PendingCount[]>();
    for (const pending of batch) {
      const same = byKey.get(pending.key);
      if (same) same.push(pending);
      else byKey.set(pending.key, [pending]);
    }
    const rows = [...byKey].map(([key, requests]) => ({ key, window_ms: Math.max(...requests.map((r) => r.windowStart)), n: requests.length }));
    let result: { key: string; count: number; window_ms: number }[];
    try {
      result = await runPrepared(this.handle, countStatement(JSON.stringify(rows)));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const row of result) {
      const requests = byKey.get(row.key)!;
      const first = Number(row.count) - requests.length;
      requests.forEach((pending, i) => pending.resolve({ count: first + i + 1, resetAt: new Date(Number(row.window_ms) + pending.windowMs) }));
    }
  }
}

const batchers = new WeakMap<DatabaseHandle, CounterBatcher>();

/** Forgets counters of windows that have ended (a scheduled task). */
export async function sweepRateLimits(db: Executor, windowSeconds: number, now: Date): Promise<void> {
  await db.delete(rateLimitCounters).where(lt(rateLimitCounters.windowStart, new Date(now.getTime() - windowSeconds * 1000)));
}
