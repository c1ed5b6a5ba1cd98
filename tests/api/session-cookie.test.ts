import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSession } from '../../src/features/auth/session';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { browserRequests } from '../web/browser-requests';

describe('the session cookie', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(() => engine.close());

  it('an expired session cookie is a logged-out visitor, and the cookie is cleared', async () => {
    const verified = await engine.deps.identity.verify(await engine.tokenFor({ givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28' }));
    const { token } = await issueSession(engine.deps, verified);
    engine.clock.advance(2 * 3600 * 1000);
    const res = await engine.request('GET', '/v1/initiatives', { headers: { cookie: `session=${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/^session=;/);
  });

  it('the same expired token sent as a bearer token is refused with 401', async () => {
    engine.clock.set('2027-01-15T10:00:00Z');
    const verified = await engine.deps.identity.verify(await engine.tokenFor({ givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28' }));
    const { token } = await issueSession(engine.deps, verified);
    engine.clock.advance(2 * 3600 * 1000);
    const res = await engine.request('GET', '/v1/initiatives', { token });
    expect(res.status).toBe(401);
    expect(res.contentType).toBe('application/problem+json');
  });

  it('the session cookie does not act for a page of another origin of the same site (a sibling subdomain)', async () => {
    engine.clock.set('2027-01-15T10:00:00Z');
    expect((await engine.request('POST', '/v1/jurisdictions', { token: await engine.adminToken(), body: parisJurisdiction() })).status).toBe(201);
    const cookie = await browserRequests(engine).sessionFor('sponsor-cookie', { givenNames: 'Nadia', familyName: 'Roux', birthdate: '1984-05-17' });
    const draft = await engine.request('POST', '/v1/initiatives', { headers: { cookie }, body: REFERENDUM_DRAFT });
    expect(draft.status).toBe(201);
    const withdraw = `/v1/initiatives/${draft.body.id}/withdraw`;

    // What fetch(url, {method: 'POST', credentials: 'include', mode: 'no-cors'}) on blog.example.org sends: no body, no
    // preflight, and the SameSite=Lax cookie, the two origins being one site.
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://blog.engine.test', 'sec-fetch-site': 'same-site' },
      { origin: 'https://blog.engine.test' },
      { 'sec-fetch-site': 'cross-site' },
    ]) {
      const res = await engine.request('POST', withdraw, { headers: { cookie, ...headers } });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.contentType).toBe('application/problem+json');
    }
    expect((await engine.request('GET', `/v1/initiatives/${draft.body.id}`, { headers: { cookie } })).body.status).toBe('draft');

    // A bearer token is never sent by the browser on its own: it is accepted from anywhere.
    const token = await engine.tokenFor({ givenNames: 'Nadia', familyName: 'Roux', birthdate: '1984-05-17' });
    expect((await engine.request('GET', '/v1/webhooks', { token, headers: { origin: 'https://blog.engine.test', 'sec-fetch-site': 'same-site' } })).status).toBe(200);
    // The engine's own pages, and clients that are no browser, still use the cookie.
    expect((await engine.request('GET', `/v1/initiatives/${draft.body.id}/dashboard`, { headers: { cookie, 'sec-fetch-site': 'same-site' } })).status).toBe(200);
    const own = await engine.request('POST', withdraw, { headers: { cookie, origin: 'http://localhost', 'sec-fetch-site': 'same-origin' } });
    expect(own.status).toBe(200);
    expect(own.body.status).toBe('withdrawn');
  });
});
