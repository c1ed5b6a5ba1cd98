import { asc, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type DatabaseHandle } from '../../src/db/client';
import { logEntries, outbox, signatures } from '../../src/db/schema';
import { runVerifier } from '../../src/verify';
import { releasedTogether } from '../support/barrier';
import { engineProcessSuite } from '../support/engine-processes';
import { brokenInvariants, ledgerOf } from '../support/ledger';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { citizen, mapLimit, openInitiativeOver, sleep, type EngineProcess, type HttpResult } from '../support/process';
import { decideRemainingValid } from '../support/verification';

type Person = ReturnType<typeof citizen>;

/**
 * Two engine processes on one PostgreSQL database, as two replicas behind a load balancer: each
 * keeps its own caches (the signing context of an initiative, anonymous reads) and runs its own
 * scheduler (deadlines, crossings, the log's sequencer). Whatever either does, the count is the
 * number of counted rows and the log's sign − withdraw − invalidate, and each event is emitted once.
 */
describe('races between two engine processes on one database', () => {
  let db: DatabaseHandle;
  let a: EngineProcess;
  let b: EngineProcess;
  const suite = engineProcessSuite('civic-replicas-', { beforeRemove: () => db?.close() });

  beforeAll(async () => {
    // The same data folder: the same keys and pepper. Schedulers tick often, so deadlines and crossings come quickly.
    const env = { DATABASE_URL: suite.databaseUrl, DATABASE_POOL_SIZE: '8', RATE_LIMIT_SIGN_PER_IDENTITY: '0', SCHEDULER_INTERVAL_MS: '100', LOG_MERGE_DELAY_MS: '100' };
    [a, b] = [await suite.start(env), await suite.start(env)];
    db = await openPostgres(suite.databaseUrl, { max: 4, migrate: false });
    // Paris, with agenda initiatives that close once 12 signatures are in.
    const admin = await a.token({ givenNames: 'Ada', familyName: 'Admin', birthdate: '1970-01-01', subject: 'admin-subject' });
    const rules = parisJurisdiction().rules;
    const created = await a.request('POST', '/v1/jurisdictions', {
      token: admin,
      body: parisJurisdiction({ committeeMinimum: 0, rules: { ...rules, agenda: { goal: { signatures: 12 }, collectionDays: 30, closeWhenMet: true } } }),
    });
    expect(created.status).toBe(201);
  });

  /** One person's ID tokens for each process. */
  const tokensOf = (person: Person) => Promise.all([a.token(person), b.token(person)]);
  const sign = (engine: EngineProcess, id: string, token: string, district = '75111') =>
    engine.request('POST', `/v1/initiatives/${id}/signatures`, { token, body: { district, consent: true } });
  const withdrawOwn = (engine: EngineProcess, id: string, token: string) => engine.request('DELETE', `/v1/initiatives/${id}/signatures/me`, { token });
  const eventsOf = async (id: string) => (await db.db.select({ type: outbox.type }).from(outbox).where(eq(outbox.initiativeId, id))).map((e) => e.type).sort();
  const count = async (engine: EngineProcess, id: string) => (await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures as number;

  /** Waits until `check` holds, polling; fails after a while with `what`. */
  async function until(what: string, check: () => Promise<boolean>) {
    for (const deadline = Date.now() + 30_000; !(await check()); await sleep(50)) {
      if (Date.now() > deadline) throw new Error(`waited in vain: ${what}`);
    }
  }

  /** Count, rows and log agree, through both processes and the standalone verifier. */
  async function expectSound(id: string) {
    const ledger = await ledgerOf(db.db, id);
    expect(brokenInvariants(ledger)).toEqual([]);
    for (const engine of [a, b]) expect(await count(engine, id)).toBe(ledger.counted);
    const entries = ledger.signEntries + ledger.withdrawEntries;
    await until('the log integrates every entry', async () => (await a.request('GET', `/v1/initiatives/${id}/log`)).body.size === entries);
    const lines: string[] = [];
    expect(await runVerifier(['log', id, '--server', b.url], (line) => lines.push(line)), lines.join('\n')).toBe(0);
    expect(lines.join('\n')).toContain(`${ledger.signEntries} sign − ${ledger.withdrawEntries} withdraw − 0 invalidate = ${ledger.counted}`);
    return ledger;
  }

  /** A full count of every signature, all valid, completed through `engine`: the certificate's count, or null if insufficient. */
  async function certify(engine: EngineProcess, id: string, clerk: string) {
    const started = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    await decideRemainingValid(engine.request, id, clerk);
    const done = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    return done.body.counts.valid as number;
  }

  /** Every answer is a signature, or a 409 problem saying collection is over. */
  function splitAnswers(results: HttpResult[]) {
    for (const r of results) if (r.status !== 201) expect(r.status, JSON.stringify(r.body)).toBe(409);
    return results.filter((r) => r.status === 201);
  }

  it('people signing, withdrawing and signing again through both processes at once: one live signature each, count = rows = log', async () => {
    const { initiativeId: id } = await openInitiativeOver(a);
    const people = Array.from({ length: 24 }, (_, i) => citizen(i, 'Vaetvient'));
    const tokens = await mapLimit(people, 8, tokensOf);
    // Each person sends ten requests at once, alternating processes: two signs for one withdrawal.
    const results = await Promise.all(
      tokens.flatMap((pair, i) =>
        Array.from({ length: 10 }, (_, j) => {
          const engine = (i + j) % 2 === 0 ? a : b;
          return (i + j) % 3 === 0 ? withdrawOwn(engine, id, pair[(i + j) % 2]!) : sign(engine, id, pair[(i + j) % 2]!);
        }),
      ),
    );
    for (const r of results) expect([200, 201, 404], JSON.stringify(r.body)).toContain(r.status);
    const ledger = await expectSound(id);
    // Each person's own view, through either process, agrees with the rows.
    let signed = 0;
    for (const [i, pair] of tokens.entries()) {
      const mine = await (i % 2 ? b : a).request('GET', `/v1/initiatives/${id}/signatures/me`, { token: pair[i % 2]! });
      expect([200, 404]).toContain(mine.status);
      if (mine.status === 200) signed++;
    }
    expect(signed).toBe(ledger.counted);
  });

  it('one person signing through one process while withdrawing through the other at the same instant: signed exactly when the count says so', async () => {
    const { initiativeId: id } = await openInitiativeOver(a);
    for (let attempt = 0; attempt < 6; attempt++) {
      const [ta, tb] = await tokensOf(citizen(attempt, 'Hesitant'));
      const first = await sign(a, id, ta);
      expect(first.status).toBe(201);
      const before = await count(a, id);
      const again = () => sign(a, id, ta);
      const withdrawal = () => withdrawOwn(b, id, tb);
      // Which of the two queues first for the initiative alternates; either outcome is right, as long as everything says the same.
      const order = attempt % 2 === 0 ? [again, withdrawal] : [withdrawal, again];
      const answers = await Promise.all(await releasedTogether(db.postgres!, id, order));
      const [signed, withdrawn] = [answers[order.indexOf(again)]!, answers[order.indexOf(withdrawal)]!];
      expect(withdrawn.status, JSON.stringify(withdrawn.body)).toBe(200);
      expect(withdrawn.body.id).toBe(first.body.signature.id);
      const mine = await b.request('GET', `/v1/initiatives/${id}/signatures/me`, { token: tb });
      if (signed.status === 201) {
        // Signed again after the withdrawal: a new signature, counted.
        expect(signed.body.signature.id).not.toBe(first.body.signature.id);
        expect(mine.body.signature.id).toBe(signed.body.signature.id);
        expect(await count(b, id)).toBe(before);
      } else {
        // Already signed when asked: that signature, then withdrawn.
        expect(signed.status, JSON.stringify(signed.body)).toBe(200);
        expect(signed.body.signature.id).toBe(first.body.signature.id);
        expect(mine.status).toBe(404);
        expect(await count(b, id)).toBe(before - 1);
      }
    }
    await expectSound(id);
  });

  it('two signatures of one person after a withdrawal, one through each process at the same instant: one new signature; the log says sign, withdraw, sign', async () => {
    const { initiativeId: id } = await openInitiativeOver(a);
    for (let attempt = 0; attempt < 4; attempt++) {
      const [ta, tb] = await tokensOf(citizen(attempt, 'Retour'));
      const first = await sign(a, id, ta);
      expect(first.status).toBe(201);
      expect((await withdrawOwn(b, id, tb)).status).toBe(200);
      const [viaA, viaB] = await Promise.all(await releasedTogether(db.postgres!, id, [() => sign(a, id, ta, '75112'), () => sign(b, id, tb, '75112')]));
      expect([viaA.status, viaB.status].sort(), JSON.stringify([viaA.body, viaB.body])).toEqual([200, 201]);
      const again = viaA.body.signature.id as string;
      expect(viaB.body.signature.id).toBe(again);
      expect(again).not.toBe(first.body.signature.id);
      const rows = await db.db.select({ id: signatures.id, status: signatures.status }).from(signatures).where(eq(signatures.initiativeId, id));
      expect(rows.filter((r) => r.id === first.body.signature.id || r.id === again).map((r) => r.status).sort()).toEqual(['counted', 'withdrawn']);
      const entries = await db.db
        .select({ type: logEntries.type, ref: logEntries.ref })
        .from(logEntries)
        .where(eq(logEntries.initiativeId, id))
        .orderBy(asc(logEntries.id));
      expect(entries.filter((e) => e.ref === first.body.signature.id || e.ref === again)).toEqual([
        { type: 'sign', ref: first.body.signature.id },
        { type: 'withdraw', ref: first.body.signature.id },
        { type: 'sign', ref: again },
      ]);
    }
    const ledger = await expectSound(id);
    expect([ledger.counted, ledger.withdrawn]).toEqual([4, 4]);
  });

  it("the sponsor closing through one process while people sign through the other, which still holds the initiative as open: refused or counted and certified", async () => {
    const { initiativeId: id, sponsor, clerk } = await openInitiativeOver(a);
    const tokens = await mapLimit(Array.from({ length: 80 }, (_, i) => citizen(i, 'Fermeture')), 8, tokensOf);
    // Process b reads the initiative once and keeps it for its next signatures.
    expect((await sign(b, id, tokens[0]![1])).status).toBe(201);
    let answered = 0;
    const signing = mapLimit(tokens.slice(1), 12, async (pair, i) => {
      const res = await sign(i % 3 === 0 ? a : b, id, pair[i % 3 === 0 ? 0 : 1]);
      answered++;
      return res;
    });
    while (answered < 20) await sleep(2);
    const closed = await a.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor });
    expect(closed.status).toBe(200);
    const accepted = splitAnswers(await signing);
    expect(accepted.length + 1).toBeLessThan(tokens.length);
    const closesAt = new Date(closed.body.closesAt).getTime();
    for (const r of accepted) expect(new Date(r.body.signature.createdAt).getTime()).toBeLessThanOrEqual(closesAt);
    // Process b, whose read said open, refuses from now on.
    const late = await sign(b, id, (await tokensOf(citizen(500, 'Fermeture')))[1]);
    expect(late.status).toBe(409);
    // Every signature answered 201 is in the certificate, the first one too.
    expect(await certify(a, id, clerk)).toBe(accepted.length + 1);
    expect((await expectSound(id)).counted).toBe(accepted.length + 1);
    expect((await eventsOf(id)).filter((t) => t === 'initiative.closed')).toHaveLength(1);
  });

  it('the sponsor withdrawing the initiative through one process while people sign through the other: each signature refused or counted, and the count stays', async () => {
    const { initiativeId: id, sponsor } = await openInitiativeOver(a);
    const tokens = await mapLimit(Array.from({ length: 60 }, (_, i) => citizen(i, 'Abandon')), 8, tokensOf);
    expect((await sign(b, id, tokens[0]![1])).status).toBe(201);
    let answered = 0;
    const signing = mapLimit(tokens.slice(1), 12, async (pair) => {
      const res = await sign(b, id, pair[1]);
      answered++;
      return res;
    });
    while (answered < 15) await sleep(2);
    const withdrawn = await a.request('POST', `/v1/initiatives/${id}/withdraw`, { token: sponsor, body: { reason: 'Abandon' } });
    expect(withdrawn.status, JSON.stringify(withdrawn.body)).toBe(200);
    const accepted = splitAnswers(await signing);
    expect(accepted.length + 1).toBeLessThan(tokens.length);
    const ledger = await ledgerOf(db.db, id);
    expect(ledger.counted).toBe(accepted.length + 1);
    expect(brokenInvariants(ledger)).toEqual([]);
    const late = await sign(b, id, (await tokensOf(citizen(500, 'Abandon')))[1]);
    expect(late.body).toMatchObject({ status: 409, currentStatus: 'withdrawn' });
    expect(await count(b, id)).toBe(ledger.counted);
    expect((await eventsOf(id)).filter((t) => t === 'initiative.withdrawn')).toHaveLength(1);
  });

  it('the deadline passing while people sign through both processes: before it counts, from it refused, one close by either scheduler', async () => {
    const opened = await openInitiativeOver(a);
    const tokens = await mapLimit(Array.from({ length: 400 }, (_, i) => citizen(i, 'Echeance')), 16, tokensOf);
    // A second initiative, opened with a deadline three seconds ahead on the real clock.
    const draft = await a.request('POST', '/v1/initiatives', { token: opened.sponsor, body: REFERENDUM_DRAFT });
    await a.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: opened.sponsor });
    const deadline = Date.now() + 3000;
    const review = await a.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: opened.clerk, body: { decision: 'open', closesAt: new Date(deadline).toISOString() } });
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    const id = draft.body.id as string;
    const closesAt = new Date(review.body.closesAt).getTime();
    // Signing until well past the deadline, at a pace that leaves people for after it.
    let next = 0;
    const results: HttpResult[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        while (Date.now() < closesAt + 800 && next < tokens.length) {
          const pair = tokens[next++]!;
          results.push(await sign(w % 2 ? a : b, id, pair[w % 2 ? 0 : 1], w % 2 ? '75101' : '75102'));
          await sleep(50);
        }
      }),
    );
    const accepted = splitAnswers(results);
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.length).toBeLessThan(results.length);
    for (const r of accepted) expect(new Date(r.body.signature.createdAt).getTime()).toBeLessThan(closesAt);
    await until('a scheduler closes the initiative', async () => (await b.request('GET', `/v1/initiatives/${id}`)).body.status === 'closed');
    expect(await certify(a, id, opened.clerk)).toBe(accepted.length);
    expect((await expectSound(id)).counted).toBe(accepted.length);
    expect((await eventsOf(id)).filter((t) => t === 'initiative.closed')).toHaveLength(1);
  });

  it('a milestone and the goal crossed by signatures through both processes, left and crossed again after withdrawals: each announced once', async () => {
    // The referendum rules of Paris: a milestone at 3, the goal at 5 with two districts of at least 2.
    const { initiativeId: id } = await openInitiativeOver(a);
    const tokens = await mapLimit(Array.from({ length: 8 }, (_, i) => citizen(i, 'Palier')), 8, tokensOf);
    const signAll = (pairs: string[][], district: (i: number) => string) => Promise.all(pairs.map((pair, i) => sign(i % 2 ? a : b, id, pair[i % 2 ? 0 : 1]!, district(i))));
    const reached = async (type: string) => (await eventsOf(id)).includes(type);
    /** A tick of a scheduler after now: another initiative crosses its milestone, which only a run of the crossings task records. */
    async function aTickLater() {
      const probe = await openInitiativeOver(b);
      const probeTokens = await mapLimit(Array.from({ length: 3 }, (_, i) => citizen(i, 'Sonde')), 3, (p) => b.token(p));
      for (const token of probeTokens) expect((await sign(b, probe.initiativeId, token)).status).toBe(201);
      await until('a scheduler records the probe', async () => (await eventsOf(probe.initiativeId)).includes('initiative.milestone_reached'));
    }

    expect((await signAll(tokens.slice(0, 4), () => '75101')).map((r) => r.status)).toEqual([201, 201, 201, 201]);
    await until('the milestone is announced', () => reached('initiative.milestone_reached'));
    // Back under the milestone, for at least one run of the schedulers.
    for (const [i, pair] of tokens.slice(0, 2).entries()) expect((await withdrawOwn(i % 2 ? a : b, id, pair[i % 2 ? 0 : 1]!)).status).toBe(200);
    expect(await count(a, id)).toBe(2);
    await aTickLater();
    // Over it again and to the goal, through both processes at once: the two who left come back, four more sign.
    const back = await signAll([...tokens.slice(0, 2), ...tokens.slice(4)], (i) => (i % 2 ? '75101' : '75102'));
    expect(back.map((r) => r.status)).toEqual(Array(6).fill(201));
    await until('the goal is announced', () => reached('initiative.goal_reached'));
    await aTickLater();
    expect(await count(b, id)).toBe(8);
    const events = await eventsOf(id);
    expect(events.filter((t) => t === 'initiative.milestone_reached')).toHaveLength(1);
    expect(events.filter((t) => t === 'initiative.goal_reached')).toHaveLength(1);
    const progress = await b.request('GET', `/v1/initiatives/${id}/progress`);
    expect(progress.body).toMatchObject({ goalMet: true, milestones: [{ signatures: 3, reached: true }] });
    await expectSound(id);
  });

  it('collection closing on its goal while people sign through both processes: refused or counted, one goal event, one close', async () => {
    const { sponsor, clerk } = await openInitiativeOver(a);
    const draft = await a.request('POST', '/v1/initiatives', { token: sponsor, body: { jurisdictionId: 'paris', kind: 'agenda', title: 'Des arbres', summary: 'Des arbres.', text: 'Des arbres partout.' } });
    await a.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor });
    expect((await a.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: clerk, body: { decision: 'open' } })).status).toBe(200);
    const id = draft.body.id as string;
    const tokens = await mapLimit(Array.from({ length: 200 }, (_, i) => citizen(i, 'Objectif')), 16, tokensOf);
    // People keep coming until the initiative has been closed for a while (the goal is 12).
    let closedSeen = 0;
    let next = 0;
    const results: HttpResult[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, w) => {
        while (closedSeen < 20 && next < tokens.length) {
          const res = await sign(w % 2 ? a : b, id, tokens[next++]![w % 2 ? 0 : 1]);
          results.push(res);
          if (res.status === 409) closedSeen++;
          await sleep(10);
        }
      }),
    );
    const accepted = splitAnswers(results);
    expect(accepted.length).toBeGreaterThanOrEqual(12);
    const initiative = await b.request('GET', `/v1/initiatives/${id}`);
    expect(initiative.body.status).toBe('closed');
    for (const r of accepted) expect(new Date(r.body.signature.createdAt).getTime()).toBeLessThan(new Date(initiative.body.closesAt).getTime());
    expect(await certify(a, id, clerk)).toBe(accepted.length);
    await expectSound(id);
    const events = await eventsOf(id);
    expect(events.filter((t) => t === 'initiative.goal_reached')).toHaveLength(1);
    expect(events.filter((t) => t === 'initiative.closed')).toHaveLength(1);
  });
});
