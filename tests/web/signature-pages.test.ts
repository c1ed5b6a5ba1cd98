import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translator } from '../../src/web/i18n';
import { ReceiptFindings } from '../../src/web/citizen';
import { createWorld, type World } from '../support/world';
import { browserRequests, visibleText } from './browser-requests';

/** A signer's pages: "my signature" and checking a receipt, through signing, withdrawing and verification. */
describe('signature and receipt pages', () => {
  let world: World;
  let web: ReturnType<typeof browserRequests>;
  const elodie = { givenNames: 'Élodie Marie', familyName: 'Dupont', birthdate: '1990-04-12' };

  beforeAll(async () => {
    world = await createWorld();
    web = browserRequests(world.engine);
  });
  afterAll(() => world?.engine.close());

  const receiptOf = (html: string) => /<textarea[^>]*id="receipt"[^>]*>([^<]+)<\/textarea>/.exec(html)![1]!;
  const check = (receipt: string, lang?: string) => web.page(`/receipt?r=${encodeURIComponent(receipt)}`, { lang });

  it('the consent a signer gives says what is erased: their name and birth date, not the signature their receipt keeps proving', async () => {
    const cookie = await web.sessionFor('consent-sofia', { givenNames: 'Sofia', familyName: 'Rossi', birthdate: '1978-09-30' });
    const fr = await web.page(`/initiatives/${world.targetId}/sign`, { cookie });
    expect(fr.text).toContain(
      'Je soutiens cette initiative et j’accepte que ma signature soit comptée et vérifiée. Mes nom, prénoms et date de naissance, conservés chiffrés pour sa vérification, seront ensuite effacés selon les règles de conservation.',
    );
    expect(fr.text).not.toContain('puis effacée');
    const en = await web.page(`/initiatives/${world.targetId}/sign`, { cookie, lang: 'en' });
    expect(en.text).toContain(
      'I support this initiative and agree that my signature is counted and verified. My names and birth date, kept encrypted for its verification, will then be erased under the retention rules.',
    );
  });

  it('a receipt says plainly when its signature is not in the log yet, numbers entries from 1, and says when the signature was withdrawn', async () => {
    const cookie = await web.sessionFor('receipt-elodie', elodie);
    const id = world.targetId; // one signature already in its log (entry 1)
    expect((await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: '75111', consent: 'yes' } })).status).toBe(303);
    const receipt = receiptOf((await web.page(`/initiatives/${id}/signature`, { cookie })).html);

    const pending = await check(receipt);
    expect(pending.text).toContain('Ce reçu est authentique');
    // The initiative by its title, linked.
    expect(pending.html).toContain(`<a href="/initiatives/${id}" lang="fr">Des rues aux écoles</a>`);
    expect(pending.html).toContain('data-inclusion="pending"');
    expect(pending.text).toContain('Votre signature n’est pas encore intégrée au registre public vérifiable\u00a0: son inclusion ne peut pas encore être vérifiée.');
    expect(pending.text).not.toContain('figure dans le registre');

    await world.engine.scheduler.tick(); // the sequencer integrates it
    const included = await check(receipt);
    expect(included.html).toContain('data-inclusion="checked"');
    expect(included.text).toContain('Votre signature figure dans le registre public vérifiable (entrée n°\u00a02 d’un registre de 2 entrées).');
    expect(included.text).toContain('La preuve d’inclusion a été vérifiée');
    expect((await check(receipt, 'en')).text).toContain('Your signature is in the public verifiable log (entry #2 of 2).');
    expect(included.text).not.toContain('retirée');

    expect((await web.page(`/initiatives/${id}/signature/withdraw`, { cookie, form: {} })).status).toBe(303);
    for (const when of ['before the withdrawal is sequenced', 'after']) {
      const withdrawn = await check(receipt);
      expect(withdrawn.text, when).toContain('Ce reçu est authentique');
      expect(withdrawn.html, when).toContain('data-signature-later="withdraw"');
      expect(withdrawn.text, when).toContain('Cette signature a ensuite été retirée par son signataire\u00a0: elle n’est plus comptée.');
      await world.engine.scheduler.tick();
    }
    expect((await check(receipt, 'en')).text).toContain('This signature was later withdrawn by its signer: it no longer counts.');
  });

  it('after withdrawing, "my signature" says one thing: the signature is withdrawn, and one may sign again', async () => {
    const cookie = await web.sessionFor('receipt-karim', { givenNames: 'Karim', familyName: 'Benali', birthdate: '1985-11-03' });
    const id = world.targetId;
    const before = await web.page(`/initiatives/${id}`, { cookie });
    expect(before.html).toContain(`href="/initiatives/${id}/sign"`);
    expect(before.text).not.toContain('Vous avez signé cette initiative.');
    expect((await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: '75112', consent: 'yes' } })).status).toBe(303);
    // The initiative's page says so, and offers the signature rather than signing again.
    const signedPage = await web.page(`/initiatives/${id}`, { cookie });
    expect(signedPage.text).toContain('Vous avez signé cette initiative.');
    expect(signedPage.html).not.toContain(`href="/initiatives/${id}/sign"`);
    expect(signedPage.html).toContain(`href="/initiatives/${id}/signature"`);
    const withdrawn = await web.page(`/initiatives/${id}/signature/withdraw`, { cookie, form: {} });
    const after = await web.page(withdrawn.headers.get('location')!, { cookie });
    expect(after.text).toContain('Votre signature est retirée.');
    expect(after.text).not.toContain('Vous n’avez pas signé cette initiative.');
    expect(after.text).toContain('Vous pouvez signer de nouveau tant que la collecte est ouverte.');
    expect(after.html).toContain(`href="/initiatives/${id}/sign"`);
    expect((await web.page(`/initiatives/${id}`, { cookie })).html).toContain(`href="/initiatives/${id}/sign"`);
    // Someone who never signed is told so.
    const never = await web.page(`/initiatives/${id}/signature`, { cookie: await web.sessionFor('receipt-never', { givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28' }) });
    expect(never.text).toContain('Vous n’avez pas signé cette initiative.');
    expect(never.text).not.toContain('retirée');
  });

  it('a receipt of a signature a clerk found invalid says so', async () => {
    const { engine, tokens } = world;
    const draft = await engine.request('POST', '/v1/initiatives', { token: tokens.citizen, body: { jurisdictionId: 'paris', kind: 'agenda', title: 'À invalider', summary: 'R.', text: 'T.' } });
    const id = draft.body.id as string;
    await engine.request('POST', `/v1/initiatives/${id}/committee`, { token: tokens.otherSponsor, body: { code: draft.body.committeeCode } });
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: tokens.citizen });
    const closesAt = new Date(engine.clock.now().getTime() + 3_600_000).toISOString();
    expect((await engine.request('POST', `/v1/initiatives/${id}/review`, { token: tokens.clerk, body: { decision: 'open', closesAt } })).status).toBe(200);
    const cookie = await web.sessionFor('receipt-sofia', { givenNames: 'Sofia', familyName: 'Rossi', birthdate: '1978-09-30' });
    expect((await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: '75111', consent: 'yes' } })).status).toBe(303);
    const receipt = receiptOf((await web.page(`/initiatives/${id}/signature`, { cookie })).html);
    engine.clock.advance(2 * 3_600_000);
    await engine.scheduler.tick();
    const clerk = await web.sessionFor(world.people.clerk.subject);
    expect((await web.page(`/clerk/initiatives/${id}/verification/start`, { cookie: clerk, form: { method: 'full' } })).status).toBe(303);
    const signatureId = /name="signatureId" value="([^"]+)"/.exec((await web.page(`/clerk/initiatives/${id}`, { cookie: clerk })).html)![1]!;
    expect((await web.page(`/clerk/initiatives/${id}/verification/decide`, { cookie: clerk, form: { signatureId, decision: 'invalid', reason: 'hors liste' } })).status).toBe(303);

    const invalid = await check(receipt);
    expect(invalid.text).toContain('Ce reçu est authentique');
    expect(invalid.html).toContain('data-signature-later="invalidate"');
    expect(invalid.text).toContain('Cette signature a ensuite été invalidée par le service des élections lors de la vérification\u00a0: elle n’est plus comptée.');
  });

  it('a receipt whose signature is still not in the log after the merge delay says the promise is broken, not "check again in a moment"', async () => {
    const { engine } = world;
    const cookie = await web.sessionFor('receipt-ines', { givenNames: 'Inès', familyName: 'Garnier', birthdate: '1992-03-08' });
    const id = world.targetId;
    expect((await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: '75111', consent: 'yes' } })).status).toBe(303);
    const receipt = receiptOf((await web.page(`/initiatives/${id}/signature`, { cookie })).html);
    expect((await check(receipt)).html).toContain('data-inclusion="pending"');

    // The sequencer has not run: one minute later, the 1 s promise is long past.
    engine.clock.advance(60_000);
    const late = await check(receipt);
    expect(late.html).toContain('data-inclusion="overdue"');
    expect(late.text).not.toContain('vérifiez de nouveau dans un instant');
    expect(late.text).toContain('Votre signature aurait dû être intégrée au registre public vérifiable au plus tard 1\u00a0s après la signature, mais elle ne l’est toujours pas\u00a0: la plateforme n’a pas tenu son engagement.');
    const lateEn = await check(receipt, 'en');
    expect(lateEn.text).toContain('Your signature should have been added to the public verifiable log at most 1 s after signing, but it still has not been: the platform has not kept its promise.');
    expect(lateEn.text).not.toContain('check again in a moment');

    await engine.scheduler.tick();
    expect((await check(receipt)).html).toContain('data-inclusion="checked"');
  });

  it('a receipt whose inclusion proof did not check out does not say the signature is in the log', () => {
    const t = translator('fr');
    const unchecked = visibleText(ReceiptFindings({ t, inclusion: { included: true, index: 47, size: 49, proofChecked: false }, later: null, mergeDelaySeconds: 1 })!.toString());
    expect(unchecked).toContain('annonce votre signature à l’entrée n°\u00a048 (sur 49), mais la preuve d’inclusion n’a pas pu être vérifiée');
    expect(unchecked).not.toContain('figure dans le registre');
    expect(unchecked).not.toContain('La preuve d’inclusion a été vérifiée');
    const checked = visibleText(ReceiptFindings({ t, inclusion: { included: true, index: 48, size: 49, proofChecked: true }, later: null, mergeDelaySeconds: 1 })!.toString());
    expect(checked).toContain('(entrée n°\u00a049 d’un registre de 49 entrées)');
  });

  it('an English receipt says where its signature is in the log, or that it has not been added yet, in plain English', () => {
    const t = translator('en');
    const findings = (inclusion: Parameters<typeof ReceiptFindings>[0]['inclusion']) =>
      visibleText(ReceiptFindings({ t, inclusion, later: null, mergeDelaySeconds: 1 })!.toString());
    // The first entry of a log of one: no '1 entries'.
    expect(findings({ included: true, index: 0, size: 1, proofChecked: true })).toContain('Your signature is in the public verifiable log (entry #1 of 1).');
    const pending = findings({ included: false, index: 0, size: 0, proofChecked: false });
    expect(pending).toContain('Your signature has not been added to the public verifiable log yet, so its inclusion cannot be checked. It is added at most 1 s after signing');
    expect(pending).not.toContain('integrated');
  });
});
