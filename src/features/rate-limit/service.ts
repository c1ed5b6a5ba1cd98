import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { lt, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { rateLimitCounters } from '../../db/schema-ratelimit';
import type { EngineKeys } from '../../platform/keys';
import type { LimitedAction } from './limits';

/** The counter key: a keyed hash, so the table holds no address or subject in clear. */
export function counterKey(keys: EngineKeys, action: LimitedAction, scope: 'address' | 'identity', value: string): Uint8Array {
  const key = keys.keyring.keyFor(keys.keyring.currentVersion, 'rate-limit');
  return hmac(sha256, key, new TextEncoder().encode(`${action}\u0000${scope}\u0000${value}`));
}

/**
 * Counts one request in the current fixed window with a single upsert, atomic across processes,
 * and returns the count so far and when the window ends.
 */
export async function countRequest(db: Executor, key: Uint8Array, windowSeconds: number, now: Date): Promise<{ count: number; resetAt: Date }> {
  const windowMs = windowSeconds * 1000;
  const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
  const [row] = await db
    .insert(rateLimitCounters)
    .values({ key, windowStart, count: 1 })
    .onConflictDoUpdate({
      target: rateLimitCounters.key,
      set: {
        count: sql`case when ${rateLimitCounters.windowStart} = excluded.window_start then ${rateLimitCounters.count} + 1 else 1 end`,
        windowStart: sql`excluded.window_start`,
      },
    })
    .returning({ count: rateLimitCounters.count, windowStart: rateLimitCounters.windowStart });
  return { count: row!.count, resetAt: new Date(row!.windowStart.getTime() + windowMs) };
}

/** Forgets counters of windows that have ended (a scheduled task). */
export async function sweepRateLimits(db: Executor, windowSeconds: number, now: Date): Promise<void> {
  await db.delete(rateLimitCounters).where(lt(rateLimitCounters.windowStart, new Date(now.getTime() - windowSeconds * 1000)));
}
