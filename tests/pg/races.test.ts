import { decodeJwt } from 'jose';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type DatabaseHandle } from '../../src/db/client';
import { signatures } from '../../src/db/schema';
import { createTestEngine, type TestEngine } from '../support/engine';
import { brokenInvariants, ledgerOf } from '../support/ledger';
import { decideRemainingValid } from '../support/verification';
import { engineProcessSuite } from '../support/engine-processes';
import { citizen, mapLimit, openInitiativeOver, type EngineProcess } from '../support/process';

/** A small seeded generator, so a failing interleaving can be replayed. */
function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The in-process engine, seen through the same small interface as an engine process. */
const over = (engine: TestEngine) => ({ request: engine.request, token: (p: Parameters<TestEngine['tokenFor']>[0]) => engine.tokenFor(p) });

/** Starts the full count and completes it; returns the valid count the certificate states (or the report, if insufficient). */
async function certify(engine: TestEngine, initiativeId: string, clerk: string) {
  const started = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'full' } });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  await decideRemainingValid(engine.request, initiativeId, clerk);
  const done = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: clerk });
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  if (!done.body.referendumItemId) return { valid: done.body.counts.valid as number, certified: false };
  const item = await engine.request('GET', `/v1/referendum-items/${done.body.referendumItemId}`);
  const certificate = decodeJwt(item.body.certificate) as { counts: { valid: number } };
  return { valid: certificate.counts.valid, certified: true };
}

describe('races on one PostgreSQL database', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await createTestEngine({ poolSize: 20 });
  });
  afterAll(() => engine.close());

  it('200 concurrent sign requests for one identity make exactly one signature', async () => {
    const { initiativeId } = await openInitiativeOver(over(engine));
    const token = await engine.tokenFor({ givenNames: 'Inès', familyName: 'Moreau', birthdate: '1993-06-21' });
    const results = await Promise.all(
      Array.from({ length: 200 }, () => engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75111', consent: true } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(199);
    expect(new Set(results.map((r) => r.body.signature.id)).size).toBe(1);
    const ledger = await ledgerOf(engine.db.db, initiativeId);
    expect(ledger.rows).toBe(1);
    expect(brokenInvariants(ledger)).toEqual([]);
  });

  it('concurrent signing and withdrawing by the same people never leave two live signatures or a wrong count', async () => {
    const { initiativeId } = await openInitiativeOver(over(engine));
    const random = seeded(20270115);
    const people = await Promise.all(Array.from({ length: 30 }, (_, i) => engine.tokenFor(citizen(i, 'Hesite'))));
    const results = await Promise.all(
      people.flatMap((token) =>
        Array.from({ length: 12 }, () =>
          random() < 0.5
            ? engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75104', consent: true } })
            : engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token }),
        ),
      ),
    );
    // Every answer is an outcome the person can act on: signed, already signed, withdrawn, nothing to withdraw.
    for (const r of results) expect([200, 201, 404], JSON.stringify(r.body)).toContain(r.status);
    const ledger = await ledgerOf(engine.db.db, initiativeId);
    expect(brokenInvariants(ledger)).toEqual([]);
    // Each person's own view agrees with the table: signed exactly when a counted row is theirs.
    let signed = 0;
    for (const token of people) {
      const mine = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token });
      expect([200, 404]).toContain(mine.status);
      if (mine.status === 200) signed++;
    }
    expect(signed).toBe(ledger.counted);
    const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    expect(progress.body.signatures).toBe(ledger.counted);
  });

  it('a sponsor closing while people sign: each signature is refused, or counted and in the certificate', async () => {
    const { initiativeId, sponsor, clerk } = await openInitiativeOver(over(engine));
    const tokens = await Promise.all(Array.from({ length: 120 }, (_, i) => engine.tokenFor(citizen(i, 'Cloture'))));
    const signs = tokens.map((token, i) =>
      engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: i % 2 ? '75101' : '75102', consent: true } }),
    );
    const close = engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor });
    const [closed, ...results] = await Promise.all([close, ...signs]);
    expect(closed.status).toBe(200);
    const accepted = results.filter((r) => r.status === 201);
    for (const r of results) {
      if (r.status === 201) continue;
      expect(r.status, JSON.stringify(r.body)).toBe(409);
      expect(r.contentType).toContain('application/problem+json');
    }
    const closesAt = new Date(closed.body.closesAt).getTime();
    for (const r of accepted) expect(new Date(r.body.signature.createdAt).getTime()).toBeLessThanOrEqual(closesAt);

    const { valid } = await certify(engine, initiativeId, clerk);
    expect(valid).toBe(accepted.length);
    const ledger = await ledgerOf(engine.db.db, initiativeId);
    expect(ledger.rows).toBe(accepted.length);
    for (const r of accepted) expect(ledger.ids.has(r.body.signature.id)).toBe(true);
  });

  it("a sponsor's close waits for a batch of signatures being committed, and is dated after it", async () => {
    const { initiativeId, sponsor } = await openInitiativeOver(over(engine));
    const sql = engine.db.postgres!;
    const requested = engine.clock.now();
    let close: Promise<{ status: number; body: any }> | undefined;
    // A batch holds the initiative FOR SHARE until it commits, as the signing statement does.
    await sql.begin(async (batch) => {
      await batch`select 1 from initiatives where id = ${initiativeId} for share`;
      close = engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor });
      for (let waiting = 0; waiting === 0; ) {
        await new Promise((r) => setTimeout(r, 20));
        const [row] = await sql<{ waiting: number }[]>`select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
        waiting = row!.waiting;
      }
      // Signatures of this batch were dated up to now, after the close was asked for.
      engine.clock.advance(5000);
    });
    const closed = await close!;
    expect(closed.status).toBe(200);
    expect(new Date(closed.body.closesAt).getTime()).toBe(requested.getTime() + 5000);
  });

  it('a withdrawal caught by a close being committed waits for it and is refused: the closed count stays as it was', async () => {
    const { initiativeId } = await openInitiativeOver(over(engine));
    const person = citizen(1, 'Retrait');
    const token = await engine.tokenFor(person);
    const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75101', consent: true } });
    expect(signed.status).toBe(201);
    const count = async () => (await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures as number;
    expect(await count()).toBe(1);

    const sql = engine.db.postgres!;
    let withdrawal: ReturnType<TestEngine['request']> | undefined;
    // A close holds the initiative's row FOR UPDATE until it commits; this one closes it as a sponsor's close does.
    await sql.begin(async (close) => {
      await close`select 1 from initiatives where id = ${initiativeId} for update`;
      withdrawal = engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token });
      const deadline = Date.now() + 5000;
      for (let waiting = 0; waiting === 0; ) {
        // Without the lock the withdrawal would not wait: it would be written while the close is under way.
        if (Date.now() > deadline) throw new Error('the withdrawal did not wait for the close');
        await new Promise((r) => setTimeout(r, 20));
        const [row] = await sql<{ waiting: number }[]>`select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
        waiting = row!.waiting;
      }
      const now = engine.clock.now().toISOString();
      await close`update initiatives set status = 'closed', closes_at = ${now}::timestamptz, closed_at = ${now}::timestamptz where id = ${initiativeId}`;
    });
    const refused = await withdrawal!;
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.contentType).toContain('application/problem+json');
    expect(await count()).toBe(1);
    const ledger = await ledgerOf(engine.db.db, initiativeId);
    expect(brokenInvariants(ledger)).toEqual([]);
    expect([ledger.counted, ledger.withdrawn]).toEqual([1, 0]);
  });

  it('signing across the deadline while the scheduler closes: before it counts, from it refused, nothing in between', async () => {
    const { initiativeId, clerk } = await openInitiativeOver(over(engine));
    const tokens = await Promise.all(Array.from({ length: 80 }, (_, i) => engine.tokenFor(citizen(i, 'Echeance'))));
    const opened = await engine.request('GET', `/v1/initiatives/${initiativeId}`);
    const closesAt = new Date(opened.body.closesAt);
    engine.clock.set(new Date(closesAt.getTime() - 40));

    const signAt = (token: string, i: number) =>
      engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: i % 2 ? '75105' : '75106', consent: true } });
    // Half the people start before the deadline; once some are through, the clock reaches it and the
    // scheduler closes while the rest are in flight and the other half arrive.
    let answered = 0;
    const early = tokens.slice(0, 40).map((t, i) => signAt(t, i).finally(() => answered++));
    while (answered < 5) await new Promise((r) => setTimeout(r, 1));
    engine.clock.set(closesAt);
    const late = tokens.slice(40).map((t, i) => signAt(t, i));
    const [results] = await Promise.all([Promise.all([...early, ...late]), engine.scheduler.tick()]);
    const accepted = results.filter((r) => r.status === 201);
    for (const r of results) if (r.status !== 201) expect(r.status, JSON.stringify(r.body)).toBe(409);
    for (const r of accepted) expect(new Date(r.body.signature.createdAt).getTime()).toBeLessThan(closesAt.getTime());
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.length).toBeLessThan(results.length);
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}`)).body.status).toBe('closed');

    const { valid } = await certify(engine, initiativeId, clerk);
    expect(valid).toBe(accepted.length);
    expect(brokenInvariants(await ledgerOf(engine.db.db, initiativeId))).toEqual([]);
    engine.clock.set(new Date());
  });
});

describe('two engine processes on one database', () => {
  let db: DatabaseHandle;
  const suite = engineProcessSuite('civic-two-', { beforeRemove: () => db?.close() });

  it('one person signing through both at once is one signature; everyone signing through both is counted once', async () => {
    // Same data folder: the same keys and pepper, as replicas behind a load balancer would have.
    const env = { DATABASE_URL: suite.databaseUrl, DATABASE_POOL_SIZE: '8', RATE_LIMIT_SIGN_PER_IDENTITY: '0' };
    const [a, b] = [await suite.start(env), await suite.start(env)];
    const { initiativeId } = await openInitiativeOver(a);
    const sign = (e: EngineProcess, token: string) =>
      e.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75115', consent: true } });

    const person = { givenNames: 'Yasmine', familyName: 'Haddad', birthdate: '1988-08-08' };
    const [ta, tb] = [await a.token(person), await b.token(person)];
    const both = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? sign(a, ta) : sign(b, tb))));
    expect(both.filter((r) => r.status === 201)).toHaveLength(1);
    expect(both.filter((r) => r.status === 200)).toHaveLength(99);
    expect(new Set(both.map((r) => r.body.signature.id)).size).toBe(1);

    const people = Array.from({ length: 100 }, (_, i) => citizen(i, 'Replique'));
    const pairs = await mapLimit(people, 8, async (p) => [await a.token(p), await b.token(p)] as const);
    const results = await mapLimit(
      pairs.flatMap(([x, y]) => [() => sign(a, x), () => sign(b, y)]),
      24,
      (call) => call(),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(100);
    expect(results.filter((r) => r.status === 200)).toHaveLength(100);

    db = await openPostgres(suite.databaseUrl, { max: 2, migrate: false });
    const ledger = await ledgerOf(db.db, initiativeId);
    expect(ledger.rows).toBe(101);
    expect(brokenInvariants(ledger)).toEqual([]);
    const rows = await db.db.select({ id: signatures.id }).from(signatures).where(eq(signatures.initiativeId, initiativeId));
    expect(rows).toHaveLength(101);
    for (const e of suite.engines) expect((await e.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(101);
  });
});
