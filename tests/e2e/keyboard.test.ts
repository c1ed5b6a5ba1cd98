import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { logIn } from './browser';
import { apiOf, demoInChromium, initiativeAmongManyDistricts } from './demo';

/**
 * People who use the keyboard alone. A citizen and a sponsor, on a phone-sized screen with JavaScript
 * off: a form sent with mistakes comes back with the focus on what is wrong, each error a link to its
 * field. A clerk: the one-key shortcuts of the sample work in its list, and nowhere else.
 */
describe('the web front with the keyboard alone', () => {
  const demo = demoInChromium('civic-keyboard-');

  async function noScriptPerson() {
    const context = await demo.browser.newContext({ locale: 'fr-FR', javaScriptEnabled: false, viewport: { width: 320, height: 720 } });
    return { context, page: await context.newPage() };
  }

  /** The focused element, as a screen reader would name it: tag, id and text. */
  const focused = (page: Page) =>
    page.locator(':focus').evaluateAll((found) => found.map((e) => ({ tag: e.tagName.toLowerCase(), id: e.id, role: e.getAttribute('role'), text: (e.textContent ?? '').trim() })));

  /** The notice the answering page focuses as it loads (autofocus runs at the next rendering, just after the load). */
  async function focusedNotice(page: Page, role: 'alert' | 'status' = 'alert') {
    await expect.poll(async () => (await focused(page))[0]?.role).toBe(role);
    return (await focused(page))[0]!;
  }

  /** Presses a key that sends a form, and waits for the page answering it. */
  async function send(page: Page, key = 'Enter') {
    await Promise.all([page.waitForEvent('load'), page.keyboard.press(key)]);
  }

  it('a citizen who signs without choosing lands on the errors, follows one to its field, signs, and lands on the outcome', async () => {
    const { page, context } = await noScriptPerson();
    await logIn(page, demo.base, { givenNames: 'Karim', familyName: 'Clavier', birthdate: '1984-04-04' }, '/');
    await page.click('text=Des arbres dans chaque cour d’école');
    await page.click('text=Signer cette initiative');
    await page.waitForURL(/\/sign$/);
    await page.focus('button[type="submit"]:has-text("Confirmer ma signature")');
    await send(page);

    expect(await page.title()).toMatch(/^Erreur\u00a0: /);
    const summary = await focusedNotice(page);
    expect(summary.tag).toBe('div');
    expect(summary.text).toContain('Corrigez les champs signalés.');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toEqual([{ tag: 'a', id: '', role: null, text: 'Votre arrondissement\u00a0: Choisissez votre arrondissement.' }]);
    await page.keyboard.press('Enter');
    expect((await focused(page))[0]).toMatchObject({ tag: 'select', id: 'district' });

    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    expect((await focused(page))[0]).toMatchObject({ tag: 'input', id: 'consent' });
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await send(page);
    // The page answering it says what happened first: the focus is on it.
    expect(await focusedNotice(page, 'status')).toMatchObject({ tag: 'div', text: 'Merci, votre signature est enregistrée.' });
    await context.close();
  });

  it('a citizen of one of many communes types its name, lands on the communes of that name, chooses one with the arrows, and signs', async () => {
    const id = await initiativeAmongManyDistricts(demo.base);
    const { page, context } = await noScriptPerson();
    await logIn(page, demo.base, { givenNames: 'Inès', familyName: 'Clavier', birthdate: '1986-06-06' }, `/initiatives/${id}/sign`);
    await page.focus('#district');
    expect(await page.getAttribute('#district', 'aria-describedby')).toBe('district-help');
    await page.keyboard.type('sainte colombe');
    // After the field, the link to the list of communes and their codes, then the consent.
    await page.keyboard.press('Tab');
    expect((await focused(page))[0]).toMatchObject({ tag: 'a', text: 'Liste des circonscriptions et de leurs codes' });
    await page.keyboard.press('Tab');
    expect((await focused(page))[0]).toMatchObject({ tag: 'input', id: 'consent' });
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await send(page);

    expect(await page.title()).toMatch(/^Erreur\u00a0: /);
    expect((await focusedNotice(page)).text).toContain('Corrigez les champs signalés.');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toEqual([{ tag: 'a', id: '', role: null, text: 'Votre circonscription\u00a0: Plusieurs circonscriptions portent ce nom\u00a0: choisissez la vôtre.' }]);
    await page.keyboard.press('Enter');
    expect((await focused(page))[0]).toMatchObject({ tag: 'input', id: 'district-choice-0' });
    await expect(page.inputValue('#district')).resolves.toBe('sainte colombe');

    // Within the group, the arrows move to and choose the next commune of that name.
    await page.keyboard.press('ArrowDown');
    expect((await focused(page))[0]).toMatchObject({ tag: 'input', id: 'district-choice-1' });
    await expect(page.isChecked('#district-choice-1')).resolves.toBe(true);
    await page.keyboard.press('Tab');
    expect((await focused(page))[0]).toMatchObject({ tag: 'input', id: 'consent' });
    await expect(page.isChecked('#consent')).resolves.toBe(true);
    await page.keyboard.press('Tab');
    await send(page);
    expect(await focusedNotice(page, 'status')).toMatchObject({ tag: 'div', text: 'Merci, votre signature est enregistrée.' });
    await expect(page.textContent('dl.facts')).resolves.toContain('Sainte-Colombe');
    await context.close();
  });

  it('a sponsor whose draft lacks its words lands on the list of fields to fill, each a link to its field, then on the draft saved', async () => {
    const { page, context } = await noScriptPerson();
    await logIn(page, demo.base, { givenNames: 'Nadia', familyName: 'Clavier', birthdate: '1979-07-07' }, '/initiatives/new');
    await page.fill('#title', 'Un jardin partagé');
    await page.focus('button[value="save"]');
    await send(page);

    expect((await focusedNotice(page)).tag).toBe('div');
    const links = await page.locator('[role="alert"] a').evaluateAll((found) => found.map((a) => [a.getAttribute('href'), a.textContent]));
    expect(links).toEqual([
      ['#summary', 'Résumé\u00a0: Ce champ est obligatoire.'],
      ['#text', 'Texte complet\u00a0: Ce champ est obligatoire.'],
    ]);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect((await focused(page))[0]).toMatchObject({ tag: 'textarea', id: 'text' });

    await page.keyboard.type('Le conseil est invité à débattre d’un jardin partagé dans le square.');
    await page.fill('#summary', 'Un jardin partagé dans le square.');
    await page.focus('button[value="save"]');
    await send(page);
    expect(await focusedNotice(page, 'status')).toMatchObject({ text: 'Brouillon enregistré.' });
    await context.close();
  });

  it('a committee member who sends no code lands on the error, tied to the code field', async () => {
    const sponsor = await noScriptPerson();
    await logIn(sponsor.page, demo.base, { givenNames: 'Paul', familyName: 'Porteur', birthdate: '1970-03-03' }, '/initiatives/new');
    await sponsor.page.selectOption('#jurisdictionId', 'bourg');
    await sponsor.page.check('#kind-agenda');
    await sponsor.page.fill('#title', 'Une fontaine sur la place');
    await sponsor.page.fill('#summary', 'Remettre en eau la fontaine.');
    await sponsor.page.fill('#text', 'Le conseil est invité à débattre de la remise en eau de la fontaine.');
    await sponsor.page.click('button[value="save"]');
    await sponsor.page.waitForURL(/\/manage\?saved=1$/);
    const id = /\/initiatives\/([0-9a-f-]{36})\//.exec(sponsor.page.url())![1]!;

    const { page, context } = await noScriptPerson();
    await logIn(page, demo.base, { givenNames: 'Léo', familyName: 'Membre', birthdate: '1991-09-09' }, `/initiatives/${id}/join`);
    await page.focus('button[type="submit"]:has-text("Rejoindre")');
    await send(page);
    expect((await focusedNotice(page)).tag).toBe('div');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect((await focused(page))[0]).toMatchObject({ tag: 'input', id: 'code' });
    expect(await page.getAttribute('#code', 'aria-describedby')).toBe('code-error');
    await expect(page.textContent('#code-error')).resolves.toBe('Ce champ est obligatoire.');
    await context.close();
    await sponsor.context.close();
  });

  it('a clerk’s one-key shortcuts decide nothing outside the list of sampled signatures, and work within it', async () => {
    const id = await sampleToDecide(demo.base);
    const context = await demo.browser.newContext({ locale: 'fr-FR', viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    await logIn(page, demo.base, { button: 'dev-clerk' }, `/clerk/initiatives/${id}`);
    await expect(page.locator('[data-sample-row][data-pending]').count()).resolves.toBe(4);

    // A V and a D with the focus elsewhere on the page (typed by mistake, or heard by speech input): nothing is decided.
    await page.keyboard.press('v');
    await page.keyboard.press('d');
    await page.waitForTimeout(500);
    expect(page.url()).toBe(`${demo.base}/clerk/initiatives/${id}`);
    await expect(page.locator('[data-decision]').count()).resolves.toBe(0);

    // The signature to decide is a tab stop, just before its reason field; there V decides it, and the next one has the focus.
    await page.locator('[data-sample-row][data-pending] input[name="reason"]').first().focus();
    await page.keyboard.press('Shift+Tab');
    expect(await page.locator(':focus').getAttribute('data-sample-row')).toBe('');
    await Promise.all([page.waitForURL(/done=decided/), page.keyboard.press('v')]);
    await expect(page.locator('[data-decision="valid"]').count()).resolves.toBe(1);
    await expect(page.locator(':focus').getAttribute('data-pending')).resolves.toBe('');
    // D asks for the partner first: the same signer's other signature, by the reference the list shows; Enter records the duplicate.
    await page.keyboard.press('d');
    await expect(page.locator(':focus').getAttribute('name')).resolves.toBe('duplicateOf');
    await expect(page.locator('[data-decision="duplicate"]').count()).resolves.toBe(0);
    const partner = (await page.locator('tr:has([data-decision="valid"])').getAttribute('id'))!.slice('s-'.length, 's-'.length + 8);
    await page.keyboard.type(partner);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-decision="duplicate"]').count()).toBe(1);
    await expect(page.locator('[data-decision="duplicate"] [data-duplicate-of]').textContent()).resolves.toBe(partner);
    await context.close();
  });
});

/** Over the API: a petition of Commune de Bourg, closed with four paper signatures, a sample of all four drawn (the method's minimum). Its id. */
async function sampleToDecide(base: string): Promise<string> {
  const { token, call } = apiOf(base);
  const sponsor = await token({ givenNames: 'Rémi', familyName: 'Porteur', birthdate: '1975-05-05' });
  const member = await token({ givenNames: 'Sarah', familyName: 'Membre', birthdate: '1988-08-08' });
  const clerk = await token({ givenNames: 'Claire', familyName: 'Greffe', birthdate: '1970-01-01', subject: 'dev-clerk' });
  const draft = await call(sponsor, 'POST', '/v1/initiatives', { jurisdictionId: 'bourg', kind: 'agenda', title: 'Un banc devant la poste', summary: 'Un banc.', text: 'Installer un banc devant la poste.' });
  await call(member, 'POST', `/v1/initiatives/${draft.id}/committee`, { code: draft.committeeCode });
  await call(sponsor, 'POST', `/v1/initiatives/${draft.id}/submit`);
  await call(clerk, 'POST', `/v1/initiatives/${draft.id}/review`, { decision: 'open' });
  const entries = ['Martin', 'Bernard', 'Thomas', 'Petit'].map((familyName, i) => ({ familyName, givenNames: 'Alex', birthdate: `198${i}-01-01`, district: 'nord', sheet: 'F-1', collector: 'C-1' }));
  await call(clerk, 'POST', `/v1/initiatives/${draft.id}/paper-signatures`, { entries });
  await call(sponsor, 'POST', `/v1/initiatives/${draft.id}/close`);
  await call(clerk, 'POST', `/v1/initiatives/${draft.id}/verification`, { method: 'sample', sampleSize: 4, seed: 'clavier' });
  return draft.id as string;
}
