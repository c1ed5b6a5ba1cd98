import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, signatures } from '../../src/db/schema';
import { DEFAULT_RETENTION, purgePersonalData } from '../../src/features/personal-data/service';
import { releasedTogether } from '../support/barrier';
import { createTestEngine, type TestEngine } from '../support/engine';
import { closedWithSignatures, parisWithClerk } from '../support/identity';

const DAY = 86_400_000;

/** The retention purge run by two engines (two machines, or a cron run that overlaps the last) on one PostgreSQL database. */
describe('two engines purging personal data at the same moment', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine({ poolSize: 10 });
    ({ clerk, sponsor } = await parisWithClerk(engine, { rules: { referendum: { goal: { signatures: 5 }, collectionDays: 30 } } }));
  });
  afterAll(() => engine.close());

  it('destroy the data once: the audit trail has one destruction, counting every signature', async () => {
    // Closed below its goal: its data goes 3 months after the close.
    const id = await closedWithSignatures(engine, { sponsor, clerk }, 3, 'Purgee');
    engine.clock.advance(95 * DAY);
    const now = engine.clock.now();
    const [first, second] = await Promise.all(
      await releasedTogether(engine.db.postgres!, id, [() => purgePersonalData(engine.db.db, now), () => purgePersonalData(engine.db.db, now)]),
    );
    expect(first + second).toBe(3);
    const held = await engine.db.db.select({ p: signatures.personalData }).from(signatures).where(eq(signatures.initiativeId, id));
    expect(held.map((s) => s.p)).toEqual([null, null, null]);
    const destructions = await engine.db.db
      .select({ details: auditLog.details })
      .from(auditLog)
      .where(and(eq(auditLog.initiativeId, id), eq(auditLog.action, 'personal-data.destroyed')));
    expect(destructions).toEqual([{ details: { signatures: 3, status: 'closed' } }]);
  });

  it('in pages, share them out: each signature destroyed once, one destruction recorded at the end, counting every signature', async () => {
    const id = await closedWithSignatures(engine, { sponsor, clerk }, 4, 'Pagees');
    engine.clock.advance(95 * DAY);
    const now = engine.clock.now();
    // Pages of one signature: both engines begin at the same instant, then take pages as they come free.
    const pass = () => purgePersonalData(engine.db.db, now, DEFAULT_RETENTION, { pageSize: 1 });
    const passes = await Promise.all(await releasedTogether(engine.db.postgres!, id, [pass, pass]));
    // A page skipped because the other engine held it is left to the next pass.
    for (let i = 0; i < 10 && (await destructionsOf(id)).length === 0; i++) passes.push(await pass());
    expect(passes.reduce((a, b) => a + b, 0)).toBe(4);
    const held = await engine.db.db.select({ p: signatures.personalData }).from(signatures).where(eq(signatures.initiativeId, id));
    expect(held.filter((s) => s.p !== null)).toEqual([]);
    expect(await destructionsOf(id)).toEqual([{ details: { signatures: 4, status: 'closed' } }]);
  });

  it('a paper batch waiting behind the beginning of a purge in pages is refused; one ahead of it is purged with the rest', async () => {
    const entry = (who: string) => ({ givenNames: who, familyName: 'Papier', birthdate: '1970-03-03', district: '75111', sheet: 'F-1', collector: 'C-1' });
    const keyIn = (id: string, signedOn: string) => () =>
      engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, { token: clerk, body: { entries: [{ ...entry('Anne'), signedOn }, { ...entry('Basile'), signedOn }] } });
    const purge = () => purgePersonalData(engine.db.db, engine.clock.now(), DEFAULT_RETENTION, { pageSize: 1, budgetMs: 0 });
    // Both below the goal of 5, the batch included; the second closed 10 days after the first, so each comes due on its own.
    const behind = await closedWithSignatures(engine, { sponsor, clerk }, 2, 'Derriere');
    const behindClosedOn = engine.clock.now().toISOString().slice(0, 10);
    engine.clock.advance(10 * DAY);
    const ahead = await closedWithSignatures(engine, { sponsor, clerk }, 2, 'Devant');
    const aheadClosedOn = engine.clock.now().toISOString().slice(0, 10);

    engine.clock.advance(85 * DAY);
    const [, refused] = await Promise.all(await releasedTogether(engine.db.postgres!, behind, [purge, keyIn(behind, behindClosedOn)]));
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('/problems/personal-data-destroyed');
    engine.clock.advance(10 * DAY);
    const [taken] = await Promise.all(await releasedTogether(engine.db.postgres!, ahead, [keyIn(ahead, aheadClosedOn), purge]));
    expect(taken.status).toBe(200);
    expect(taken.body.accepted).toBe(2);

    for (let i = 0; i < 10 && ((await destructionsOf(behind)).length === 0 || (await destructionsOf(ahead)).length === 0); i++) await purge();
    for (const id of [behind, ahead]) {
      const held = await engine.db.db.select({ p: signatures.personalData }).from(signatures).where(eq(signatures.initiativeId, id));
      expect(held.filter((s) => s.p !== null)).toEqual([]);
    }
    expect(await destructionsOf(behind)).toEqual([{ details: { signatures: 2, status: 'closed' } }]);
    expect(await destructionsOf(ahead)).toEqual([{ details: { signatures: 4, status: 'closed' } }]);
  });

  const destructionsOf = (id: string) =>
    engine.db.db
      .select({ details: auditLog.details })
      .from(auditLog)
      .where(and(eq(auditLog.initiativeId, id), eq(auditLog.action, 'personal-data.destroyed')));
});
