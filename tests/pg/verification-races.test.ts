import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initiatives, outbox, referendumItems, signatures } from '../../src/db/schema';
import { sealPersonalData } from '../../src/features/personal-data/service';
import { signerHashFor } from '../../src/features/signatures/service';
import { releasedTogether } from '../support/barrier';
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

  /** The events of the initiative's verification, as the outbox holds them (the opening, closing and start are left out). */
  const eventsOf = async (id: string) =>
    (await engine.db.db.select({ type: outbox.type }).from(outbox).where(eq(outbox.initiativeId, id)))
      .map((e) => e.type)
      .filter((t) => !['initiative.submitted', 'initiative.opened', 'initiative.closed', 'initiative.milestone_reached', 'initiative.goal_reached'].includes(t))
      .sort();

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
    expect(await eventsOf(id)).toEqual(['initiative.certified', 'referendum_item.created']);
  });

  it('a sample completed while another clerk starts a full count: whichever asked first is done, the other is told why not', async () => {
    for (let attempt = 0; attempt < 4; attempt++) {
      const id = await closedWithSignatures(engine, { sponsor, clerk }, 4, `Bascule${String.fromCharCode(65 + attempt)}`);
      const started = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'sample', seed: 'tirage public' } });
      expect(started.status).toBe(201);
      const sampled = started.body.signatures.items.map((s: { id: string }) => ({ signatureId: s.id, decision: 'valid' }));
      expect((await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions: sampled } })).status).toBe(200);

      // One clerk asks, then the other, and both go on at the same instant.
      const complete = () => engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
      const fullCount = () => engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } });
      const completeFirst = attempt % 2 === 0;
      const order = completeFirst ? [complete, fullCount] : [fullCount, complete];
      const answers = await Promise.all(await releasedTogether(engine.db.postgres!, id, order));
      const [completed, counted] = [answers[order.indexOf(complete)]!, answers[order.indexOf(fullCount)]!];
      const items = await engine.db.db.select().from(referendumItems).where(eq(referendumItems.initiativeId, id));
      const report = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
      const answered = JSON.stringify([completed.body, counted.body]);
      if (completeFirst) {
        expect([completed.status, counted.status], answered).toEqual([200, 409]);
        expect(counted.body.currentStatus).toBe('certified');
        expect(items).toHaveLength(1);
        expect(await eventsOf(id)).toEqual(['initiative.certified', 'referendum_item.created']);
      } else {
        expect([completed.status, counted.status], answered).toEqual([409, 201]);
        // The full count put the sample's valid rulings back to the clerks.
        expect(completed.body).toMatchObject({ type: '/problems/verification-pending', pending: 4 });
        expect(report.body).toMatchObject({ status: 'verifying', method: 'full', completedAt: null });
        expect(items).toHaveLength(0);
        expect(await eventsOf(id)).toEqual([]);
      }
    }
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
      engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions: [{ signatureId: target, decision: 'duplicate', duplicateOf: signatureIds[1] }] } }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(results.find((r) => r.status === 409)!.body.type).toBe('/problems/decision-final');
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures).toBe(3);
    const log = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
    expect(log.body.tallies.invalid + log.body.tallies.duplicates).toBe(1);
  });
});
