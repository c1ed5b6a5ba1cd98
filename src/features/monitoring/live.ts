import { sql } from 'drizzle-orm';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Executor } from '../../db/client';
import { jsonValue, rowsOf } from '../../db/query';
import { buildProgress, type Progress, type ProgressJurisdiction, type SignatureTally } from '../progress/service';
import type { JurisdictionElectorate } from '../../core/rules';
import { getInitiativeWithJurisdiction } from '../initiatives/service';
import { problems } from '../../platform/problems';

/** How the progress stream behaves on a runtime; Node keeps connections, others may not. */
export interface ProgressStreamOptions {
  /** `live` keeps the connection open and pushes changes; `snapshot` sends the progress once and closes. */
  mode?: 'live' | 'snapshot';
  /** How often each watched initiative is read (one query for all its watchers). Default 1000 ms. */
  pollIntervalMs?: number;
  /** Comment lines that keep proxies from closing an idle stream. Default 15 s. */
  heartbeatMs?: number;
}

/** The progress at one instant and a version that changes whenever the progress does. */
export interface ProgressSnapshot {
  version: string;
  progress: Progress;
}

/** Called with each new version; with undefined when the engine shuts down and streams must end. */
type Listener = (snapshot: ProgressSnapshot | undefined) => void;

interface Feed {
  listeners: Set<Listener>;
  latest: ProgressSnapshot | undefined;
  first: Promise<ProgressSnapshot> | undefined;
  inFlight: Promise<void> | undefined;
  timer: ReturnType<typeof setInterval> | undefined;
  read: () => Promise<ProgressSnapshot>;
}

/**
 * One poller per watched initiative, shared by all its watchers: a tick costs one query whatever
 * the number of watchers; the poller starts with the first watcher and stops with the last.
 */
export class ProgressHub {
  private readonly feeds = new Map<string, Feed>();
  /** Reads of the database made by the pollers (for /metrics and tests). */
  polls = 0;
  private closed = false;

  constructor(
    private readonly openFeed: (initiativeId: string) => Promise<() => Promise<ProgressSnapshot>>,
    private readonly pollIntervalMs: number,
  ) {}

  /** Watchers of `initiativeId` get `listener` called with each new version; `current` is the latest. */
  async subscribe(initiativeId: string, listener: Listener): Promise<{ current: ProgressSnapshot; unsubscribe: () => void }> {
    if (this.closed) throw problems.unavailable('The engine is shutting down; reconnect shortly.');
    let feed = this.feeds.get(initiativeId);
    if (!feed) {
      const read = await this.openFeed(initiativeId);
      feed = this.feeds.get(initiativeId);
      if (!feed) {
        feed = { listeners: new Set(), latest: undefined, first: undefined, inFlight: undefined, timer: undefined, read };
        this.feeds.set(initiativeId, feed);
      }
    }
    const f = feed;
    f.listeners.add(listener);
    const unsubscribe = () => {
      f.listeners.delete(listener);
      if (f.listeners.size === 0 && this.feeds.get(initiativeId) === f) {
        if (f.timer) clearInterval(f.timer);
        this.feeds.delete(initiativeId);
      }
    };
    try {
      f.first ??= this.readInto(f).then(() => f.latest!);
      const current = await f.first;
      if (!f.timer && this.feeds.get(initiativeId) === f) {
        f.timer = setInterval(() => void this.poll(f), this.pollIntervalMs);
        (f.timer as { unref?: () => void }).unref?.();
      }
      return { current: f.latest ?? current, unsubscribe };
    } catch (error) {
      f.first = undefined;
      unsubscribe();
      throw error;
    }
  }

  /** Reads every watched initiative once now (the timers do this each interval). */
  async pollAll(): Promise<void> {
    await Promise.all([...this.feeds.values()].map((f) => this.poll(f)));
  }

  /** Ends every stream (a server draining for shutdown cannot wait for streams that never end). */
  close(): void {
    this.closed = true;
    for (const feed of this.feeds.values()) {
      if (feed.timer) clearInterval(feed.timer);
      for (const listener of feed.listeners) listener(undefined);
    }
    this.feeds.clear();
  }

  /** Initiatives with at least one watcher, and the watchers of each. */
  watched(): Map<string, number> {
    return new Map([...this.feeds].map(([id, f]) => [id, f.listeners.size]));
  }

  private poll(feed: Feed): Promise<void> {
    // A slow read is not stacked up under the next tick.
    feed.inFlight ??= this.readInto(feed)
      .catch(() => {})
      .finally(() => (feed.inFlight = undefined));
    return feed.inFlight;
  }

  private async readInto(feed: Feed): Promise<void> {
    this.polls++;
    const snapshot = await feed.read();
    if (snapshot.version === feed.latest?.version) return;
    feed.latest = snapshot;
    for (const listener of feed.listeners) listener(snapshot);
  }
}

/**
 * The reader a feed polls: the jurisdiction is read once when the feed opens (for district names,
 * and the figures of an initiative not opened yet; an open one is evaluated on the figures frozen
 * when it opened, read with it), then each read is a single query.
 */
export function progressFeedReader(db: Executor, clock: () => Date) {
  return async (initiativeId: string) => {
    const { jurisdiction } = await getInitiativeWithJurisdiction(db, initiativeId);
    const scope: ProgressJurisdiction = { electorate: jurisdiction.electorate, districts: jurisdiction.districts, rules: jurisdiction.rules };
    return async (): Promise<ProgressSnapshot> => {
      // Stamped before the read: a page rendered after this time has data at least as fresh.
      const readAt = clock();
      const [row] = rowsOf<{ status: string; kind: string; rules: unknown; electorate_figures: unknown; closes_at: unknown; tally: unknown; crossings: unknown }>(
        await db.execute(sql`
          select i.status, i.kind, i.rules, i.electorate_figures,
                 extract(epoch from i.closes_at) * 1000 as closes_at,
                 (select coalesce(json_agg(json_build_array(d.district, d.n)), '[]'::json)
                    from (select district, sum(count)::bigint as n from signature_counts where initiative_id = i.id group by district) as d) as tally,
                 (select coalesce(json_agg(json_build_array(c.key, extract(epoch from c.reached_at) * 1000)), '[]'::json)
                    from initiative_crossings c where c.initiative_id = i.id) as crossings
          from initiatives i where i.id = ${initiativeId}`),
      );
      if (!row) throw new Error('initiative vanished');
      const tallyRows = jsonValue<[string, number | string][]>(row.tally);
      const tally: SignatureTally = { total: 0, byDistrict: {} };
      for (const [district, n] of tallyRows) {
        tally.byDistrict[district] = Number(n);
        tally.total += Number(n);
      }
      const crossings = jsonValue<[string, number | string][]>(row.crossings).map(([key, at]) => ({ key, reachedAt: new Date(Number(at)) }));
      const subject = {
        id: initiativeId,
        status: row.status,
        kind: row.kind,
        rules: jsonValue<Record<string, unknown> | null>(row.rules),
        electorateFigures: jsonValue<JurisdictionElectorate | null>(row.electorate_figures),
        closesAt: row.closes_at === null ? null : new Date(Number(row.closes_at)),
      };
      const progress = buildProgress(subject, scope, tally, crossings, readAt);
      return { version: progressVersion(progress), progress };
    };
  };
}

/**
 * A short digest of everything in the progress but its timestamp, prefixed by the count for
 * readability: equal versions mean the client already shows the current progress.
 */
export function progressVersion(progress: Progress): string {
  const { updatedAt: _, ...content } = progress;
  const digest = Buffer.from(sha256(new TextEncoder().encode(JSON.stringify(content)))).toString('base64url').slice(0, 16);
  return `${progress.signatures}-${digest}`;
}

const hubs = new WeakMap<object, ProgressHub>();

/** The hub of one app (keyed by its dependencies), created with the first watcher. */
export function progressHubFor(deps: { db: { db: Executor }; clock: () => Date; progressStream?: ProgressStreamOptions }): ProgressHub {
  let hub = hubs.get(deps);
  if (!hub) {
    hub = new ProgressHub(progressFeedReader(deps.db.db, deps.clock), Math.max(deps.progressStream?.pollIntervalMs ?? 1000, 1000));
    hubs.set(deps, hub);
  }
  return hub;
}

/**
 * Live streams held open per client address in one process: a stream costs a connection and memory
 * for as long as it stays open, so one client opening thousands would starve everyone else.
 */
export class StreamSlots {
  private readonly held = new Map<string, number>();

  /** A slot for `address` (its release, to call once), or undefined when its network already holds `limit`. */
  take(clientAddress: string, limit: number): (() => void) | undefined {
    const address = addressNetwork(clientAddress);
    const n = this.held.get(address) ?? 0;
    if (n >= limit) return undefined;
    this.held.set(address, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(address) ?? 1) - 1;
      if (left > 0) this.held.set(address, left);
      else this.held.delete(address);
    };
  }
}

/**
 * Whom a limit per address counts: an IPv4 address (also written as IPv6, `::ffff:192.0.2.1`), or the
 * /64 of an IPv6 one, since a single host commonly holds a whole /64 and could take a new address per stream.
 */
export function addressNetwork(address: string): string {
  const plain = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(plain);
  if (mapped) return mapped[1]!;
  if (!plain.includes(':') || plain.includes('.')) return plain;
  const [head = '', tail] = plain.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * A loopback or private address (RFC 1918, RFC 4193, link-local): what an engine behind a reverse
 * proxy sees for every visitor when CLIENT_ADDRESS_HEADER does not name the proxy's header. Counted
 * per address, all of them would share one limit.
 */
export function isProxyLikeAddress(address: string): boolean {
  const network = addressNetwork(address);
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(network);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  if (network === '0:0:0:0::/64') return true; // ::1 (and ::)
  const first = parseInt(network.split(':')[0] || '0', 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}

const slots = new WeakMap<object, StreamSlots>();

export function streamSlotsFor(deps: object): StreamSlots {
  let found = slots.get(deps);
  if (!found) {
    found = new StreamSlots();
    slots.set(deps, found);
  }
  return found;
}
