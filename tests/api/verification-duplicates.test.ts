import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verificationDecisions } from '../../src/db/schema-verification';
import { signatureByReference } from '../../src/features/verification/service';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisWithClerk } from '../support/identity';
import { REFERENDUM_DRAFT } from '../support/paris';

/**
 * A duplicate names its partner, the signature of the same signer that stays judged on its merits:
 * each duplicate weighs (N/n)(N/n − 1) in a sample's projection, so the record must say which pair
 * it saw. 510 signed, 500 drawn: ten lie outside the sample.
 */
describe('a duplicate ruling names the signature it duplicates', () => {
  let engine: TestEngine;
  let clerk: string;
  let id: string;
  let sampled: string[];
  let outside: string;
  const decide = (decisions: unknown[]) => engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions } });

  beforeAll(async () => {
    engine = await createTestEngine();
    let sponsor: string;
    ({ clerk, sponsor } = await parisWithClerk(engine, { rules: { agenda: { goal: { signatures: 100 }, collectionDays: 30 } } }));
    id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, kind: 'agenda', question: undefined } })).body.id as string;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    expect((await engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } })).status).toBe(200);
    const entries = Array.from({ length: 510 }, (_, i) => ({
      familyName: `Double${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`,
      givenNames: 'Camille',
      birthdate: '1980-01-01',
      district: '75111',
      sheet: `F-${Math.floor(i / 10)}`,
      collector: 'C-1',
    }));
    const paper = await engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, { token: clerk, body: { entries } });
    expect(paper.body.accepted).toBe(510);
    expect((await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor })).status).toBe(200);
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'sample', seed: 'tirage des doublons' } })).status).toBe(201);
    const page = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false&limit=500`, { token: clerk });
    sampled = page.body.signatures.items.map((s: { id: string }) => s.id);
    const all = paper.body.results.map((r: { signatureId: string }) => r.signatureId) as string[];
    outside = all.find((s) => !sampled.includes(s))!;
  });
  afterAll(() => engine.close());

  it('refuses a duplicate without its partner, a partner beside another ruling, and a signature as its own partner', async () => {
    const [a, b] = sampled as [string, string];
    const cases: [unknown, string, string][] = [
      [{ signatureId: a, decision: 'duplicate' }, 'duplicate-partner-missing', 'A duplicate names the signature it duplicates.'],
      [{ signatureId: a, decision: 'valid', duplicateOf: b }, 'partner-on-non-duplicate', 'Only a duplicate names a partner.'],
      [{ signatureId: a, decision: 'invalid', reason: 'illisible', duplicateOf: b }, 'partner-on-non-duplicate', 'Only a duplicate names a partner.'],
      [{ signatureId: a, decision: 'duplicate', duplicateOf: a }, 'duplicate-of-itself', 'A signature cannot duplicate itself.'],
    ];
    for (const [decision, code, message] of cases) {
      const res = await decide([decision]);
      expect(res.status).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.errors).toEqual([{ field: 'body.decisions.0.duplicateOf', code, message }]);
    }
  });

  it('refuses a partner of another initiative or none, and in a sample one outside the sample', async () => {
    const stranger = await decide([{ signatureId: sampled[0], decision: 'duplicate', duplicateOf: '0192f0c4-6f7d-7a51-9c35-2b1f6c0c7e11' }]);
    expect(stranger.status).toBe(400);
    expect(stranger.body.errors).toEqual([{ field: 'body.decisions.0.duplicateOf', code: 'unknown-signature', message: 'No signature with this id in this initiative.' }]);
    const notSampled = await decide([{ signatureId: sampled[0], decision: 'duplicate', duplicateOf: outside }]);
    expect(notSampled.status).toBe(400);
    expect(notSampled.body.errors).toEqual([{ field: 'body.decisions.0.duplicateOf', code: 'not-in-sample', message: 'The partner of a duplicate in a sample must be in the sample.' }]);
    const report = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
    expect(report.body.tallies.duplicates).toBe(0);
  });

  it('records the partner: in the report, the audit trail and the export', async () => {
    const [a, b] = sampled as [string, string];
    const res = await decide([{ signatureId: a, decision: 'duplicate', duplicateOf: b }]);
    expect(res.status).toBe(200);
    const report = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false&filter=decided`, { token: clerk });
    expect(report.body.signatures.items).toEqual([expect.objectContaining({ id: a, decision: expect.objectContaining({ decision: 'duplicate', duplicateOf: b }) })]);
    const audit = await engine.request('GET', `/v1/audit?initiative=${id}&action=verification.decisions`, { token: clerk });
    expect(audit.body.items[0].details.decisions).toEqual([{ signatureId: a, decision: 'duplicate', reason: null, duplicateOf: b }]);
    const csv = await engine.request('GET', `/v1/initiatives/${id}/verification/export`, { token: clerk });
    const lines = (csv.body as string).trimEnd().split('\r\n');
    expect(lines[0]!.replace(/^\uFEFF/, '')).toBe('signature_id,channel,district,sheet,collector,decision,reason,clerk,time,duplicate_of');
    const row = lines.find((l) => l.startsWith(a))!.split(',');
    expect(row[5]).toBe('duplicate');
    expect(row[9]).toBe(b);
    // Sent again: unchanged. Naming another partner would change a final ruling.
    expect((await decide([{ signatureId: a, decision: 'duplicate', duplicateOf: b }])).body).toMatchObject({ unchanged: 1 });
    const other = await decide([{ signatureId: a, decision: 'duplicate', duplicateOf: sampled[2] }]);
    expect(other.status).toBe(409);
    expect(other.body.type).toBe('/problems/decision-final');
  });

  it('keeps the partner judged on its merits: neither a duplicate’s duplicate, nor a partner ruled a duplicate, nor both of a pair', async () => {
    const [a, b, c, d, e, f] = sampled as [string, string, string, string, string, string];
    // a is a duplicate (of b): naming a as a partner is refused.
    const ofDuplicate = await decide([{ signatureId: c, decision: 'duplicate', duplicateOf: a }]);
    expect(ofDuplicate.status).toBe(409);
    expect(ofDuplicate.body).toMatchObject({ type: '/problems/duplicate-partner', signatures: [c] });
    expect(ofDuplicate.body.detail).toMatch(/itself ruled a duplicate/);
    // b is a's partner: it cannot then be ruled a duplicate, of anyone.
    const partner = await decide([{ signatureId: b, decision: 'duplicate', duplicateOf: c }]);
    expect(partner.status).toBe(409);
    expect(partner.body).toMatchObject({ type: '/problems/duplicate-partner', signatures: [b] });
    expect(partner.body.detail).toMatch(/named as the partner of a duplicate/);
    // Both of a pair in one batch, or a chain: refused, nothing recorded.
    for (const batch of [
      [{ signatureId: d, decision: 'duplicate', duplicateOf: e }, { signatureId: e, decision: 'duplicate', duplicateOf: d }],
      [{ signatureId: d, decision: 'duplicate', duplicateOf: e }, { signatureId: e, decision: 'duplicate', duplicateOf: f }],
    ]) {
      const refused = await decide(batch);
      expect(refused.status).toBe(409);
      expect(refused.body.type).toBe('/problems/duplicate-partner');
    }
    // The partner may still be found invalid on its own merits; the pair counts one duplicate.
    expect((await decide([{ signatureId: b, decision: 'invalid', reason: 'not on the electoral roll' }])).status).toBe(200);
    const report = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
    expect(report.body.tallies).toMatchObject({ duplicates: 1, invalid: 1 });
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures).toBe(508);
  });

  it('gives a duplicate ruled before partners were named its partner when it is sent again with one', async () => {
    const [, , , , , , g, h] = sampled as string[];
    expect((await decide([{ signatureId: g, decision: 'duplicate', duplicateOf: h }])).status).toBe(200);
    // As a ruling recorded before this version: no partner.
    await engine.db.db.update(verificationDecisions).set({ duplicateOf: null }).where(eq(verificationDecisions.signatureId, g!));
    const again = await decide([{ signatureId: g, decision: 'duplicate', duplicateOf: h }]);
    expect(again.status).toBe(200);
    expect(again.body.results).toEqual([{ signatureId: g, decision: 'duplicate', outcome: 'changed' }]);
    const [row] = await engine.db.db.select().from(verificationDecisions).where(eq(verificationDecisions.signatureId, g!));
    expect(row!.duplicateOf).toBe(h);
    // Once named, it is part of the ruling: another partner is refused, the same one changes nothing.
    expect((await decide([{ signatureId: g, decision: 'duplicate', duplicateOf: sampled[8] }])).status).toBe(409);
    expect((await decide([{ signatureId: g, decision: 'duplicate', duplicateOf: h }])).body.results[0].outcome).toBe('unchanged');
  });

  it('finds the partner a clerk names by the reference the page shows among the sampled signatures only', async () => {
    const ref = (s: string) => s.slice(0, 8);
    expect(await signatureByReference(engine.db.db, id, ref(sampled[9]!).toUpperCase())).toEqual({ found: 'one', id: sampled[9] });
    expect(await signatureByReference(engine.db.db, id, sampled[9]!.slice(0, 13))).toEqual({ found: 'one', id: sampled[9] });
    // A signature outside the sample is no partner there: its reference designates none.
    expect(await signatureByReference(engine.db.db, id, ref(outside))).toEqual({ found: 'none' });
    // Hyphens where a uuid has none, or not hex: none.
    expect(await signatureByReference(engine.db.db, id, `${ref(sampled[9]!).slice(0, 7)}-`)).toEqual({ found: 'none' });
    expect(await signatureByReference(engine.db.db, id, 'zzzzzzzz')).toEqual({ found: 'none' });
  });
});
