import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { CLERK_SUBJECT, openParisInitiative } from '../support/identity';
import { PARIS_DISTRICTS, PARISIANS, parisJurisdiction } from '../support/paris';
import { browserRequests } from '../web/browser-requests';

/**
 * A jurisdiction of many districts: each engine process keeps its districts and an initiative's
 * frozen electorate figures between reads, and reads them again only when their row changed. What a
 * reader sees must follow every change at once, on this process and on any other.
 */
describe('reads of an initiative of a jurisdiction of many districts', () => {
  let engine: TestEngine;
  let initiativeId: string;
  let clerk: string;
  let sponsor: string;
  let reader: string;
  const districts = [
    ...PARIS_DISTRICTS,
    ...Array.from({ length: 180 }, (_, i) => ({ code: `99${String(i).padStart(3, '0')}`, name: `Quartier ${i}`, electorate: 1000 + i })),
  ];

  beforeAll(async () => {
    engine = await createTestEngine();
    const admin = await engine.adminToken();
    // Room for the district added later: the districts' voters are the jurisdiction's.
    const electorate = districts.reduce((sum, d) => sum + d.electorate, 10_000);
    const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0, electorate, districts }) });
    expect(created.status).toBe(201);
    await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: CLERK_SUBJECT } });
    ({ initiativeId, clerk, sponsor } = await openParisInitiative(engine, { createJurisdiction: false }));
    reader = await engine.tokenFor(PARISIANS.karim);
    const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(PARISIANS.elodie), body: { district: '75111', consent: true } });
    expect(signed.status).toBe(201);
  });
  afterAll(() => engine?.close());

  const progress = async () => {
    const res = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`, { token: reader });
    expect(res.status).toBe(200);
    return res.body;
  };
  const district = (body: { districts: { code: string; name: string; signatures: number }[] }, code: string) => body.districts.find((d) => d.code === code);

  it('a district renamed or added, through the API or behind this process, is read at once', async () => {
    expect(district(await progress(), '75111')).toMatchObject({ name: 'Paris 11e Arrondissement', signatures: 1 });
    expect(district(await progress(), '75111')).toMatchObject({ name: 'Paris 11e Arrondissement', signatures: 1 });

    const renamed = districts.map((d) => (d.code === '75111' ? { ...d, name: 'Paris Centre-Est' } : d));
    const patched = await engine.request('PATCH', '/v1/jurisdictions/paris', { token: clerk, body: { districts: [...renamed, { code: '99999', name: 'Nouveau quartier', electorate: 10 }] } });
    expect(patched.status).toBe(200);
    expect(district(await progress(), '75111')).toMatchObject({ name: 'Paris Centre-Est', signatures: 1 });
    // The initiative's page, and the clerk's, read the same rows.
    const web = browserRequests(engine);
    const shown = await web.page(`/initiatives/${initiativeId}`);
    expect(shown.status).toBe(200);
    expect(shown.html).toContain('Paris Centre-Est');
    expect(shown.html).not.toContain('Paris 11e Arrondissement');

    // Written behind this process's back (another engine process, an operator): read at once too.
    await engine.db.db.execute(`update jurisdictions set districts = jsonb_set(districts, '{0,name}', '"Louvre"') where id = 'paris'`);
    const page = await engine.request('GET', `/v1/initiatives/${initiativeId}`, { token: reader });
    expect(page.status).toBe(200);
    const signedNow = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(PARISIANS.lea), body: { district: '75101', consent: true } });
    expect(signedNow.status).toBe(201);
    expect(district(await progress(), '75101')).toMatchObject({ name: 'Louvre', signatures: 1 });
  });

  it('the initiative closed by its sponsor is read closed at once', async () => {
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}`, { token: reader })).body.status).toBe('open');
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor })).status).toBe(200);
    const after = await engine.request('GET', `/v1/initiatives/${initiativeId}`, { token: reader });
    expect(after.body.status).toBe('closed');
    expect(after.body.progress.signatures).toBe(2);
  });
});
