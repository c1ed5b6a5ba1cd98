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
});
