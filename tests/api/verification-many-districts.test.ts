import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { browserRequests } from '../web/browser-requests';

/** More districts than a verification report lists (1,000): the first of France's communes, enough to pass the limit. */
const communes = (n: number) => Array.from({ length: n }, (_, i) => ({ code: String(10_000 + i), name: `Commune ${i + 1}`, electorate: 1200 }));
const DISTRICTS = 1500;

type ReportDistrict = { code: string; raw: number; valid: number; required: number | null; met: boolean | null };

describe('the verification of an initiative in a jurisdiction of 1,500 districts', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  let signer = 0;

  /**
   * Opens an initiative, signs it in the districts given (code → signatures), has a paper signature
   * keyed in in each of the first `onPaper` districts, closes it and starts a full count.
   */
  async function verifying(kind: 'referendum' | 'agenda', signedIn: Record<string, number>, onPaper = 0): Promise<string> {
    const id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, kind, ...(kind === 'agenda' ? { question: undefined } : {}), jurisdictionId: 'communes' } })).body.id as string;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    expect((await engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } })).status).toBe(200);
    for (const [district, count] of Object.entries(signedIn)) {
      for (let i = 0; i < count; i++) {
        const name = [...String(signer++)].map((d) => 'abcdefghij'[Number(d)]).join('');
        const token = await engine.tokenFor({ givenNames: `Prenom${name}`, familyName: 'Signataire', birthdate: '1980-01-01' });
        const signed = await engine.request('POST', `/v1/initiatives/${id}/signatures`, { token, body: { district, consent: true } });
        expect(signed.status, JSON.stringify(signed.body)).toBe(201);
      }
    }
    if (onPaper > 0) {
      const letters = (i: number) => [...String(i)].map((d) => 'abcdefghij'[Number(d)]).join('');
      const entries = communes(onPaper).map((d, i) => ({ familyName: 'Papier', givenNames: `Nom${letters(i)}`, birthdate: '1970-02-02', district: d.code, sheet: `F-${i}`, collector: 'C-1' }));
      const keyed = await engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, { token: clerk, body: { entries } });
      expect(keyed.status, JSON.stringify(keyed.body).slice(0, 300)).toBe(200);
    }
    expect((await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor })).status).toBe(200);
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    return id;
  }

  /** Rules every signature valid, but one of each district named invalid. */
  async function decideAll(id: string, invalidIn: string[] = []) {
    const pending = await engine.request('GET', `/v1/initiatives/${id}/verification?filter=pending&personalData=false&limit=2000`, { token: clerk });
    expect(pending.body.signatures.nextCursor).toBeNull();
    const struck = new Set<string>();
    const decisions = pending.body.signatures.items.map((s: { id: string; district: string }) => {
      if (invalidIn.includes(s.district) && !struck.has(s.district)) {
        struck.add(s.district);
        return { signatureId: s.id, decision: 'invalid', reason: 'not on the electoral roll' };
      }
      return { signatureId: s.id, decision: 'valid' };
    });
    for (let i = 0; i < decisions.length; i += 1000) {
      expect((await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions: decisions.slice(i, i + 1000) } })).status).toBe(200);
    }
  }

  beforeAll(async () => {
    engine = await createTestEngine();
    const admin = await engine.adminToken();
    // A referendum needs 4 valid signatures and 2 in each of at least 2 districts; a petition, 3 signatures wherever.
    const rules = {
      referendum: { goal: { signatures: 4 }, districts: { minCount: 2, each: { signatures: 2 } }, collectionDays: 270 },
      agenda: { goal: { signatures: 3 }, collectionDays: 270 },
    };
    const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ id: 'communes', electorate: 1_800_000, committeeMinimum: 0, districts: communes(DISTRICTS), rules }) });
    expect(created.status, JSON.stringify(created.body).slice(0, 300)).toBe(201);
    await engine.request('POST', '/v1/jurisdictions/communes/clerks', { token: admin, body: { subject: 'clerk-of-communes' } });
    clerk = await engine.subjectToken('clerk-of-communes');
    sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
  });
  afterAll(async () => {
    await engine?.close();
  });

  describe('a referendum whose district rule fails', () => {
    let id: string;
    beforeAll(async () => {
      // 11400 meets its minimum; 11499 falls under it once one of its two signatures is struck out; 11450's only one is struck out.
      id = await verifying('referendum', { '11400': 3, '11499': 2, '11450': 1 });
      await decideAll(id, ['11499', '11450']);
    });

    it('lists at most 1,000 districts, the failing ones first, and says how many there are', async () => {
      const res = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
      expect(res.status).toBe(200);
      const districts = res.body.counts.districts as ReportDistrict[];
      expect(res.body.counts.districtCount).toBe(DISTRICTS);
      expect(districts.length).toBeLessThanOrEqual(1000);
      // Those that had signatures and miss their minimum, nearest to it first; then those meeting it, with the least to spare first.
      expect(districts.slice(0, 3)).toEqual([
        { code: '11499', raw: 2, valid: 1, required: 2, met: false },
        { code: '11450', raw: 1, valid: 0, required: 2, met: false },
        { code: '11400', raw: 3, valid: 3, required: 2, met: true },
      ]);
      // The rule is still evaluated on every district.
      expect(res.body.criteria).toContainEqual({ kind: 'districts', required: 2, current: 1, met: false });
    });

    it('gives every district, verified counts included, in the CSV of the verification by district', async () => {
      const res = await engine.app.request(`/v1/initiatives/${id}/verification/districts`, { headers: { authorization: `Bearer ${clerk}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/csv');
      const lines = (await res.text()).replace(/^\uFEFF/, '').trim().split(/\r?\n/);
      expect(lines).toHaveLength(DISTRICTS + 1);
      expect(lines[0]).toBe('district,name,raw,valid,required,met');
      expect(lines).toContain('11499,Commune 1500,2,1,2,false');
      expect(lines).toContain('10000,Commune 1,0,0,2,false');
      expect((await engine.app.request(`/v1/initiatives/${id}/verification/districts`)).status).toBe(401);
    });

    it("says on the clerk's page which districts it lists, and links to them all", async () => {
      const web = browserRequests(engine);
      const cookie = await web.sessionFor('clerk-of-communes');
      const en = await web.page(`/clerk/initiatives/${id}`, { cookie, lang: 'en' });
      expect(en.status).toBe(200);
      expect(en.text).toContain('Listed: the districts missing their minimum, then those meeting it with the least to spare, then those with the most valid signatures (3 of 1,500).');
      expect(en.html).toContain(`href="/v1/initiatives/${id}/verification/districts"`);
      expect([...en.html.matchAll(/data-verified-district="(\d+)"/g)].map((match) => match[1])).toEqual(['11499', '11450', '11400']);
      const fr = await web.page(`/clerk/initiatives/${id}`, { cookie });
      expect(fr.text).toContain('Liste\u00a0: les arrondissements sous leur minimum, puis ceux qui l’atteignent avec le moins de marge, puis ceux qui ont le plus de signatures valides (3 sur 1\u202f500).');
      expect(fr.text).toContain('Décompte vérifié de chaque arrondissement (CSV)');
    });

    it('declares it insufficient on the rule over every district', async () => {
      const done = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
      expect(done.status).toBe(200);
      expect(done.body.outcome).toBe('insufficient');
      expect(done.body.reason).toBe('districts meeting their minimum: 1 of 2 required');
      expect(done.body.counts.districtCount).toBe(DISTRICTS);
    });
  });

  describe('a petition certified', () => {
    it('certifies over every district while the report lists 1,000', async () => {
      // Signatures in 1,101 districts: 2 in 11498, 1 on paper in each of 10000 to 11099.
      const id = await verifying('agenda', { '11498': 2 }, 1100);
      await decideAll(id);
      const done = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
      expect(done.body.outcome, JSON.stringify(done.body).slice(0, 300)).toBe('certified');
      expect(done.body.counts).toMatchObject({ raw: 1102, valid: 1102, districtCount: DISTRICTS });
      // With no district rule, the districts with the most valid signatures come first, as in a progress.
      const listed = (done.body.counts.districts as ReportDistrict[]).map((d) => d.code);
      expect(listed).toHaveLength(1000);
      expect(listed.slice(0, 3)).toEqual(['11498', '10000', '10001']);
      expect(listed).not.toContain('11050');

      const item = await engine.request('GET', `/v1/referendum-items/${done.body.referendumItemId}`);
      expect(item.body.districts).toHaveLength(DISTRICTS);
      const certificate = JSON.parse(Buffer.from((item.body.certificate as string).split('.')[1]!, 'base64url').toString('utf8'));
      expect(certificate.counts.districts).toHaveLength(DISTRICTS);
      expect(certificate.counts.districts).toContainEqual({ code: '11498', raw: 2, valid: 2, required: null, met: null });
      // A district the report did not list is certified all the same.
      expect(certificate.counts.districts).toContainEqual({ code: '11050', raw: 1, valid: 1, required: null, met: null });
    });
  });
});
