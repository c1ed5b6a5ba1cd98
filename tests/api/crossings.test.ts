import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../src/db/schema';
import { recordCrossings } from '../../src/features/progress/crossings';
import { createTestEngine, type TestEngine } from '../support/engine';
import { openParisInitiative } from '../support/identity';
import { parisJurisdiction } from '../support/paris';

/** Distinct adults of Paris, letters only in their names. */
const citizen = (n: number) => ({ givenNames: `Camille${String.fromCharCode(97 + n)}`, familyName: 'Seuil', birthdate: '1980-03-03' });
const DEADLINE = '2027-06-30T22:00:00Z';

/**
 * Milestones and the goal (Paris referendum rules of the tests: milestone at 3, goal 5 with two
 * districts of 2) are announced once each, even when the signatures that reach them come in the
 * last moment before the close, or on paper keyed in after it.
 */
describe('goal and milestone events at the end of collection', () => {
  let engine: TestEngine;
  let clerk: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk } = await openParisInitiative(engine));
  });
  afterAll(() => engine.close());

  const events = async (initiativeId: string) =>
    (await engine.db.db.select({ type: outbox.type, payload: outbox.payload }).from(outbox).where(eq(outbox.initiativeId, initiativeId)))
      .filter((e) => e.type.endsWith('_reached'))
      .map((e) => `${e.type} ${e.payload.signatures}`)
      .sort();
  const signOnline = async (initiativeId: string, n: number, district: string) => {
    const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(citizen(n)), body: { district, consent: true } });
    expect(res.status).toBe(201);
  };

  it('signatures in the last second before the deadline: the next tick closes the initiative and still records what they reached, once', async () => {
    engine.clock.set('2027-03-01T10:00:00Z');
    const { initiativeId } = await openParisInitiative(engine, { createJurisdiction: false });
    await signOnline(initiativeId, 0, '75111');
    await signOnline(initiativeId, 1, '75111');
    await engine.scheduler.tick();
    expect(await events(initiativeId)).toEqual([]);

    engine.clock.set('2027-06-30T21:59:59.500Z');
    for (const [n, district] of [[2, '75118'], [3, '75118'], [4, '75120']] as const) await signOnline(initiativeId, n, district);
    engine.clock.set('2027-06-30T22:00:00.500Z');
    await engine.scheduler.tick();
    const progress = (await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body;
    expect(progress).toMatchObject({ status: 'closed', signatures: 5 });
    expect(await events(initiativeId)).toEqual(['initiative.goal_reached 5', 'initiative.milestone_reached 5']);
    await engine.scheduler.tick();
    expect(await events(initiativeId)).toHaveLength(2);
  });

  it('the goal reached by paper sheets keyed in after the deadline is announced, once', async () => {
    engine.clock.set('2027-03-01T10:00:00Z');
    const { initiativeId } = await openParisInitiative(engine, { createJurisdiction: false });
    for (const [n, district] of [[5, '75111'], [6, '75111'], [7, '75118']] as const) await signOnline(initiativeId, n, district);
    engine.clock.set(DEADLINE);
    await engine.scheduler.tick();
    expect(await events(initiativeId)).toEqual(['initiative.milestone_reached 3']);

    engine.clock.set('2027-07-02T09:00:00Z');
    const keyed = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
      token: clerk,
      body: { entries: [8, 9].map((n) => ({ ...citizen(n), district: '75118', sheet: 'F-9', collector: 'C-9', signedOn: '2027-06-29' })) },
    });
    expect(keyed.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted']);
    await engine.scheduler.tick();
    await engine.scheduler.tick();
    expect(await events(initiativeId)).toEqual(['initiative.goal_reached 5', 'initiative.milestone_reached 3']);
  });

  it('a milestone announced stays reached when a withdrawal takes the count back under it, and is not announced again', async () => {
    engine.clock.set('2027-03-01T10:00:00Z');
    const { initiativeId } = await openParisInitiative(engine, { createJurisdiction: false });
    for (const [n, district] of [[10, '75111'], [11, '75111'], [12, '75118']] as const) await signOnline(initiativeId, n, district);
    await engine.scheduler.tick();
    expect(await events(initiativeId)).toEqual(['initiative.milestone_reached 3']);
    const withdrawn = await engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token: await engine.tokenFor(citizen(12)) });
    expect(withdrawn.status).toBe(200);
    const progress = (await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`, { headers: { 'cache-control': 'no-cache' } })).body;
    expect(progress.signatures).toBe(2);
    expect(progress.milestones).toEqual([{ signatures: 3, label: expect.any(String), reached: true, reachedAt: '2027-03-01T10:00:00.000Z' }]);
    const page = await engine.request('GET', `/initiatives/${initiativeId}`);
    expect(page.body).toContain('atteint le 1er mars 2027');
    await signOnline(initiativeId, 13, '75118');
    await engine.scheduler.tick();
    expect(await events(initiativeId)).toEqual(['initiative.milestone_reached 3']);
  });
  it('a goal and milestones reached together are each announced once, lowest first, and listed lowest first whatever the configured order', async () => {
    engine.clock.set('2027-03-01T10:00:00Z');
    const rules = parisJurisdiction().rules;
    const ladder = {
      ...rules.referendum,
      districts: undefined,
      goal: { signatures: 3 },
      milestones: [
        { signatures: 5, label: 'cinq' },
        { signatures: 2, label: 'deux' },
      ],
    };
    expect((await engine.request('PATCH', '/v1/jurisdictions/paris', { token: clerk, body: { rules: { ...rules, referendum: ladder } } })).status).toBe(200);
    const { initiativeId } = await openParisInitiative(engine, { createJurisdiction: false });
    // A paper batch brings six signatures at once: everything is crossed before the next tick.
    const keyed = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
      token: clerk,
      body: { entries: [20, 21, 22, 23, 24, 25].map((n) => ({ ...citizen(n), district: '75111', sheet: 'F-20', collector: 'C-20', signedOn: '2027-03-01' })) },
    });
    expect(keyed.body.results.map((r: { status: string }) => r.status)).toEqual(Array(6).fill('accepted'));
    const announced = (await recordCrossings(engine.db.db, engine.clock.now())).filter((c) => c.initiativeId === initiativeId).map((c) => c.key);
    expect(announced).toEqual(['milestone:2', 'goal', 'milestone:5']);
    expect(await recordCrossings(engine.db.db, engine.clock.now())).toEqual([]);
    await engine.scheduler.tick();
    expect(await events(initiativeId)).toEqual(['initiative.goal_reached 6', 'initiative.milestone_reached 6', 'initiative.milestone_reached 6']);
    const progress = (await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body;
    expect(progress.milestones.map((m: { signatures: number; reached: boolean }) => [m.signatures, m.reached])).toEqual([
      [2, true],
      [5, true],
    ]);
    const page = await engine.request('GET', `/initiatives/${initiativeId}`);
    expect(page.body.indexOf('— deux')).toBeLessThan(page.body.indexOf('— cinq'));
  });
});
