import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressHubFor } from '../../src/features/monitoring/live';
import { MIN_PUSH_INTERVAL_MS } from '../../src/features/monitoring/routes';
import { DEFAULT_RATE_LIMITS } from '../../src/features/rate-limit/limits';
import type { Database } from '../../src/db/client';
import { createTestEngine, type TestEngine } from '../support/engine';
import { openReferendum, signAs } from '../support/monitoring';

type SseItem = { kind: 'event'; event: string; id: string | undefined; data: string } | { kind: 'comment'; text: string } | { kind: 'retry'; ms: number };

/** Reads a text/event-stream response item by item (events, comments, retry hints). */
class SseReader {
  private buffer = '';
  private readonly queue: SseItem[] = [];
  private readonly waiters: ((item: SseItem | undefined) => void)[] = [];
  private ended = false;
  readonly events: (SseItem & { kind: 'event' })[] = [];

  constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {
    void this.pump();
  }

  private async pump() {
    const reader = this.response.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.buffer += value;
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          this.push(parseBlock(block));
        }
      }
    } catch {
      // Aborted by the test.
    }
    this.ended = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  private push(item: SseItem) {
    if (item.kind === 'event') this.events.push(item);
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.queue.push(item);
  }

  /** The next item, or undefined once the stream ended. */
  next(): Promise<SseItem | undefined> {
    const item = this.queue.shift();
    if (item || this.ended) return Promise.resolve(item);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async nextEvent(): Promise<SseItem & { kind: 'event' }> {
    for (;;) {
      const item = await this.next();
      if (!item) throw new Error('stream ended');
      if (item.kind === 'event') return item;
    }
  }

  /** Progress events until one shows `signatures` (later pushes replace earlier ones). */
  async progressWith(signatures: number) {
    for (;;) {
      const event = await this.nextEvent();
      const progress = JSON.parse(event.data);
      if (progress.signatures === signatures) return { event, progress };
    }
  }

  close() {
    this.controller.abort();
  }
}

function parseBlock(block: string): SseItem {
  const lines = block.split('\n');
  if (lines.every((l) => l.startsWith(':'))) return { kind: 'comment', text: lines.map((l) => l.slice(1).trim()).join('\n') };
  const fields: Record<string, string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    (fields[name] ??= []).push(line.slice(colon + 1).replace(/^ /, ''));
  }
  if (fields.retry && !fields.data) return { kind: 'retry', ms: Number(fields.retry[0]) };
  return { kind: 'event', event: fields.event?.[0] ?? 'message', id: fields.id?.[0], data: (fields.data ?? []).join('\n') };
}

/** Counts the statements the database driver runs (PGlite's query, postgres.js's unsafe). */
function countQueries(db: Database) {
  const client = (db as unknown as { $client: Record<string, unknown> }).$client;
  const method = typeof client.query === 'function' ? 'query' : 'unsafe';
  const original = client[method] as (...args: unknown[]) => unknown;
  const counter = { count: 0, restore: () => void (client[method] = original) };
  client[method] = function (this: unknown, ...args: unknown[]) {
    counter.count++;
    return original.apply(this, args);
  };
  return counter;
}

async function listen(engine: TestEngine): Promise<{ server: ServerType; base: string }> {
  const server = serve({ fetch: engine.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function watch(base: string, initiativeId: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(`${base}/v1/initiatives/${initiativeId}/progress/stream`, { headers, signal: controller.signal });
  return new SseReader(response, controller);
}

const closeServer = (server: ServerType) =>
  new Promise<void>((resolve) => {
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close(() => resolve());
  });

/** Waits for a condition the server reaches on its own (a stream noticing its client left). */
async function eventually(check: () => boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

describe('live progress over Server-Sent Events (real HTTP)', () => {
  let engine: TestEngine;
  let server: ServerType;
  let base: string;
  let initiativeId: string;
  let signer = 0;

  beforeAll(async () => {
    engine = await createTestEngine({ deps: { progressStream: { heartbeatMs: 250 } } });
    ({ initiativeId } = await openReferendum(engine));
    ({ server, base } = await listen(engine));
  });
  afterAll(async () => {
    await closeServer(server);
    await engine.close();
  });

  it('sends the current progress at once, with a version id, then heartbeats while nothing changes', async () => {
    const stream = await watch(base, initiativeId);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toContain('text/event-stream');
    expect(await stream.next()).toEqual({ kind: 'retry', ms: 3000 });
    const first = await stream.nextEvent();
    expect(first.event).toBe('progress');
    const progress = JSON.parse(first.data);
    const current = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    expect({ ...progress, updatedAt: null }).toEqual({ ...current.body, updatedAt: null });
    expect(first.id).toMatch(/^0-[A-Za-z0-9_-]{16}$/);
    expect(await stream.next()).toEqual({ kind: 'comment', text: 'heartbeat' });
    stream.close();
  });

  it('pushes each change, never twice within a second', async () => {
    const started = performance.now();
    const stream = await watch(base, initiativeId);
    const before = JSON.parse((await stream.nextEvent()).data).signatures as number;
    // Signatures pour in for about three seconds, far faster than one a second.
    const until = performance.now() + 3000;
    while (performance.now() < until) {
      await signAs(engine, initiativeId, ++signer, '75111');
      await new Promise((r) => setTimeout(r, 50));
    }
    const total = before + signer;
    const { progress } = await stream.progressWith(total);
    expect(progress.signatures).toBe(total);
    const elapsed = performance.now() - started;
    stream.close();

    // Every event was sent after we connected and received before now, at least a second apart.
    const events = stream.events.filter((e) => e.event === 'progress');
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.length).toBeLessThanOrEqual(1 + Math.floor(elapsed / MIN_PUSH_INTERVAL_MS));
    const counts = events.map((e) => JSON.parse(e.data).signatures as number);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('resumes with Last-Event-ID: a current client gets no repeat, a stale one the progress at once', async () => {
    const first = await watch(base, initiativeId);
    const latest = await first.nextEvent();
    first.close();

    const current = await watch(base, initiativeId, { 'Last-Event-ID': latest.id! });
    expect(await current.next()).toEqual({ kind: 'retry', ms: 3000 });
    // Nothing changed: the first thing after the retry hint is a heartbeat, not the same progress again.
    expect(await current.next()).toEqual({ kind: 'comment', text: 'heartbeat' });
    await signAs(engine, initiativeId, ++signer, '75118');
    const pushed = await current.nextEvent();
    expect(JSON.parse(pushed.data).signatures).toBe(JSON.parse(latest.data).signatures + 1);
    expect(pushed.id).not.toBe(latest.id);
    current.close();

    const stale = await watch(base, initiativeId, { 'Last-Event-ID': latest.id! });
    expect(await stale.next()).toEqual({ kind: 'retry', ms: 3000 });
    const caughtUp = await stale.next();
    expect(caughtUp).toMatchObject({ kind: 'event', event: 'progress', id: pushed.id });
    stale.close();
  });

  it('ends when collection is over, with the progress in its new status; a reconnecting client is told there is nothing more', async () => {
    const closing = await openReferendum(engine, { sponsorName: 'Clotilde' });
    const hub = progressHubFor(engine.deps);
    const stream = await watch(base, closing.initiativeId);
    expect(JSON.parse((await stream.nextEvent()).data).status).toBe('open');
    expect(hub.watched().get(closing.initiativeId)).toBe(1);

    const closed = await engine.request('POST', `/v1/initiatives/${closing.initiativeId}/close`, { token: closing.sponsor });
    expect(closed.status).toBe(200);
    const last = await stream.nextEvent();
    expect(JSON.parse(last.data)).toMatchObject({ status: 'closed', signatures: 0 });
    let item: Awaited<ReturnType<typeof stream.next>>;
    do item = await stream.next();
    while (item && item.kind === 'comment');
    expect(item).toBeUndefined();
    await eventually(() => !hub.watched().has(closing.initiativeId), 'the closed stream unsubscribed');

    // An EventSource reconnects with the id it last saw: 204 stops it for good.
    const again = await fetch(`${base}/v1/initiatives/${closing.initiativeId}/progress/stream`, { headers: { 'Last-Event-ID': last.id! } });
    expect(again.status).toBe(204);
    // A newcomer gets the final progress once, and the end, with no watcher left behind.
    const late = await fetch(`${base}/v1/initiatives/${closing.initiativeId}/progress/stream`);
    expect(await late.text()).toMatch(/^retry: 3000\n\nevent: progress\ndata: \{.*"status":"closed".*\}\nid: [\w-]+\n\n$/);
    expect(hub.watched().has(closing.initiativeId)).toBe(false);
  });

  it('refuses an unknown initiative with a problem, not a stream', async () => {
    const res = await fetch(`${base}/v1/initiatives/${crypto.randomUUID()}/progress/stream`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect((await fetch(`${base}/v1/initiatives/nope/progress/stream`)).status).toBe(400);
  });
});

describe('many watchers of one initiative', () => {
  let engine: TestEngine;
  let server: ServerType;
  let base: string;

  beforeAll(async () => {
    // The pollers tick only when the test says so, so the queries of one tick can be counted.
    engine = await createTestEngine({ deps: { progressStream: { pollIntervalMs: 3_600_000, heartbeatMs: 60_000 } } });
    ({ server, base } = await listen(engine));
  });
  afterAll(async () => {
    await closeServer(server);
    await engine.close();
  });

  it('cost one query per tick per initiative, whatever their number; the poller stops with the last', async () => {
    const a = await openReferendum(engine);
    const b = await openReferendum(engine, { sponsorName: 'Bruno' });
    const hub = progressHubFor(engine.deps);
    const watchersA = await Promise.all(Array.from({ length: 8 }, () => watch(base, a.initiativeId)));
    const watchersB = await Promise.all(Array.from({ length: 3 }, () => watch(base, b.initiativeId)));
    for (const w of [...watchersA, ...watchersB]) expect(JSON.parse((await w.nextEvent()).data).signatures).toBe(0);
    expect(hub.watched()).toEqual(new Map([[a.initiativeId, 8], [b.initiativeId, 3]]));

    await signAs(engine, a.initiativeId, 1, '75111');
    const queries = countQueries(engine.db.db);
    const polls = hub.polls;
    await hub.pollAll();
    queries.restore();
    expect(hub.polls - polls).toBe(2);
    expect(queries.count).toBe(2);
    for (const w of watchersA) expect(JSON.parse((await w.nextEvent()).data).signatures).toBe(1);

    for (const w of [...watchersA, ...watchersB]) w.close();
    await eventually(() => hub.watched().size === 0, 'every watcher unsubscribed');
    const idle = countQueries(engine.db.db);
    await hub.pollAll();
    idle.restore();
    expect(idle.count).toBe(0);
  });

  it('on a runtime without long-lived connections, sends one snapshot and closes', async () => {
    const live = engine.deps.progressStream;
    // The option is read per request: the same app, configured as a Worker would be.
    engine.deps.progressStream = { mode: 'snapshot' };
    try {
      const { initiativeId } = await openReferendum(engine, { sponsorName: 'Sacha' });
      const res = await fetch(`${base}/v1/initiatives/${initiativeId}/progress/stream`);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const text = await res.text();
      expect(text).toMatch(/^retry: 3000\n\nevent: progress\ndata: \{.*"signatures":0.*\}\nid: 0-[\w-]{16}\n\n$/);
      expect(progressHubFor(engine.deps).watched().size).toBe(0);
    } finally {
      engine.deps.progressStream = live;
    }
  });

  it('one client address holds only so many live streams: the next is a 429, other addresses still watch, a closed one frees its place', async () => {
    const config = engine.deps.config;
    const limits = { ...DEFAULT_RATE_LIMITS, streamsPerAddress: 2, addressHeader: 'x-forwarded-for' };
    engine.deps.config = { ...config, rateLimits: limits };
    const from = (address: string) => ({ 'X-Forwarded-For': address });
    const opened: SseReader[] = [];
    try {
      const { initiativeId } = await openReferendum(engine, { sponsorName: 'Flora' });
      for (let i = 0; i < 2; i++) {
        const stream = await watch(base, initiativeId, from('198.51.100.7'));
        opened.push(stream);
        expect(stream.response.status).toBe(200);
        await stream.nextEvent();
      }
      // Thousands of them from one client were taking the engine's memory and slowing every page (4,500 held: +160 MB, 3 s for the home page).
      const refused = await fetch(`${base}/v1/initiatives/${initiativeId}/progress/stream`, { headers: from('198.51.100.7') });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect((await refused.json()).type).toBe('/problems/rate-limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Even for another initiative: the limit is the address's.
      const other = await openReferendum(engine, { sponsorName: 'Gaspard' });
      const refusedToo = await fetch(`${base}/v1/initiatives/${other.initiativeId}/progress/stream`, { headers: from('198.51.100.7') });
      expect(refusedToo.status).toBe(429);
      await refusedToo.body?.cancel();

      const elsewhere = await watch(base, initiativeId, from('198.51.100.8'));
      opened.push(elsewhere);
      expect(elsewhere.response.status).toBe(200);
      await elsewhere.nextEvent();
      // The reading of the progress itself is not limited.
      expect((await fetch(`${base}/v1/initiatives/${initiativeId}/progress`, { headers: from('198.51.100.7') })).status).toBe(200);

      opened.shift()!.close();
      await eventually(() => progressHubFor(engine.deps).watched().get(initiativeId) === 2, 'the closed stream let go');
      const again = await watch(base, initiativeId, from('198.51.100.7'));
      opened.push(again);
      expect(again.response.status).toBe(200);
      await again.nextEvent();

      // An IPv6 host holds a whole /64: a new address of it per stream is still the same client.
      for (const address of ['2001:db8:a::1', '2001:db8:a:0:ffff::2']) {
        const stream = await watch(base, initiativeId, from(address));
        opened.push(stream);
        expect(stream.response.status, address).toBe(200);
      }
      const sameNetwork = await fetch(`${base}/v1/initiatives/${initiativeId}/progress/stream`, { headers: from('2001:db8:a::3') });
      expect(sameNetwork.status).toBe(429);
      await sameNetwork.body?.cancel();
      const otherNetwork = await watch(base, initiativeId, from('2001:db8:b::1'));
      opened.push(otherNetwork);
      expect(otherNetwork.response.status).toBe(200);
    } finally {
      for (const stream of opened) stream.close();
      engine.deps.config = config;
    }
  });

  it('a HEAD of the live stream holds no place, and behind a proxy whose header is not configured visitors are not counted as one', async () => {
    const config = engine.deps.config;
    const clientAddress = engine.deps.clientAddress;
    engine.deps.config = { ...config, rateLimits: { ...DEFAULT_RATE_LIMITS, streamsPerAddress: 2, addressHeader: undefined } };
    let peer = '203.0.113.9';
    engine.deps.clientAddress = () => peer;
    const opened: SseReader[] = [];
    try {
      const { initiativeId } = await openReferendum(engine, { sponsorName: 'Hector' });
      const path = `${base}/v1/initiatives/${initiativeId}/progress/stream`;
      // A HEAD has no body to read: it answers at once, and took no place (it held one for ever).
      for (let i = 0; i < 3; i++) {
        const head = await fetch(path, { method: 'HEAD' });
        expect(head.status).toBe(200);
        expect(head.headers.get('content-type')).toContain('text/event-stream');
      }
      expect(progressHubFor(engine.deps).watched().get(initiativeId) ?? 0).toBe(0);
      for (let i = 0; i < 2; i++) {
        const stream = await watch(base, initiativeId);
        opened.push(stream);
        expect(stream.response.status).toBe(200);
      }
      const refused = await fetch(path);
      expect(refused.status).toBe(429);
      await refused.body?.cancel();

      // A reverse proxy on the same machine or the private network: every visitor arrives from its address.
      for (const address of ['127.0.0.1', '::1', '10.1.2.3', '192.168.0.4', 'fd00::5']) {
        peer = address;
        for (let i = 0; i < 3; i++) {
          const stream = await watch(base, initiativeId);
          opened.push(stream);
          expect(stream.response.status, address).toBe(200);
        }
      }
    } finally {
      for (const stream of opened) stream.close();
      engine.deps.config = config;
      engine.deps.clientAddress = clientAddress;
    }
  });

  it('shutting down ends every stream, so the server can close; a new watcher is told to come back', async () => {
    const { initiativeId } = await openReferendum(engine, { sponsorName: 'Dora' });
    const watcher = await watch(base, initiativeId);
    await watcher.nextEvent();
    progressHubFor(engine.deps).close();
    let item: Awaited<ReturnType<typeof watcher.next>>;
    do item = await watcher.next();
    while (item);
    const late = await fetch(`${base}/v1/initiatives/${initiativeId}/progress/stream`);
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBeTruthy();
    await late.body?.cancel();
  });
});
