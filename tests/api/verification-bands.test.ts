import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisWithClerk } from '../support/identity';
import { REFERENDUM_DRAFT } from '../support/paris';

/**
 * A projection that lands exactly on 110 % or 95 % of the goal. The figures are exact fractions
 * (508 × 275 / 500 = 279.4 = 110 % of 254), though in floating point 279.4 × 100 falls just short
 * of 27,940: the band must follow the arithmetic a clerk does by hand.
 */
describe('a sample projection exactly on a band boundary', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, sponsor } = await parisWithClerk(engine, {
      rules: { agenda: { goal: { signatures: 254 }, collectionDays: 30 }, referendum: { goal: { signatures: 564 }, collectionDays: 30 } },
    }));
  });
  afterAll(() => engine.close());

  /** An initiative with `n` paper signatures, closed, sampled (500 by default), `valid` of the sample found valid and the rest invalid. */
  async function sampled(kind: 'agenda' | 'referendum', n: number, valid: number, tag: string) {
    const draft = kind === 'agenda' ? { ...REFERENDUM_DRAFT, kind, question: undefined } : REFERENDUM_DRAFT;
    const id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: draft })).body.id as string;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    expect((await engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } })).status).toBe(200);
    const entries = Array.from({ length: n }, (_, i) => ({
      familyName: `${tag}${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`,
      givenNames: 'Camille',
      birthdate: '1980-01-01',
      district: '75111',
      sheet: `F-${Math.floor(i / 10)}`,
      collector: 'C-1',
    }));
    const paper = await engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, { token: clerk, body: { entries } });
    expect(paper.body.accepted).toBe(n);
    expect((await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor })).status).toBe(200);
    const started = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'sample', seed: 'tirage public' } });
    expect(started.body).toMatchObject({ population: n, sampleSize: 500 });
    const page = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false&limit=500`, { token: clerk });
    const decisions = page.body.signatures.items.map((s: { id: string }, i: number) =>
      i < valid ? { signatureId: s.id, decision: 'valid' } : { signatureId: s.id, decision: 'invalid', reason: 'Signature illisible' },
    );
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions } })).status).toBe(200);
    return id;
  }

  it('508 signed, 275 of 500 valid, a goal of 254: 110 % exactly, certified on the sample', async () => {
    const id = await sampled('agenda', 508, 275, 'Cent');
    const report = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
    expect(report.body.projection.band).toBe('certifiable');
    expect(report.body.projection.criteria[0]).toMatchObject({ band: 'certifiable', percent: 110 });
    const complete = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(complete.status).toBe(200);
    expect(complete.body.outcome).toBe('certified');
    expect(complete.body.counts.valid).toBe(279);
  });

  it('564 signed, 475 of 500 valid, a goal of 564: 95 % exactly, a full count is required, not insufficiency', async () => {
    const id = await sampled('referendum', 564, 475, 'Quatre');
    const report = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
    expect(report.body.projection.band).toBe('full-count');
    const complete = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(complete.status).toBe(409);
    expect(complete.body.type).toBe('/problems/full-count-required');
    const initiative = await engine.request('GET', `/v1/initiatives/${id}`);
    expect(initiative.body.status).toBe('verifying');
  });

  it('no district is projected more valid signatures than were filed there, in the report or the certificate', async () => {
    // 501 signed, 500 in one district and 1 in another; 500 drawn (each stands for 1.002), all valid. Whichever one is
    // left out of the draw, one district's projection exceeds its signatures: 500 × 1.002 = 501 of 500, or 1.002 of 1.
    const id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, kind: 'agenda', question: undefined } })).body.id as string;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    expect((await engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } })).status).toBe(200);
    const entries = Array.from({ length: 501 }, (_, i) => ({
      familyName: `Inegal${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`,
      givenNames: 'Camille',
      birthdate: '1980-01-01',
      district: i === 500 ? '75112' : '75111',
      sheet: `F-${Math.floor(i / 10)}`,
      collector: 'C-1',
    }));
    expect((await engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, { token: clerk, body: { entries } })).body.accepted).toBe(501);
    expect((await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor })).status).toBe(200);
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'sample', seed: 'tirage inegal' } })).status).toBe(201);
    const page = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false&limit=500`, { token: clerk });
    const decisions = page.body.signatures.items.map((s: { id: string }) => ({ signatureId: s.id, decision: 'valid' }));
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions } })).status).toBe(200);

    type District = { code: string; raw: number; valid: number };
    const report = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
    const raw = new Map<string, number>(report.body.counts.districts.map((d: District) => [d.code, d.raw]));
    expect(raw.get('75111')).toBe(500);
    expect(raw.get('75112')).toBe(1);
    for (const d of report.body.counts.districts as District[]) expect(d.valid).toBeLessThanOrEqual(d.raw);
    for (const d of report.body.projection.districts as { code: string; projected: number }[]) expect(d.projected).toBeLessThanOrEqual(raw.get(d.code)!);
    // The one that overshot is at its signatures exactly.
    expect((report.body.counts.districts as District[]).some((d) => d.raw > 0 && d.valid === d.raw)).toBe(true);

    const complete = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(complete.body.outcome).toBe('certified');
    const item = await engine.request('GET', `/v1/referendum-items/${complete.body.referendumItemId}`);
    const certified = decodeJwt(item.body.certificate).counts as { districts: District[] };
    expect(certified.districts.filter((d) => d.raw > 0)).toHaveLength(2);
    for (const d of certified.districts) expect(d.valid, d.code).toBeLessThanOrEqual(d.raw);
    for (const d of item.body.districts as District[]) expect(d.valid, d.code).toBeLessThanOrEqual(d.raw);
  });

  it('a sample’s certificate says how many signatures were found valid one by one, apart from the projection; so do the report and the results page', async () => {
    // 600 signed, 500 drawn, 450 found valid: 540 projected, 450 verified.
    const id = await sampled('agenda', 600, 450, 'Verif');
    const report = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
    expect(report.body.counts).toMatchObject({ raw: 600, valid: 540, verified: 450 });
    const complete = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(complete.body.outcome).toBe('certified');
    const item = await engine.request('GET', `/v1/referendum-items/${complete.body.referendumItemId}`);
    expect(item.body.validSignatures).toBe(540);
    // Not the 550 signatures left in the count after the sample struck 50 out: those were never looked at.
    expect(decodeJwt(item.body.certificate)).toMatchObject({ counts: { raw: 600, valid: 540, verified: 450 }, sample: { population: 600, size: 500, valid: 450 } });
    const page = await engine.app.request(`/results/${item.body.id}`);
    expect(await page.text()).toContain('Nombre projeté à partir d’un échantillon aléatoire de 500 signatures, dont 450 vérifiées valides une à une.');
  });
});
