import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARISIANS, REFERENDUM_DRAFT } from '../support/paris';
import { createWorld, type World } from '../support/world';

/**
 * Signing reads the initiative and its jurisdiction from a cache shared by requests. Whatever the
 * cache holds, a signer must see the initiative as it is now: opened a moment ago, closed by another
 * engine process, or closed by its sponsor.
 */
describe('signing decides on the initiative as it is now', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(() => world.engine.close());

  const sign = (id: string, token: string, district = '75111') =>
    world.engine.request('POST', `/v1/initiatives/${id}/signatures`, { token, body: { district, consent: true } });

  it('an initiative opened right after a refused signature takes the next one', async () => {
    const { engine, tokens } = world;
    const sponsor = await engine.tokenFor({ ...PARISIANS.sofia, subject: 'sofia' });
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    expect(draft.status).toBe(201);
    const join = await engine.request('POST', `/v1/initiatives/${draft.body.id}/committee`, { token: tokens.committee, body: { code: draft.body.committeeCode } });
    expect(join.status).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor })).status).toBe(200);

    const elodie = await engine.tokenFor(PARISIANS.elodie);
    const early = await sign(draft.body.id, elodie);
    expect(early.status).toBe(409);

    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: tokens.clerk, body: { decision: 'open' } })).status).toBe(200);
    const signed = await sign(draft.body.id, elodie);
    expect(signed.status).toBe(201);
  });

  it('a close written by another engine process refuses the very next signature', async () => {
    const { engine, targetId } = world;
    // The initiative is being signed here, so this process holds it in its cache.
    expect((await sign(targetId, await engine.tokenFor(PARISIANS.karim))).status).toBe(201);

    // Another process closes it: the row changes in the database, not through this process.
    await engine.db.db.execute(sql`update initiatives set status = 'closed', closes_at = now() where id = ${targetId}`);

    const late = await sign(targetId, await engine.tokenFor(PARISIANS.lea));
    expect(late.status).toBe(409);
    const count = await engine.db.db.execute(sql`select count(*)::int as n from signatures where initiative_id = ${targetId} and status = 'counted'`);
    const rows = Array.isArray(count) ? count : (count as { rows: { n: number }[] }).rows;
    expect(Number((rows[0] as { n: number }).n)).toBe(2); // the sponsor's and Karim's, not Léa's
  });
});
