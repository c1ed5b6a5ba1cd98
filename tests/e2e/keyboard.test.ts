import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { logIn } from './browser';
import { demoInChromium } from './demo';

/**
 * A citizen and a sponsor who use the keyboard alone, on a phone-sized screen, with JavaScript off:
 * a form sent with mistakes comes back with the focus on what is wrong, each error a link to its field.
 */
describe('forms with the keyboard alone, JavaScript off', () => {
  const demo = demoInChromium('civic-keyboard-');

  async function noScriptPerson() {
    const context = await demo.browser.newContext({ locale: 'fr-FR', javaScriptEnabled: false, viewport: { width: 320, height: 720 } });
    return { context, page: await context.newPage() };
  }

  /** The focused element, as a screen reader would name it: tag, id and text. */
  const focused = (page: Page) =>
    page.locator(':focus').evaluateAll((found) => found.map((e) => ({ tag: e.tagName.toLowerCase(), id: e.id, role: e.getAttribute('role'), text: (e.textContent ?? '').trim() })));

  /** The error notice the answering page focuses as it loads (autofocus runs at the next rendering, just after the load). */
  async function focusedNotice(page: Page) {
    await expect.poll(async () => (await focused(page))[0]?.role).toBe('alert');
    return (await focused(page))[0]!;
  }

  /** Presses a key that sends a form, and waits for the page answering it. */
  async function send(page: Page, key = 'Enter') {
    await Promise.all([page.waitForEvent('load'), page.keyboard.press(key)]);
  }

  it('a citizen who signs without choosing lands on the errors, follows one to its field and signs', async () => {
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
    await expect(page.textContent('[role="status"]')).resolves.toContain('Merci, votre signature est enregistrée.');
    await context.close();
  });

  it('a sponsor whose draft lacks its words lands on the list of fields to fill, each a link to its field', async () => {
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
});
