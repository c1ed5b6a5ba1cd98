import type { DatabaseHandle } from '../../db/client';

/** How long an anonymous read may be answered from memory: what `Cache-Control: max-age=1` already allows. */
export const PUBLIC_READ_TTL_MS = 1000;

interface Entry {
  value: unknown;
  at: number;
}

/**
 * An initiative's detail and progress as an anonymous visitor sees them, kept for up to a second: a
 * viral initiative's page is read far more often than it changes, and each read would otherwise cost
 * a query and its rendering while signatures pour in.
 *
 * - New signatures reach anonymous visitors within PUBLIC_READ_TTL_MS, as `Cache-Control: max-age=1`
 *   already lets any cache on the way keep them. Whoever signs is signed in, and signed-in readers
 *   always read afresh: a signer sees their own signature at once.
 * - Any other change made through this process (a withdrawal, a close, a clerk's decision, a paper
 *   batch, a milestone the scheduler records) empties what it may have altered at once, and a read
 *   that was under way during such a change is not kept.
 * - A change made by another process (a cluster's primary, another replica) is seen within
 *   PUBLIC_READ_TTL_MS.
 * - A request with `Cache-Control: no-cache` (a browser's hard reload, a verifier) reads afresh.
 */
export class PublicReads {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every change of anything, so a read that overlapped one is not kept. */
  private generation = 0;
  /** The same for one initiative (a change of it, such as a milestone the scheduler records: reads of others stay kept). */
  private readonly generations = new Map<string, number>();
  /** Reads under way, by key. */
  private readonly pending = new Map<string, { value: Promise<unknown>; generation: number; own: number | undefined }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * `view` of initiative `id`, from memory or built by `read` (and kept unless a change overlapped
   * it). The value is shared by every caller until it expires: nobody may modify it.
   */
  async get<T>(view: 'detail' | 'progress', id: string, read: () => Promise<T>): Promise<T> {
    const key = `${view}:${id}`;
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < PUBLIC_READ_TTL_MS) return hit.value as T;
    const generation = this.generation;
    const own = this.generations.get(id);
    // Visitors arriving while the page is being read wait for that read rather than each start one,
    // unless something changed since it started.
    const pending = this.pending.get(key);
    if (pending && pending.generation === generation && pending.own === own) return pending.value as Promise<T>;
    const started = this.now();
    const value = read();
    this.pending.set(key, { value, generation, own });
    try {
      const result = await value;
      if (generation === this.generation && own === this.generations.get(id)) this.entries.set(key, { value: result, at: started });
      return result;
    } finally {
      if (this.pending.get(key)?.value === value) this.pending.delete(key);
    }
  }

  /** Something about these initiatives changed (none given: anything may have). */
  changed(initiativeIds?: Iterable<string>) {
    if (!initiativeIds) {
      this.generation++;
      this.generations.clear();
      this.entries.clear();
      return;
    }
    for (const id of initiativeIds) {
      this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
      this.entries.delete(`detail:${id}`);
      this.entries.delete(`progress:${id}`);
    }
  }
}

/** `Cache-Control: no-cache` (or `max-age=0`) on a request: the reader wants what the database holds now. */
function wantsFresh(cacheControl: string | undefined): boolean {
  return cacheControl !== undefined && /(^|,)\s*(no-cache|no-store|max-age=0)\s*(,|$)/i.test(cacheControl);
}

/**
 * What `render` builds, or the page kept for anonymous visitors: signed-in readers (`personal`) and
 * requests asking for fresh data (`cacheControl`) always get `render`'s.
 */
export function publicPage<T>(
  handle: DatabaseHandle,
  page: { view: 'detail' | 'progress'; id: string; personal: boolean; cacheControl: string | undefined },
  render: () => Promise<T>,
): Promise<T> {
  return page.personal || wantsFresh(page.cacheControl) ? render() : publicReadsFor(handle).get(page.view, page.id, render);
}

const byDatabase = new WeakMap<DatabaseHandle, PublicReads>();

/** One cache per database handle: the routes, the change middleware and the periodic tasks of one engine share it. */
export function publicReadsFor(handle: DatabaseHandle): PublicReads {
  let reads = byDatabase.get(handle);
  if (!reads) byDatabase.set(handle, (reads = new PublicReads()));
  return reads;
}
