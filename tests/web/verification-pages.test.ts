import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { CLERK_SUBJECT, closedWithSignatures, parisWithClerk } from '../support/identity';
import { REFERENDUM_DRAFT } from '../support/paris';
import { decideRemainingValid } from '../support/verification';
import { browserRequests } from './browser-requests';

/** The clerk's page through a sample whose projection lands between 95 % and 110 %: the page leads on to the full count. */
describe('clerk pages: a sample that asks for a full count', () => {
  let engine: TestEngine;
  let web: ReturnType<typeof browserRequests>;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine();
    web = browserRequests(engine);
    ({ clerk, sponsor } = await parisWithClerk(engine, { rules: { agenda: { goal: { signatures: 2 }, collectionDays: 30 }, referendum: { goal: { signatures: 480 }, collectionDays: 30 } } }));
  });
  afterAll(() => engine.close());

  it('offers the full count where certifying is refused, and the full count then certifies', async () => {
    // 510 paper signatures for a threshold of 480: the method's minimum sample (500) found valid projects 510, 106 %.
    const id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT })).body.id as string;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    expect((await engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } })).status).toBe(200);
    const entries = Array.from({ length: 510 }, (_, n) => ({
      familyName: 'Voisin',
      givenNames: `Paul${n.toString(26).split('').map((d) => String.fromCharCode(97 + parseInt(d, 26))).join('')}`,
      birthdate: '1970-01-01',
      district: '75111',
      sheet: `F-${Math.floor(n / 20)}`,
      collector: 'C-1',
    }));
    expect((await engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, { token: clerk, body: { entries } })).body.accepted).toBe(510);
    expect((await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor })).status).toBe(200);

    const cookie = await web.sessionFor(CLERK_SUBJECT);
    const form = await web.page(`/clerk/initiatives/${id}`, { cookie });
    // The form says the smallest sample the method allows for the signatures collected.
    expect(form.html).toMatch(/<input type="number" min="500"[^>]*id="sampleSize"/);
    expect(form.text).toContain('Au moins 500 pour 510 signatures recueillies');
    expect((await web.page(`/clerk/initiatives/${id}/verification/start`, { cookie, form: { method: 'sample', seed: 'tirage public' } })).status).toBe(303);
    const sampled = await web.page(`/clerk/initiatives/${id}`, { cookie });
    const signatureId = /name="signatureId" value="([^"]+)"/.exec(sampled.html)![1]!;
    expect((await web.page(`/clerk/initiatives/${id}/verification/decide`, { cookie, form: { signatureId, decision: 'valid' } })).status).toBe(303);
    // What the sample holds, and how many of it were found valid: not the signatures left in the count, never looked at.
    const begun = await web.page(`/clerk/initiatives/${id}`, { cookie });
    expect(begun.text).toContain('Signatures tirées au sort 500 dont en attente de décision 499 dont vérifiées valides une à une 1');
    expect(begun.text).not.toContain('Signatures non écartées');
    expect((await web.page(`/clerk/initiatives/${id}`, { cookie, lang: 'en' })).text).toContain('Sampled signatures 500 of which awaiting a decision 499 of which verified valid one by one 1');
    expect(await decideRemainingValid(engine.request, id, clerk)).toBe(499);

    const doubt = await web.page(`/clerk/initiatives/${id}`, { cookie });
    expect(doubt.html).toContain('data-band="full-count"');
    expect(doubt.text).toContain('Passer à la vérification intégrale');
    expect(doubt.text).toContain('Entre 95 et 110\u202f% du seuil, seule une vérification intégrale peut conclure.');
    expect((await web.page(`/clerk/initiatives/${id}`, { cookie, lang: 'en' })).text).toContain('Switch to a full count');

    const full = await web.page(`/clerk/initiatives/${id}/verification/start`, { cookie, form: { method: 'full' } });
    expect(full.status).toBe(303);
    const counting = await web.page(`/clerk/initiatives/${id}`, { cookie });
    expect(counting.text).toContain('Méthode Vérification intégrale');
    // The sample's valid rulings are looked at again: every signature waits for a decision, 500 listed at a time.
    expect(counting.html.match(/name="signatureId"/g)).toHaveLength(500);
    // Nothing decided yet: none is called valid, and the page says they await a decision.
    expect(counting.text).not.toContain('Signatures valides');
    expect(counting.text).toContain('Signatures non écartées 510 dont en attente de décision 510');
    expect((await web.page(`/clerk/initiatives/${id}`, { cookie, lang: 'en' })).text).toContain('Signatures not struck out 510 of which awaiting a decision 510');
    const pending = /name="signatureId" value="([^"]+)"/.exec(counting.html)![1]!;
    expect((await web.page(`/clerk/initiatives/${id}/verification/decide`, { cookie, form: { signatureId: pending, decision: 'valid' } })).status).toBe(303);
    expect(await decideRemainingValid(engine.request, id, clerk)).toBe(509);
    const decided = await web.page(`/clerk/initiatives/${id}`, { cookie });
    expect(decided.text).toContain('Signatures valides 510');
    expect(decided.text).not.toContain('dont en attente de décision');
    const certified = await web.page(`/clerk/initiatives/${id}/verification/complete`, { cookie, form: {} });
    expect(certified.status).toBe(303);
    expect((await engine.request('GET', `/v1/initiatives/${id}`)).body.status).toBe('certified');
  });

  it('a sample of every signature is a count: its conclusion says the threshold is met, not "at least 110 %"', async () => {
    const id = await closedWithSignatures(engine, { sponsor, clerk }, 2, 'Fontaine', { jurisdictionId: 'paris', kind: 'agenda', title: 'Une fontaine', summary: 'De l’eau.', text: 'Installer une fontaine.' });
    const cookie = await web.sessionFor(CLERK_SUBJECT);
    expect((await web.page(`/clerk/initiatives/${id}/verification/start`, { cookie, form: { method: 'sample', seed: 'tirage public' } })).status).toBe(303);
    const listed = await web.page(`/clerk/initiatives/${id}`, { cookie });
    for (const signatureId of [...listed.html.matchAll(/name="signatureId" value="([^"]+)"/g)].map((match) => match[1]!)) {
      expect((await web.page(`/clerk/initiatives/${id}/verification/decide`, { cookie, form: { signatureId, decision: 'valid' } })).status).toBe(303);
    }
    // 2 valid of 2 signed, for a threshold of 2: 100 %, certifiable because nothing was projected.
    const fr = await web.page(`/clerk/initiatives/${id}`, { cookie });
    expect(fr.html).toContain('data-band="certifiable"');
    expect(fr.text).toContain('Conclusion\u00a0: certifiable (seuil atteint\u00a0: chaque signature a été vérifiée)');
    // No band in percent (the page's ids and hashes may hold the digits 110 by chance, so the percent sign is part of the check).
    expect(fr.text).not.toMatch(/110\s*%/);
    const en = await web.page(`/clerk/initiatives/${id}`, { cookie, lang: 'en' });
    expect(en.text).toContain('Conclusion: certifiable (threshold met: every signature was verified)');
    expect((await web.page(`/clerk/initiatives/${id}/verification/complete`, { cookie, form: {} })).status).toBe(303);
  });
});
