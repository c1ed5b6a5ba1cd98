import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initiatives, referendumItems, signatures } from '../../src/db/schema';
import { sealPersonalData } from '../../src/features/personal-data/service';
import { signerHashFor } from '../../src/features/signatures/service';
import { createTestEngine, type TestEngine } from '../support/engine';
import { closedWithSignatures, parisWithClerk } from '../support/identity';

/** Two clerks (or one double click) acting on one verification at the same moment, on one PostgreSQL database. */
describe('concurrent clerks on one verification', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine({ poolSize: 10 });
    ({ clerk, sponsor } = await parisWithClerk(engine, { rules: { referendum: { goal: { signatures: 3 }, collectionDays: 30 } } }));
  });
  afterAll(() => engine.close());

  /** A closed initiative with `n` signatures, its full count started. Returns its id and the signature ids. */
  async function counting(n: number, family: string) {
    const id = await closedWithSignatures(engine, { sponsor, clerk }, n, family);
    const started = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } });
    expect(started.status).toBe(201);
    return { id, signatureIds: started.body.signatures.items.map((s: { id: string }) => s.id) as string[] };
  }

  it('certifying twice at once makes one item; the other request is told the initiative is certified', async () => {
    const { id, signatureIds } = await counting(4, 'Double');
    const decided = await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, {
      token: clerk,
      body: { decisions: signatureIds.map((signatureId) => ({ signatureId, decision: 'valid' })) },
    });
    expect(decided.status).toBe(200);
    const results = await Promise.all([1, 2, 3].map(() => engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    for (const refused of results.filter((r) => r.status === 409)) {
      expect(refused.body).toMatchObject({ type: '/problems/invalid-state/certified', currentStatus: 'certified' });
    }
    const items = await engine.db.db.select().from(referendumItems).where(eq(referendumItems.initiativeId, id));
    expect(items).toHaveLength(1);
  });

  it('a sample started while a paper batch is being committed draws from a population that includes the batch', async () => {
    const id = await closedWithSignatures(engine, { sponsor, clerk }, 2, 'Tardif');

    // A late paper form keyed in after the close, as the paper service does it: the initiative held FOR SHARE, the row inserted, then commit.
    const person = { givenNames: 'Emma', familyName: 'Tardif', birthdate: '1980-01-01' };
    const paperId = crypto.randomUUID();
    let started: Promise<{ status: number; body: any }> | undefined;
    await engine.db.db.transaction(async (tx) => {
      const [initiative] = await tx.select().from(initiatives).where(eq(initiatives.id, id)).for('share');
      await tx.insert(signatures).values({
        id: paperId,
        initiativeId: id,
        signerHash: signerHashFor(engine.deps, initiative!, person),
        keyVersion: initiative!.pepperVersion,
        channel: 'paper',
        assurance: 'paper',
        district: '75111',
        status: 'counted',
        createdAt: engine.clock.now(),
        personalData: await sealPersonalData(engine.deps.keys, person),
        sheet: 'F-1',
        collector: 'C-1',
      });
      started = engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'sample', seed: 'tirage public' } });
      await new Promise((resolve) => setTimeout(resolve, 500));
    });
    const res = await started!;
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ population: 3, sampleSize: 3 });
    expect(res.body.signatures.items.map((s: { id: string }) => s.id)).toContain(paperId);
  });

  it('two clerks ruling one signature differently at once: one ruling stands, the other is refused as final, the count drops once', async () => {
    const { id, signatureIds } = await counting(4, 'Rival');
    const target = signatureIds[0]!;
    const results = await Promise.all([
      engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions: [{ signatureId: target, decision: 'invalid', reason: 'Signature illisible' }] } }),
      engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions: [{ signatureId: target, decision: 'duplicate' }] } }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(results.find((r) => r.status === 409)!.body.type).toBe('/problems/decision-final');
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures).toBe(3);
    const log = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
    expect(log.body.tallies.invalid + log.body.tallies.duplicates).toBe(1);
  });
});
