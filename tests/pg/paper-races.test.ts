import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releasedTogether } from '../support/barrier';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisWithClerk } from '../support/identity';
import { brokenInvariants, ledgerOf } from '../support/ledger';
import { PARIS_DISTRICTS } from '../support/paris';
import { citizen } from '../support/process';

/** A paper form of `person`, as a clerk keys it in. */
const form = (person: ReturnType<typeof citizen>, sheet: string) => ({ ...person, district: '75111', sheet, collector: 'C-01' });

/** Paper forms keyed in while the same people sign, or while another clerk keys in the same forms, on one PostgreSQL database. */
describe('paper signatures keyed in at the same instant as other signatures of the same people', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine({ poolSize: 20 });
    ({ clerk, sponsor } = await parisWithClerk(engine));
  });
  afterAll(() => engine.close());

  async function openInitiative() {
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { jurisdictionId: 'paris', kind: 'agenda', title: 'Des bancs', summary: 'Des bancs.', text: 'Des bancs partout.' } });
    await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor });
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: clerk, body: { decision: 'open' } })).status).toBe(200);
    return draft.body.id as string;
  }

  const keyIn = (id: string, entries: unknown[]) => engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, { token: clerk, body: { entries } });

  it('two clerks keying in the same stack of forms, one from the top and one from the bottom: every form is one signature, accepted by one of them', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const id = await openInitiative();
      const stack = Array.from({ length: 300 }, (_, i) => form(citizen(i, `Pile${String.fromCharCode(65 + attempt)}`), `F-${Math.floor(i / 10)}`));
      const [top, bottom] = await Promise.all(await releasedTogether(engine.db.postgres!, id, [() => keyIn(id, stack), () => keyIn(id, [...stack].reverse())]));
      expect([top.status, bottom.status], JSON.stringify([top.body, bottom.body]).slice(0, 300)).toEqual([200, 200]);
      expect(top.body.accepted + bottom.body.accepted).toBe(stack.length);
      expect(top.body.duplicates + bottom.body.duplicates).toBe(stack.length);
      const ledger = await ledgerOf(engine.db.db, id);
      expect(ledger.counted).toBe(stack.length);
      expect(brokenInvariants(ledger)).toEqual([]);
    }
  });

  it('two clerks keying in the same stack of forms that cannot count (signed before the opening): both clerks are told so', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const id = await openInitiative();
      const stack = Array.from({ length: 300 }, (_, i) => ({ ...form(citizen(i, 'Avant'), `F-${Math.floor(i / 10)}`), signedOn: '2027-01-01' }));
      const [top, bottom] = await Promise.all(await releasedTogether(engine.db.postgres!, id, [() => keyIn(id, stack), () => keyIn(id, [...stack].reverse())]));
      expect([top.status, bottom.status], JSON.stringify([top.body, bottom.body]).slice(0, 300)).toEqual([200, 200]);
      expect([top.body.ineligible, bottom.body.ineligible]).toEqual([stack.length, stack.length]);
      // The anomaly report counts the entries of both batches.
      const report = await engine.request('GET', `/v1/initiatives/${id}/paper-signatures/anomalies`, { token: clerk });
      expect(report.body.entries).toBe(2 * stack.length);
    }
  });

  it('two clerks keying in forms of different people from every arrondissement, in opposite orders: both batches are taken whole', async () => {
    // Each batch adds to the counter of every district; taken in opposite orders, they would wait for each other.
    for (let attempt = 0; attempt < 10; attempt++) {
      const id = await openInitiative();
      const districts = PARIS_DISTRICTS.map((d) => d.code);
      const batch = (family: string, order: string[]) => order.map((district, i) => ({ ...form(citizen(i, family), `F-${family}`), district }));
      const [first, second] = await Promise.all(
        await releasedTogether(engine.db.postgres!, id, [() => keyIn(id, batch('Arrondi', districts)), () => keyIn(id, batch('Inverse', [...districts].reverse()))]),
      );
      expect([first.status, second.status], JSON.stringify([first.body, second.body]).slice(0, 300)).toEqual([200, 200]);
      expect(first.body.accepted + second.body.accepted).toBe(2 * districts.length);
      const progress = await engine.request('GET', `/v1/initiatives/${id}/progress`);
      expect(progress.body.districts.map((d: { signatures: number }) => d.signatures)).toEqual(districts.map(() => 2));
      expect(brokenInvariants(await ledgerOf(engine.db.db, id))).toEqual([]);
    }
  });

  it('people signing online while a clerk keys in their paper forms: each person is one signature, and both answers name it', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const id = await openInitiative();
      const people = Array.from({ length: 60 }, (_, i) => citizen(i, `Double${String.fromCharCode(65 + attempt)}`));
      const tokens = await Promise.all(people.map((p) => engine.tokenFor(p)));
      // The paper batch waits at the line, then the online signatures (those that arrive together are written by one statement).
      const [paper, online] = await Promise.all(
        await releasedTogether(engine.db.postgres!, id, [
          () => keyIn(id, people.map((p, i) => form(p, `F-${i}`))),
          () => Promise.all(tokens.map((token) => engine.request('POST', `/v1/initiatives/${id}/signatures`, { token, body: { district: '75111', consent: true } }))),
        ]),
      );
      expect(paper.status, JSON.stringify(paper.body).slice(0, 300)).toBe(200);
      for (const [i, res] of online.entries()) {
        expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
        const onPaper = paper.body.results[i];
        // Whichever came first stands; the other answer names that signature.
        expect(onPaper.signatureId).toBe(res.body.signature.id);
        expect(onPaper.status).toBe(res.status === 201 ? 'duplicate' : 'accepted');
      }
      const ledger = await ledgerOf(engine.db.db, id);
      expect(ledger.counted).toBe(people.length);
      expect(brokenInvariants(ledger)).toEqual([]);
      expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures).toBe(people.length);
    }
  });
});
