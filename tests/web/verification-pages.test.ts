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
    expect(counting.html.match(/name="decision" value="valid"/g)).toHaveLength(500);
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

  it('a duplicate names the other signature of its signer, by the reference the page shows beside it', async () => {
    const id = await closedWithSignatures(engine, { sponsor, clerk }, 3, 'Jumeau', { jurisdictionId: 'paris', kind: 'agenda', title: 'Un kiosque', summary: 'Un kiosque.', text: 'Installer un kiosque.' });
    const cookie = await web.sessionFor(CLERK_SUBJECT);
    expect((await web.page(`/clerk/initiatives/${id}/verification/start`, { cookie, form: { method: 'sample', seed: 'tirage public' } })).status).toBe(303);
    const listed = await web.page(`/clerk/initiatives/${id}`, { cookie });
    const [first, second] = [...listed.html.matchAll(/<input type="hidden" name="signatureId" value="([^"]+)"\/>/g)].map((match) => match[1]!).filter((v, i, all) => all.indexOf(v) === i);
    // Beside the duplicate button, a field for the partner's reference, in a form of its own (Enter there records the duplicate).
    expect(listed.html).toContain(`<label for="duplicateOf-${second}" class="muted">Doublon de (référence)</label>`);
    expect(listed.html).toMatch(new RegExp(`<form [^>]*class="decide-duplicate">(?:(?!</form>).)*id="duplicateOf-${second}"(?:(?!</form>).)*value="duplicate"`, 's'));

    const missing = await web.page(`/clerk/initiatives/${id}/verification/decide`, { cookie, form: { signatureId: second!, decision: 'duplicate' } });
    expect(missing.status).toBe(400);
    expect(missing.html).toContain(`<p class="field-error" id="duplicateOf-${second}-error">Indiquez la référence de l’autre signature du même signataire, dont celle-ci est le doublon.</p>`);
    const unknown = await web.page(`/clerk/initiatives/${id}/verification/decide`, { cookie, form: { signatureId: second!, decision: 'duplicate', duplicateOf: 'ffffffff' } });
    expect(unknown.status).toBe(400);
    expect(unknown.html).toMatch(new RegExp(`id="duplicateOf-${second}" name="duplicateOf" size="10" autocomplete="off" value="ffffffff" aria-invalid="true"`));
    const itself = await web.page(`/clerk/initiatives/${id}/verification/decide`, { cookie, lang: 'en', form: { signatureId: second!, decision: 'duplicate', duplicateOf: second!.slice(0, 8) } });
    expect(itself.text).toContain('A signature cannot be a duplicate of itself');

    // The reference shown in the list: the first 8 characters of the id.
    const recorded = await web.page(`/clerk/initiatives/${id}/verification/decide`, { cookie, form: { signatureId: second!, decision: 'duplicate', duplicateOf: first!.slice(0, 8) } });
    expect(recorded.status).toBe(303);
    const decided = await web.page(`/clerk/initiatives/${id}`, { cookie });
    expect(decided.html).toContain(`Doublon de <span class="mono" data-duplicate-of="${first}">${first!.slice(0, 8)}</span>`);
    // The partner stays judged on its merits: it cannot now be ruled a duplicate.
    const third = [...decided.html.matchAll(/<input type="hidden" name="signatureId" value="([^"]+)"\/>/g)].map((match) => match[1]!).find((v) => v !== first && v !== second)!;
    const partner = await web.page(`/clerk/initiatives/${id}/verification/decide`, { cookie, form: { signatureId: first!, decision: 'duplicate', duplicateOf: third } });
    expect(partner.status).toBe(409);
    expect(partner.text).toContain('L’autre signature d’un doublon reste jugée sur le fond');
  });
});
