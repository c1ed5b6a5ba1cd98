import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from '../support/world';
import { browserRequests } from './browser-requests';

/** What the pages say, in both languages: typography, and messages in the reader's language rather than the API's. */
describe('web wording', () => {
  let world: World;
  let web: ReturnType<typeof browserRequests>;
  let rejectedId: string;

  beforeAll(async () => {
    world = await createWorld();
    web = browserRequests(world.engine);
    // An agenda initiative of the citizen, declared inadmissible with a reason.
    const { engine, tokens } = world;
    const draft = await engine.request('POST', '/v1/initiatives', {
      token: tokens.citizen,
      body: { jurisdictionId: 'paris', kind: 'agenda', title: 'Un banc par rue', summary: 'Des bancs.', text: 'Installer un banc dans chaque rue.' },
    });
    rejectedId = draft.body.id;
    expect((await engine.request('POST', `/v1/initiatives/${rejectedId}/committee`, { token: tokens.otherSponsor, body: { code: draft.body.committeeCode } })).status).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${rejectedId}/submit`, { token: tokens.citizen })).status).toBe(200);
    const rejected = await engine.request('POST', `/v1/initiatives/${rejectedId}/review`, { token: tokens.clerk, body: { decision: 'reject', reason: 'Hors compétence.' } });
    expect(rejected.status).toBe(200);
  });
  afterAll(() => world?.engine.close());

  it('puts a no-break space before a colon in French and none in English; the home page title says the site name once', async () => {
    const sponsor = await web.sessionFor(world.people.sponsor.subject);
    const fr = await web.page(`/initiatives/${world.targetId}`);
    expect(fr.text).toContain('Seuil de signatures\u00a0: 1 / 5');
    expect(fr.text).toContain('premier palier\u00a0: pas encore atteint');
    expect(fr.text).not.toMatch(/\p{L}:/u);

    const en = await web.page(`/initiatives/${world.targetId}`, { lang: 'en' });
    expect(en.text).toContain('Signature threshold: 1 / 5');
    expect(en.text).toContain('premier palier: not reached yet');
    const rejected = await web.page(`/initiatives/${rejectedId}`, { lang: 'en' });
    expect(rejected.text).toContain('Reason: Hors compétence.');
    expect((await web.page(`/initiatives/${rejectedId}`)).text).toContain('Motif\u00a0: Hors compétence.');
    const manage = await web.page(`/initiatives/${world.targetId}/manage`, { lang: 'en', cookie: sponsor });
    expect(manage.status).toBe(200);
    expect(manage.text).toMatch(/Time left: \d+ days left to sign/);
    const transparency = await web.page(`/initiatives/${world.targetId}/transparency`, { lang: 'en' });
    expect(transparency.text).toContain('Public count (signatures minus withdrawals): 1');
    for (const { text } of [en, rejected, manage, transparency]) expect(text).not.toMatch(/\s:/);

    expect((await web.page('/')).html).toContain('<title>Initiatives citoyennes</title>');
    expect((await web.page(`/initiatives/${world.targetId}`)).html).toContain('<title>Des rues aux écoles · Initiatives citoyennes</title>');
  });

  it('counts the days left to sign the same way on the public page, the list and the sponsor’s dashboard', async () => {
    // Opened just now for 270 days (the referendum rules of Paris).
    const sponsor = await web.sessionFor(world.people.sponsor.subject);
    const expected = 'Encore 270 jours pour signer.';
    expect((await web.page(`/initiatives/${world.targetId}`)).text).toContain(expected);
    expect((await web.page('/')).text).toContain(expected);
    expect((await web.page(`/initiatives/${world.targetId}/manage`, { cookie: sponsor })).text).toContain(expected);
  });
});
