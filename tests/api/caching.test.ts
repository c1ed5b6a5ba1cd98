import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from '../support/world';

/**
 * What a caller is shown about themself (their signature, their roles, a clerk's lists) is kept by no
 * cache: not a proxy's shared one, not a shared computer's browser, whose back button or history
 * would show it to the next person. What everyone may read says how long it may be kept.
 */
describe('answers read with a token are kept by no cache', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(() => world.engine.close());

  const cacheControl = async (path: string, token?: string) =>
    (await world.engine.request('GET', path, token ? { token } : { asVisitor: true })).headers.get('cache-control');

  it("a signer's own signature, a signed-in reader's page and a clerk's lists say no-store", async () => {
    const { targetId, sponsor, tokens } = world;
    expect(await cacheControl(`/v1/initiatives/${targetId}/signatures/me`, sponsor)).toMatch(/no-store/);
    expect(await cacheControl(`/v1/initiatives/${targetId}`, sponsor)).toMatch(/no-store/);
    expect(await cacheControl(`/v1/initiatives?status=submitted`, tokens.clerk)).toMatch(/no-store/);
    expect(await cacheControl(`/v1/webhooks`, tokens.admin)).toMatch(/no-store/);
  });

  it('what anyone may read keeps its own freshness', async () => {
    const { targetId } = world;
    expect(await cacheControl(`/v1/initiatives/${targetId}`)).toBe('public, max-age=1');
    expect(await cacheControl(`/v1/initiatives/${targetId}/progress`)).toBe('public, max-age=1');
  });

  it("a sponsor's own draft, which only they may read, is kept by no cache", async () => {
    const { otherDraftId, tokens } = world;
    // Anyone else is told there is no such initiative: a shared cache must not answer them with the sponsor's copy.
    expect((await world.engine.request('GET', `/v1/initiatives/${otherDraftId}/progress`, { asVisitor: true })).status).toBe(404);
    expect(await cacheControl(`/v1/initiatives/${otherDraftId}/progress`, tokens.otherSponsor)).toBe('private, no-store');
    expect(await cacheControl(`/v1/initiatives/${otherDraftId}/progress/history`, tokens.otherSponsor)).toBe('private, no-store');
    // Once visible to everyone, the same reads keep their freshness, a token or not.
    expect(await cacheControl(`/v1/initiatives/${world.targetId}/progress`, world.sponsor)).toBe('public, max-age=1');
    expect(await cacheControl(`/v1/initiatives/${world.targetId}/progress/history`, world.sponsor)).toBe('public, max-age=5');
  });
});
