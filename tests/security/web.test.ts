import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatures } from '../../src/db/schema';
import { createTestEngine, type TestEngine } from '../support/engine';
import { citizen, openInitiativeOver } from '../support/process';
import { createWorld, type World } from '../support/world';

/** Cookie-authenticated requests (the web pages) against cross-site forgery, headers, redirects. */
describe('web: CSRF, security headers, redirects', () => {
  let world: World;
  let session: string;
  const person = { givenNames: 'Solène', familyName: 'Navarre', birthdate: '1987-12-12' };
  const countRows = async () => (await world.engine.db.db.select({ id: signatures.id }).from(signatures)).length;

  beforeAll(async () => {
    world = await createWorld();
    const exchanged = await world.engine.request('POST', '/v1/session', { token: await world.engine.tokenFor(person) });
    session = exchanged.body.token;
  });
  afterAll(() => world.engine.close());

  const post = (path: string, body: string, cookie: string, type = 'application/x-www-form-urlencoded', origin = 'https://evil.example') =>
    world.engine.app.request(path, { method: 'POST', headers: { cookie, 'content-type': type, origin }, body });

  it('refuses a cookie-authenticated form post without the form token, or with one from another browser', async () => {
    const before = await countRows();
    const page = `/initiatives/${world.targetId}/sign`;
    expect((await post(page, 'district=75111&consent=yes', `session=${session}`)).status).toBe(403);
    const forged = await post(page, `district=75111&consent=yes&_csrf=${'A'.repeat(43)}`, `session=${session}; csrf=${'B'.repeat(43)}`);
    expect(forged.status).toBe(403);
    expect(await countRows()).toBe(before);

    // The same post from the engine's own page, with its token, goes through.
    const form = await world.engine.app.request(page, { headers: { cookie: `session=${session}` } });
    expect(form.status).toBe(200);
    const csrf = /csrf=([A-Za-z0-9_-]{43})/.exec(form.headers.get('set-cookie') ?? '')?.[1];
    expect(csrf).toBeDefined();
    // Even with the right token, another site's page is refused by its Origin.
    expect((await post(page, `district=75111&consent=yes&_csrf=${csrf}`, `session=${session}; csrf=${csrf}`)).status).toBe(403);
    expect(await countRows()).toBe(before);
    const genuine = await post(page, `district=75111&consent=yes&_csrf=${csrf}`, `session=${session}; csrf=${csrf}`, undefined, 'http://engine.test');
    expect([200, 303]).toContain(genuine.status);
    expect(await countRows()).toBe(before + 1);
  });

  it('does not let a cross-site form reach the JSON API with the session cookie', async () => {
    const other = await world.engine.request('POST', '/v1/session', { token: await world.engine.tokenFor({ ...person, givenNames: 'Maëlys' }) });
    const cookie = `session=${other.body.token}`;
    const before = await countRows();
    const api = `/v1/initiatives/${world.targetId}/signatures`;
    // What an HTML form on another site can send: urlencoded, multipart or text/plain bodies.
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'district=75111&consent=true'],
      ['text/plain', '{"district":"75111","consent":true}'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="district"\r\n\r\n75111\r\n--x--\r\n'],
    ] as const) {
      const res = await post(api, body, cookie, type);
      expect(res.status, type).toBeGreaterThanOrEqual(400);
      expect(res.status, type).toBeLessThan(500);
    }
    expect(await countRows()).toBe(before);
  });

  it('logs out only on the logout form of its own pages, with the form token', async () => {
    const page = await world.engine.app.request('/me', { headers: { cookie: `session=${session}` } });
    const csrf = /csrf=([A-Za-z0-9_-]{43})/.exec(page.headers.get('set-cookie') ?? '')?.[1];
    expect(await page.text()).toContain(`name="_csrf" value="${csrf}"`);
    const cookie = `session=${session}; csrf=${csrf}`;
    const logout = (headers: Record<string, string>, body: string) =>
      world.engine.app.request('/auth/logout', { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers }, body });
    const clearsSession = (res: Response) => res.headers.getSetCookie().some((c) => c.startsWith('session=') && /Max-Age=0/.test(c));
    // SameSite=Lax keeps the session cookie off another page's post, not its clearing off the answer. A sibling
    // subdomain's post redirected here says `Origin: null` and is same-site; a browser without Sec-Fetch-Site says only `Origin: null`.
    const attempts: Record<string, string>[] = [{ origin: 'null', 'sec-fetch-site': 'same-site' }, { origin: 'null' }, { origin: 'http://engine.test', 'sec-fetch-site': 'same-origin' }];
    for (const headers of attempts) {
      const forged = await logout(headers, '');
      expect(forged.status, JSON.stringify(headers)).toBe(403);
      expect(clearsSession(forged), JSON.stringify(headers)).toBe(false);
      expect(forged.headers.get('content-type')).toMatch(/text\/html/);
      expect(await forged.text()).toContain('Formulaire expiré');
    }
    // The form is read within the forms' size limit.
    const huge = await logout({ origin: 'http://engine.test', 'sec-fetch-site': 'same-origin' }, `_csrf=${csrf}&x=${'a'.repeat(3 * 1024 * 1024)}`);
    expect(huge.status).toBe(413);
    expect(clearsSession(huge)).toBe(false);
    const genuine = await logout({ origin: 'http://engine.test', 'sec-fetch-site': 'same-origin' }, `_csrf=${csrf}`);
    expect(genuine.status).toBe(303);
    expect(clearsSession(genuine)).toBe(true);
  });

  it('sends security headers on pages, API answers and errors', async () => {
    for (const path of ['/', `/initiatives/${world.targetId}`, '/v1/jurisdictions', '/v1/nothing-here', '/healthz']) {
      const res = await world.engine.app.request(path);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security'), path).toMatch(/max-age=\d+/);
    }
    const page = await world.engine.app.request('/');
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('never redirects off the site, whatever returnTo says', async () => {
    // Browsers drop tabs and line breaks from a Location before reading it: '/\t/evil' is '//evil' to them.
    const targets = ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '/%2F%2Fevil.example', 'https:evil.example', '/\t/evil.example', '/\n/evil.example', '/\r\n/evil.example', '/\t\\evil.example'];
    for (const target of targets) {
      // The language switch's links name the page to come back to as `back` (returnTo is ignored there).
      for (const path of [`/lang?to=en&back=${encodeURIComponent(target)}`, `/lang?to=en&returnTo=${encodeURIComponent(target)}`, `/auth/login?returnTo=${encodeURIComponent(target)}`]) {
        const res = await world.engine.app.request(path);
        const location = res.headers.get('location') ?? '';
        if (path.startsWith('/lang')) {
          expect(res.status, path).toBe(303);
          expect(location, `${path} → ${JSON.stringify(location)}`).toMatch(/^\/(?![/\\])/);
          // Where a browser goes: this site.
          expect(new URL(location, 'http://localhost').origin, `${path} → ${JSON.stringify(location)}`).toBe('http://localhost');
        } else {
          // The login goes to the identity provider, never to the given address.
          expect([302, 303, 400]).toContain(res.status);
          expect(location, `${path} → ${location}`).not.toContain('evil.example');
        }
      }
    }
  });

  it('a login asked with a return address off the site is refused with a page, in the reader language', async () => {
    const res = await world.engine.app.request(`/auth/login?returnTo=${encodeURIComponent('//evil.example/x')}`, { headers: { accept: 'text/html', 'accept-language': 'en' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('<html lang="en"');
    expect(html).toContain('role="alert"');
    // No link of the page leads off the site.
    expect([...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]).filter((href) => !/^(#|\/(?![/\\]))/.test(href!))).toEqual([]);
    // An API client still gets its problem document.
    const json = await world.engine.app.request(`/auth/login?returnTo=${encodeURIComponent('//evil.example/x')}`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(400);
    expect(json.headers.get('content-type')).toBe('application/problem+json');
  });

  it('a request refused for its own Authorization header is told so, not sent to the login', async () => {
    const html = 'text/html,application/xhtml+xml,*/*;q=0.8';
    for (const [path, authorization] of [
      ['/', 'Bearer not-a-token'],
      ['/dev/oidc/jwks', 'Bearer not-a-token'],
      // The login's start itself: sent back to it, the same header would be refused again, and again.
      ['/auth/login?returnTo=%2F', 'Bearer not-a-token'],
    ] as const) {
      const res = await world.engine.app.request(path, { headers: { accept: html, authorization } });
      expect(res.status, `${path} ${authorization}`).toBe(401);
      expect(res.headers.get('location'), path).toBeNull();
      expect(res.headers.get('content-type'), path).toBe('application/problem+json');
    }
    // Without one, a browser whose session is needed is still sent to log in.
    const page = await world.engine.app.request('/clerk', { headers: { accept: html } });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/auth/login?returnTo=%2Fclerk');
  });
});

/** A staging site behind a proxy that asks for Basic credentials: every request carries them, and they are not the engine's. */
describe('web behind a proxy asking for Basic credentials', () => {
  let world: World;
  let session: string;
  const html = 'text/html,application/xhtml+xml,*/*;q=0.8';
  const basic = 'Basic dXNlcjpwYXNz';
  beforeAll(async () => {
    world = await createWorld();
    session = (await world.engine.request('POST', '/v1/session', { token: await world.engine.tokenFor({ givenNames: 'Basile', familyName: 'Mandataire', birthdate: '1984-04-04' }) })).body.token;
  });
  afterAll(() => world.engine.close());

  it('the pages work with the session cookie, the login starts, and the API still wants its own token', async () => {
    const me = await world.engine.app.request('/me', { headers: { accept: html, authorization: basic, cookie: `session=${session}` } });
    expect(me.status).toBe(200);
    expect(await me.text()).toContain('action="/auth/logout"');
    // Without a session, a page that needs one sends the browser to log in, as without the proxy.
    const clerk = await world.engine.app.request('/clerk', { headers: { accept: html, authorization: basic } });
    expect(clerk.status).toBe(303);
    expect(clerk.headers.get('location')).toBe('/auth/login?returnTo=%2Fclerk');
    const login = await world.engine.app.request('/auth/login?returnTo=%2F', { headers: { accept: html, authorization: basic } });
    expect(login.status).toBe(302);
    expect(new URL(login.headers.get('location')!).pathname).toBe('/dev/oidc/authorize');
    // Basic credentials are nobody to the API: a protected route is refused as without any, a public one answers.
    const api = await world.engine.request('GET', '/v1/webhooks', { headers: { authorization: basic } });
    expect(api.status).toBe(401);
    expect(api.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await world.engine.request('GET', `/v1/initiatives/${world.targetId}`, { headers: { authorization: basic }, asVisitor: true })).status).toBe(200);
  });
});

/** Served over https, where the form token's cookie can be one that no other host of the site sets. */
describe('web over https: the form token cannot be planted by a sibling host', () => {
  let engine: TestEngine;
  let initiativeId: string;
  let session: string;
  beforeAll(async () => {
    engine = await createTestEngine({ config: { publicUrl: 'https://petitions.city.example' } });
    ({ initiativeId } = await openInitiativeOver({ request: engine.request, token: (p) => engine.tokenFor(p) }));
    session = (await engine.request('POST', '/v1/session', { token: await engine.tokenFor(citizen(1, 'Voisin')) })).body.token;
  });
  afterAll(() => engine.close());

  const signForm = (cookie: string, token: string, origin: string) =>
    engine.app.request(`/initiatives/${initiativeId}/sign`, {
      method: 'POST',
      headers: { cookie: `__Host-session=${session}; ${cookie}`, 'content-type': 'application/x-www-form-urlencoded', origin },
      body: `_csrf=${token}&district=75111&consent=yes`,
    });

  it('takes the token only from a __Host- cookie, which a sibling subdomain cannot set', async () => {
    const page = await engine.app.request(`/initiatives/${initiativeId}/sign`, { headers: { cookie: `__Host-session=${session}` } });
    const setCookie = page.headers.getSetCookie().find((c) => c.startsWith('__Host-csrf=')) ?? '';
    expect(setCookie).toMatch(/^__Host-csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    const token = /=([A-Za-z0-9_-]{43})/.exec(setCookie)![1]!;
    expect(await page.text()).toContain(`name="_csrf" value="${token}"`);

    // evil.city.example sets `csrf=…; Domain=city.example` and redirects its own post here: a browser without
    // Sec-Fetch-Site then says only `Origin: null`, and sends the SameSite=Lax session (the hosts are same-site).
    const planted = 'P'.repeat(43);
    const forged = await signForm(`csrf=${planted}`, planted, 'null');
    expect(forged.status).toBe(403);
    const before = await engine.app.request(`/initiatives/${initiativeId}/signature`, { headers: { cookie: `__Host-session=${session}` } });
    expect(await before.text()).not.toContain('id="receipt"');

    const genuine = await signForm(`__Host-csrf=${token}`, token, 'https://petitions.city.example');
    expect(genuine.status).toBe(303);
    expect(genuine.headers.get('location')).toMatch(/\/signature\?signed=1$/);
  });
});
