import { eq, sql } from 'drizzle-orm';
import type { DatabaseHandle, Executor } from '../../db/client';
import { initiatives, jurisdictions } from '../../db/schema';
import { problems } from '../../platform/problems';
import type { InitiativeRow } from '../initiatives/service';

type JurisdictionRow = typeof jurisdictions.$inferSelect;

/**
 * An initiative and its jurisdiction as read at some moment, with the row versions PostgreSQL gave
 * them (`xmin`, which every update changes). The signing transaction compares these versions with
 * the rows it locks, so a signature is only ever accepted under the rules that are current when it
 * commits, however old the read.
 */
export interface SigningContext {
  initiative: InitiativeRow;
  jurisdiction: JurisdictionRow;
  initiativeVersion: string;
  jurisdictionVersion: string;
}

export async function readSigningContext(db: Executor, id: string): Promise<SigningContext> {
  const [row] = await db
    .select({
      initiative: initiatives,
      jurisdiction: jurisdictions,
      initiativeVersion: sql<string>`${initiatives}.xmin::text`,
      jurisdictionVersion: sql<string>`${jurisdictions}.xmin::text`,
    })
    .from(initiatives)
    .innerJoin(jurisdictions, eq(jurisdictions.id, initiatives.jurisdictionId))
    .where(eq(initiatives.id, id));
  if (!row) throw problems.notFound('Initiative', id);
  return row;
}

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
    const context = readSigningContext(this.db, id);
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
