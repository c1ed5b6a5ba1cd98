import { describe, expect, it } from 'vitest';
import { countOf, logIn, personContext, screenshot } from './browser';
import { demoInChromium } from './demo';

/**
 * The three stories of the web front in a real browser against the real engine (a child process
 * with its demo): a citizen signs, a sponsor creates and submits, a clerk takes an initiative
 * from admissibility to a certified result. Commune de Bourg (see ./demo) is the sponsor's and the clerk's.
 */
describe('web front in Chromium', () => {
  const demo = demoInChromium('civic-e2e-');
  let sponsored: { id: string; title: string };

  it('a citizen signs through the development identity provider and sees the count move, live on another page', async () => {
    const watcher = await personContext(demo.browser);
    const citizen = await personContext(demo.browser);
    const page = citizen.page;

    await page.goto(demo.base);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await expect(page.locator('.card').count()).resolves.toBeGreaterThanOrEqual(2);
    await screenshot(page, '01-home');

    await page.click('text=Des arbres dans chaque cour d’école');
    await page.waitForURL(/\/initiatives\/[0-9a-f-]{36}$/);
    const initiativeUrl = page.url();
    const before = await countOf(page);
    expect(before).toBeGreaterThan(0);
    await screenshot(page, '02-initiative');

    await watcher.page.goto(initiativeUrl);
    expect(await countOf(watcher.page)).toBe(before);

    await page.click('text=Signer cette initiative');
    await page.waitForURL(/\/dev\/oidc\/authorize/);
    await screenshot(page, '03-dev-login');
    await page.click('button[name="identity"][value="elodie"]');
    await page.waitForURL(/\/sign$/);

    // Without consent, the error is shown next to the checkbox and nothing is signed.
    await page.selectOption('#district', '75111');
    await page.click('text=Confirmer ma signature');
    await expect(page.textContent('#consent-error')).resolves.toContain('Cochez la case');
    await screenshot(page, '04-sign-error');
    await page.check('#consent');
    await page.click('text=Confirmer ma signature');
    await page.waitForURL(/\/signature\?signed=1$/);
    await expect(page.textContent('[role="status"]')).resolves.toContain('Merci, votre signature est enregistrée.');
    await screenshot(page, '05-receipt');

    // The page opened before signing follows the progress stream without a reload.
    await watcher.page.waitForFunction((expected) => Number(document.querySelector('[data-count]')!.textContent!.replace(/\D/g, '')) === expected, before + 1);
    await page.goto(initiativeUrl);
    expect(await countOf(page)).toBe(before + 1);

    // The receipt checks out, and shows inclusion in the log once the sequencer integrated it.
    await page.goto(initiativeUrl.replace(/$/, '/signature'));
    await page.click('text=Vérifier ma signature');
    await expect(page.textContent('[role="status"]')).resolves.toContain('Ce reçu est authentique');
    for (let attempt = 0; attempt < 30 && (await page.locator('[data-inclusion="checked"]').count()) === 0; attempt++) {
      await page.waitForTimeout(500);
      await page.reload();
    }
    await expect(page.textContent('[data-inclusion]')).resolves.toContain('figure dans le registre public vérifiable');
    await screenshot(page, '06-receipt-check');

    await page.goto(`${initiativeUrl}/transparency`);
    await expect(page.textContent('[data-log-size]')).resolves.toMatch(/\d/);
    await screenshot(page, '07-transparency');

    // Withdrawing brings the count back.
    await page.goto(`${initiativeUrl}/signature`);
    await page.click('text=Retirer ma signature');
    await page.waitForURL(/withdrawn=1/);
    await page.goto(initiativeUrl);
    expect(await countOf(page)).toBe(before);

    // English by the switch.
    await page.click('a[hreflang="en"]');
    await expect(page.textContent('h2#progress-title')).resolves.toBe('Progress');
    await screenshot(page, '08-initiative-en');

    // Logging out, by the form of the page (with its form token): the page offers the login again, and "my space" asks for it.
    await page.click('button:has-text("Log out")');
    await page.waitForURL((url) => url.pathname === '/');
    await expect(page.locator('a:has-text("Log in")').count()).resolves.toBe(1);
    await page.goto(`${initiativeUrl}/signature`);
    await page.waitForURL(/\/dev\/oidc\/authorize/);
    await watcher.context.close();
    await citizen.context.close();
  });

  it('the live count comes back by itself after the engine refused the stream (a restart, a limit)', async () => {
    const { page, context } = await personContext(demo.browser);
    // The first stream is refused, as by an engine restarting (503): EventSource gives up on such an answer.
    let asked = 0;
    await page.route('**/progress/stream', (route) =>
      asked++ === 0 ? route.fulfill({ status: 503, contentType: 'application/problem+json', headers: { 'retry-after': '1' }, body: '{"status":503}' }) : route.continue(),
    );
    await page.goto(demo.base);
    await page.click('text=Des arbres dans chaque cour d’école');
    await page.waitForURL(/\/initiatives\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    const before = await countOf(page);
    const tokens = await fetch(`${demo.base}/dev/oidc/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ givenNames: 'Margot', familyName: 'Relance', birthdate: '1985-02-03', acr: 'eidas2' }),
    });
    const { id_token: token } = (await tokens.json()) as { id_token: string };
    const signed = await fetch(`${demo.base}/v1/initiatives/${id}/signatures`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ district: '75111', consent: true }),
    });
    expect(signed.status).toBe(201);
    // Opened again a few seconds later, the stream brings the new count without a reload.
    await page.waitForFunction((expected) => Number(document.querySelector('[data-count]')!.textContent!.replace(/\D/g, '')) === expected, before + 1, { timeout: 30_000 });
    expect(asked).toBeGreaterThanOrEqual(2);
    await context.close();
  });

  it('a sponsor drafts with a preview, gathers the committee and submits', async () => {
    const { page, context } = await personContext(demo.browser);
    await logIn(page, demo.base, { givenNames: 'Sophie', familyName: 'Porteuse', birthdate: '1980-05-17' }, '/initiatives/new');
    await page.selectOption('#jurisdictionId', 'bourg');
    await page.check('#kind-agenda');
    await page.fill('#title', 'Un marché le dimanche');
    await page.fill('#summary', 'Ouvrir un marché de producteurs chaque dimanche matin sur la place.');
    await page.fill('#text', 'Le conseil municipal est invité à débattre de l’ouverture d’un marché hebdomadaire.');
    await page.click('button[value="preview"]');
    await expect(page.textContent('#preview-title')).resolves.toContain('Aperçu');
    await screenshot(page, '10-draft-preview');
    await page.click('button[value="save"]');
    await page.waitForURL(/\/manage\?saved=1$/);
    const id = /\/initiatives\/([0-9a-f-]{36})\/manage/.exec(page.url())![1]!;
    const code = (await page.textContent('[data-committee-code]'))!.trim();
    sponsored = { id, title: 'Un marché le dimanche' };

    const member = await personContext(demo.browser);
    await logIn(member.page, demo.base, { givenNames: 'Marc', familyName: 'Soutien', birthdate: '1970-01-02' }, `/initiatives/${id}/join`);
    await member.page.fill('#code', code);
    await member.page.click('button:has-text("Rejoindre")');
    await expect(member.page.textContent('[role="status"]')).resolves.toContain('comité de soutien');
    await member.context.close();

    await page.reload();
    await page.click('text=Déposer l’initiative');
    await page.waitForURL(/done=submit/);
    await expect(page.textContent('[data-status]')).resolves.toContain('déposée');
    await screenshot(page, '11-sponsor-dashboard');
    await context.close();
  });

  it('a clerk admits it, keys in paper signatures, verifies by sample with the keyboard and certifies', async () => {
    const clerk = await personContext(demo.browser);
    const page = clerk.page;
    await logIn(page, demo.base, { button: 'dev-clerk' }, '/clerk');
    await expect(page.textContent('section:has(#section-queue)')).resolves.toContain(sponsored.title);
    await screenshot(page, '20-clerk-queue');
    await page.click(`text=${sponsored.title}`);
    await page.check('#decision-open');
    await page.click('text=Enregistrer la décision');
    await page.waitForURL(/done=open/);

    await page.fill(
      '#csv',
      [
        'family_name,given_names,birthdate,district,sheet,collector',
        'Martin,Camille,1981-02-03,nord,F-1,C-1',
        'Bernard,Louis,1975-06-07,nord,F-1,C-1',
        'Thomas,Chloé,1990-10-11,sud,F-2,C-1',
        'Petit,Hugo,1968-12-13,sud,F-2,C-2',
        'Robert,Inès,2001-03-04,nord,F-3,C-2',
        'Richard,Jules,1959-07-08,sud,F-3,C-2',
        'MARTIN,camille,1981-02-03,nord,F-4,C-2',
        `Durand,Léa,${new Date().getFullYear() - 10}-01-01,sud,F-4,C-2`,
      ].join('\n'),
    );
    await page.click('text=Enregistrer les signatures');
    await expect(page.locator('[data-paper-outcome="accepted"]').count()).resolves.toBe(6);
    await expect(page.locator('[data-paper-outcome="duplicate"]').count()).resolves.toBe(1);
    await expect(page.locator('[data-paper-outcome="ineligible"]').count()).resolves.toBe(1);
    // Numbered by the lines as pasted, under the header line: the duplicate is line 8.
    await expect(page.textContent('[data-paper-outcome="duplicate"] td')).resolves.toBe('8');
    // Said to the clerk, not to the signer.
    await expect(page.textContent('[data-paper-outcome="ineligible"]')).resolves.toContain('Âge minimum non atteint à la date de signature.');
    await screenshot(page, '21-paper-entry');

    // The sponsor closes the collection.
    const sponsor = await personContext(demo.browser);
    await logIn(sponsor.page, demo.base, { givenNames: 'Sophie', familyName: 'Porteuse', birthdate: '1980-05-17' }, `/initiatives/${sponsored.id}/manage`);
    expect(await countOf(sponsor.page)).toBe(6);
    await screenshot(sponsor.page, '12-sponsor-dashboard-open');
    await sponsor.page.click('text=Clore la collecte');
    await sponsor.page.waitForURL(/\/close$/);
    await sponsor.page.click('[data-confirm="close"]');
    await sponsor.page.waitForURL(/done=close/);
    // Back comes to the question's own address, read again: the dashboard saying it is closed, not "Confirm form resubmission".
    const back = await sponsor.page.goBack();
    expect(sponsor.page.url()).toBe(`${demo.base}/initiatives/${sponsored.id}/close`);
    expect(back?.status()).toBe(409);
    await expect(sponsor.page.textContent('h1')).resolves.toContain('Tableau de bord');
    await expect(sponsor.page.textContent('[role="alert"]')).resolves.toContain('La collecte ne peut pas être close');
    await expect(sponsor.page.textContent('[data-status]')).resolves.toContain('collecte close');
    await sponsor.context.close();

    await page.goto(`${demo.base}/clerk/initiatives/${sponsored.id}`);
    await page.check('#method-sample');
    await page.fill('#sampleSize', '6');
    await page.fill('#seed', 'tirage e2e');
    await page.click('text=Commencer la vérification');
    await page.waitForURL(/done=started/);
    await expect(page.locator('[data-sample-row][data-pending]').count()).resolves.toBe(6);
    await screenshot(page, '22-verification-sample');
    // I, then the reason, then Enter: invalid, for that reason (Enter must not take the form's first button, Valid).
    await page.keyboard.press('i');
    await page.keyboard.type('Signature illisible');
    await page.keyboard.press('Enter');
    await page.waitForURL(/done=decided/);
    await expect(page.textContent('[data-decision="invalid"]')).resolves.toContain('Signature illisible');
    for (let decided = 1; decided <= 5; decided++) {
      await page.keyboard.press('v');
      await page.waitForURL(/done=decided/);
      await page.waitForFunction((n) => document.querySelectorAll('[data-decision="valid"]').length === n, decided);
    }
    await expect(page.locator('[data-decision="invalid"]').count()).resolves.toBe(1);
    await expect(page.getAttribute('[data-band]', 'data-band')).resolves.toBe('certifiable');
    await screenshot(page, '23-verification-decided');
    await page.click('text=Certifier le résultat');
    await page.waitForURL(/done=certified/);
    await expect(page.textContent('[data-status]')).resolves.toContain('certifiée');
    await screenshot(page, '24-certified');

    await page.click('a[href^="/clerk/audit?initiative="]');
    await page.waitForURL(/\/clerk\/audit\?/);
    await expect(page.textContent('main')).resolves.toContain('initiative.certify');
    await screenshot(page, '25-audit');
    await clerk.context.close();
  });

  it('the API documentation works under its Content-Security-Policy: operations shown, one tried out, nothing refused', async () => {
    const { context, page } = await personContext(demo.browser, 'en-GB');
    await page.addInitScript(() => {
      const refused: string[] = [];
      (window as unknown as { refused: string[] }).refused = refused;
      document.addEventListener('securitypolicyviolation', (e) => refused.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const res = await page.goto(`${demo.base}/docs`);
    expect(res!.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('.opblock');
    await page.locator('.opblock-summary:has-text("/v1/jurisdictions")').first().click();
    await page.locator('button.try-out__btn').first().click();
    await page.locator('button.execute').first().click();
    await expect(page.locator('.live-responses-table tr.response .response-col_status').first().textContent()).resolves.toContain('200');
    expect(await page.evaluate(() => (window as unknown as { refused: string[] }).refused)).toEqual([]);
    await context.close();
  });
});
