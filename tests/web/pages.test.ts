import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/features/demo/seed';
import { listInitiatives } from '../../src/features/initiatives/service';
import { createTestEngine, type TestEngine } from '../support/engine';
import { decideRemainingValid } from '../support/verification';
import { parisDay } from '../support/paris';
import { browserRequests, CSRF } from './browser-requests';


describe('web pages (server-rendered, no JavaScript)', () => {
  let engine: TestEngine;
  let openIds: string[];

  const sessionFor: ReturnType<typeof browserRequests>['sessionFor'] = (subject, identity) => browserRequests(engine).sessionFor(subject, identity);

  async function page(path: string, init: { cookie?: string; lang?: string; form?: Record<string, string>; origin?: string; accept?: string } = {}) {
    const headers: Record<string, string> = {};
    if (init.accept) headers.accept = init.accept;
    if (init.cookie) headers.cookie = init.cookie;
    if (init.lang) headers['accept-language'] = init.lang;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = init.origin ?? 'http://localhost';
    }
    const res = await engine.app.request(path, {
      method: init.form ? 'POST' : 'GET',
      headers,
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    return { status: res.status, headers: res.headers, html: await res.text() };
  }

  beforeAll(async () => {
    engine = await createTestEngine();
    engine.clock.set(new Date());
    const outcome = await seedDemo(engine.deps);
    expect(outcome).toMatchObject({ seeded: true, source: 'insee' });
    openIds = (await listInitiatives(engine.db.db, { status: 'open', limit: 10 }, undefined)).items.map((i) => i.id);
  });
  afterAll(() => engine?.close());

  it('seeds the demo once: Paris with its 20 arrondissements (INSEE populations), a clerk and two open initiatives', async () => {
    expect((await seedDemo(engine.deps)).seeded).toBe(false);
    const paris = await engine.request('GET', '/v1/jurisdictions/paris');
    expect(paris.body.districts).toHaveLength(20);
    expect(paris.body.districts[0]).toEqual({ code: '75101', name: 'Paris 1er Arrondissement', electorate: 15114 });
    expect(openIds).toHaveLength(2);
    const progress = await engine.request('GET', `/v1/initiatives/${openIds[0]}/progress`);
    expect(progress.body.signatures).toBeGreaterThan(0);
  });

  it('shows the home page in French by default and in English by Accept-Language, with a strict CSP', async () => {
    const fr = await page('/');
    expect(fr.status).toBe(200);
    expect(fr.html).toContain('<html lang="fr">');
    expect(fr.html).toContain('Des rues aux écoles');
    // ceil(10 % × 2 103 778), the INSEE population of Paris summed over its arrondissements.
    expect(fr.html).toMatch(/210\u202f378/);
    const csp = fr.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(fr.headers.get('referrer-policy')).toBe('no-referrer');
    expect(fr.html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const en = await page('/', { lang: 'en-GB,en;q=0.9,fr;q=0.5' });
    expect(en.html).toContain('<html lang="en">');
    expect(en.html).toContain('210,378');
    const switched = await page('/', { lang: 'en', cookie: 'lang=fr' });
    expect(switched.html).toContain('<html lang="fr">');
  });

  it('names its icon on every page, and leads a browser asking for /favicon.ico to it', async () => {
    expect((await page('/')).html).toMatch(/<link rel="icon" href="\/assets\/icon.svg" type="image\/svg\+xml"\s*\/?>/);
    const icon = await engine.app.request('/assets/icon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(await icon.text()).toMatch(/^<svg [^>]*viewBox="0 0 32 32"/);
    const legacy = await engine.app.request('/favicon.ico');
    expect(legacy.status).toBe(301);
    expect(legacy.headers.get('location')).toBe('/assets/icon.svg');
  });

  it('searches and filters the list', async () => {
    const found = await page('/?q=arbres&status=open');
    expect(found.html).toContain('Des arbres dans chaque cour');
    expect(found.html).not.toContain('Des rues aux écoles</a>');
    const none = await page('/?status=certified');
    expect(none.html).toContain('Aucune initiative ne correspond.');
  });

  it('renders an initiative with its progress bar, district table and SVG chart', async () => {
    const res = await page(`/initiatives/${openIds[0]}`);
    expect(res.status).toBe(200);
    expect(res.html).toContain('<progress');
    expect(res.html).toContain('<svg role="img"');
    expect(res.html).toContain('Paris 20e Arrondissement');
    expect(res.html).toContain(`data-progress-stream="/v1/initiatives/${openIds[0]}/progress/stream"`);
    expect((await page('/initiatives/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('answers a browser at an unknown address with the page "not found", and API clients with a problem document', async () => {
    const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const missing = await page('/initiativs', { accept: browser });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^text\/html/);
    expect(missing.html).toContain('<html lang="fr">');
    expect(missing.html).toContain('Page introuvable.');
    expect(missing.html).toContain('href="/lang?to=en&amp;back=%2Finitiativs"');
    const english = await page('/nothing/here', { accept: browser, lang: 'en' });
    expect(english.html).toContain('Page not found.');
    for (const [path, accept] of [['/v1/nothing', browser], ['/initiativs', 'application/json'], ['/initiativs', '*/*']] as const) {
      const api = await page(path, { accept });
      expect(api.status).toBe(404);
      expect(api.headers.get('content-type')).toBe('application/problem+json');
      expect(JSON.parse(api.html).type).toBe('/problems/not-found');
    }
  });

  it('signs through the form: CSRF checked, field errors next to the field, then the receipt', async () => {
    const id = openIds[0]!;
    const cookie = await sessionFor('web-citizen', { givenNames: 'Élodie Marie', familyName: 'Dupont', birthdate: '1990-04-12' });
    expect((await page(`/initiatives/${id}/sign`)).status).toBe(303);

    const before = (await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures;
    const forged = await page(`/initiatives/${id}/sign`, { cookie, form: { _csrf: 'x'.repeat(43), district: '75111', consent: 'yes' } });
    expect(forged.status).toBe(403);
    const crossSite = await page(`/initiatives/${id}/sign`, { cookie, origin: 'https://evil.example', form: { _csrf: CSRF, district: '75111', consent: 'yes' } });
    expect(crossSite.status).toBe(403);

    const missing = await page(`/initiatives/${id}/sign`, { cookie, form: { _csrf: CSRF, district: '75111' } });
    expect(missing.status).toBe(400);
    expect(missing.html).toContain('id="consent-error"');
    expect(missing.html).toContain('aria-describedby="consent-error"');

    const signed = await page(`/initiatives/${id}/sign`, { cookie, form: { _csrf: CSRF, district: '75111', consent: 'yes' } });
    expect(signed.status).toBe(303);
    expect(signed.headers.get('location')).toBe(`/initiatives/${id}/signature?signed=1`);
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures).toBe(before + 1);

    const mine = await page(`/initiatives/${id}/signature?signed=1`, { cookie });
    expect(mine.html).toContain('Merci, votre signature est enregistrée.');
    const receipt = /<textarea[^>]*id="receipt"[^>]*>([^<]+)<\/textarea>/.exec(mine.html)![1]!;
    const check = await page(`/receipt?r=${encodeURIComponent(receipt)}`);
    expect(check.html).toContain('Ce reçu est authentique');
    const tampered = await page(`/receipt?r=${encodeURIComponent(receipt.slice(0, -4) + 'AAAA')}`);
    expect(tampered.status).toBe(400);

    const withdrawn = await page(`/initiatives/${id}/signature/withdraw`, { cookie, form: { _csrf: CSRF } });
    expect(withdrawn.status).toBe(303);
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures).toBe(before);
  });

  it('refuses a citizen too young to sign with the reason, and stores nothing', async () => {
    const id = openIds[1]!;
    const cookie = await sessionFor('web-minor', { givenNames: 'Lucie', familyName: 'Moreau', birthdate: `${new Date().getFullYear() - 15}-01-01` });
    const before = (await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures;
    const res = await page(`/initiatives/${id}/sign`, { cookie, form: { _csrf: CSRF, district: '75105', consent: 'yes' } });
    expect(res.status).toBe(403);
    expect(res.html).toContain('âge minimum');
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures).toBe(before);
  });

  it('lets a sponsor preview, save, and meet the committee rule when submitting', async () => {
    const cookie = await sessionFor('web-sponsor');
    const draft = { _csrf: CSRF, jurisdictionId: 'paris', kind: 'agenda', title: 'Un banc par rue', summary: 'Des bancs.', text: 'Installer un banc dans chaque rue.' };
    const invalid = await page('/initiatives/new', { cookie, form: { ...draft, title: 'x', action: 'save' } });
    expect(invalid.status).toBe(400);
    expect(invalid.html).toContain('id="title-error"');
    const preview = await page('/initiatives/new', { cookie, form: { ...draft, action: 'preview' } });
    expect(preview.html).toContain('Aperçu de la page publique');
    const saved = await page('/initiatives/new', { cookie, form: { ...draft, action: 'save' } });
    expect(saved.status).toBe(303);
    const manageUrl = saved.headers.get('location')!;
    const id = manageUrl.split('/')[2]!;
    const manage = await page(manageUrl, { cookie });
    const code = /data-committee-code="">([A-Z0-9]+)</.exec(manage.html)![1]!;
    // The join link carries the code: a member follows it and finds the field filled in.
    const joinLink = `${engine.deps.config.publicUrl}/initiatives/${id}/join?code=${code}`;
    expect(manage.html).toContain(`<code>${joinLink}</code>`);
    const invited = await page(joinLink.slice(engine.deps.config.publicUrl.length), { cookie: await sessionFor('web-invited') });
    expect(invited.html).toMatch(new RegExp(`<input[^>]*value="${code}"`));
    const tooSmall = await page(`/initiatives/${id}/submit`, { cookie, form: { _csrf: CSRF } });
    expect(tooSmall.status).toBe(409);
    // The page answering the post switches language back to the page the form was on, which answers GET.
    const back = `/initiatives/${id}/manage`;
    expect(tooSmall.html).toContain(`href="/lang?to=en&amp;back=${encodeURIComponent(back)}"`);
    const switched = await page(`/lang?to=en&back=${encodeURIComponent(back)}`);
    expect(switched.headers.get('location')).toBe(back);
    expect((await page(back, { cookie: `${cookie}; lang=en` })).status).toBe(200);
    // Someone logged out posting a form is sent to log in, and back to the form's page.
    const anonymous = await page(`/clerk/initiatives/${id}/review`, { cookie: `csrf=${CSRF}`, form: { _csrf: CSRF, decision: 'open' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.html).toContain(`href="/auth/login?returnTo=${encodeURIComponent(`/clerk/initiatives/${id}`)}"`);
    for (const member of ['web-member-1', 'web-member-2']) {
      // Joining answers with a redirect, so that reloading the page it leads to sends nothing again.
      // A committee counts persons: joining takes the names and birth date of a verified identity.
      const person = { givenNames: member === 'web-member-1' ? 'Paul' : 'Pauline', familyName: 'Membre', birthdate: '1990-02-02' };
      const posted = await page(`/initiatives/${id}/join`, { cookie: await sessionFor(member, person), form: { _csrf: CSRF, code } });
      expect(posted.status).toBe(303);
      expect(posted.headers.get('location')).toBe(`/initiatives/${id}/join?joined=1`);
      const joined = await page(posted.headers.get('location')!, { cookie: await sessionFor(member) });
      expect(joined.html).toContain('Vous faites partie du comité de soutien.');
      // Said to members only: the same address, followed by someone who has not joined, offers the form.
      const notMember = await page(posted.headers.get('location')!, { cookie: await sessionFor('web-not-a-member') });
      expect(notMember.html).not.toContain('Vous faites partie du comité de soutien.');
      expect(notMember.html).toContain('name="code"');
      // From there to the dashboard; no link leads a member to the draft's public page, which is its sponsor's alone ("Page introuvable").
      expect(joined.html).toContain(`<a class="button" href="/initiatives/${id}/manage">`);
      const dashboard = await page(`/initiatives/${id}/manage`, { cookie: await sessionFor(member) });
      expect(dashboard.status).toBe(200);
      for (const html of [joined.html, dashboard.html]) {
        const links = [...html.matchAll(/href="(\/[^"]*)"/g)].map((l) => l[1]!.replace(/&amp;/g, '&')).filter((href) => !/^\/(lang|auth|assets)\b/.test(href));
        for (const href of links) expect((await page(href, { cookie: await sessionFor(member) })).status, href).toBeLessThan(400);
      }
    }
    // The sponsor's own dashboard does link to the draft's page, which they may read.
    expect((await page(manageUrl, { cookie })).html).toContain(`<p><a href="/initiatives/${id}" lang="fr">Un banc par rue</a></p>`);
    // A member finds the initiative on their own page, linked to its dashboard; the sponsor finds it among theirs only.
    const memberPage = await page('/me', { cookie: await sessionFor('web-member-1') });
    expect(memberPage.html).toContain('Initiatives dont je suis membre du comité de soutien');
    expect(memberPage.html).toContain(`<a href="/initiatives/${id}/manage" lang="fr">Un banc par rue</a>`);
    const sponsorPage = await page('/me', { cookie });
    expect(sponsorPage.html).toContain(`<a href="/initiatives/${id}/manage" lang="fr">Un banc par rue</a>`);
    expect(sponsorPage.html).not.toContain('membre du comité de soutien');
    expect((await page('/me', { cookie: await sessionFor('someone-else') })).html).not.toContain('Un banc par rue');
    const submitted = await page(`/initiatives/${id}/submit`, { cookie, form: { _csrf: CSRF } });
    expect(submitted.status).toBe(303);
    expect((await engine.request('GET', `/v1/initiatives/${id}`)).body.status).toBe('submitted');
    expect((await page(manageUrl, { cookie: await sessionFor('someone-else') })).status).toBe(403);
  });

  it('keeps clerk pages to clerks, and shows the audit trail to them', async () => {
    expect((await page('/clerk', { cookie: await sessionFor('web-citizen') })).status).toBe(403);
    const clerk = await page('/clerk', { cookie: await sessionFor('dev-clerk') });
    expect(clerk.status).toBe(200);
    expect(clerk.html).toContain('Des arbres dans chaque cour');
    // Its jurisdiction by name, with its audit trail.
    expect(clerk.html).toMatch(/<li data-jurisdiction="paris">Ville de Paris · <a href="\/clerk\/audit\?jurisdiction=paris">/);
    const audit = await page('/clerk/audit?jurisdiction=paris', { cookie: await sessionFor('dev-clerk') });
    // Each action in words, with the code the CSV export and the API give beside it.
    expect(audit.html).toMatch(/>Déclarée recevable\u00a0: collecte ouverte<\/a><br\/?><code class="muted">initiative\.open<\/code>/);
    expect(audit.html).toContain('Collectivité créée<br/><code class="muted">jurisdiction.created</code>');
    // Each action to the second: the demo's were all made within one minute, and a minute alone would date them all alike.
    const times = [...audit.html.matchAll(/<td>(\d{1,2} \S+ \d{4} à \d\d:\d\d:\d\d)<\/td>/g)];
    expect(times.length).toBeGreaterThan(1);
  });

  it('a full count lists the signatures awaiting a decision, and certification waits until none is left', async () => {
    const sizes = await Promise.all(openIds.map(async (id) => [id, (await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures as number] as const));
    const [id, signed] = sizes.sort((a, b) => a[1] - b[1])[0]!;
    engine.clock.advance(400 * 86_400_000);
    await engine.scheduler.tick();
    expect((await engine.request('GET', `/v1/initiatives/${id}`)).body.status).toBe('closed');
    const cookie = await sessionFor('dev-clerk');
    expect((await page(`/clerk/initiatives/${id}/verification/start`, { cookie, form: { _csrf: CSRF, method: 'full' } })).status).toBe(303);
    const listed = await page(`/clerk/initiatives/${id}`, { cookie });
    expect(listed.html).toContain(`Signatures en attente de décision\u00a0: ${signed}`);
    expect(listed.html.match(/data-pending=""/g)).toHaveLength(signed);

    const early = await page(`/clerk/initiatives/${id}/verification/complete`, { cookie, form: { _csrf: CSRF } });
    expect(early.status).toBe(409);
    expect(early.html).toContain(`${signed} signatures attendent encore la décision d’un agent.`);
    await decideRemainingValid(engine.request, id, await engine.subjectToken('dev-clerk'));
    // Before certifying, the clerk reads the threshold beside the valid count, and each rule met or not: the outcome is no surprise.
    const decided = await page(`/clerk/initiatives/${id}`, { cookie });
    const progress = (await engine.request('GET', `/v1/initiatives/${id}/progress`)).body;
    const goal = progress.criteria.find((x: { kind: string }) => x.kind === 'goal').required as number;
    const fr = (n: number) => new Intl.NumberFormat('fr-FR').format(n);
    expect(decided.html).toContain(`<dt>Seuil de signatures</dt><dd data-goal="">${fr(goal)}</dd>`);
    expect(decided.html).toContain(`<li>Seuil de signatures\u00a0: ${fr(signed)} / ${fr(goal)} (non)</li>`);
    expect(decided.html).toMatch(/<li>Arrondissements ayant atteint leur minimum\u00a0: \d+ \/ \d+ \((oui|non)\)<\/li>/);
    const done = await page(`/clerk/initiatives/${id}/verification/complete`, { cookie, form: { _csrf: CSRF } });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toMatch(/done=insufficient/);
  });

  it('a sample larger than one page is worked through: the list starts a little before the first undecided signature', async () => {
    // The other demo initiative, closed by the test above; 600 paper signatures keyed in from its collection.
    const [id] = (await Promise.all(openIds.map(async (i) => [i, (await engine.request('GET', `/v1/initiatives/${i}`)).body.status] as const))).find(([, status]) => status === 'closed')!;
    const clerk = await engine.subjectToken('dev-clerk');
    const opensAt = (await engine.request('GET', `/v1/initiatives/${id}`)).body.opensAt as string;
    const entries = Array.from({ length: 600 }, (_, n) => ({
      familyName: 'Echantillon',
      givenNames: `Paul${n.toString(26).split('').map((d) => String.fromCharCode(97 + parseInt(d, 26))).join('')}`,
      birthdate: '1970-01-01',
      district: '75111',
      sheet: `F-${Math.floor(n / 20)}`,
      collector: 'C-1',
      signedOn: parisDay(opensAt),
    }));
    const keyed = await engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, { token: clerk, body: { entries } });
    expect(keyed.body.results.filter((r: { status: string }) => r.status === 'accepted')).toHaveLength(600);
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'sample', sampleSize: 600, seed: 'grand tirage' } })).status).toBe(201);
    // Before any sampled signature is decided, no conclusion: it comes once the sample is decided.
    const undecided = await page(`/clerk/initiatives/${id}`, { cookie: await sessionFor('dev-clerk') });
    expect(undecided.html).toContain('La conclusion sera donnée une fois l’échantillon décidé\u00a0: 600 signatures tirées au sort restent à décider.');
    expect(undecided.html).not.toContain('data-band=');
    // Each row's buttons are told apart by whose signature they decide (the signer's cell describes them).
    // (The draw mixes the demo's online signers with the paper ones, in an order that follows their random ids: any paper row will do.)
    const row = [...undecided.html.matchAll(/<td id="who-([0-9a-f-]{36})">([\s\S]*?)<\/td>/g)].find((r) => r[2]!.includes('Echantillon Paul'))!;
    expect(row).toBeDefined();
    expect(undecided.html).toContain(`<button type="submit" name="decision" value="valid" aria-describedby="who-${row[1]}">Valide</button>`);
    expect(undecided.html).not.toContain('nombre de signatures valides insuffisant (moins de 95');

    // The first 520 drawn are decided.
    const drawn = await engine.request('GET', `/v1/initiatives/${id}/verification?limit=520&personalData=false`, { token: clerk });
    const decisions = drawn.body.signatures.items.map((s: { id: string }) => ({ signatureId: s.id, decision: 'valid' }));
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions } })).status).toBe(200);

    const listed = await page(`/clerk/initiatives/${id}`, { cookie: await sessionFor('dev-clerk') });
    expect(listed.status).toBe(200);
    // Draw positions 471 to 600: 50 decided ones for context, then the 80 left.
    expect(listed.html.match(/data-sample-row=""/g)).toHaveLength(130);
    expect(listed.html.match(/data-pending=""/g)).toHaveLength(80);
    expect(listed.html).toContain('<td>471</td>');
    expect(listed.html).not.toContain('<td>470</td>');
    expect(listed.html).toContain('80 signatures tirées au sort restent à décider.');
  });
});
