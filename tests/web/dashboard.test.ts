import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from '../support/world';
import { browserRequests } from './browser-requests';

/** The sponsor's dashboard, as the dashboard service allows it: the sponsor, the committee and the jurisdiction's clerks read it. */
describe('sponsor’s dashboard page', () => {
  let world: World;
  let web: ReturnType<typeof browserRequests>;

  beforeAll(async () => {
    world = await createWorld();
    web = browserRequests(world.engine);
  });
  afterAll(() => world?.engine.close());

  it('committee members and the jurisdiction’s clerks read it, without the sponsor’s actions; others are refused', async () => {
    const id = world.targetId;
    const manage = `/initiatives/${id}/manage`;
    const sponsor = await web.page(manage, { cookie: await web.sessionFor(world.people.sponsor.subject) });
    expect(sponsor.status).toBe(200);
    expect(sponsor.html).toContain(`href="/initiatives/${id}/close"`);

    for (const who of [world.people.committee.subject, world.people.clerk.subject]) {
      const cookie = await web.sessionFor(who);
      const read = await web.page(manage, { cookie });
      expect(read.status, who).toBe(200);
      expect(read.text, who).toContain('Tableau de bord\u00a0: Des rues aux écoles');
      expect(read.html, who).toContain('data-velocity-day=""');
      expect(read.text, who).toContain('seul le porteur ou la porteuse de l’initiative peut la déposer, clore la collecte ou la retirer.');
      expect(read.html, who).not.toContain(`href="/initiatives/${id}/close"`);
      expect(read.html, who).not.toContain(`href="/initiatives/${id}/withdraw"`);
      // The public page leads them there.
      expect((await web.page(`/initiatives/${id}`, { cookie })).html, who).toContain(`href="${manage}"`);
      // Closing stays the sponsor's.
      expect((await web.page(`/initiatives/${id}/close`, { cookie, form: {} })).status, who).toBe(403);
      expect((await web.page(`/initiatives/${id}/close`, { cookie })).status, who).toBe(403);
    }
    expect((await world.engine.request('GET', `/v1/initiatives/${id}`)).body.status).toBe('open');

    for (const who of [world.people.otherClerk.subject, world.people.citizen.subject]) {
      const cookie = await web.sessionFor(who);
      const refused = await web.page(manage, { cookie });
      expect(refused.status, who).toBe(403);
      expect(refused.text, who).toContain('Vous n’avez pas accès à cette page.');
      expect((await web.page(`/initiatives/${id}`, { cookie })).html, who).not.toContain(`href="${manage}"`);
    }
    // A draft stays hidden from whoever may not read its dashboard.
    expect((await web.page(`/initiatives/${world.otherDraftId}/manage`, { cookie: await web.sessionFor(world.people.citizen.subject) })).status).toBe(404);
  });

  it('gives the history chart’s figures in a table as well, for a sponsor who cannot see the line', async () => {
    const cookie = await web.sessionFor(world.people.sponsor.subject);
    const manage = await web.page(`/initiatives/${world.targetId}/manage`, { cookie });
    const history = /<section aria-labelledby="history-title">([\s\S]*?)<\/section>/.exec(manage.html)?.[1] ?? '';
    expect(history).toContain('<summary>Les chiffres du graphique, jour par jour, retraits déduits</summary>');
    expect(history).toMatch(/<th scope="col">Jour<\/th><th scope="col" class="num">Signatures du jour<\/th><th scope="col" class="num">Total<\/th>/);
    // The one signature of the world, on the day it was made.
    const today = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'Europe/Paris' }).format(world.engine.clock.now());
    expect(history).toContain(`<tr><th scope="row">${today}</th><td class="num">1</td><td class="num">1</td></tr>`);
    const english = await web.page(`/initiatives/${world.targetId}/manage`, { cookie, lang: 'en' });
    expect(english.html).toContain('<summary>The chart’s figures, day by day, withdrawals deducted</summary>');
  });

  it('shows the pace and the projection only while signatures come in, and the history once the collection has opened', async () => {
    const draft = await web.page(`/initiatives/${world.otherDraftId}/manage`, { cookie: await web.sessionFor(world.people.otherSponsor.subject) });
    expect(draft.status).toBe(200);
    for (const part of ['data-velocity-day=""', 'data-projection=""', 'id="history-title"']) expect(draft.html).not.toContain(part);

    const cookie = await web.sessionFor(world.people.sponsor.subject);
    const manage = `/initiatives/${world.targetId}/manage`;
    const open = await web.page(manage, { cookie });
    for (const part of ['data-velocity-day=""', 'data-projection=""', 'id="history-title"']) expect(open.html).toContain(part);

    // Closing cannot be undone: asked first (a page of its own, which a post from a dashboard of before leads to), done once confirmed.
    expect(open.html).toContain(`<a class="button danger" href="/initiatives/${world.targetId}/close" aria-describedby="close-help">`);
    const unconfirmed = await web.page(`/initiatives/${world.targetId}/close`, { cookie, form: {} });
    expect(unconfirmed.status).toBe(303);
    expect(unconfirmed.headers.get('location')).toBe(`/initiatives/${world.targetId}/close`);
    const asked = await web.page(`/initiatives/${world.targetId}/close`, { cookie });
    expect(asked.status).toBe(200);
    expect(asked.html).toContain(`<form method="post" action="/initiatives/${world.targetId}/close" class="actions">`);
    expect(asked.text).toContain('La collecte s’arrête immédiatement et ne pourra pas reprendre\u00a0: plus aucune signature en ligne ne sera acceptée.');
    expect(asked.html).toContain('name="confirm" value="yes"');
    expect((await world.engine.request('GET', `/v1/initiatives/${world.targetId}`)).body.status).toBe('open');
    // The answer needs the form token: a forged "yes" closes nothing.
    const forged = await world.engine.app.request(`/initiatives/${world.targetId}/close`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
      body: 'confirm=yes',
    });
    expect(forged.status).toBe(403);
    expect((await world.engine.request('GET', `/v1/initiatives/${world.targetId}`)).body.status).toBe('open');
    expect((await web.page(`/initiatives/${world.targetId}/close`, { cookie, form: { confirm: 'yes' } })).status).toBe(303);
    expect((await world.engine.request('GET', `/v1/initiatives/${world.targetId}`)).body.status).toBe('closed');
    // Back to the question once closed (the browser's Back button): the dashboard, saying why there is nothing left to confirm.
    const back = await web.page(`/initiatives/${world.targetId}/close`, { cookie });
    expect(back.status).toBe(409);
    expect(back.text).toContain('La collecte ne peut pas être close (état actuel de l’initiative\u00a0: «\u00a0collecte close\u00a0»).');
    expect(back.html).not.toContain('name="confirm"');
    expect(back.html).toContain('data-status');
    const closed = await web.page(manage, { cookie });
    expect(closed.html).not.toContain('data-projection=""');
    expect(closed.html).not.toContain('data-velocity-day=""');
    expect(closed.text).not.toContain('le seuil ne sera pas atteint avant la fin de la collecte');
    expect(closed.html).toContain('id="history-title"');

    // Withdrawing is asked first too, in the reader's language.
    const otherSponsor = await web.sessionFor(world.people.otherSponsor.subject);
    const withdraw = await web.page(`/initiatives/${world.otherDraftId}/withdraw`, { cookie: otherSponsor, lang: 'en' });
    expect(withdraw.status).toBe(200);
    expect(withdraw.text).toContain('The initiative is withdrawn for good');
    expect(withdraw.html).toContain('data-confirm="withdraw"');
    expect((await world.engine.request('GET', `/v1/initiatives/${world.otherDraftId}`, { token: world.tokens.otherSponsor })).body.status).toBe('draft');
  });
});
