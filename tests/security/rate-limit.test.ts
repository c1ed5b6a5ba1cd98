import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitCounters } from '../../src/db/schema-ratelimit';
import { signatures } from '../../src/db/schema';
import { countRequest, sweepRateLimits } from '../../src/features/rate-limit/service';
import type { RateLimits } from '../../src/features/rate-limit/limits';
import { createTestEngine, type TestEngine } from '../support/engine';
import { citizen, openInitiativeOver } from '../support/process';

const LIMITS: RateLimits = {
  windowSeconds: 60,
  sign: { perAddress: 6, perIdentity: 3 },
  login: { perAddress: 5, perIdentity: 2 },
  paper: { perAddress: 50, perIdentity: 4 },
  addressHeader: 'x-forwarded-for',
};

function expectRateLimited(res: { status: number; headers: Headers; contentType: string | null; body: any }) {
  expect(res.status).toBe(429);
  expect(res.contentType).toContain('application/problem+json');
  expect(res.body.type).toBe('/problems/rate-limited');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(LIMITS.windowSeconds);
  return retryAfter;
}

/** Limits per client address and per identity on signing, login and paper batches: 429 with Retry-After. */
describe('rate limits', () => {
  let engine: TestEngine;
  let initiativeId: string;
  let clerk: string;
  const over = () => ({ request: engine.request, token: (p: Parameters<TestEngine['tokenFor']>[0]) => engine.tokenFor(p) });

  beforeAll(async () => {
    // Start on a window boundary so the window's end is known.
    engine = await createTestEngine({ start: new Date('2027-03-01T09:00:00Z'), config: { rateLimits: LIMITS } });
    ({ initiativeId, clerk } = await openInitiativeOver(over()));
  });
  afterAll(() => engine.close());

  const sign = (token: string, address: string) =>
    engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75111', consent: true }, headers: { 'x-forwarded-for': address } });

  it('one identity may try to sign only so often, whatever its address; the refusal records nothing', async () => {
    const token = await engine.tokenFor(citizen(1, 'Presse'));
    expect((await sign(token, '198.51.100.1')).status).toBe(201);
    expect((await sign(token, '198.51.100.2')).status).toBe(200);
    expect((await sign(token, '198.51.100.3')).status).toBe(200);
    const refused = await sign(token, '198.51.100.4');
    expectRateLimited(refused);

    // Someone else is not affected.
    expect((await sign(await engine.tokenFor(citizen(2, 'Presse')), '198.51.100.5')).status).toBe(201);
  });

  it('one identity sending many signatures at once gets exactly its share through, from any number of addresses', async () => {
    const token = await engine.tokenFor(citizen(3, 'Rafale'));
    const before = (await engine.db.db.select({ id: signatures.id }).from(signatures)).length;
    const statuses = (await Promise.all(Array.from({ length: 8 }, (_, i) => sign(token, `198.51.100.${20 + i}`)))).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 201, 429, 429, 429, 429, 429]);
    expect((await engine.db.db.select({ id: signatures.id }).from(signatures)).length).toBe(before + 1);
  });

  it('requests counted together in one statement each get their own place in the count, and the window ends when it says', async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const now = engine.clock.now();
    const counted = await Promise.all(Array.from({ length: 5 }, () => countRequest(engine.db, key, 60, now)));
    expect(counted.map((c) => c.count)).toEqual([1, 2, 3, 4, 5]);
    const windowEnd = Math.floor(now.getTime() / 60_000) * 60_000 + 60_000;
    expect(counted.every((c) => c.resetAt.getTime() === windowEnd)).toBe(true);
    expect((await countRequest(engine.db, key, 60, now)).count).toBe(6);
    // The next window starts again at 1; a request stamped with the window before (another process's clock) counts in the newer one.
    const next = new Date(windowEnd + 1000);
    expect((await countRequest(engine.db, key, 60, next)).count).toBe(1);
    expect(await countRequest(engine.db, key, 60, now)).toEqual({ count: 2, resetAt: new Date(windowEnd + 60_000) });
  });

  it('the sweep forgets counters of windows that have ended, and no other', async () => {
    const ended = crypto.getRandomValues(new Uint8Array(32));
    const current = crypto.getRandomValues(new Uint8Array(32));
    const now = engine.clock.now();
    for (let i = 0; i < 3; i++) await countRequest(engine.db, ended, 60, new Date(now.getTime() - 120_000));
    for (let i = 0; i < 3; i++) await countRequest(engine.db, current, 60, now);
    await sweepRateLimits(engine.db, 60, now);
    // A late request stamped in the ended window starts a count of its own again; the current window goes on.
    expect((await countRequest(engine.db, ended, 60, new Date(now.getTime() - 120_000))).count).toBe(1);
    expect((await countRequest(engine.db, current, 60, now)).count).toBe(4);
  });

  it('one address may send only so many signatures, whoever signs; other addresses go on', async () => {
    const tokens = await Promise.all(Array.from({ length: 7 }, (_, i) => engine.tokenFor(citizen(100 + i, 'Adresse'))));
    for (const token of tokens.slice(0, 6)) expect((await sign(token, '203.0.113.7')).status).toBe(201);
    const refused = await sign(tokens[6]!, '203.0.113.7');
    const retryAfter = expectRateLimited(refused);
    // The proxy header's rightmost entry is the address; what the client prepends is not trusted.
    expectRateLimited(await sign(tokens[6]!, '10.9.9.9, 203.0.113.7'));
    expect((await sign(tokens[6]!, '203.0.113.8')).status).toBe(201);

    const rows = await engine.db.db.select({ id: signatures.id }).from(signatures);
    expect(rows.length).toBe(3 + 6 + 1);

    // Retry-After is when the window ends: after it, the address may sign again.
    engine.clock.advance(retryAfter * 1000);
    const later = await engine.tokenFor(citizen(200, 'Adresse'));
    expect((await sign(later, '203.0.113.7')).status).toBe(201);
  });

  it('login (session exchange) is limited per identity and per address', async () => {
    const idToken = await engine.tokenFor(citizen(300, 'Connexion'));
    const session = () => engine.request('POST', '/v1/session', { body: { idToken }, headers: { 'x-forwarded-for': '192.0.2.10' } });
    expect((await session()).status).toBe(201);
    expect((await session()).status).toBe(201);
    expectRateLimited(await session());

    // Per address: even failed attempts with bad tokens count (that is what guessing looks like).
    for (let i = 0; i < 5; i++) {
      const res = await engine.request('POST', '/v1/session', { body: { idToken: 'not-a-token' }, headers: { 'x-forwarded-for': '192.0.2.99' } });
      expect(res.status).toBe(401);
    }
    expectRateLimited(await engine.request('POST', '/v1/session', { body: { idToken: 'not-a-token' }, headers: { 'x-forwarded-for': '192.0.2.99' } }));
  });

  it('a session exchange verifies its ID token once, though the login limit needs the identity before the route', async () => {
    const real = engine.deps.identity;
    const verified: string[] = [];
    engine.deps.identity = { issuer: real.issuer, options: real.options, verify: (token) => (verified.push(token), real.verify(token)) };
    try {
      const idToken = await engine.tokenFor(citizen(301, 'Unique'));
      const res = await engine.request('POST', '/v1/session', { body: { idToken }, headers: { 'x-forwarded-for': '192.0.2.11' } });
      expect(res.status).toBe(201);
      expect(verified).toEqual([idToken]);
      // A bad token is refused by the route with the verification's own problem, still checked once.
      verified.length = 0;
      const bad = await engine.request('POST', '/v1/session', { body: { idToken: 'not-a-token' }, headers: { 'x-forwarded-for': '192.0.2.12' } });
      expect(bad.status).toBe(401);
      expect(verified).toEqual(['not-a-token']);
    } finally {
      engine.deps.identity = real;
    }
  });

  it('the web login start is limited per address', async () => {
    const start = () => engine.request('GET', '/auth/login?returnTo=/', { headers: { 'x-forwarded-for': '192.0.2.77' } });
    const first = await start();
    expect(first.status).not.toBe(429);
    for (let i = 1; i < 5; i++) expect((await start()).status).not.toBe(429);
    expectRateLimited(await start());
    // A browser is shown a page saying so, in its language, not a JSON document.
    const page = await engine.app.request('/auth/login?returnTo=/', { headers: { 'x-forwarded-for': '192.0.2.77', accept: 'text/html', 'accept-language': 'fr' } });
    expect(page.status).toBe(429);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await page.text()).toContain('<title>Trop de demandes');
  });

  it('paper batches are limited per clerk', async () => {
    const batch = () =>
      engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
        token: clerk,
        rawBody: 'not,a,valid,batch\n',
        headers: { 'content-type': 'text/csv', 'x-forwarded-for': '192.0.2.50' },
      });
    for (let i = 0; i < 4; i++) expect((await batch()).status).not.toBe(429);
    expectRateLimited(await batch());
  });

  it("the web front's sign and paper forms count against the same limits as the API, and say so on a page", async () => {
    engine.clock.advance(LIMITS.windowSeconds * 1000); // a window of its own
    const csrf = 'W'.repeat(43);
    const form = (path: string, token: string, body: string) =>
      engine.app.request(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, cookie: `csrf=${csrf}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', 'x-forwarded-for': '192.0.2.90' },
        body: `_csrf=${csrf}&${body}`,
      });
    const expectRefusalPage = async (res: Response) => {
      expect(res.status).toBe(429);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await res.text()).toContain('<h1>Trop de demandes</h1>');
    };

    const token = await engine.tokenFor(citizen(4, 'Formulaire'));
    const signForm = () => form(`/initiatives/${initiativeId}/sign`, token, 'district=75111&consent=yes');
    for (let i = 0; i < LIMITS.sign.perIdentity; i++) expect((await signForm()).status).toBe(303);
    await expectRefusalPage(await signForm());
    // One count for both ways of signing.
    expectRateLimited(await sign(token, '198.51.100.90'));

    const paperForm = () => form(`/clerk/initiatives/${initiativeId}/paper`, clerk, 'csv=not%2Ca%2Cvalid%2Cbatch');
    for (let i = 0; i < LIMITS.paper.perIdentity; i++) expect((await paperForm()).status).toBe(400);
    await expectRefusalPage(await paperForm());
  });

  it('keeps counters on PostgreSQL as keyed hashes, no address or subject in clear; the embedded database keeps none at rest', async () => {
    const rows = await engine.db.db.select().from(rateLimitCounters);
    // The embedded database lives in one process, which counts in memory.
    if (engine.db.kind === 'pglite') return expect(rows).toEqual([]);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.key).toHaveLength(32);
      const text = Buffer.from(row.key).toString('latin1');
      expect(text).not.toContain('203.0.113');
      expect(text).not.toContain('dev-');
    }
  });

  it('uses the socket address the runtime reports when no proxy header is trusted', async () => {
    const direct = await createTestEngine({
      config: { rateLimits: { ...LIMITS, addressHeader: undefined, sign: { perAddress: 2, perIdentity: 0 } } },
      deps: { clientAddress: () => '198.51.100.200' },
    });
    try {
      const { initiativeId: id } = await openInitiativeOver({ request: direct.request, token: (p) => direct.tokenFor(p) });
      const tokens = await Promise.all([0, 1, 2].map((i) => direct.tokenFor(citizen(i, 'Direct'))));
      const signAt = (t: string) =>
        direct.request('POST', `/v1/initiatives/${id}/signatures`, { token: t, body: { district: '75111', consent: true }, headers: { 'x-forwarded-for': `10.0.0.${t.length % 200}` } });
      expect((await signAt(tokens[0]!)).status).toBe(201);
      expect((await signAt(tokens[1]!)).status).toBe(201);
      // The spoofable header is ignored: the socket's address is over its limit.
      expectRateLimited(await signAt(tokens[2]!));
    } finally {
      await direct.close();
    }
  });

  it('reads a body for an identity only on the session exchange: an anonymous paper batch sent in chunks is a 401, not a 500', async () => {
    // Without a declared length, the paper route's own body limit reads the stream: the limiter had read it first.
    const entries = [{ familyName: 'Papier', givenNames: 'Paul', birthdate: '1960-01-01', district: '75111', sheet: 'F-1', collector: 'C-1' }];
    const chunked = (body: string) => new ReadableStream({ start: (controller) => (controller.enqueue(new TextEncoder().encode(body)), controller.close()) });
    const post = (token?: string) =>
      engine.app.request(`/v1/initiatives/${initiativeId}/paper-signatures`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.90', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: chunked(JSON.stringify({ entries })),
        duplex: 'half',
      } as RequestInit);
    const anonymous = await post();
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).type).toBe('/problems/unauthenticated');
    engine.clock.advance(LIMITS.windowSeconds * 1000); // the clerk's batches of the test above are forgotten
    expect((await post(clerk)).status).toBe(200);
  });
});
