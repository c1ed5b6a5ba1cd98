import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicReadsFor } from '../../src/features/initiatives/public-reads';
import { PARISIANS } from '../support/paris';
import { createWorld, type World } from '../support/world';

/**
 * A newsroom's widget or a city portal reads an initiative's progress from the reader's browser, on
 * a page of another origin; it polls, and asks again only for what changed. Reads anyone may make
 * without a token are open to every origin (CORS), and say when they have not changed (ETag, 304);
 * what is read with a token and every write stay closed to other origins.
 */
describe('public reads from a page of another origin', () => {
  let world: World;
  const ORIGIN = 'https://news.example.org';
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(() => world.engine.close());

  const raw = (method: string, path: string, headers: Record<string, string> = {}) => world.engine.app.request(path, { method, headers: { origin: ORIGIN, ...headers } });

  it("an anonymous read is shared with any origin, its problems too; a reader's own answers are not", async () => {
    const { targetId, sponsor } = world;
    for (const path of [`/v1/initiatives/${targetId}/progress`, `/v1/initiatives/${targetId}`, `/v1/initiatives/${targetId}/log`, '/v1/initiatives?status=open', '/.well-known/jwks.json']) {
      const res = await raw('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
      // A fetch from another origin may read these headers too.
      expect(res.headers.get('access-control-expose-headers'), path).toMatch(/ETag.*Retry-After.*X-Request-Id/);
      expect(res.headers.get('cross-origin-resource-policy'), path).toBe('cross-origin');
    }
    const missing = await raw('GET', '/v1/initiatives/00000000-0000-4000-8000-000000000000/progress');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('access-control-allow-origin')).toBe('*');

    const own = await raw('GET', `/v1/initiatives/${targetId}/signatures/me`, { authorization: `Bearer ${sponsor}` });
    expect(own.status).toBe(200);
    expect(own.headers.get('access-control-allow-origin')).toBeNull();
    expect(own.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    // Read with a token, what is the same for everyone stays so: a shared cache may hand it to an anonymous widget.
    const shared = await raw('GET', `/v1/initiatives/${targetId}/progress`, { authorization: `Bearer ${sponsor}` });
    expect(shared.headers.get('cache-control')).toBe('public, max-age=1');
    expect(shared.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('the live progress stream may be watched from another origin', async () => {
    const res = await raw('GET', `/v1/initiatives/${world.targetId}/progress/stream`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    await res.body?.cancel();
  });

  it("a read's preflight is granted without credentials; a write's is not", async () => {
    const read = await raw('OPTIONS', `/v1/initiatives/${world.targetId}/progress`, { 'access-control-request-method': 'GET', 'access-control-request-headers': 'if-none-match' });
    expect(read.status).toBe(204);
    expect(read.headers.get('access-control-allow-origin')).toBe('*');
    expect(read.headers.get('access-control-allow-methods')).toBe('GET, HEAD');
    expect(read.headers.get('access-control-allow-headers')).toMatch(/If-None-Match/);
    expect(read.headers.get('access-control-allow-headers')).not.toMatch(/authorization/i);
    expect(read.headers.get('access-control-allow-credentials')).toBeNull();

    // A preflight changes nothing: the anonymous reads kept in memory stay kept (a flood of them would otherwise empty the cache).
    const reads = publicReadsFor(world.engine.db);
    const changed = reads.changed.bind(reads);
    let emptied = 0;
    reads.changed = (ids) => {
      emptied++;
      changed(ids);
    };
    try {
      for (const method of ['GET', 'POST']) await raw('OPTIONS', `/v1/initiatives/${world.targetId}/progress`, { 'access-control-request-method': method });
    } finally {
      reads.changed = changed;
    }
    expect(emptied).toBe(0);

    const write = await raw('OPTIONS', `/v1/initiatives/${world.targetId}/signatures`, { 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' });
    expect(write.headers.get('access-control-allow-origin')).toBeNull();
    const signed = await raw('POST', `/v1/initiatives/${world.targetId}/signatures`, {
      authorization: `Bearer ${await world.engine.tokenFor(PARISIANS.karim)}`,
      'content-type': 'application/json',
    });
    expect(signed.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a poller asking again with the ETag it has gets 304 until the progress changes, however much later it asks', async () => {
    const { engine, targetId } = world;
    const path = `/v1/initiatives/${targetId}/progress`;
    const first = await raw('GET', path, { 'cache-control': 'no-cache' });
    const etag = first.headers.get('etag');
    // Weak: the progress says when it was read (updatedAt), and is the same progress a minute later.
    expect(etag).toMatch(/^W\/"[0-9a-f]{32}"$/);
    engine.clock.advance(60_000);

    const again = await raw('GET', path, { 'cache-control': 'no-cache', 'if-none-match': etag! });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe('public, max-age=1');
    expect(again.headers.get('access-control-allow-origin')).toBe('*');
    // A list of tags, or the tag without its weak mark, matches too.
    expect((await raw('GET', path, { 'cache-control': 'no-cache', 'if-none-match': `"other", ${etag!.slice(2)}` })).status).toBe(304);
    // The initiative's detail, which holds its progress, likewise.
    const detail = await raw('GET', `/v1/initiatives/${targetId}`, { 'cache-control': 'no-cache' });
    engine.clock.advance(60_000);
    expect((await raw('GET', `/v1/initiatives/${targetId}`, { 'cache-control': 'no-cache', 'if-none-match': detail.headers.get('etag')! })).status).toBe(304);

    const signed = await engine.request('POST', `/v1/initiatives/${targetId}/signatures`, { token: await engine.tokenFor(PARISIANS.lea), body: { district: '75111', consent: true } });
    expect(signed.status).toBe(201);
    const changed = await raw('GET', path, { 'cache-control': 'no-cache', 'if-none-match': etag! });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(((await changed.json()) as { signatures: number }).signatures).toBe(((await first.json()) as { signatures: number }).signatures + 1);
  });

  it('what is read with a token carries no ETag; the document declares the 304 on the reads that carry one, and on no other', async () => {
    const own = await raw('GET', `/v1/initiatives/${world.targetId}/signatures/me`, { authorization: `Bearer ${world.sponsor}` });
    expect(own.headers.get('etag')).toBeNull();
    const doc = (await world.engine.request('GET', '/openapi.json')).body;
    const declared = Object.entries(doc.paths as Record<string, { get?: { responses: Record<string, unknown> } }>)
      .filter(([, item]) => item.get?.responses['304'])
      .map(([path]) => path);
    // Each of them, read without a token, gives a tag to send back; a read that gives none (a list, the audit trail) declares no 304.
    for (const path of declared) {
      const query = path.endsWith('/inclusion') ? '?index=0' : path.endsWith('/consistency') ? '?from=1' : '';
      const res = await raw('GET', path.replace('{id}', world.targetId) + query);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('etag'), path).toMatch(/^(W\/)?"[0-9a-f]{32}"$/);
    }
    for (const path of ['/v1/initiatives', '/v1/jurisdictions', '/v1/referendum-items', '/v1/audit', '/v1/initiatives/{id}/signatures/me']) {
      expect(declared, path).not.toContain(path);
    }
    expect(declared).toContain('/v1/initiatives/{id}/progress');
    expect(doc.paths['/v1/initiatives'].post.responses['304']).toBeUndefined();
  });
});
