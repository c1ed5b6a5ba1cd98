import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { openParisInitiative } from '../support/identity';

/** Paris: minimum age 16, time zone Europe/Paris (UTC+1 in January). */
describe('age on the signing date, in the jurisdiction’s calendar', () => {
  let engine: TestEngine;
  let initiativeId: string;

  beforeAll(async () => {
    engine = await createTestEngine({ start: new Date('2027-01-10T10:00:00Z') });
    ({ initiativeId } = await openParisInitiative(engine));
  });
  afterAll(() => engine.close());

  const sign = async (person: { givenNames: string; familyName: string; birthdate: string }) =>
    engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(person), body: { district: '75111', consent: true } });

  it('someone turning 16 today in Paris signs from local midnight, while it is still yesterday in UTC', async () => {
    // 23:30 in Paris on 14 January: still 15.
    engine.clock.set('2027-01-14T22:30:00Z');
    const early = await sign({ givenNames: 'Inès', familyName: 'Veille', birthdate: '2011-01-15' });
    expect(early.status).toBe(403);
    expect(early.body.type).toBe('/problems/ineligible/age');
    // 00:30 in Paris on 15 January (23:30 on the 14th in UTC): 16 today.
    engine.clock.set('2027-01-14T23:30:00Z');
    expect((await sign({ givenNames: 'Inès', familyName: 'Veille', birthdate: '2011-01-15' })).status).toBe(201);
  });
});
