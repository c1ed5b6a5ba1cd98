import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { decideRemainingValid } from '../support/verification';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';

/** A full count without a roll: the clerk strikes out what is wrong, everything else counts. */
describe('full count by clerk decisions', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  let id: string;
  const ids: string[] = [];
  const names = ['Alice', 'Bruno', 'Claire', 'Denis', 'Elise', 'Fabien', 'Gaelle', 'Henri', 'Irene', 'Jules'];

  beforeAll(async () => {
    engine = await createTestEngine();
    clerk = await engine.subjectToken('clerk-full');
    sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    const admin = await engine.adminToken();
    await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0 }) });
    await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk-full' } });
    id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT })).body.id;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    await engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } });
    for (const [n, given] of names.entries()) {
      const res = await engine.request('POST', `/v1/initiatives/${id}/signatures`, {
        token: await engine.tokenFor({ givenNames: given, familyName: 'Lambert', birthdate: '1970-03-04' }),
        body: { district: n % 2 ? '75111' : '75118', consent: true },
      });
      ids.push(res.body.signature.id);
    }
    // The last signer withdraws while collection is open.
    await engine.request('DELETE', `/v1/initiatives/${id}/signatures/me`, { token: await engine.tokenFor({ givenNames: 'Jules', familyName: 'Lambert', birthdate: '1970-03-04' }) });
    engine.clock.advance(86_400_000);
    await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor });
  });
  afterAll(() => engine.close());

  it('decisions need a started verification', async () => {
    const res = await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions: [{ signatureId: ids[0], decision: 'valid' }] } });
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('/problems/invalid-state/closed');
  });

  it('a full count lists every signature, pages by cursor, and without a roll every one waits for a clerk', async () => {
    const started = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ method: 'full', seed: null, sampleSize: null, population: 9, roll: null, projection: null });
    expect(started.body.tallies.pending).toBe(9);
    // Started again: an illegal transition, named by the current state (SPEC §2).
    const again = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: '/problems/invalid-state/verifying', currentStatus: 'verifying' });
    const pending = await engine.request('GET', `/v1/initiatives/${id}/verification?filter=pending&personalData=false`, { token: clerk });
    expect(pending.body.signatures.items).toHaveLength(9);

    const first = await engine.request('GET', `/v1/initiatives/${id}/verification?limit=5`, { token: clerk });
    const second = await engine.request('GET', `/v1/initiatives/${id}/verification?limit=5&cursor=${first.body.signatures.nextCursor}`, { token: clerk });
    const listed = [...first.body.signatures.items, ...second.body.signatures.items].map((s: { id: string }) => s.id);
    expect(second.body.signatures.nextCursor).toBeNull();
    expect(new Set(listed)).toEqual(new Set(ids.slice(0, 9)));
    expect(first.body.signatures.items[0].personalData).toMatchObject({ familyName: 'Lambert', birthdate: '1970-03-04' });
    // Names and birth dates in clear: no browser or proxy may keep a copy, as for a single signer's personal data.
    expect(first.headers.get('cache-control')).toBe('no-store');

    const bad = await engine.request('GET', `/v1/initiatives/${id}/verification?limit=0&filter=some`, { token: clerk });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['query.filter', 'query.limit']);
  });

  it("refuses a cursor that names no signature of this initiative, instead of an empty page that reads as the list's end", async () => {
    // A signature of another initiative of the same jurisdiction.
    const other = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, title: 'Another initiative' } })).body.id;
    await engine.request('POST', `/v1/initiatives/${other}/submit`, { token: sponsor });
    await engine.request('POST', `/v1/initiatives/${other}/review`, { token: clerk, body: { decision: 'open' } });
    const signed = await engine.request('POST', `/v1/initiatives/${other}/signatures`, {
      token: await engine.tokenFor({ givenNames: 'Oscar', familyName: 'Autre', birthdate: '1975-05-06' }),
      body: { district: '75111', consent: true },
    });
    expect(signed.status).toBe(201);
    for (const cursor of ['00000000-0000-4000-8000-000000000000', signed.body.signature.id]) {
      const res = await engine.request('GET', `/v1/initiatives/${id}/verification?limit=5&cursor=${cursor}`, { token: clerk });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'query.cursor' })]);
    }
  });

  it('refuses unknown, withdrawn and contradictory entries, naming each, and writes nothing', async () => {
    const res = await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, {
      token: clerk,
      body: {
        decisions: [
          { signatureId: ids[0], decision: 'invalid', reason: 'signature illegible' },
          { signatureId: '00000000-0000-4000-8000-000000000000', decision: 'valid' },
          { signatureId: ids[9], decision: 'valid' },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { field: 'body.decisions.1.signatureId', code: 'unknown-signature', message: 'No signature with this id in this initiative.' },
      { field: 'body.decisions.2.signatureId', code: 'signature-withdrawn', message: 'This signature was withdrawn by its signer.' },
    ]);
    const contradictory = await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, {
      token: clerk,
      body: { decisions: [{ signatureId: ids[0], decision: 'valid' }, { signatureId: ids[0], decision: 'duplicate', duplicateOf: ids[2] }] },
    });
    expect(contradictory.status).toBe(400);
    expect(contradictory.body.errors[0].field).toBe('body.decisions.1');
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures).toBe(9);
  });

  it('any counted signature may be struck out; a valid one may later be found a duplicate', async () => {
    const first = await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, {
      token: clerk,
      body: { decisions: [{ signatureId: ids[0], decision: 'invalid', reason: 'signature illegible' }, { signatureId: ids[1], decision: 'valid' }] },
    });
    expect(first.body).toMatchObject({ recorded: 2, changed: 0 });
    const changed = await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions: [{ signatureId: ids[1], decision: 'duplicate', duplicateOf: ids[2] }] } });
    expect(changed.body).toMatchObject({ recorded: 0, changed: 1, results: [{ signatureId: ids[1], decision: 'duplicate', outcome: 'changed' }] });

    const report = await engine.request('GET', `/v1/initiatives/${id}/verification?filter=decided&personalData=false`, { token: clerk });
    expect(report.body.tallies).toMatchObject({ decided: 2, valid: 0, invalid: 1, duplicates: 1, invalidByReason: [{ reason: 'signature illegible', count: 1 }] });
    expect(report.body.signatures.items.map((s: { id: string }) => s.id).sort()).toEqual([ids[0], ids[1]].sort());
    expect(report.body.counts.valid).toBe(7);
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures).toBe(7);
  });

  it('certifies once every signature is decided, on the verified count; the certificate says so', async () => {
    const early = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ type: '/problems/verification-pending', pending: 7 });
    expect(await decideRemainingValid(engine.request, id, clerk)).toBe(7);
    const done = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ outcome: 'certified', counts: { raw: 9, valid: 7 } });
    const item = await engine.request('GET', `/v1/referendum-items/${done.body.referendumItemId}`);
    const jwks = await engine.request('GET', '/.well-known/jwks.json');
    const { payload } = await jwtVerify(item.body.certificate, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'] });
    expect(payload).toMatchObject({ method: 'full', seed: null, sample: null, counts: { raw: 9, valid: 7, verified: 7 } });
    // The collection period kept, to be read against the rules': opened at admissibility, closed by the sponsor a day later, of the 270 days allowed.
    expect(payload).toMatchObject({
      initiative: { id, opensAt: '2027-01-15T10:00:00.000Z', closesAt: '2027-01-16T10:00:00.000Z' },
      rules: { collectionDays: 270 },
    });

    const again = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(again.status).toBe(409);
    const restart = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } });
    expect(restart.status).toBe(409);
  });
});
