import { sql } from 'drizzle-orm';
import { EncryptJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/query';
import { keyDerivedFrom } from '../../src/platform/keys';
import { createTestEngine, type TestEngine } from '../support/engine';
import { finishBrowserLogin, startBrowserLogin } from '../support/oidc-engine';

/** A web login at the development provider as one of its ready-made identities; the session cookie it leaves. */
async function devLogin(engine: TestEngine, identity: string): Promise<string> {
  const start = await startBrowserLogin(engine, '/me');
  const url = new URL(start.location!);
  const form = new URLSearchParams(url.searchParams);
  form.set('identity', identity);
  const chosen = await engine.app.request('/dev/oidc/authorize', { method: 'POST', body: form });
  expect(chosen.status).toBe(303);
  const login = await finishBrowserLogin(engine, new URL(chosen.headers.get('location')!), start.flowCookie);
  expect(login.status).toBe(302);
  return login.cookie!;
}

const page = (engine: TestEngine, path: string, cookie: string) =>
  engine.app.request(path, { headers: { cookie, accept: 'text/html' }, redirect: 'manual' });

/** A session as the engine issued them before sessions had an id (no `jti`). */
async function sessionWithoutId(engine: TestEngine, subject: string): Promise<string> {
  const iat = Math.floor(engine.clock.now().getTime() / 1000);
  return new EncryptJWT({ idp: engine.devProvider.issuer, acr: 'eidas2' })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: 'session+jwt' })
    .setSubject(subject)
    .setAudience('session')
    .setIssuer(engine.deps.config.publicUrl)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .encrypt(keyDerivedFrom(engine.deps.keys.pii.key, 'civic-engine session v1'));
}

const endedSessions = async (engine: TestEngine) =>
  rowsOf<{ n: number }>(await engine.db.db.execute(sql`select count(*)::int as n from revoked_sessions`))[0]!.n;

describe('logging out ends the session on the server', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(() => engine.close());

  it('a copy of the session cookie kept from before the logout is a logged-out visitor, and is cleared', async () => {
    const cookie = await devLogin(engine, 'elodie');
    const before = await page(engine, '/me', cookie);
    expect(before.status).toBe(200);
    expect(await before.text()).toContain('action="/auth/logout"');
    expect((await engine.request('GET', '/v1/webhooks', { headers: { cookie } })).status).toBe(200);

    // The page's logout form, as a browser posts it: with the page's form token.
    const csrf = /csrf=([A-Za-z0-9_-]{43})/.exec(before.headers.get('set-cookie') ?? '')?.[1];
    expect(csrf).toBeDefined();
    const logout = await engine.app.request('/auth/logout', {
      method: 'POST',
      headers: { cookie: `${cookie}; csrf=${csrf}`, origin: 'http://engine.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${csrf}`,
    });
    expect(logout.status).toBe(303);

    // The browser forgot the cookie; a copy of it (a proxy's log, a stolen cookie) does not log anyone in.
    const after = await page(engine, '/me', cookie);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/auth/login?returnTo=%2Fme');
    expect(after.headers.getSetCookie().find((c) => c.startsWith('session='))).toMatch(/Max-Age=0/);
    const home = await page(engine, '/', cookie);
    expect(home.status).toBe(200);
    expect(await home.text()).not.toContain('action="/auth/logout"');
    expect((await engine.request('GET', '/v1/webhooks', { headers: { cookie } })).status).toBe(401);

    // Logging out again with the copy, or with no session at all, still succeeds.
    expect((await engine.app.request('/auth/logout', { method: 'POST', headers: { cookie, accept: 'application/json' } })).status).toBe(204);
    expect((await engine.app.request('/auth/logout', { method: 'POST', headers: { accept: 'application/json' } })).status).toBe(204);
  });

  it('an API session token ended by DELETE /v1/session is refused with 401 as an expired one', async () => {
    const idToken = await engine.tokenFor({ givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28' });
    const session = await engine.request('POST', '/v1/session', { token: idToken });
    expect(session.status).toBe(201);
    const { token } = session.body;
    expect((await engine.request('GET', '/v1/webhooks', { token })).status).toBe(200);

    const ended = await engine.request('DELETE', '/v1/session', { token });
    expect(ended.status).toBe(204);

    const refused = await engine.request('GET', '/v1/webhooks', { token });
    expect(refused.status).toBe(401);
    expect(refused.contentType).toBe('application/problem+json');
    expect(refused.body.type).toBe('/problems/invalid-token');
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    // Ending it again is refused the same way: the token no longer stands for anyone.
    expect((await engine.request('DELETE', '/v1/session', { token })).status).toBe(401);

    // Another session of the same person is another session: it still works.
    const other = await engine.request('POST', '/v1/session', { token: idToken });
    expect((await engine.request('GET', '/v1/webhooks', { token: other.body.token })).status).toBe(200);
  });

  it('DELETE /v1/session without a session says what is wrong', async () => {
    const none = await engine.request('DELETE', '/v1/session');
    expect(none.status).toBe(401);
    expect(none.contentType).toBe('application/problem+json');
    const idToken = await engine.request('DELETE', '/v1/session', { token: await engine.tokenFor({ givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28' }) });
    expect(idToken.status).toBe(401);
    expect(idToken.body.detail).toMatch(/ID token/);
  });

  it('a session issued before sessions had an id lasts until it expires: the web logout succeeds, the API says it cannot end it', async () => {
    const token = await sessionWithoutId(engine, 'older-session');
    expect((await engine.request('GET', '/v1/webhooks', { token })).status).toBe(200);
    const logout = await engine.app.request('/auth/logout', { method: 'POST', headers: { cookie: `session=${token}`, accept: 'application/json' } });
    expect(logout.status).toBe(204);
    const ended = await engine.request('DELETE', '/v1/session', { token });
    expect(ended.status).toBe(409);
    expect(ended.contentType).toBe('application/problem+json');
    expect(ended.body.type).toBe('/problems/session-without-id');
    expect((await engine.request('GET', '/v1/webhooks', { token })).status).toBe(200);
  });

  it('ended sessions are forgotten once their tokens have expired', async () => {
    // Weeks after the sessions ended above: the first sweep forgets them.
    engine.clock.set('2027-03-01T10:00:00Z');
    await engine.scheduler.tick();
    expect(await endedSessions(engine)).toBe(0);
    const session = await engine.request('POST', '/v1/session', { token: await engine.subjectToken('sweep-subject') });
    expect((await engine.request('DELETE', '/v1/session', { token: session.body.token })).status).toBe(204);
    expect(await endedSessions(engine)).toBe(1);

    // Within the token's hour the row stays, and the token stays refused.
    engine.clock.advance(30 * 60_000);
    await engine.scheduler.tick();
    expect((await engine.request('GET', '/v1/webhooks', { token: session.body.token })).status).toBe(401);
    expect(await endedSessions(engine)).toBe(1);

    engine.clock.advance(2 * 3600_000);
    await engine.scheduler.tick();
    expect(await endedSessions(engine)).toBe(0);
  });
});

describe('a page whose session cannot be checked', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(() => engine.close());

  it('is still a page, not a problem document, when the ended sessions cannot be read', async () => {
    const cookie = await devLogin(engine, 'elodie');
    expect((await page(engine, '/', cookie)).status).toBe(200);
    // The ended sessions out of reach: every session cookie is refused until they are back.
    await engine.db.db.execute(sql`alter table revoked_sessions rename to revoked_sessions_away`);
    try {
      const res = await page(engine, '/', cookie);
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toContain('<html lang="fr"');
      expect(html).toContain('<p><a href="/">');
      // The person is not logged out for it: the cookie stays.
      expect(res.headers.getSetCookie().some((c) => c.startsWith('session='))).toBe(false);
      // The error page comes with its stylesheet and script: they are the same for everyone, no session is checked for them.
      for (const asset of ['/assets/site.css', '/assets/app.js', '/assets/icon.svg']) expect((await engine.app.request(asset, { headers: { cookie } })).status, asset).toBe(200);
      // The API answers its problem document, as before.
      const api = await engine.request('GET', '/v1/webhooks', { headers: { cookie } });
      expect(api.status).toBe(500);
      expect(api.contentType).toBe('application/problem+json');
    } finally {
      await engine.db.db.execute(sql`alter table revoked_sessions_away rename to revoked_sessions`);
    }
    expect((await page(engine, '/', cookie)).status).toBe(200);
  });

  it('is a page too when the database fails after the session was checked, while the error page is being made', async () => {
    const cookie = await devLogin(engine, 'elodie');
    // Who is a clerk is read for every page, the error page included.
    await engine.db.db.execute(sql`alter table jurisdiction_clerks rename to jurisdiction_clerks_away`);
    try {
      const res = await page(engine, '/', cookie);
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('<p><a href="/">');
    } finally {
      await engine.db.db.execute(sql`alter table jurisdiction_clerks_away rename to jurisdiction_clerks`);
    }
    expect((await page(engine, '/', cookie)).status).toBe(200);
  });
});
