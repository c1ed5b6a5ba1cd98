import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { closedWithSignatures, parisWithClerk } from '../support/identity';
import { REFERENDUM_DRAFT } from '../support/paris';

/**
 * A small commune: fewer signatures than the minimum sample size (500), so the sample is every
 * signature and its "projection" is the count itself. It settles the result exactly, even at 100 %
 * of the goal, where a real sample could only ask for a full count.
 */
describe('a sample verification of fewer signatures than the minimum sample size', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, sponsor } = await parisWithClerk(engine, { rules: { referendum: { goal: { signatures: 20 }, collectionDays: 30 } } }));
  });
  afterAll(() => engine.close());

  /** An initiative with `n` signatures, closed, its sample of everything decided with `invalid` of them invalid. */
  async function decided(n: number, invalid: number, family: string, draft?: Record<string, unknown>) {
    const id = await closedWithSignatures(engine, { sponsor, clerk }, n, family, draft);
    const started = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'sample', seed: 'tirage public' } });
    expect(started.body).toMatchObject({ population: n, sampleSize: n });
    const page = await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk });
    const decisions = page.body.signatures.items.map((s: { id: string }, i: number) =>
      i < invalid ? { signatureId: s.id, decision: 'invalid', reason: 'Signature illisible' } : { signatureId: s.id, decision: 'valid' },
    );
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions } })).status).toBe(200);
    return id;
  }

  it('a sample smaller than every signature is refused, naming the size and its minimum; the initiative stays closed', async () => {
    const id = await closedWithSignatures(engine, { sponsor, clerk }, 4, 'Petit');
    for (const sampleSize of [1, 3]) {
      const refused = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'sample', sampleSize, seed: 'tirage public' } });
      expect(refused.status).toBe(400);
      expect(refused.contentType).toContain('application/problem+json');
      expect(refused.body).toMatchObject({ type: '/problems/validation', minimumSampleSize: 4, population: 4 });
      expect(refused.body.errors).toEqual([{ field: 'body.sampleSize', code: 'sample-too-small', message: expect.stringContaining('At least 4 for 4 signatures') }]);
    }
    expect((await engine.request('GET', `/v1/initiatives/${id}`)).body.status).toBe('closed');
    expect((await engine.request('GET', `/v1/initiatives/${id}/verification`, { token: clerk })).status).toBe(404);
    // Asking for more than there are takes them all.
    const started = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'sample', sampleSize: 4000, seed: 'tirage public' } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ population: 4, sampleSize: 4 });
  });

  it('20 valid signatures for a goal of 20: certified on the sample, no full count asked', async () => {
    const id = await decided(20, 0, 'Habitant');
    const complete = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(complete.status).toBe(200);
    expect(complete.body.outcome).toBe('certified');
  });

  it('19 valid of 20 for a goal of 20 (95 %): insufficient, no full count asked', async () => {
    const id = await decided(20, 1, 'Voisin');
    const complete = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(complete.status).toBe(200);
    expect(complete.body.outcome).toBe('insufficient');
  });

  it('certified items are listed newest first, page by page', async () => {
    const id = await decided(20, 0, 'Troisieme');
    engine.clock.advance(60_000);
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk })).body.outcome).toBe('certified');
    const first = await engine.request('GET', '/v1/referendum-items?jurisdiction=paris&limit=1');
    expect(first.status).toBe(200);
    expect(first.body.items.map((i: { initiativeId: string }) => i.initiativeId)).toEqual([id]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await engine.request('GET', `/v1/referendum-items?jurisdiction=paris&limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].initiativeId).not.toBe(id);
    expect(second.body.nextCursor).toBeNull();
    const bad = await engine.request('GET', '/v1/referendum-items?cursor=nonsense');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'query.cursor' })]);
  });

  it('the certified item says the language of its title and question, which its certificate does not state', async () => {
    const id = await decided(20, 0, 'Italiano', { ...REFERENDUM_DRAFT, title: 'Strade scolastiche', question: 'Approvate la chiusura delle strade davanti alle scuole?', language: 'it' });
    const complete = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(complete.body.outcome).toBe('certified');
    const item = await engine.request('GET', `/v1/referendum-items/${complete.body.referendumItemId}`);
    expect(item.body).toMatchObject({ title: 'Strade scolastiche', language: 'it' });
    // The language is the item's, not the certificate's: its signed claims name the initiative and its collection period alone.
    expect(decodeJwt(item.body.certificate).initiative).toEqual({
      id,
      kind: 'referendum',
      title: 'Strade scolastiche',
      question: 'Approvate la chiusura delle strade davanti alle scuole?',
      opensAt: expect.any(String),
      closesAt: expect.any(String),
    });
  });
});
