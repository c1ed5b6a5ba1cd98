import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLERK, seedDemo } from '../../src/features/demo/seed';
import { listInitiatives } from '../../src/features/initiatives/service';
import { createTestEngine, type TestEngine } from '../support/engine';
import { browserRequests } from './browser-requests';

/**
 * The sponsors' words sit in an element that says their language (WCAG 3.1.2, language of parts):
 * on an English page a screen reader reads a French title and text with a French voice.
 */
describe('the language of an initiative’s text in the web front', () => {
  let engine: TestEngine;
  let web: ReturnType<typeof browserRequests>;
  let streets: string;
  const SPONSOR = { givenNames: 'Greta', familyName: 'Bern', birthdate: '1982-02-02' };

  beforeAll(async () => {
    engine = await createTestEngine();
    engine.clock.set(new Date());
    web = browserRequests(engine);
    expect((await seedDemo(engine.deps)).seeded).toBe(true);
    const open = (await listInitiatives(engine.db.db, { status: 'open', limit: 10 }, undefined)).items;
    streets = open.find((i) => i.title === 'Des rues aux écoles')!.id;
  });
  afterAll(() => engine?.close());

  it('marks the French title, summary, question and text as French on English pages', async () => {
    const detail = await web.page(`/initiatives/${streets}`, { lang: 'en' });
    expect(detail.html).toContain('<html lang="en">');
    expect(detail.html).toContain('<h1 lang="fr">Des rues aux écoles</h1>');
    expect(detail.html).toContain('<p lang="fr">Fermer à la circulation les rues devant les écoles aux heures d’entrée et de sortie.</p>');
    expect(detail.html).toMatch(/<blockquote class="question" lang="fr">Approuvez-vous /);
    expect(detail.html).toMatch(/<div class="text" lang="fr">Article unique\. /);
    // The page's own words stay English.
    expect(detail.html).toContain('<h2>Text of the initiative</h2>');

    const home = await web.page('/', { lang: 'en' });
    expect(home.html).toContain(`<a href="/initiatives/${streets}" lang="fr">Des rues aux écoles</a>`);
    expect(home.html).toContain('<p lang="fr">Fermer à la circulation');

    // "Sign: …": the message in English, the title in French.
    const citizen = await web.sessionFor('lang-citizen', { givenNames: 'Jane', familyName: 'Reader', birthdate: '1990-01-01' });
    const sign = await web.page(`/initiatives/${streets}/sign`, { lang: 'en', cookie: citizen });
    expect(sign.html).toContain('<h1>Sign: <span lang="fr">Des rues aux écoles</span></h1>');
    expect(sign.html).toMatch(/<blockquote class="question" lang="fr">Approuvez-vous /);

    const clerk = await web.page(`/clerk/initiatives/${streets}`, { lang: 'en', cookie: await web.sessionFor(DEMO_CLERK) });
    expect(clerk.html).toContain('<h1 lang="fr">Des rues aux écoles</h1>');
    expect((await web.page('/clerk', { lang: 'en', cookie: await web.sessionFor(DEMO_CLERK) })).html).toContain(
      `<a href="/clerk/initiatives/${streets}" lang="fr">Des rues aux écoles</a>`,
    );
  });

  it('drafts with the language of the text, its options named in themselves, and marks the text with it on French pages', async () => {
    const cookie = await web.sessionFor('lang-sponsor', SPONSOR);
    const form = await web.page('/initiatives/new', { cookie, lang: 'en' });
    expect(form.html).toContain('<label for="language">Language of the text</label>');
    expect(form.html).toMatch(/<select id="language" name="language" aria-describedby="language-help" required="">/);
    expect(form.html).toContain('<option value="de" lang="de">Deutsch</option>');
    expect(form.html).toContain('<option value="fr" lang="fr" selected="">Français</option>');
    expect((await web.page('/initiatives/new', { cookie })).html).toContain('<label for="language">Langue du texte</label>');

    const draft = {
      jurisdictionId: 'paris',
      kind: 'agenda',
      language: 'de',
      title: 'Schulhöfe mit Bäumen',
      summary: 'Bäume in jedem Schulhof.',
      text: 'Der Rat pflanzt Bäume in jedem Schulhof.',
    };
    const preview = await web.page('/initiatives/new', { cookie, form: { ...draft, action: 'preview' } });
    expect(preview.html).toContain('<h3 class="title" lang="de">Schulhöfe mit Bäumen</h3>');
    expect(preview.html).toMatch(/<textarea id="text" name="text" lang="de" rows="10" required="">Der Rat/);
    const saved = await web.page('/initiatives/new', { cookie, form: { ...draft, action: 'save' } });
    expect(saved.status).toBe(303);
    const id = saved.headers.get('location')!.split('/')[2]!;
    expect((await engine.request('GET', `/v1/initiatives/${id}`, { token: await engine.tokenFor({ ...SPONSOR, subject: 'lang-sponsor' }) })).body.language).toBe('de');

    const manage = await web.page(`/initiatives/${id}/manage`, { cookie });
    expect(manage.html).toContain('<h1>Tableau de bord\u00a0: <span lang="de">Schulhöfe mit Bäumen</span></h1>');
    const detail = await web.page(`/initiatives/${id}`, { cookie });
    expect(detail.html).toContain('<h1 lang="de">Schulhöfe mit Bäumen</h1>');
    expect(detail.html).toContain('<div class="text" lang="de">Der Rat pflanzt Bäume in jedem Schulhof.</div>');
    expect((await web.page('/me', { cookie })).html).toContain(`<a href="/initiatives/${id}/manage" lang="de">Schulhöfe mit Bäumen</a>`);

    // The edit form shows the draft's language, and changes it.
    const edit = await web.page(`/initiatives/${id}/edit`, { cookie });
    expect(edit.html).toContain('<option value="de" lang="de" selected="">Deutsch</option>');
    expect((await web.page(`/initiatives/${id}/edit`, { cookie, form: { ...draft, language: 'nl', action: 'save' } })).status).toBe(303);
    expect((await web.page(`/initiatives/${id}`, { cookie })).html).toContain('<h1 lang="nl">Schulhöfe mit Bäumen</h1>');
  });

  it('says what is wrong with a language not offered, in the error summary and next to the field', async () => {
    const cookie = await web.sessionFor('lang-sponsor-2', SPONSOR);
    const draft = { jurisdictionId: 'paris', kind: 'agenda', language: 'klingon', title: 'Un banc par rue', summary: 'Des bancs.', text: 'Un banc par rue.', action: 'save' };
    const refused = await web.page('/initiatives/new', { cookie, form: draft, lang: 'en' });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('<a href="#language">Language of the text: Choose one of the values offered.</a>');
    expect(refused.html).toContain('<p class="field-error" id="language-error">Choose one of the values offered.</p>');
    expect(refused.html).toMatch(/<select id="language" name="language" aria-invalid="true" aria-describedby="language-help language-error"/);
    // What was typed is kept, without a `lang` no one knows.
    expect(refused.html).toMatch(/<input type="text" id="title" name="title" value="Un banc par rue"/);
  });
});
