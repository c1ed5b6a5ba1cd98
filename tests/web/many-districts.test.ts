import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';

/** A jurisdiction of thousands of districts (the schema takes up to 10,000): the public page of one of its initiatives. */
describe('the page of an initiative in a jurisdiction of 2,000 districts', () => {
  let engine: TestEngine;
  let html: string;
  const districts = Array.from({ length: 2000 }, (_, i) => ({ code: String(10_000 + i), name: `Commune ${i + 1}`, electorate: 4700 }));

  beforeAll(async () => {
    engine = await createTestEngine();
    const admin = await engine.adminToken();
    const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0, electorate: 9_400_000, districts }) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk-of-paris' } });
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    const id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT })).body.id;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    const opened = await engine.request('POST', `/v1/initiatives/${id}/review`, { token: await engine.subjectToken('clerk-of-paris'), body: { decision: 'open' } });
    expect(opened.status).toBe(200);
    html = await (await engine.app.request(`/initiatives/${id}`)).text();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('gives every district in the table, and no bar chart 2,000 bars tall (44,000 units: a page of meters on a phone)', () => {
    expect(html.match(/<th scope="row">Commune \d+<\/th>/g)).toHaveLength(2000);
    expect(html).not.toContain('district-chart-title');
    // The chart made two thirds of the page: 868 kB with it for 2,000 districts (266 kB without), 4.4 MB for 10,000 (1.3 MB).
    expect(html.length).toBeLessThan(400_000);
  });
});
