import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHours, signatureRollupSeals } from '../../src/db/schema-monitoring';
import { createTestEngine, type TestEngine } from '../support/engine';
import { citizenNo, openReferendum, signAs, withdrawAs } from '../support/monitoring';
import { REFERENDUM_DRAFT } from '../support/paris';

/**
 * Progress history from the signatures' own timestamps: per hour (UTC) and per day (Paris time),
 * withdrawals counted when they happen, identical before and after the hours are sealed into the roll-up.
 */
describe('progress history', () => {
  let engine: TestEngine;
  let initiativeId: string;
  let sponsor: string;
  let clerk: string;

  const at = (iso: string) => engine.clock.set(iso);
  const history = (query: string) => engine.request('GET', `/v1/initiatives/${initiativeId}/progress/history${query}`);
  const nonZero = (points: { signed: number; withdrawn: number }[]) => points.filter((p) => p.signed || p.withdrawn);

  beforeAll(async () => {
    engine = await createTestEngine({ start: new Date('2027-01-15T10:00:00Z') });
    ({ initiativeId, sponsor, clerk } = await openReferendum(engine, { closesAt: '2027-06-30T22:00:00Z' }));
    at('2027-01-15T10:05:00Z');
    await signAs(engine, initiativeId, 1, '75111');
    at('2027-01-15T10:20:00Z');
    await signAs(engine, initiativeId, 2, '75111');
    at('2027-01-15T10:40:00Z');
    await signAs(engine, initiativeId, 3, '75118');
    at('2027-01-15T12:30:00Z');
    await signAs(engine, initiativeId, 4, '75118');
    at('2027-01-15T12:45:00Z');
    await signAs(engine, initiativeId, 5, '75120');
    at('2027-01-16T09:15:00Z');
    await signAs(engine, initiativeId, 6, '75101');
    at('2027-01-16T09:30:00Z');
    await withdrawAs(engine, initiativeId, 1);
    at('2027-01-16T09:35:00Z');
    await signAs(engine, initiativeId, 1, '75111');
    at('2027-01-16T09:40:00Z');
  });
  afterAll(() => engine.close());

  it('hourly: each hour since the opening, withdrawals where they happened, ending at the count of progress', async () => {
    const res = await history('?bucket=hour');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ initiativeId, bucket: 'hour', district: null, timeZone: 'UTC', from: '2027-01-15T10:00:00.000Z', to: '2027-01-16T10:00:00.000Z' });
    expect(res.body.points).toHaveLength(24);
    expect(res.body.points[1]).toEqual({ start: '2027-01-15T11:00:00.000Z', signed: 0, withdrawn: 0, net: 0, cumulative: 3 });
    expect(nonZero(res.body.points)).toEqual([
      { start: '2027-01-15T10:00:00.000Z', signed: 3, withdrawn: 0, net: 3, cumulative: 3 },
      { start: '2027-01-15T12:00:00.000Z', signed: 2, withdrawn: 0, net: 2, cumulative: 5 },
      { start: '2027-01-16T09:00:00.000Z', signed: 2, withdrawn: 1, net: 1, cumulative: 6 },
    ]);
    const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    expect(res.body.signatures).toBe(progress.body.signatures);
    expect(progress.body.signatures).toBe(6);
  });

  it('daily: days of the jurisdiction (Paris time, UTC+1 in January)', async () => {
    const res = await history('');
    expect(res.status).toBe(200);
    expect(res.body.bucket).toBe('day');
    expect(res.body.timeZone).toBe('Europe/Paris');
    expect(res.body.points).toEqual([
      { start: '2027-01-14T23:00:00.000Z', signed: 5, withdrawn: 0, net: 5, cumulative: 5 },
      { start: '2027-01-15T23:00:00.000Z', signed: 2, withdrawn: 1, net: 1, cumulative: 6 },
    ]);
  });

  it('one district, and an explicit window that starts from the count before it', async () => {
    const district = await history('?bucket=hour&district=75111');
    expect(district.body.district).toBe('75111');
    expect(nonZero(district.body.points)).toEqual([
      { start: '2027-01-15T10:00:00.000Z', signed: 2, withdrawn: 0, net: 2, cumulative: 2 },
      { start: '2027-01-16T09:00:00.000Z', signed: 1, withdrawn: 1, net: 0, cumulative: 2 },
    ]);

    const window = await history('?bucket=hour&from=2027-01-15T12:00:00Z&to=2027-01-15T13:59:00Z');
    expect(window.body.points).toEqual([
      { start: '2027-01-15T12:00:00.000Z', signed: 2, withdrawn: 0, net: 2, cumulative: 5 },
      { start: '2027-01-15T13:00:00.000Z', signed: 0, withdrawn: 0, net: 0, cumulative: 5 },
    ]);
  });

  it('the same answers once the scheduler has sealed past hours into the roll-up', async () => {
    const before = {
      hour: (await history('?bucket=hour')).body,
      day: (await history('')).body,
      district: (await history('?bucket=hour&district=75118')).body,
    };
    await engine.scheduler.tick();
    const [seal] = await engine.db.db.select().from(signatureRollupSeals).where(eq(signatureRollupSeals.initiativeId, initiativeId));
    // 09:40 minus the margin is in the 09:00 hour, which stays open: sealed until 09:00.
    // Each hour has a row per district and one for all of them (district '').
    expect(seal!.sealedUntil.toISOString()).toBe('2027-01-16T09:00:00.000Z');
    const rows = await engine.db.db.select().from(signatureHours).where(eq(signatureHours.initiativeId, initiativeId));
    expect(rows.map((r) => [r.hour.toISOString(), r.district, r.signed, r.withdrawn]).sort()).toEqual([
      ['2027-01-15T10:00:00.000Z', '', 3, 0],
      ['2027-01-15T10:00:00.000Z', '75111', 2, 0],
      ['2027-01-15T10:00:00.000Z', '75118', 1, 0],
      ['2027-01-15T12:00:00.000Z', '', 2, 0],
      ['2027-01-15T12:00:00.000Z', '75118', 1, 0],
      ['2027-01-15T12:00:00.000Z', '75120', 1, 0],
    ]);
    expect((await history('?bucket=hour')).body).toEqual(before.hour);
    expect((await history('')).body).toEqual(before.day);
    expect((await history('?bucket=hour&district=75118')).body).toEqual(before.district);

    // An hour later the withdrawal's hour is sealed too; nothing moves.
    at('2027-01-16T10:40:00Z');
    await engine.scheduler.tick();
    const sealedAgain = await engine.db.db.select().from(signatureRollupSeals).where(eq(signatureRollupSeals.initiativeId, initiativeId));
    expect(sealedAgain[0]!.sealedUntil.toISOString()).toBe('2027-01-16T10:00:00.000Z');
    const after = await history('?bucket=hour&to=2027-01-16T09:40:00Z');
    expect(after.body).toEqual(before.hour);
    expect((await history('')).body.points).toEqual(before.day.points);
  });

  it('refuses bad input with problems naming the field', async () => {
    const week = await history('?bucket=week');
    expect(week.status).toBe(400);
    expect(week.contentType).toContain('application/problem+json');
    expect(week.body.errors[0].field).toBe('query.bucket');

    const district = await history('?district=99999');
    expect(district.status).toBe(400);
    expect(district.body.errors[0].field).toBe('query.district');

    const reversed = await history('?from=2027-01-16T00:00:00Z&to=2027-01-15T00:00:00Z');
    expect(reversed.status).toBe(400);
    expect(reversed.body.errors[0].field).toBe('query.from');

    const tooMany = await history('?bucket=hour&from=2020-01-01T00:00:00Z&to=2027-01-01T00:00:00Z');
    expect(tooMany.status).toBe(400);

    const garbage = await history('?from=yesterday');
    expect(garbage.status).toBe(400);
    expect(garbage.body.errors[0].field).toBe('query.from');

    expect((await engine.request('GET', '/v1/initiatives/not-a-uuid/progress/history')).status).toBe(400);
    const unknown = await engine.request('GET', `/v1/initiatives/${crypto.randomUUID()}/progress/history`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('/problems/not-found');
  });

  it("a draft's history is its sponsor's only", async () => {
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    expect((await engine.request('GET', `/v1/initiatives/${draft.body.id}/progress/history`)).status).toBe(404);
    const own = await engine.request('GET', `/v1/initiatives/${draft.body.id}/progress/history`, { token: sponsor });
    expect(own.status).toBe(200);
    expect(own.body.signatures).toBe(0);
  });

  it('days follow Paris time across the change to summer time', async () => {
    at('2027-03-28T23:30:00Z'); // 29 March, 01:30 in Paris (UTC+2 since the 28th)
    await signAs(engine, initiativeId, 7, '75101');
    const res = await history('?from=2027-03-27T12:00:00Z');
    expect(res.body.points.map((p: { start: string }) => p.start)).toEqual([
      '2027-03-26T23:00:00.000Z', // 27 March 00:00 (UTC+1)
      '2027-03-27T23:00:00.000Z', // 28 March 00:00 (UTC+1): a 23-hour day
      '2027-03-28T22:00:00.000Z', // 29 March 00:00 (UTC+2)
    ]);
    expect(res.body.points.map((p: { signed: number }) => p.signed)).toEqual([0, 0, 1]);
    expect(res.body.points[0].cumulative).toBe(6);
    expect(res.body.signatures).toBe(7);
  });
  it('after the closing, paper sheets keyed in until verification are in the series, which still ends at the count of progress', async () => {
    at('2027-07-01T08:00:00Z');
    await engine.scheduler.tick();
    at('2027-07-03T09:00:00Z'); // 3 July, 11:00 in Paris
    const keyed = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
      token: clerk,
      body: { entries: [30, 31].map((n) => ({ ...citizenNo(n), district: '75118', sheet: 'F-7', collector: 'C-7', signedOn: '2027-06-28' })) },
    });
    expect(keyed.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted']);
    const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    expect(progress.body).toMatchObject({ status: 'closed', signatures: 9 });

    const daily = await history('');
    expect(daily.body.signatures).toBe(9);
    expect(daily.body.points.at(-1)).toEqual({ start: '2027-07-02T22:00:00.000Z', signed: 2, withdrawn: 0, net: 2, cumulative: 9 });
    const hourly = await history('?bucket=hour');
    expect(hourly.body.signatures).toBe(9);
    expect(nonZero(hourly.body.points)).toEqual([{ start: '2027-07-03T09:00:00.000Z', signed: 2, withdrawn: 0, net: 2, cumulative: 9 }]);
    const dashboard = await engine.request('GET', `/v1/initiatives/${initiativeId}/dashboard`, { token: sponsor });
    expect(dashboard.body.history.signatures).toBe(dashboard.body.progress.signatures);

    // Nothing keyed in since: the series stops at the day of the last sheet, however late it is read.
    at('2028-01-01T00:00:00Z');
    expect((await history('')).body.to).toBe('2027-07-03T22:00:00.000Z');
  });
});
