import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { openReferendum, signAs } from '../support/monitoring';

/**
 * The sponsor's dashboard: progress, history, pace over the last hour and day, the date the goal
 * is met at that pace, the districts furthest from their minimum, and the time left.
 * Rules of the test jurisdiction: goal 5 signatures, at least 2 districts with 2 each.
 */
describe('initiative dashboard', () => {
  let engine: TestEngine;
  let initiativeId: string;
  let tokens: { sponsor: string; member: string; clerk: string; admin: string };
  const dashboard = (token?: string, query = '') => engine.request('GET', `/v1/initiatives/${initiativeId}/dashboard${query}`, { token });

  beforeAll(async () => {
    engine = await createTestEngine({ start: new Date('2027-03-01T08:00:00Z') });
    const opened = await openReferendum(engine, { closesAt: '2027-03-31T08:00:00Z' });
    initiativeId = opened.initiativeId;
    tokens = opened;
  });
  afterAll(() => engine.close());

  it('is for the sponsor, the committee and the clerks only', async () => {
    for (const who of ['sponsor', 'member', 'clerk'] as const) {
      const res = await dashboard(tokens[who]);
      expect(res.status, who).toBe(200);
    }
    const citizen = await dashboard(await engine.tokenFor({ givenNames: 'Zoé', familyName: 'Passante', birthdate: '1990-01-01' }));
    expect(citizen.status).toBe(403);
    expect(citizen.contentType).toContain('application/problem+json');
    expect((await dashboard()).status).toBe(401);
    expect((await engine.request('GET', `/v1/initiatives/${crypto.randomUUID()}/dashboard`, { token: tokens.sponsor })).status).toBe(404);
    const bad = await dashboard(tokens.sponsor, '?bucket=minute');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('query.bucket');
  });

  it('with nothing signed: no pace, no projection, every district behind, the whole period left', async () => {
    const res = await dashboard(tokens.sponsor);
    expect(res.body).toMatchObject({
      initiativeId,
      status: 'open',
      velocity: { lastHour: { signed: 0, withdrawn: 0, net: 0 }, lastDay: { signed: 0, withdrawn: 0, net: 0 }, perDay: 0 },
      projection: null,
      // 30 × 24 hours, but on the clocks of Paris 30 days and an hour (summer time begins on 28 March): any part of a day is a day.
      timeLeft: { closesAt: '2027-03-31T08:00:00.000Z', seconds: 30 * 86_400, days: 31 },
    });
    expect(res.body.districtsBehind).toHaveLength(5);
    expect(res.body.districtsBehind[0]).toEqual({ code: '75101', name: 'Paris 1er Arrondissement', signatures: 0, required: 2, shortfall: 2 });
  });

  it('projects the goal at the pace of the day so far, and ranks the districts furthest behind first', async () => {
    // Opened 12 hours ago; 2 signatures in that time: 4 a day, 3 to go, so 18 hours from now.
    engine.clock.set('2027-03-01T09:00:00Z');
    await signAs(engine, initiativeId, 1, '75111');
    engine.clock.set('2027-03-01T19:30:00Z');
    await signAs(engine, initiativeId, 2, '75111');
    engine.clock.set('2027-03-01T20:00:00Z');

    const res = await dashboard(tokens.sponsor, '?bucket=hour');
    expect(res.status).toBe(200);
    expect(res.body.progress).toMatchObject({ signatures: 2, goalMet: false });
    expect(res.body.velocity).toEqual({
      lastHour: { signed: 1, withdrawn: 0, net: 1 },
      lastDay: { signed: 2, withdrawn: 0, net: 2 },
      perDay: 4,
    });
    expect(res.body.projection).toEqual({ goalAt: '2027-03-02T14:00:00.000Z', remaining: 3, beforeClose: true });
    expect(res.body.history).toMatchObject({ bucket: 'hour', signatures: 2, from: '2027-03-01T08:00:00.000Z' });
    // 08:00 to 20:00 and the hour under way.
    expect(res.body.history.points).toHaveLength(13);
    // 75111 has its 2; the others still need 2 each, shown by code.
    expect(res.body.districtsBehind.map((d: { code: string }) => d.code)).toEqual(['75101', '75102', '75103', '75104', '75105']);
    expect(res.body.districtsBehind.some((d: { code: string }) => d.code === '75111')).toBe(false);

    await signAs(engine, initiativeId, 3, '75118');
    const after = await dashboard(tokens.clerk);
    expect(after.body.districtsBehind[0]).toMatchObject({ code: '75101', shortfall: 2 });
    expect(after.body.progress.districts.find((d: { code: string }) => d.code === '75118')).toMatchObject({ signatures: 1, required: 2 });
    // Behind but closer: 75118 needs 1 more and so ranks after every district that needs 2.
    expect(after.body.districtsBehind.map((d: { code: string }) => d.code)).not.toContain('75118');
  });

  it('no pace, no projection; a new pace projects again; a goal met needs none', async () => {
    // Ten days later nothing new: the last day has no pace at all.
    engine.clock.set('2027-03-11T20:00:00Z');
    const idle = await dashboard(tokens.sponsor);
    expect(idle.body.velocity.lastDay.net).toBe(0);
    expect(idle.body.projection).toBeNull();
    expect(idle.body.timeLeft).toEqual({ closesAt: '2027-03-31T08:00:00.000Z', seconds: 19 * 86_400 + 12 * 3600, days: 20 });

    // One signature in the last day: 1 a day, 1 to go, a day from now.
    await signAs(engine, initiativeId, 4, '75118');
    const slow = await dashboard(tokens.sponsor);
    expect(slow.body.velocity.perDay).toBe(1);
    expect(slow.body.projection).toEqual({ goalAt: '2027-03-12T20:00:00.000Z', remaining: 1, beforeClose: true });

    engine.clock.set('2027-03-30T20:00:00Z');
    await signAs(engine, initiativeId, 5, '75120');
    const met = await dashboard(tokens.sponsor);
    expect(met.body.progress.goalMet).toBe(true);
    expect(met.body.projection).toBeNull();
    expect(met.body.timeLeft).toMatchObject({ seconds: 12 * 3600, days: 1 });
  });
});
