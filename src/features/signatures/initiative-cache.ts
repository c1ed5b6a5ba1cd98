import type { DatabaseHandle, Executor } from '../../db/client';
import { getInitiativeWithJurisdiction } from '../initiatives/service';

/**
 * An initiative and its jurisdiction as read at some moment, with their row versions. The signing
 * statement compares these versions with the rows it locks, so a signature is only ever accepted
 * under the rules that are current when it commits, however old the read.
 */
export type SigningContext = Awaited<ReturnType<typeof getInitiativeWithJurisdiction>>;

/** How long a read serves further signatures; a change made meanwhile is caught at commit anyway. */
const TTL_MS = 10_000;
/** Entries kept at most (initiatives being signed at once); past it the cache starts again empty. */
const MAX_ENTRIES = 10_000;

/**
 * Signing contexts shared by the requests of one engine process: a viral initiative costs one read
 * every few seconds instead of one per signature. Concurrent misses share one query.
 */
export class SigningContextCache {
  private readonly entries = new Map<string, { context: Promise<SigningContext>; expiresAt: number }>();

  constructor(private readonly db: Executor) {}

  /** The context, and whether it was read for this call (a fresh read) or served from the cache. */
  async get(id: string): Promise<{ context: SigningContext; fresh: boolean }> {
    const now = Date.now();
    const entry = this.entries.get(id);
    if (entry && entry.expiresAt > now) return { context: await entry.context, fresh: false };
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const context = getInitiativeWithJurisdiction(this.db, id);
    this.entries.set(id, { context, expiresAt: now + TTL_MS });
    // A failed read (unknown initiative, database down) is not kept.
    context.catch(() => this.forget(id, context));
    return { context: await context, fresh: true };
  }

  /** Drops the entry, so the next call reads the rows again. */
  forget(id: string, only?: Promise<SigningContext>) {
    if (only === undefined || this.entries.get(id)?.context === only) this.entries.delete(id);
  }
}

const caches = new WeakMap<DatabaseHandle, SigningContextCache>();

export function signingContextCache(handle: DatabaseHandle): SigningContextCache {
  let cache = caches.get(handle);
  if (!cache) {
    cache = new SigningContextCache(handle.db);
    caches.set(handle, cache);
  }
  return cache;
}
