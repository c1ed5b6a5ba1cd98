import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toProblem } from '../../src/app';
import { createWorld, type World } from '../support/world';

/**
 * Odd input a client may send by mistake, where the fuzz suite only asks for "no 5xx": each is a
 * 400 problem that names the field at fault, and changes nothing.
 */
describe('odd input is refused by name', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld({ deps: { progressStream: { mode: 'snapshot' } } });
  });
  afterAll(() => world.engine.close());

  const refusedNaming = (res: { status: number; contentType: string | null; body: any }, field: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.type).toBe('/problems/validation');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  };

  it('refuses a page cursor the API did not write, whatever date or id it holds', async () => {
    const cursor = (at: unknown, id: unknown = '0192f0c4-6f7d-7a51-9c35-2b1f6c0c7e11') => Buffer.from(JSON.stringify([at, id])).toString('base64url');
    const forged = [
      cursor('+010000-01-01T00:00:00.000Z'), // a year PostgreSQL reads as a time zone displacement
      cursor('0000-01-01T00:00:00.000Z'), // no year 0 in PostgreSQL
      cursor('2027-01-15T10:00:00Z'), // a date, but not as the API writes it
      cursor(0), // a number, not a date
      cursor('2027-01-15T10:00:00.000Z', '-'.repeat(36)), // 36 characters, not a UUID
    ];
    for (const path of ['/v1/initiatives', '/v1/referendum-items']) {
      for (const c of forged) refusedNaming(await world.engine.request('GET', `${path}?cursor=${c}`), 'query.cursor');
    }
    // A cursor the API did write still pages (the other sponsor sees their draft and the open target).
    const token = world.tokens.otherSponsor;
    const first = await world.engine.request('GET', '/v1/initiatives?limit=1', { token });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const next = await world.engine.request('GET', `/v1/initiatives?limit=1&cursor=${first.body.nextCursor}`, { token });
    expect(next.status).toBe(200);
    expect(next.body.items[0].id).not.toBe(first.body.items[0].id);
  });

  it('refuses times PostgreSQL cannot take, by field, and leaves the initiative as it was', async () => {
    const { engine } = world;
    const sponsor = world.tokens.otherSponsor;
    const draft = await engine.request('GET', `/v1/initiatives/${world.otherDraftId}`, { token: sponsor });
    expect((await engine.request('POST', `/v1/initiatives/${world.otherDraftId}/committee`, { token: world.tokens.citizen, body: { code: draft.body.committeeCode } })).status).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${world.otherDraftId}/submit`, { token: sponsor })).status).toBe(200);
    const review = (body: object) => engine.request('POST', `/v1/initiatives/${world.otherDraftId}/review`, { token: world.tokens.clerk, body: { decision: 'open', ...body } });
    // 23:59:59 at UTC−14 is in year 10000 (it was a 500).
    refusedNaming(await review({ closesAt: '9999-12-31T23:59:59-14:00' }), 'body.closesAt');
    refusedNaming(await review({ opensAt: '0000-06-01T00:00:00Z', closesAt: '2027-06-30T22:00:00Z' }), 'body.opensAt');
    expect((await engine.request('GET', `/v1/initiatives/${world.otherDraftId}`)).body.status).toBe('submitted');
    expect((await review({ closesAt: '2027-06-30T22:00:00Z' })).status).toBe(200);

    const history = (query: string) => engine.request('GET', `/v1/initiatives/${world.targetId}/progress/history?${query}`);
    refusedNaming(await history('from=9999-12-30T00:00:00Z&to=9999-12-31T23:00:00Z'), 'query.from'); // was a 500
    refusedNaming(await history('from=0000-01-01T00:00:00Z&to=0000-01-02T00:00:00Z'), 'query.to');
    // Whatever time still reaches the database out of its range is the request's fault, not the server's.
    expect(toProblem(Object.assign(new Error('time zone displacement out of range'), { code: '22009' })).status).toBe(400);
  });
});
