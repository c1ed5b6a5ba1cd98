import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatures } from '../../src/db/schema';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';

/** Opens an initiative through the API and returns its id. */
async function openInitiative(engine: TestEngine): Promise<string> {
  const admin = await engine.adminToken();
  await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0 }) });
  await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk' } });
  const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
  const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
  await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor });
  const opened = await engine.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: await engine.subjectToken('clerk'), body: { decision: 'open' } });
  expect(opened.status).toBe(200);
  return draft.body.id;
}

/** Distinct given names made of letters only (digits are not part of a canonical name). */
const lettersOf = (n: number) => n.toString(26).split('').map((d) => String.fromCharCode(97 + parseInt(d, 26))).join('') + 'x';

describe('concurrent signing on PostgreSQL', () => {
  let engine: TestEngine;
  let initiativeId: string;
  beforeAll(async () => {
    engine = await createTestEngine({ poolSize: 20 });
    initiativeId = await openInitiative(engine);
  });
  afterAll(() => engine.close());

  it('100 concurrent sign requests by one person yield exactly one signature, and the count rises by one', async () => {
    const before = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    const token = await engine.tokenFor({ givenNames: 'Camille', familyName: 'Durand', birthdate: '1992-03-04' });
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75111', consent: true } }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(99);
    expect(new Set(results.map((r) => r.body.signature.id)).size).toBe(1);

    const rows = await engine.db.db.select().from(signatures).where(eq(signatures.initiativeId, initiativeId));
    expect(rows).toHaveLength(1);
    const after = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    expect(after.body.signatures).toBe(before.body.signatures + 1);
  });

  it('many people signing at once are each counted once: count = rows', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 200 }, (_, i) => engine.tokenFor({ givenNames: lettersOf(i), familyName: 'Concurrent', birthdate: '1980-01-01' })),
    );
    const results = await Promise.all(
      tokens.flatMap((token) => [1, 2].map(() => engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75112', consent: true } }))),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(200);
    expect(results.filter((r) => r.status === 200)).toHaveLength(200);
    const rows = await engine.db.db.select().from(signatures).where(eq(signatures.initiativeId, initiativeId));
    const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    expect(progress.body.signatures).toBe(rows.length);
    expect(rows.length).toBe(201);
  });
});
