import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { openParisInitiative, putRoll, rollCsv } from '../support/identity';

/** Paris: minimum age 16, time zone Europe/Paris (UTC+1 in January). */
describe('age on the signing date, in the jurisdiction’s calendar', () => {
  let engine: TestEngine;
  let initiativeId: string;
  let clerk: string;

  beforeAll(async () => {
    engine = await createTestEngine({ start: new Date('2027-01-10T10:00:00Z') });
    ({ initiativeId, clerk } = await openParisInitiative(engine));
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

  it('someone who signed before the clerks raised the minimum age gets their signature back when signing again, not a refusal', async () => {
    const teen = { givenNames: 'Jeune', familyName: 'Signataire', birthdate: '2009-06-01' }; // 17
    const first = await sign(teen);
    expect(first.status).toBe(201);
    expect((await engine.request('PATCH', '/v1/jurisdictions/paris', { token: clerk, body: { minimumAge: 18 } })).status).toBe(200);

    const again = await sign(teen);
    expect(again.status).toBe(200);
    expect(again.body.signature.id).toBe(first.body.signature.id);
    expect(again.body.receipt).toBe(first.body.receipt);
    // Someone of the same age who had not signed is refused.
    const other = await sign({ givenNames: 'Autre', familyName: 'Signataire', birthdate: '2009-06-01' });
    expect(other.status).toBe(403);
    expect(other.body.type).toBe('/problems/ineligible/age');
  });
});

describe('the declared district when the jurisdiction requires its roll', () => {
  let engine: TestEngine;
  let initiativeId: string;
  let clerk: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ initiativeId, clerk } = await openParisInitiative(engine, { requireRoll: true }));
    const imported = await putRoll(engine, clerk, rollCsv([['Benali', 'Karim', '1985-11-03', '75118'], ['Rossi', 'Sofia', '1978-09-30', '75120']]));
    expect(imported.status).toBe(200);
  });
  afterAll(() => engine.close());

  const sign = async (person: { givenNames: string; familyName: string; birthdate: string; acr?: string }, district: string) =>
    engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(person), body: { district, consent: true } });

  it('a person on the roll who declares a district the jurisdiction does not know signs in the roll’s district, online as on paper', async () => {
    // 92012 is not one of Paris's districts (a postcode, a former address): the roll says where Karim votes.
    const online = await sign({ givenNames: 'Karim', familyName: 'Benali', birthdate: '1985-11-03' }, '92012');
    expect(online.status).toBe(201);
    expect(online.body.signature.district).toBe('75118');
    const paper = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
      token: clerk,
      body: { entries: [{ familyName: 'Rossi', givenNames: 'Sofia', birthdate: '1978-09-30', district: '92012', sheet: 'R-1', collector: 'C-1' }] },
    });
    expect(paper.body.results).toEqual([expect.objectContaining({ status: 'accepted', district: '75120' })]);
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(2);
  });

  it('a person not on the roll is refused for the roll, whatever the district declared; the other rules still apply', async () => {
    const stranger = await sign({ givenNames: 'Tom', familyName: 'Nguyen', birthdate: '1999-12-01' }, '92012');
    expect(stranger.status).toBe(403);
    expect(stranger.body.type).toBe('/problems/ineligible/roll');
    const weak = await sign({ givenNames: 'Karim', familyName: 'Benali', birthdate: '1985-11-03', acr: 'eidas1' }, '92012');
    expect(weak.status).toBe(200); // Karim signed above: his signature comes back.
    const weakStranger = await sign({ givenNames: 'Tom', familyName: 'Nguyen', birthdate: '1999-12-01', acr: 'eidas1' }, '92012');
    expect(weakStranger.status).toBe(403);
    expect(weakStranger.body.type).toBe('/problems/ineligible/assurance');
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(2);
  });
});
