import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { putRoll, rollCsv } from '../support/identity';
import { parisJurisdiction } from '../support/paris';

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
});
