import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisWithClerk } from '../support/identity';
import { REFERENDUM_DRAFT } from '../support/paris';

/**
 * The clerk declares a submitted initiative admissible and sets its collection window. The clock
 * stands at 2027-01-15 11:00 in Paris (10:00 UTC).
 */
describe('the collection window set at admissibility', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, sponsor } = await parisWithClerk(engine));
  });
  afterAll(() => engine.close());

  async function submitted() {
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor })).status).toBe(200);
    return draft.body.id as string;
  }
  const review = (id: string, body: Record<string, unknown>) => engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open', ...body } });

  it('refuses a window in the past, ending before it starts, or starting on an earlier day, naming the field and opening nothing', async () => {
    const id = await submitted();
    for (const [body, field, code] of [
      [{ closesAt: '2027-01-15T09:00:00Z' }, 'body.closesAt', 'closes-in-past'],
      [{ opensAt: '2027-03-01T08:00:00Z', closesAt: '2027-02-01T08:00:00Z' }, 'body.closesAt', 'closes-before-opens'],
      // 14 January in Paris: paper sheets signed before admissibility would count.
      [{ opensAt: '2027-01-14T22:59:00Z', closesAt: '2027-06-30T22:00:00Z' }, 'body.opensAt', 'opens-before-today'],
    ] as const) {
      const refused = await review(id, body);
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([expect.objectContaining({ field, code })]);
    }
    expect((await engine.request('GET', `/v1/initiatives/${id}`)).body.status).toBe('submitted');
  });

  it('refuses a closing later than the rules’ collection period (270 calendar days from the opening), naming the latest allowed; takes one up to it', async () => {
    const id = await submitted();
    // Opened now (11:00 in Paris on 15 January): 270 days later is 12 October at 11:00 in Paris, summer time.
    const century = await review(id, { closesAt: '2099-12-31T23:00:00Z' });
    expect(century.status).toBe(400);
    expect(century.body.errors).toEqual([expect.objectContaining({ field: 'body.closesAt', code: 'closes-after-period' })]);
    expect(century.body.errors[0].message).toContain('2027-10-12T09:00:00.000Z');
    expect(century.body.errors[0].message).toContain('270 days');
    expect(century.body).toMatchObject({ latestClosesAt: '2027-10-12T09:00:00.000Z', collectionDays: 270 });
    // Counted from the opening given: 1 February at 09:00 in Paris, 29 October at 09:00 (still summer time), not 270 × 24 hours.
    const minuteLate = await review(id, { opensAt: '2027-02-01T08:00:00Z', closesAt: '2027-10-29T07:01:00Z' });
    expect(minuteLate.status).toBe(400);
    expect(minuteLate.body).toMatchObject({ latestClosesAt: '2027-10-29T07:00:00.000Z' });
    const initiative = await engine.request('GET', `/v1/initiatives/${id}`);
    expect(initiative.body).toMatchObject({ status: 'submitted', opensAt: null, closesAt: null });

    const whole = await review(id, { opensAt: '2027-02-01T08:00:00Z', closesAt: '2027-10-29T07:00:00Z' });
    expect(whole.status).toBe(200);
    expect(whole.body.closesAt).toBe('2027-10-29T07:00:00.000Z');
    // Without a closing, the period the rules allow.
    const byDefault = await review(await submitted(), {});
    expect(byDefault.body.closesAt).toBe('2027-10-12T09:00:00.000Z');
  });

  it('takes an opening earlier today (a time picked on the day), and one in the future, before which signatures wait', async () => {
    const today = await review(await submitted(), { opensAt: '2027-01-14T23:00:00Z', closesAt: '2027-06-30T22:00:00Z' });
    expect(today.status).toBe(200);
    expect(today.body.opensAt).toBe('2027-01-14T23:00:00.000Z');

    const later = await submitted();
    expect((await review(later, { opensAt: '2027-02-01T08:00:00Z', closesAt: '2027-06-30T22:00:00Z' })).status).toBe(200);
    const early = await engine.request('POST', `/v1/initiatives/${later}/signatures`, {
      token: await engine.tokenFor({ givenNames: 'Élodie', familyName: 'Martin', birthdate: '1990-02-01' }),
      body: { district: '75111', consent: true },
    });
    expect(early.status).toBe(409);
    expect(early.body.type).toBe('/problems/collection-not-started');
  });

  it('closed by its sponsor before its opening day, a collection has an empty period, not one that ends before it begins', async () => {
    const id = await submitted();
    expect((await review(id, { opensAt: '2027-02-01T08:00:00Z', closesAt: '2027-06-30T22:00:00Z' })).status).toBe(200);
    const closed = await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor });
    expect(closed.status).toBe(200);
    const initiative = (await engine.request('GET', `/v1/initiatives/${id}`)).body;
    expect(initiative.status).toBe('closed');
    expect(initiative.opensAt).toBe('2027-02-01T08:00:00.000Z');
    expect(initiative.closesAt).toBe('2027-02-01T08:00:00.000Z');
  });
});
