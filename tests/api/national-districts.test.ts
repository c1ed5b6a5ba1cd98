import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { putRoll, rollCsv } from '../support/identity';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { browserRequests } from '../web/browser-requests';

/** France's communes: 34,969 in 2025, the most districts of any regime the engine is meant for. */
const communes = (n: number) => Array.from({ length: n }, (_, i) => ({ code: String(10_000 + i), name: `Commune de Saint-Exemple-sur-Rivière ${i + 1}`, electorate: 1200 }));

describe('a jurisdiction of 35,000 districts, through the API', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('is created (a body of about 2 MB), read back whole and changed', async () => {
    const admin = await engine.adminToken();
    const districts = communes(35_000);
    const body = parisJurisdiction({ id: 'france', electorate: 42_000_000, committeeMinimum: 0, districtTerm: 'circonscription', districts });
    expect(JSON.stringify(body).length).toBeGreaterThan(2_000_000);
    const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body });
    expect(created.status, JSON.stringify(created.body).slice(0, 300)).toBe(201);
    expect(created.body.districts).toHaveLength(35_000);

    districts[34_999] = { ...districts[34_999]!, name: 'Commune nouvelle' };
    const changed = await engine.request('PATCH', '/v1/jurisdictions/france', { token: admin, body: { districts } });
    expect(changed.status, JSON.stringify(changed.body).slice(0, 300)).toBe(200);
    const read = await engine.request('GET', '/v1/jurisdictions/france');
    expect(read.body.districts).toHaveLength(35_000);
    expect(read.body.districts[34_999]).toEqual({ code: '44999', name: 'Commune nouvelle', electorate: 1200 });
  });

  it('takes an electoral roll with voters in every one of its 35,000 districts', async () => {
    await engine.request('POST', '/v1/jurisdictions/france/clerks', { token: await engine.adminToken(), body: { subject: 'clerk-of-france' } });
    const letters = (i: number) => [...String(i)].map((d) => 'abcdefghij'[Number(d)]).join('');
    const csv = rollCsv(Array.from({ length: 35_000 }, (_, i) => ['Inscrit', `Prenom${letters(i)}`, '1970-01-01', String(10_000 + i)]));
    const imported = await putRoll(engine, await engine.subjectToken('clerk-of-france'), csv, { jurisdiction: 'france' });
    expect(imported.status, JSON.stringify(imported.body).slice(0, 300)).toBe(200);
    expect(imported.body, JSON.stringify(imported.body).slice(0, 300)).toMatchObject({ imported: 35_000, rejected: 0 });
  });

  it('refuses more than 50,000 districts with the field named', async () => {
    const admin = await engine.adminToken();
    const res = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ id: 'too-many', districts: communes(50_001).map((d) => ({ ...d, name: `C${d.code}` })) }) });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('body.districts');
  });

  it('asks who is calling before reading a large body', async () => {
    const res = await engine.request('POST', '/v1/jurisdictions', { body: parisJurisdiction({ id: 'anonymous', districts: communes(35_000) }) });
    expect(res.status).toBe(401);
    const citizen = await engine.subjectToken('someone');
    expect((await engine.request('POST', '/v1/jurisdictions', { token: citizen, body: parisJurisdiction({ id: 'anonymous', districts: communes(35_000) }) })).status).toBe(403);
  });

  it('asks whether the caller may change the jurisdiction before reading megabytes of districts', async () => {
    // A signed-in citizen, neither clerk of the jurisdiction nor administrator: refused as such, whatever the body
    // (50,001 districts, about 3 MB, would otherwise be read and validated first, and answered with a 400).
    const citizen = await engine.subjectToken('someone-else');
    const res = await engine.request('PATCH', '/v1/jurisdictions/france', { token: citizen, body: { districts: communes(50_001) } });
    expect(res.status).toBe(403);
    expect(res.body.detail).toContain('clerk of jurisdiction "france"');
    // A clerk of the jurisdiction is told what is wrong with the body.
    const clerk = await engine.request('PATCH', '/v1/jurisdictions/france', { token: await engine.subjectToken('clerk-of-france'), body: { districts: communes(50_001) } });
    expect(clerk.status).toBe(400);
    expect(clerk.body.errors.map((e: { field: string }) => e.field)).toContain('body.districts');
  });
});

describe('an initiative of a jurisdiction of 35,000 districts, as its readers get it', () => {
  let engine: TestEngine;
  let id: string;
  const signedIn = { '10007': 3, '42000': 1 };

  beforeAll(async () => {
    engine = await createTestEngine();
    const admin = await engine.adminToken();
    // A referendum needs 4 signatures, and 2 in each of at least 1 district.
    const rules = { referendum: { goal: { signatures: 4 }, districts: { minCount: 1, each: { signatures: 2 } }, collectionDays: 270 } };
    const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ id: 'france', electorate: 42_000_000, committeeMinimum: 0, districts: communes(35_000), rules }) });
    expect(created.status).toBe(201);
    await engine.request('POST', '/v1/jurisdictions/france/clerks', { token: admin, body: { subject: 'clerk-of-france' } });
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, jurisdictionId: 'france' } })).body.id;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    expect((await engine.request('POST', `/v1/initiatives/${id}/review`, { token: await engine.subjectToken('clerk-of-france'), body: { decision: 'open' } })).status).toBe(200);
    let n = 0;
    for (const [district, count] of Object.entries(signedIn)) {
      for (let i = 0; i < count; i++) {
        const token = await engine.tokenFor({ givenNames: `Prenom${'abcdefgh'[n++]}`, familyName: 'Signataire', birthdate: '1980-01-01' });
        expect((await engine.request('POST', `/v1/initiatives/${id}/signatures`, { token, body: { district, consent: true } })).status).toBe(201);
      }
    }
  });
  afterAll(async () => {
    await engine?.close();
  });

  const expected = [
    { code: '10007', name: 'Commune de Saint-Exemple-sur-Rivière 8', signatures: 3, required: 2, met: true },
    { code: '42000', name: 'Commune de Saint-Exemple-sur-Rivière 32001', signatures: 1, required: 2, met: false },
  ];

  it('gives the progress with the districts that have signatures, not 35,000 rows of 2.7 MB', async () => {
    const progress = await engine.request('GET', `/v1/initiatives/${id}/progress`);
    expect(progress.status).toBe(200);
    expect(progress.body).toMatchObject({ signatures: 4, districtCount: 35_000, criteria: [{ kind: 'goal', current: 4 }, { kind: 'districts', required: 1, current: 1, met: true }] });
    expect(progress.body.districts).toEqual(expected);
    expect(JSON.stringify(progress.body).length).toBeLessThan(5_000);
    const detail = await engine.request('GET', `/v1/initiatives/${id}`);
    expect(detail.body.progress.districts).toEqual(expected);
  });

  it('shows a page that says which districts its table lists', async () => {
    const res = await engine.app.request(`/initiatives/${id}`, { headers: { 'accept-language': 'en' } });
    const html = await res.text();
    expect(html).toContain('Listed: the districts meeting their minimum, then those with the most signatures (2 of 35,000).');
    expect(html.match(/<th scope="row">Commune de Saint-Exemple[^<]*<\/th>/g)).toEqual(['<th scope="row">Commune de Saint-Exemple-sur-Rivière 8</th>', '<th scope="row">Commune de Saint-Exemple-sur-Rivière 32001</th>']);
    expect(html.length).toBeLessThan(100_000);
  });

  it("keeps every district in the sponsor's districts furthest from their minimum and in the clerks' export", async () => {
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    const dashboard = await engine.request('GET', `/v1/initiatives/${id}/dashboard`, { token: sponsor });
    expect(dashboard.status).toBe(200);
    expect(dashboard.body.progress.districts).toEqual(expected);
    expect(dashboard.body.districtsBehind[0]).toMatchObject({ code: '10000', signatures: 0, shortfall: 2 });
    const web = browserRequests(engine);
    const csv = await web.page(`/clerk/initiatives/${id}/districts.csv`, { cookie: await web.sessionFor('clerk-of-france') });
    expect(csv.status).toBe(200);
    const lines = csv.html.trim().split(/\r?\n/);
    expect(lines).toHaveLength(35_001);
    expect(lines).toContain('10007,Commune de Saint-Exemple-sur-Rivière 8,1200,3,2,true');
  });

  it('shows the certified result with the districts a progress would list', async () => {
    const clerk = await engine.subjectToken('clerk-of-france');
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    expect((await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor })).status).toBe(200);
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    const pending = await engine.request('GET', `/v1/initiatives/${id}/verification?filter=pending&personalData=false`, { token: clerk });
    const decisions = pending.body.signatures.items.map((s: { id: string }) => ({ signatureId: s.id, decision: 'valid' }));
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions } })).status).toBe(200);
    const done = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(done.body.outcome, JSON.stringify(done.body).slice(0, 300)).toBe('certified');
    const html = await (await engine.app.request(`/results/${done.body.referendumItemId}`, { headers: { 'accept-language': 'en' } })).text();
    expect(html).toContain('Listed: the districts meeting their minimum, then those with the most signatures (2 of 35,000).');
    expect(html.match(/<th scope="row">Commune de Saint-Exemple[^<]*<\/th>/g)).toEqual(['<th scope="row">Commune de Saint-Exemple-sur-Rivière 8</th>', '<th scope="row">Commune de Saint-Exemple-sur-Rivière 32001</th>']);
  });
});
