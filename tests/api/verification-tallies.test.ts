import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTallies, runRollChecks } from '../../src/features/verification/service';
import { createTestEngine, type TestEngine } from '../support/engine';
import { openParisInitiative, putRoll, rollCsv } from '../support/identity';
import { decideRemainingValid } from '../support/verification';

type Person = { givenNames: string; familyName: string; birthdate: string };
const person = (n: number): Person => ({ givenNames: `Prenom${String.fromCharCode(65 + n)}`, familyName: 'Comptage', birthdate: '1980-01-01' });

/** Twelve signers who stay, two who withdraw before the close; on the roll: the first seven in 75111, the eighth in 75118. */
const SIGNERS = Array.from({ length: 12 }, (_, n) => person(n));
const WITHDRAWING = [person(12), person(13)];
const ROLL = rollCsv([
  ...SIGNERS.slice(0, 7).map((p) => [p.familyName, p.givenNames, p.birthdate, '75111']),
  [SIGNERS[7]!.familyName, SIGNERS[7]!.givenNames, SIGNERS[7]!.birthdate, '75118'],
]);

/**
 * A clerk's view of a verification reads figures kept in step with each change rather than
 * counting every signature: after each step of a mixed verification, the figures it shows are
 * those counted again from the rows, and those completion refuses or certifies on.
 */
describe('the figures of a verification, kept in step with its rows', () => {
  let engine: TestEngine;
  let initiativeId: string;
  let clerk: string;
  const ids: string[] = [];

  const report = async () => {
    const res = await engine.request('GET', `/v1/initiatives/${initiativeId}/verification?limit=100&personalData=false`, { token: clerk });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const figures = (r: any) => ({
    tallies: r.tallies,
    roll: r.roll,
    rollCheck: r.rollCheck && { status: r.rollCheck.status, checked: r.rollCheck.checked, toCheck: r.rollCheck.toCheck },
    counts: r.counts,
    criteria: r.criteria,
    goalMet: r.goalMet,
    projection: r.projection,
  });
  /** The figures shown, once they are checked against the same figures counted again from the rows. */
  const shownAndRecounted = async () => {
    const shown = figures(await report());
    await engine.db.db.transaction((tx) => buildTallies(tx, initiativeId));
    expect(shown).toEqual(figures(await report()));
    return shown;
  };
  const decide = async (decisions: { signatureId: string; decision: string; reason?: string; duplicateOf?: string }[]) => {
    const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/decisions`, { token: clerk, body: { decisions } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  const complete = () => engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: clerk });
  /** One scheduler pass of pages of 4, stopping after the first page. */
  const pass = () => runRollChecks(engine.deps, engine.clock.now(), { pageSize: 4, budgetMs: 0 });

  beforeAll(async () => {
    engine = await createTestEngine();
    const opened = await openParisInitiative(engine);
    ({ initiativeId, clerk } = opened);
    expect((await putRoll(engine, clerk, ROLL)).status).toBe(200);
    for (const signer of [...SIGNERS, ...WITHDRAWING]) {
      const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(signer), body: { district: '75111', consent: true } });
      expect(res.status).toBe(201);
      ids.push(res.body.signature.id);
    }
    for (const signer of WITHDRAWING) {
      expect((await engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token: await engine.tokenFor(signer) })).status).toBe(200);
    }
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: opened.sponsor })).status).toBe(200);
  });
  afterAll(() => engine.close());

  it('through a sample, changed rulings, a full count, the roll check and completion', async () => {
    const started = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'sample', seed: 'tirage public' } });
    expect(started.status).toBe(201);
    expect(await shownAndRecounted()).toMatchObject({ tallies: { decided: 0, pending: 12 }, counts: { raw: 12 }, rollCheck: null });

    // Rulings on the sample, one of them changed, and the same batch sent twice.
    await decide([
      { signatureId: ids[0]!, decision: 'valid' },
      { signatureId: ids[1]!, decision: 'valid' },
      { signatureId: ids[9]!, decision: 'invalid', reason: 'signature illegible' },
      { signatureId: ids[10]!, decision: 'duplicate', duplicateOf: ids[9]! },
    ]);
    const changed = [{ signatureId: ids[1]!, decision: 'invalid', reason: 'under age' }];
    await decide(changed);
    await decide(changed);
    expect(await shownAndRecounted()).toMatchObject({
      tallies: { decided: 4, pending: 8, valid: 1, invalid: 2, duplicates: 1, invalidByReason: [{ reason: 'signature illegible', count: 1 }, { reason: 'under age', count: 1 }] },
      counts: { raw: 12 },
    });

    // A full count takes the sample's valid ruling back; the invalid and duplicate ones stand.
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    expect(await shownAndRecounted()).toMatchObject({
      tallies: { decided: 3, pending: 9, valid: 0 },
      rollCheck: { status: 'running', checked: 0, toCheck: 9 },
      counts: { raw: 12, valid: 9 },
    });

    // A page of the roll check, then a clerk rules ahead of it and overrules a valid ruling of the roll.
    expect(await pass()).toEqual([]);
    const page = await report();
    const ahead = page.signatures.items.filter((s: any) => s.rollCheck === null && s.decision === null).at(-1);
    const byRoll = page.signatures.items.find((s: any) => s.decision?.source === 'roll');
    await decide([
      { signatureId: ahead.id, decision: 'valid' },
      { signatureId: byRoll.id, decision: 'duplicate', duplicateOf: ahead.id },
    ]);
    const midway = await shownAndRecounted();
    expect(midway.rollCheck).toMatchObject({ status: 'running', checked: 4, toCheck: 8 });
    // Completion counts from the rows: it refuses with the same figures.
    expect((await complete()).body).toMatchObject({ type: '/problems/roll-check-running', checked: 4, toCheck: 8 });

    while ((await pass()).length === 0);
    const checked = await shownAndRecounted();
    expect(checked.rollCheck).toMatchObject({ status: 'done', checked: 8, toCheck: 8 });
    expect((await complete()).body).toMatchObject({ type: '/problems/verification-pending', pending: checked.tallies.pending });

    await decideRemainingValid(engine.request, initiativeId, clerk);
    const before = await shownAndRecounted();
    expect(before.tallies.pending).toBe(0);
    const done = await complete();
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.counts).toEqual(before.counts);
    // A completed verification's figures stay as they were certified.
    expect(await shownAndRecounted()).toEqual(before);
  });
});
