import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, describeViolations, layoutProblems, weakFocusIndicators } from './axe';
import { logIn, personContext } from './browser';
import { apiOf, demoInChromium, initiativeAmongManyDistricts } from './demo';

/**
 * The web front against WCAG 2.0/2.1 A and AA (and axe's RGAA 4 rules) as axe-core checks it, page
 * by page, reached as people reach them: a citizen signs (with a field error on the way), a sponsor
 * drafts and submits, a clerk admits, keys in paper signatures, verifies and certifies; then a few
 * pages in English. Each page is also checked for what axe leaves out (./axe.ts): reflow at 320 px,
 * one level-1 heading and no skipped level, field errors tied to their fields; and the keyboard focus
 * for its contrast. A failure lists each rule broken, its impact, its explanation and the elements.
 */
describe('accessibility of the web front (axe-core, WCAG 2.1 AA)', () => {
  const demo = demoInChromium('civic-a11y-');
  let initiativeUrl: string;
  let sponsored: { id: string; title: string };

  /** The page as it stands has no violation (soft: every page of a story is reported). */
  async function expectAccessible(page: Page, where: string) {
    expect.soft(describeViolations(where, await axeViolations(page))).toBe(`${where}: no violations`);
    expect.soft((await layoutProblems(page)).map((p) => `${where}: ${p}`)).toEqual([]);
  }

  it('a citizen: home, initiative, the development provider, signing form with an error, receipt, my space, log, paper form, results, page not found', async () => {
    const { page, context } = await personContext(demo.browser);
    await page.goto(demo.base);
    await expectAccessible(page, 'home');

    await page.click('text=Des arbres dans chaque cour d’école');
    await page.waitForURL(/\/initiatives\/[0-9a-f-]{36}$/);
    initiativeUrl = page.url();
    await expectAccessible(page, 'initiative');

    await page.click('text=Signer cette initiative');
    await page.waitForURL(/\/dev\/oidc\/authorize/);
    // The development provider's page stands for a real provider's: a newcomer's first stop after "Signer".
    await expectAccessible(page, 'development identity provider');
    await page.click('button[name="identity"][value="elodie"]');
    await page.waitForURL(/\/sign$/);
    await expectAccessible(page, 'signing form');
    await page.click('text=Confirmer ma signature');
    await page.waitForSelector('#consent-error');
    await expectAccessible(page, 'signing form with errors');

    await page.selectOption('#district', '75111');
    await page.check('#consent');
    await page.click('text=Confirmer ma signature');
    await page.waitForURL(/\/signature\?signed=1$/);
    await expectAccessible(page, 'my signature, just signed');

    await page.click('text=Vérifier ma signature');
    await page.waitForURL(/\/receipt\?/);
    await expectAccessible(page, 'receipt check');
    await page.fill('#r', 'not a receipt');
    await page.click('form[action="/receipt"] button[type="submit"]');
    await page.waitForSelector('[role="alert"]');
    await expectAccessible(page, 'receipt check, not a receipt');

    await page.click('a[href="/me"]');
    await page.waitForURL(/\/me$/);
    await expectAccessible(page, 'my space');

    await page.goto(`${initiativeUrl}/transparency`);
    await expectAccessible(page, 'public verifiable log');

    await page.goto(`${initiativeUrl}/paper-form?sheets=2&from=7`);
    await expectAccessible(page, 'paper signature form');
    // Printed, the two sheets and nothing else: each on an A4 page of its own.
    const pdf = await page.pdf({ preferCSSPageSize: true });
    expect.soft((pdf.toString('latin1').match(/\/Type\s*\/Page\b(?!s)/g) ?? []).length, 'printed pages of two sheets').toBe(2);
    await page.goto(`${initiativeUrl}/paper-form?sheets=0`);
    await expectAccessible(page, 'paper signature form, a number of sheets refused');

    await page.click('a[href="/results"]');
    await page.waitForURL(/\/results$/);
    await expectAccessible(page, 'results (none yet)');

    await page.goto(`${demo.base}/nowhere`);
    await expectAccessible(page, 'page not found');
    await context.close();
  });

  it('a paper form at the longest the schema allows (title, summary and question), in a jurisdiction with the longest name and the most districts a sheet lists: each sheet on one A4 page', async () => {
    const { token, call } = apiOf(demo.base);
    const admin = await token({ givenNames: 'Aline', familyName: 'Administratrice', birthdate: '1975-03-08', subject: 'dev-admin' });
    const prose = 'Les habitants demandent au conseil municipal d’étudier la création de pistes cyclables protégées devant chaque école, avec un calendrier et un budget votés. ';
    const atMost = (n: number) => prose.repeat(Math.ceil(n / prose.length)).slice(0, n).trim().padEnd(n, 'x');
    await call(admin, 'POST', '/v1/jurisdictions', {
      id: 'longue',
      // Longer than the 60 characters a sheet prints of it.
      name: 'Communauté de communes de Longueville-sur-Mer-et-Saint-Martin-des-Champs',
      electorate: 200_000,
      minimumAge: 16,
      minimumAssurance: 'eidas2',
      requireRoll: true,
      // 24 districts, each code and name 32 characters together: the most a sheet lists.
      districts: Array.from({ length: 24 }, (_, i) => ({ code: String(75_101 + i), name: `Saint-Martin-des-Champs ${String(i + 1).padStart(2, '0')}`, electorate: 5_000 })),
      rules: { referendum: { goal: { signatures: 100 }, collectionDays: 60 } },
    });
    await call(admin, 'POST', '/v1/jurisdictions/longue/clerks', { subject: 'dev-clerk' });
    const sponsor = await token({ givenNames: 'Rose', familyName: 'Longue', birthdate: '1972-02-02' });
    const clerk = await token({ givenNames: 'Claire', familyName: 'Greffe', birthdate: '1970-01-01', subject: 'dev-clerk' });
    const opened = async (draft: Record<string, string>) => {
      const { id } = await call(sponsor, 'POST', '/v1/initiatives', { jurisdictionId: 'longue', kind: 'referendum', ...draft });
      await call(sponsor, 'POST', `/v1/initiatives/${id}/submit`);
      await call(clerk, 'POST', `/v1/initiatives/${id}/review`, { decision: 'open' });
      return id as string;
    };
    // Short enough to be printed whole: 200 characters on 3 lines.
    const text = Array.from({ length: 3 }, () => atMost(66)).join('\n');
    const longest = await opened({ title: atMost(200), summary: atMost(2000), question: atMost(1000), text });
    const short = await opened({ title: 'Des pistes cyclables devant les écoles', summary: atMost(150), question: atMost(120), text });
    // A summary holding a long address and a word of 300 letters: the home page's card breaks them, at 320 px too.
    await opened({
      title: 'Rénover la piscine Pontoise',
      summary: `Le dossier : https://www.paris.fr/pages/equipements-sportifs-renovation-piscine-pontoise-5e-arrondissement-dossier-2027 et ${'a'.repeat(300)}.`,
      question: 'Approuvez-vous la rénovation de la piscine Pontoise ?',
      text: 'Article unique.',
    });

    const { page, context } = await personContext(demo.browser);
    await page.goto(`${demo.base}/?q=piscine`);
    expect(await page.locator('.card').count()).toBe(1);
    expect(await layoutProblems(page)).toEqual([]);
    // At the longest, the list of codes gives way to the address of the list page; a shorter initiative has room for it.
    for (const [id, listed] of [[longest, false], [short, true]] as const) {
      for (const sheets of [1, 3]) {
        await page.goto(`${demo.base}/initiatives/${id}/paper-form?sheets=${sheets}&from=99990`);
        expect(await page.locator('.paper-sheet').count()).toBe(sheets);
        expect(await page.locator('.paper-sheet .sheet-text').count(), 'the short text printed whole').toBe(sheets);
        expect(await page.locator('.paper-sheet .district-codes li').count(), 'the districts listed on each sheet').toBe(listed ? 24 * sheets : 0);
        if (!listed) expect(await page.locator('.paper-sheet p.sheet-districts a[href$="/jurisdictions/longue"]').count()).toBe(sheets);
        const pdf = await page.pdf({ preferCSSPageSize: true });
        expect((pdf.toString('latin1').match(/\/Type\s*\/Page\b(?!s)/g) ?? []).length, `printed pages of ${sheets} sheets${listed ? ', districts listed' : ''}`).toBe(sheets);
      }
    }
    await context.close();
  });

  it('a citizen of one of 150 communes: the name typed, the communes of that name, names close to one that matches none', async () => {
    const id = await initiativeAmongManyDistricts(demo.base);
    const { page, context } = await personContext(demo.browser);
    await logIn(page, demo.base, { givenNames: 'Inès', familyName: 'Lisible', birthdate: '1986-06-06' }, `/initiatives/${id}/sign`);
    await expectAccessible(page, 'signing form, district typed');
    await page.fill('#district', 'sainte colombe');
    await page.click('text=Confirmer ma signature');
    await page.waitForSelector('#districtCode-error');
    await expectAccessible(page, 'signing form, several communes of that name');
    await page.fill('#district', 'Comm');
    await page.click('text=Confirmer ma signature');
    await page.waitForSelector('#district-error');
    await expectAccessible(page, 'signing form, no commune of that name, names close to it');
    await context.close();
  });

  it('a sponsor: new-initiative form with errors and preview, committee join, dashboard', async () => {
    const { page, context } = await personContext(demo.browser);
    await logIn(page, demo.base, { givenNames: 'Sophie', familyName: 'Porteuse', birthdate: '1980-05-17' }, '/');
    await page.click('a[href="/initiatives/new"]');
    await page.waitForURL(/\/initiatives\/new$/);
    await expectAccessible(page, 'new initiative');
    await page.click('button[value="save"]');
    await page.waitForSelector('.field-error');
    await expectAccessible(page, 'new initiative with errors');

    await page.selectOption('#jurisdictionId', 'bourg');
    await page.check('#kind-agenda');
    await page.fill('#title', 'Un marché le dimanche');
    await page.fill('#summary', 'Ouvrir un marché de producteurs chaque dimanche matin sur la place.');
    await page.fill('#text', 'Le conseil municipal est invité à débattre de l’ouverture d’un marché hebdomadaire.');
    await page.click('button[value="preview"]');
    await page.waitForSelector('#preview-title');
    await expectAccessible(page, 'new initiative with its preview');
    await page.click('button[value="save"]');
    await page.waitForURL(/\/manage\?saved=1$/);
    await expectAccessible(page, 'sponsor dashboard, draft');
    await page.click('text=Modifier le brouillon');
    await page.waitForURL(/\/edit$/);
    await expectAccessible(page, 'draft edit form');
    await page.goBack();
    const id = /\/initiatives\/([0-9a-f-]{36})\/manage/.exec(page.url())![1]!;
    const code = (await page.textContent('[data-committee-code]'))!.trim();
    sponsored = { id, title: 'Un marché le dimanche' };

    const member = await personContext(demo.browser);
    await logIn(member.page, demo.base, { givenNames: 'Marc', familyName: 'Soutien', birthdate: '1970-01-02' }, `/initiatives/${id}/join`);
    await member.page.click('button:has-text("Rejoindre")');
    await member.page.waitForSelector('.field-error');
    await expectAccessible(member.page, 'committee join form with an error');
    await member.page.fill('#code', code);
    await member.page.click('button:has-text("Rejoindre")');
    await member.page.waitForSelector('[role="status"]');
    await member.context.close();

    await page.reload();
    await page.click('text=Déposer l’initiative');
    await page.waitForURL(/done=submit/);
    await expectAccessible(page, 'sponsor dashboard, submitted');
    await context.close();
  });

  it('a clerk: home, admissibility, paper entry, verification, certified result, audit trail', async () => {
    const clerk = await personContext(demo.browser);
    const page = clerk.page;
    await logIn(page, demo.base, { button: 'dev-clerk' }, '/clerk');
    await expectAccessible(page, 'clerk home');
    await page.click(`text=${sponsored.title}`);
    await page.waitForURL(/\/clerk\/initiatives\//);
    await expectAccessible(page, 'clerk page, admissibility form');
    await page.check('#decision-reject');
    await page.click('text=Enregistrer la décision');
    await page.waitForSelector('#reason-error');
    await expectAccessible(page, 'clerk page, admissibility form with errors');
    await page.check('#decision-open');
    await page.click('text=Enregistrer la décision');
    await page.waitForURL(/done=open/);
    await expectAccessible(page, 'clerk page, paper entry');

    const sheet = (birthdate: string) =>
      [
        'family_name,given_names,birthdate,district,sheet,collector',
        'Martin,Camille,1981-02-03,nord,F-1,C-1',
        'Bernard,Louis,1975-06-07,nord,F-1,C-1',
        'Thomas,Chloé,1990-10-11,sud,F-2,C-1',
        'Petit,Hugo,1968-12-13,sud,F-2,C-2',
        'Robert,Inès,2001-03-04,nord,F-3,C-2',
        'Richard,Jules,1959-07-08,sud,F-3,C-2',
        'MARTIN,camille,1981-02-03,nord,F-4,C-2',
        `Durand,Léa,${birthdate},sud,F-4,C-2`,
      ].join('\n');
    await page.fill('#csv', sheet('1999-02-30'));
    await page.click('text=Enregistrer les signatures');
    await page.waitForSelector('#csv-error');
    await expectAccessible(page, 'clerk page, paper entry with a line in error');
    await page.fill('#csv', sheet('1999-02-03'));
    await page.click('text=Enregistrer les signatures');
    await page.waitForSelector('[data-paper-outcome]');
    await expectAccessible(page, 'clerk page, paper entry results');

    // The sponsor closes the collection, through the confirmation page.
    const sponsor = await personContext(demo.browser);
    await logIn(sponsor.page, demo.base, { givenNames: 'Sophie', familyName: 'Porteuse', birthdate: '1980-05-17' }, `/initiatives/${sponsored.id}/manage`);
    await expectAccessible(sponsor.page, 'sponsor dashboard, collecting');
    await sponsor.page.click('#history-title ~ figure summary');
    await expectAccessible(sponsor.page, 'sponsor dashboard, the history chart’s figures');
    await sponsor.page.click('text=Clore la collecte');
    await sponsor.page.waitForSelector('[data-confirm="close"]');
    await expectAccessible(sponsor.page, 'sponsor confirmation of closing');
    await sponsor.page.click('[data-confirm="close"]');
    await sponsor.page.waitForURL(/done=close/);
    await sponsor.context.close();

    await page.goto(`${demo.base}/clerk/initiatives/${sponsored.id}`);
    await expectAccessible(page, 'clerk page, verification form');
    await page.check('#method-sample');
    // The smallest sample the method allows for the signatures collected, as the form says: every one of them here.
    const minimum = (await page.getAttribute('#sampleSize', 'min'))!;
    await page.fill('#sampleSize', minimum);
    await page.fill('#seed', 'tirage a11y');
    await page.click('text=Commencer la vérification');
    await page.waitForURL(/done=started/);
    await expectAccessible(page, 'clerk page, sample to decide');
    for (let decided = 1; decided <= Number(minimum); decided++) {
      await page.keyboard.press('v');
      await page.waitForURL(/done=decided/);
      await page.waitForFunction((n) => document.querySelectorAll('[data-decision="valid"]').length === n, decided);
    }
    await expectAccessible(page, 'clerk page, sample decided');
    await page.click('text=Certifier le résultat');
    await page.waitForURL(/done=certified/);
    await expectAccessible(page, 'clerk page, certified');

    await page.click('a[href^="/results/"]');
    await page.waitForURL(/\/results\/[0-9a-f-]{36}$/);
    await expectAccessible(page, 'certified result');
    await page.click('a[href="/results"]');
    await expectAccessible(page, 'results');

    await page.goto(`${demo.base}/clerk/initiatives/${sponsored.id}`);
    await page.click('a[href^="/clerk/audit?initiative="]');
    await page.waitForURL(/\/clerk\/audit\?/);
    await expectAccessible(page, 'audit trail');
    await clerk.context.close();
  });

  it('a keyboard user sees where the focus is: the home page’s links, fields and buttons', async () => {
    const { page, context } = await personContext(demo.browser);
    await page.goto(demo.base);
    expect(await weakFocusIndicators(page, 12)).toEqual([]);
    await context.close();
  });

  it('in English: home, initiative, signing form with an error, clerk home, page not found', async () => {
    // A browser set to English, then a clerk who switches with the language link.
    const citizen = await personContext(demo.browser, 'en-GB');
    const page = citizen.page;
    await page.goto(demo.base);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await expectAccessible(page, 'home (en)');
    await page.goto(initiativeUrl);
    await expectAccessible(page, 'initiative (en)');
    await logIn(page, demo.base, { givenNames: 'Jane', familyName: 'Signer', birthdate: '1985-09-09' }, new URL(initiativeUrl).pathname + '/sign');
    await page.click('button[type="submit"]:has-text("Confirm")');
    await page.waitForSelector('#consent-error');
    await expectAccessible(page, 'signing form with errors (en)');
    await page.goto(`${demo.base}/nowhere`);
    await expectAccessible(page, 'page not found (en)');
    await citizen.context.close();

    const clerk = await personContext(demo.browser);
    await clerk.page.goto(demo.base);
    await clerk.page.click('a[hreflang="en"]');
    await clerk.page.waitForFunction(() => document.documentElement.lang === 'en');
    await logIn(clerk.page, demo.base, { button: 'dev-clerk' }, `/clerk/initiatives/${sponsored.id}`);
    await expectAccessible(clerk.page, 'clerk page, certified (en)');
    await clerk.page.goto(`${demo.base}/clerk`);
    await expectAccessible(clerk.page, 'clerk home (en)');
    await clerk.context.close();
  });
});
