import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from '../support/world';
import { browserRequests } from './browser-requests';

/** What a sponsor meets between drafting and closing, page by page. */
describe('the sponsor’s journey in the web front', () => {
  let world: World;
  let web: ReturnType<typeof browserRequests>;

  beforeAll(async () => {
    world = await createWorld();
    web = browserRequests(world.engine);
  });
  afterAll(() => world?.engine.close());

  it('offers no edit form for an initiative that is no longer a draft: says why, and leads to the dashboard', async () => {
    const cookie = await web.sessionFor(world.people.sponsor.subject);
    const edit = `/initiatives/${world.targetId}/edit`;
    const french = await web.page(edit, { cookie });
    expect(french.status).toBe(409);
    expect(french.text).toContain('Ce brouillon ne peut plus être modifié (état actuel de l’initiative\u00a0: «\u00a0ouverte aux signatures\u00a0»).');
    expect(french.html).toContain('<title>Erreur\u00a0: Modifier le brouillon\u00a0: Des rues aux écoles · ');
    expect(french.html).not.toContain('name="title"');
    expect(french.html).not.toContain(`action="${edit}"`);
    expect(french.html).toContain(`href="/initiatives/${world.targetId}/manage"`);

    const english = await web.page(edit, { cookie, lang: 'en' });
    expect(english.status).toBe(409);
    expect(english.text).toContain('This draft can no longer be edited (the initiative is now “open for signatures”).');
    expect(english.html).toMatch(new RegExp(`<a class="button" href="/initiatives/${world.targetId}/manage">Sponsor(&#39;|')s dashboard</a>`));
    expect(english.html).not.toContain('name="title"');

    // A draft's form is still there for its sponsor.
    const draft = await web.page(`/initiatives/${world.otherDraftId}/edit`, { cookie: await web.sessionFor(world.people.otherSponsor.subject) });
    expect(draft.status).toBe(200);
    expect(draft.html).toContain('name="title"');
  });
});
