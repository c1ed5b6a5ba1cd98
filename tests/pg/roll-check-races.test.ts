import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type DatabaseHandle } from '../../src/db/client';
import { auditLog, verifications } from '../../src/db/schema';
import { verificationDecisions, verificationRollChecks } from '../../src/db/schema-verification';
import { buildTallies, runRollChecks } from '../../src/features/verification/service';
import type { AppDeps } from '../../src/platform/http';
import { lockWaiters } from '../support/barrier';
import { createTestEngine, type TestEngine } from '../support/engine';
import { closedWithSignatures, parisWithClerk, putRoll, rollCsv } from '../support/identity';

const SIGNERS = 12;
/** closedWithSignatures signs PrenomA, PrenomB, ... of a family in 75111: the first eight of each family are on the roll there, the ninth in 75118. */
const rollOf = (families: string[]) =>
  rollCsv(
    families.flatMap((family) => [
      ...Array.from({ length: 8 }, (_, i) => [family, `Prenom${String.fromCharCode(65 + i)}`, '1980-01-01', '75111']),
      [family, 'PrenomI', '1980-01-01', '75118'],
    ]),
  );

/** The check against the roll run by two engines (two machines, or a cron run that overlaps the last) on one PostgreSQL database. */
describe('two engines checking full counts against the roll at the same moment', () => {
  let engine: TestEngine;
  let other: DatabaseHandle;
  let otherDeps: AppDeps;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine({ poolSize: 10 });
    ({ clerk, sponsor } = await parisWithClerk(engine));
    // The second engine: its own pool on the same database, its own task.
    other = await openPostgres(engine.db.url!, { max: 4, migrate: false });
    otherDeps = { ...engine.deps, db: other };
  });
  afterAll(async () => {
    await other?.close();
    await engine?.close();
  });

  it('each signature is checked once, each check ends once, with one audit entry of the right totals', async () => {
    const families = ['Course', 'Relais'];
    expect((await putRoll(engine, clerk, rollOf(families))).status).toBe(200);
    const ids: string[] = [];
    for (const family of families) {
      const id = await closedWithSignatures(engine, { sponsor, clerk }, SIGNERS, family);
      expect((await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
      ids.push(id);
    }
    const now = engine.clock.now();
    const pass = (deps: Pick<AppDeps, 'db' | 'keys' | 'logger'>) => runRollChecks(deps, now, { pageSize: 3, budgetMs: 0 });

    // While another engine's page holds a verification's row, a pass skips it at once: it neither waits nor checks it.
    await engine.db.postgres!.begin(async (hold) => {
      await hold`select 1 from verifications where initiative_id in ${hold(ids)} for update`;
      expect(await Promise.all([pass(engine.deps), pass(otherDeps)])).toEqual([[], []]);
    });
    const [{ n: checkedWhileHeld } = { n: -1 }] = await engine.db.db.select({ n: sql<number>`count(*)::int` }).from(verificationRollChecks).where(inArray(verificationRollChecks.initiativeId, ids));
    expect(checkedWhileHeld).toBe(0);

    // Both engines pass after pass, at the same time, until nothing is due.
    const due = async () =>
      (await engine.db.db.select({ id: verifications.initiativeId }).from(verifications).where(and(inArray(verifications.initiativeId, ids), sql`${verifications.rollCheckDoneAt} is null`))).length;
    const finished: string[] = [];
    const run = async (deps: Pick<AppDeps, 'db' | 'keys' | 'logger'>) => {
      for (let n = 0; n < 100 && (await due()) > 0; n++) finished.push(...(await pass(deps)));
    };
    await Promise.all([run(engine.deps), run(otherDeps), run(engine.deps), run(otherDeps)]);
    expect(await due()).toBe(0);
    expect(finished.sort()).toEqual([...ids].sort());

    for (const id of ids) {
      const checks = await engine.db.db.select().from(verificationRollChecks).where(eq(verificationRollChecks.initiativeId, id));
      expect(checks).toHaveLength(SIGNERS);
      const byRoll = await engine.db.db
        .select()
        .from(verificationDecisions)
        .where(and(eq(verificationDecisions.initiativeId, id), eq(verificationDecisions.source, 'roll')));
      expect(byRoll).toHaveLength(8);
      const entries = await engine.db.db
        .select({ details: auditLog.details })
        .from(auditLog)
        .where(and(eq(auditLog.initiativeId, id), eq(auditLog.action, 'verification.roll-check')));
      expect(entries).toHaveLength(1);
      expect(entries[0]!.details).toMatchObject({ checked: SIGNERS, onRoll: 8, otherDistrict: 1, notOnRoll: 3, noPersonalData: 0 });
      const report = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
      expect(report.body.rollCheck).toMatchObject({ status: 'done', checked: SIGNERS, toCheck: SIGNERS });
    }
  });
  it('clerks ruling while two engines check pages: the figures shown are those counted again from the rows', async () => {
    const family = 'Melee';
    expect((await putRoll(engine, clerk, rollOf([family]))).status).toBe(200);
    const id = await closedWithSignatures(engine, { sponsor, clerk }, SIGNERS, family);
    const started = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } });
    expect(started.status).toBe(201);
    const signatureIds: string[] = started.body.signatures.items.map((s: { id: string }) => s.id);
    const now = engine.clock.now();
    const done = async () => (await engine.db.db.select({ at: verifications.rollCheckDoneAt }).from(verifications).where(eq(verifications.initiativeId, id)))[0]!.at !== null;
    const run = async (deps: Pick<AppDeps, 'db' | 'keys' | 'logger'>) => {
      for (let n = 0; n < 100 && !(await done()); n++) await runRollChecks(deps, now, { pageSize: 2, budgetMs: 0 });
    };
    // A clerk rules on every signature, one request each, a third of them duplicates (over the roll's valid ruling when it came first).
    const rule = async () => {
      for (const [i, signatureId] of signatureIds.entries()) {
        const res = await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, {
          token: clerk,
          // Each duplicate names the signature after it as its partner, never itself a duplicate.
          body: { decisions: [i % 3 === 0 ? { signatureId, decision: 'duplicate', duplicateOf: signatureIds[i + 1] } : { signatureId, decision: 'valid' }] },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    };
    await Promise.all([run(engine.deps), run(otherDeps), rule()]);
    expect(await done()).toBe(true);

    const figures = async () => {
      const { tallies, roll, rollCheck, counts } = (await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk })).body;
      return { tallies, roll, rollCheck, counts };
    };
    const shown = await figures();
    expect(shown).toMatchObject({ tallies: { decided: SIGNERS, pending: 0, valid: 8, duplicates: 4 }, counts: { raw: SIGNERS, valid: 8 }, rollCheck: { status: 'done' } });
    await engine.db.db.transaction((tx) => buildTallies(tx, id));
    expect(await figures()).toEqual(shown);
  });
});

/** A clerk importing a new roll while a page of a full count is being checked against the old one. */
describe('a roll imported during a page of the check', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine({ poolSize: 10 });
    ({ clerk, sponsor } = await parisWithClerk(engine));
  });
  afterAll(() => engine?.close());

  it('the page is checked against the roll it began with, whole; the import waits for it, and the next pages use the new roll', async () => {
    expect((await putRoll(engine, clerk, rollOf(['Bascule']))).status).toBe(200);
    const id = await closedWithSignatures(engine, { sponsor, clerk }, 9, 'Bascule');
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    const sql = engine.db.postgres!;

    let page: Promise<string[]> | undefined;
    let importing: ReturnType<typeof putRoll> | undefined;
    // The page reads the roll in force, then waits for the signatures, held here; a new roll, where
    // nobody of the family is, is imported meanwhile.
    await sql.begin(async (hold) => {
      await hold`lock table signatures in access exclusive mode`;
      page = runRollChecks(engine.deps, engine.clock.now(), { pageSize: 5, budgetMs: 0 });
      await lockWaiters(sql, 1, 'the page did not reach the signatures');
      importing = putRoll(engine, clerk, rollCsv([['Ailleurs', 'Quelquun', '1970-05-05', '75111']]));
      // Either the import is done, or it waits for the page.
      await Promise.race([importing, lockWaiters(sql, 2, 'the import neither finished nor waited')]);
    });
    expect(await page).toEqual([]);
    expect((await importing!).status).toBe(200);
    expect(await runRollChecks(engine.deps, engine.clock.now(), { pageSize: 5, budgetMs: 0 })).toEqual([id]);

    // The first page's five signatures were looked up in the roll it began with, where the family is
    // (in their district, PrenomI in another); the last four in the new roll, where nobody of it is.
    const checks = await engine.db.db.select().from(verificationRollChecks).where(eq(verificationRollChecks.initiativeId, id)).orderBy(verificationRollChecks.signatureId);
    expect(checks).toHaveLength(9);
    for (const check of checks.slice(0, 5)) expect(['on-roll', 'other-district']).toContain(check.result);
    expect(checks.slice(5).map((c) => c.result)).toEqual(Array(4).fill('not-on-roll'));
    const [entry] = await engine.db.db.select({ details: auditLog.details }).from(auditLog).where(and(eq(auditLog.initiativeId, id), eq(auditLog.action, 'verification.roll-check')));
    const [first, second] = await sql<{ id: string }[]>`select id from roll_imports where jurisdiction_id = 'paris' order by started_at`;
    expect(entry!.details).toMatchObject({ rollImport: second!.id, rollImportAtStart: first!.id, checked: 9, notOnRoll: 4 });
  });
});
