import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENDUM_DRAFT } from '../support/paris';
import { createWorld, type World } from '../support/world';
import { browserRequests } from './browser-requests';

/**
 * What the browser check (tests/e2e/accessibility.test.ts, axe-core) found, kept true without a
 * browser: the markup that screen-reader and keyboard users rely on.
 */
describe('accessibility of the pages’ markup', () => {
  let world: World;
  let web: ReturnType<typeof browserRequests>;

  beforeAll(async () => {
    world = await createWorld();
    web = browserRequests(world.engine);
  });
  afterAll(() => world?.engine.close());

  it('says that the development identity provider is on inside the page’s banner landmark, not outside every landmark', async () => {
    const home = await web.page('/');
    const header = /<header class="site">([\s\S]*?)<\/header>/.exec(home.html)?.[1] ?? '';
    expect(header).toContain('class="dev-banner"');
    expect(home.html.indexOf('class="dev-banner"')).toBeGreaterThan(home.html.indexOf('<header'));
  });

  it('marks the page the reader is on in the navigation, for screen readers and by sight', async () => {
    const home = await web.page('/');
    expect(home.html).toContain('<a href="/" aria-current="page">');
    expect(home.html).toContain('<a href="/results">');
    const results = await web.page('/results');
    expect(results.html).toContain('<a href="/results" aria-current="page">');
    expect(results.html).toContain('<a href="/">');
  });

  it('begins the title of a page answering a form with what is wrong with "Erreur", heard before anything else', async () => {
    const cookie = await web.sessionFor('a11y-title', { givenNames: 'Titre', familyName: 'Erreur', birthdate: '1980-01-01' });
    const empty = { jurisdictionId: 'paris', kind: 'agenda', title: '', summary: '', text: '', action: 'save' };
    const refused = await web.page('/initiatives/new', { cookie, form: empty });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/<title>Erreur\u00a0: [^<]+ · Initiatives citoyennes<\/title>/);
    expect((await web.page('/initiatives/new', { cookie, form: empty, lang: 'en' })).html).toMatch(/<title>Error: [^<]+ · Citizen initiatives<\/title>/);
    expect((await web.page('/initiatives/new', { cookie })).html).not.toContain('<title>Erreur');
    // The error page's own title already says what went wrong.
    expect((await web.page('/nulle-part')).html).toContain('<title>Page introuvable · Initiatives citoyennes</title>');
  });

  it('titles an error page with what happened, not "an error occurred" for a missing page, a refusal and an expired form alike', async () => {
    const citizen = await web.sessionFor('a11y-error-titles', { givenNames: 'Lucie', familyName: 'Visiteuse', birthdate: '1990-01-01' });
    const titled = async (path: string, init: Parameters<typeof web.page>[1] = {}) => {
      const page = await web.page(path, init);
      return { status: page.status, title: /<title>([^<]*)<\/title>/.exec(page.html)?.[1], h1: /<h1>([^<]*)<\/h1>/.exec(page.html)?.[1] };
    };
    expect(await titled('/nulle-part')).toEqual({ status: 404, title: 'Page introuvable · Initiatives citoyennes', h1: 'Page introuvable' });
    expect(await titled(`/initiatives/${world.targetId}/nope`, { lang: 'en' })).toEqual({ status: 404, title: 'Page not found · Citizen initiatives', h1: 'Page not found' });
    expect(await titled('/clerk', { cookie: citizen })).toEqual({ status: 403, title: 'Accès refusé · Initiatives citoyennes', h1: 'Accès refusé' });
    expect(await titled('/clerk', { cookie: citizen, lang: 'en' })).toEqual({ status: 403, title: 'Access denied · Citizen initiatives', h1: 'Access denied' });
    // A form posted with a token that no longer matches the browser's.
    const stale = await titled(`/initiatives/${world.targetId}/sign`, { cookie: citizen.replace(/csrf=c+/, `csrf=${'d'.repeat(43)}`), form: { district: '75111', consent: 'yes' } });
    expect(stale).toEqual({ status: 403, title: 'Formulaire expiré · Initiatives citoyennes', h1: 'Formulaire expiré' });
  });

  it('gives each page about an initiative a title of its own, naming the page and the initiative', async () => {
    const sponsor = await web.sessionFor(world.people.sponsor.subject, world.people.sponsor);
    const clerk = await web.sessionFor(world.people.clerk.subject);
    const citizen = await web.sessionFor(world.people.citizen.subject, world.people.citizen);
    const titleOf = async (path: string, init: Parameters<typeof web.page>[1] = {}) => /<title>([^<]*)<\/title>/.exec((await web.page(path, init)).html)?.[1];
    const target = `/initiatives/${world.targetId}`;
    const titles = {
      public: await titleOf(target),
      signature: await titleOf(`${target}/signature`, { cookie: sponsor }),
      transparency: await titleOf(`${target}/transparency`),
      dashboard: await titleOf(`${target}/manage`, { cookie: sponsor }),
      join: await titleOf(`${target}/join`, { cookie: citizen }),
      closing: await titleOf(`${target}/close`, { cookie: sponsor }),
      withdrawing: await titleOf(`${target}/withdraw`, { cookie: sponsor }),
      clerk: await titleOf(`/clerk${target}`, { cookie: clerk }),
    };
    expect(titles).toEqual({
      public: 'Des rues aux écoles · Initiatives citoyennes',
      signature: 'Ma signature\u00a0: Des rues aux écoles · Initiatives citoyennes',
      transparency: 'Registre public vérifiable\u00a0: Des rues aux écoles · Initiatives citoyennes',
      dashboard: 'Tableau de bord\u00a0: Des rues aux écoles · Initiatives citoyennes',
      join: 'Rejoindre le comité de soutien\u00a0: Des rues aux écoles · Initiatives citoyennes',
      closing: 'Clore la collecte de «\u00a0Des rues aux écoles\u00a0»\u00a0? · Initiatives citoyennes',
      withdrawing: 'Retirer l’initiative «\u00a0Des rues aux écoles\u00a0»\u00a0? · Initiatives citoyennes',
      clerk: 'Service des élections\u00a0: Des rues aux écoles · Initiatives citoyennes',
    });
    const otherSponsor = await web.sessionFor(world.people.otherSponsor.subject, world.people.otherSponsor);
    expect(await titleOf(`/initiatives/${world.otherDraftId}/edit`, { cookie: otherSponsor, lang: 'en' })).toBe('Edit the draft: Des rues aux écoles · Citizen initiatives');
  });

  it('gives a draft’s preview its title one level under the preview’s heading, leaving the page one level-1 heading', async () => {
    const cookie = await web.sessionFor('a11y-sponsor', { givenNames: 'Inès', familyName: 'Porteuse', birthdate: '1982-02-02' });
    const draft = { jurisdictionId: 'paris', kind: 'agenda', title: 'Un banc par rue', summary: 'Des bancs.', text: 'Installer un banc dans chaque rue.', action: 'preview' };
    const preview = await web.page('/initiatives/new', { cookie, form: draft });
    expect(preview.status).toBe(200);
    expect(preview.html.match(/<h1[ >]/g)).toHaveLength(1);
    expect(preview.html).toMatch(/<h2 id="preview-title">[^<]*<\/h2>[\s\S]*<h3 class="title" lang="fr">Un banc par rue<\/h3>/);
  });

  it('puts data tables in a box of their own that a keyboard can scroll sideways, named after the table, so the page reflows on a narrow screen', async () => {
    const initiative = await web.page(`/initiatives/${world.targetId}`);
    expect(initiative.html).toMatch(/<div class="table-scroll" role="group" tabindex="0" aria-labelledby="districts-title"><table>/);
    expect(initiative.html).toContain('<h2 id="districts-title">');
    const audit = await web.page('/clerk/audit', { cookie: await web.sessionFor(world.people.clerk.subject) });
    expect(audit.html).toMatch(/<h1 id="audit-title">[\s\S]*<div class="table-scroll" role="group" tabindex="0" aria-labelledby="audit-title"><table>/);
  });

  it('draws the keyboard focus with a dark ring (16:1 on white), not the yellow one alone (1.8:1)', async () => {
    const css = await (await world.engine.app.request('/assets/site.css')).text();
    const focus = /a:focus[^{]*\{([^}]*)\}/.exec(css)?.[1] ?? '';
    expect(focus).toContain('outline: 3px solid var(--ink)');
    expect(css).toContain('--ink: #1b1f24');
  });

  it('wraps a long unbroken word (a key id, an address) rather than let it push the page wider than the screen', async () => {
    const css = await (await world.engine.app.request('/assets/site.css')).text();
    expect(/\nbody \{([^}]*)\}/.exec(css)?.[1]).toContain('overflow-wrap: break-word');
  });

  it('ties an admissibility decision’s error to the decision’s radio buttons, as other field errors are tied to their field', async () => {
    const draft = await world.engine.request('POST', '/v1/initiatives', { token: world.sponsor, body: REFERENDUM_DRAFT });
    const id = draft.body.id as string;
    await world.engine.request('POST', `/v1/initiatives/${id}/committee`, { token: world.tokens.committee, body: { code: draft.body.committeeCode } });
    expect((await world.engine.request('POST', `/v1/initiatives/${id}/submit`, { token: world.sponsor })).status).toBe(200);
    const cookie = await web.sessionFor(world.people.clerk.subject);
    const refused = await web.page(`/clerk/initiatives/${id}/review`, { cookie, form: { decision: 'later' } });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/<fieldset class="field invalid" aria-describedby="decision-error"><legend>/);
    expect(refused.html).toMatch(/<p class="field-error" id="decision-error">[^<]+<\/p>/);
  });
});
