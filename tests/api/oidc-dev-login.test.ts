import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevIdentityProvider } from '../../src/features/auth/dev-provider';
import { createTestEngine, type TestEngine } from '../support/engine';
import { finishBrowserLogin, startBrowserLogin } from '../support/oidc-engine';
import { parisJurisdiction } from '../support/paris';

/** The person at the development provider's page: a ready-made identity's button, or the free form. */
type Choice = { identity: string } | { givenNames: string; familyName: string; birthdate: string; acr: string };

async function chooseAtDevProvider(engine: TestEngine, authorizationUrl: string, choice: Choice) {
  const url = new URL(authorizationUrl);
  const page = await engine.app.request(url.pathname + url.search);
  expect(page.status).toBe(200);
  const form = new URLSearchParams(url.searchParams);
  for (const [name, value] of Object.entries(choice)) form.set(name, value);
  const chosen = await engine.app.request('/dev/oidc/authorize', { method: 'POST', body: form });
  expect(chosen.status).toBe(303);
  return new URL(chosen.headers.get('location')!);
}

async function devLogin(engine: TestEngine, choice: Choice, options: { returnTo?: string; accept?: string } = {}) {
  const start = await startBrowserLogin(engine, options.returnTo ?? '/');
  expect(start.res.status).toBe(302);
  const callback = await chooseAtDevProvider(engine, start.location!, choice);
  return { ...(await finishBrowserLogin(engine, callback, start.flowCookie, options.accept)), authorizationUrl: new URL(start.location!) };
}

/** `npm start` with no configuration: the same login code against the built-in development provider. */
describe('web login with the built-in development provider', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await createTestEngine({ adminSubjects: ['dev-admin'] });
  });
  afterAll(() => engine.close());

  it('the login page offers the ready-made identities as buttons and a free form', async () => {
    const start = await startBrowserLogin(engine, '/');
    const url = new URL(start.location!);
    expect(url.pathname).toBe('/dev/oidc/authorize');
    const html = await (await engine.app.request(url.pathname + url.search)).text();
    for (const key of ['dev-admin', 'dev-clerk', 'elodie', 'karim', 'marcel', 'lucie']) expect(html).toContain(`name="identity" value="${key}"`);
    expect(html).toContain('name="givenNames"');
    expect(html).toContain('eidas1');
    // In the reader's language, as the engine's pages: French by default, as the site a newcomer comes from.
    expect(html).toContain('<html lang="fr">');
    expect(html).toContain('Qui êtes-vous\u00a0?');
    expect(html).toContain('citoyenne de 15\u00a0ans\u00a0: trop jeune pour signer');
    expect(html).toContain('<button type="submit" name="identity" value="custom">Se connecter sous cette identité</button>');
    const english = await (await engine.app.request(url.pathname + url.search, { headers: { 'accept-language': 'en-GB,en;q=0.9' } })).text();
    expect(english).toContain('<html lang="en">');
    expect(english).toContain('Who are you?');
    expect(english).toContain('citizen aged 15: too young to sign');
    // The language switch's choice wins over the browser's.
    const chosen = await (await engine.app.request(url.pathname + url.search, { headers: { 'accept-language': 'fr-FR', cookie: 'lang=en' } })).text();
    expect(chosen).toContain('Who are you?');
  });

  it('a person typed with a field wrong finds what they typed again, with the fault said', async () => {
    const start = await startBrowserLogin(engine, '/');
    const url = new URL(start.location!);
    const form = new URLSearchParams(url.searchParams);
    for (const [name, value] of Object.entries({ identity: 'custom', givenNames: 'Zoé Anaïs', familyName: '   ', birthdate: '1990-02-28', acr: 'eidas3' })) form.set(name, value);
    const refused = await engine.app.request('/dev/oidc/authorize', { method: 'POST', body: form });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain('role="alert"');
    expect(html).toContain('name="givenNames" value="Zoé Anaïs"');
    expect(html).toContain('name="birthdate" type="date" value="1990-02-28"');
    expect(html).toContain('<option selected>eidas3</option>');
    expect(html).not.toContain('<option selected>eidas2</option>');
  });

  it("the provider's pages run no script, are framed nowhere, and the page showing a minted ID token is not kept", async () => {
    const start = await startBrowserLogin(engine, '/');
    const url = new URL(start.location!);
    const form = new URLSearchParams({ givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28', acr: 'eidas2' });
    const pages = {
      login: await engine.app.request(url.pathname + url.search),
      unknownClient: await engine.app.request('/dev/oidc/authorize?client_id=other'),
      tokenForm: await engine.app.request('/dev/oidc'),
      token: await engine.app.request('/dev/oidc', { method: 'POST', body: form }),
    };
    for (const [name, res] of Object.entries(pages)) {
      expect(res.headers.get('content-type'), name).toMatch(/text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, name).toContain("default-src 'none'");
      expect(csp, name).toContain("frame-ancestors 'none'");
      expect(csp, name).not.toContain('unsafe-inline');
      // Names, birth dates, and the ID token itself: neither the back button nor a proxy shows them again.
      expect(res.headers.get('cache-control'), name).toBe('no-store');
    }
    expect(await pages.token.text()).toContain('aria-label="ID token"');
  });

  it('dev-admin logs in with a button and may create a jurisdiction with the session cookie', async () => {
    const login = await devLogin(engine, { identity: 'dev-admin' }, { returnTo: '/clerk' });
    expect(login.status).toBe(302);
    expect(login.location).toBe('/clerk');
    expect(login.cookie).toBeDefined();
    const created = await engine.request('POST', '/v1/jurisdictions', { headers: { cookie: login.cookie! }, body: parisJurisdiction() });
    expect(created.status).toBe(201);
    const strict = await engine.request('POST', '/v1/jurisdictions', {
      headers: { cookie: login.cookie! },
      body: parisJurisdiction({ id: 'strict', name: 'Strict', minimumAssurance: 'eidas3' }),
    });
    expect(strict.status).toBe(201);
  });

  it("acr_values asks for the minimum of the jurisdiction returnTo points at, else the lowest accepted anywhere", async () => {
    expect((await startBrowserLogin(engine, '/jurisdictions/strict')).location).toContain('acr_values=eidas3');
    expect((await startBrowserLogin(engine, '/jurisdictions/paris/roll')).location).toContain('acr_values=eidas2');
    expect((await startBrowserLogin(engine, '/')).location).toContain('acr_values=eidas2');
    expect((await startBrowserLogin(engine, '/jurisdictions/unknown')).location).toContain('acr_values=eidas2');
  });

  it('a free-form identity below the minimum is refused; the strong one passes and can sign up to the jurisdiction', async () => {
    const weak = await devLogin(engine, { givenNames: 'Marcel', familyName: 'Faible', birthdate: '1960-01-01', acr: 'eidas1' });
    expect(weak.status).toBe(403);
    expect(weak.body).toContain('«\u00a0substantiel\u00a0»');
    expect(weak.cookie).toBeUndefined();

    const strongEnough = await devLogin(engine, { identity: 'karim' }, { returnTo: '/jurisdictions/strict' });
    expect(strongEnough.status).toBe(302);
    const notEnough = await devLogin(engine, { identity: 'elodie' }, { returnTo: '/jurisdictions/strict', accept: 'application/json' });
    expect(notEnough.status).toBe(403);
    expect(JSON.parse(notEnough.body)).toMatchObject({ type: '/problems/insufficient-assurance', required: 'eidas3', actual: 'eidas2' });
  });

  it('returnTo must be a path on this site: other sites are refused before anything starts', async () => {
    for (const returnTo of ['//evil.example', 'https://evil.example/', '/\\evil.example', '\\\\evil.example', 'javascript:alert(1)', 'evil', '/\t/evil.example']) {
      const res = await engine.app.request(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
      expect(res.status, returnTo).toBe(400);
      expect((await res.json()).errors[0].field).toBe('query.returnTo');
      expect(res.headers.getSetCookie()).toEqual([]);
    }
  });

  it('the callback needs the flow cookie of this browser and the matching state', async () => {
    const start = await startBrowserLogin(engine, '/');
    const callback = await chooseAtDevProvider(engine, start.location!, { identity: 'elodie' });

    const noCookie = await finishBrowserLogin(engine, callback, undefined, 'application/json');
    expect(noCookie.status).toBe(401);
    expect(JSON.parse(noCookie.body).type).toBe('/problems/login-failed');
    // For a browser, a page in the reader's language (the language switch's cookie first), styled, in its words only.
    const page = await finishBrowserLogin(engine, callback, undefined);
    expect(page.status).toBe(401);
    expect(page.body).toContain('<html lang="fr">');
    expect(page.body).toContain('La connexion a pris trop de temps, ou le navigateur n’a pas gardé son cookie. Recommencez la connexion.');
    expect(page.body).not.toContain('took too long');
    expect(page.body).toContain('href="/assets/site.css"');
    const english = await finishBrowserLogin(engine, callback, 'lang=en');
    expect(english.body).toContain('<html lang="en">');
    expect(english.body).toContain('The login took too long, or the browser did not keep its cookie. Start the login again.');

    // Another browser's flow (its own state) cannot finish this login.
    const other = await startBrowserLogin(engine, '/');
    const crossed = await finishBrowserLogin(engine, callback, other.flowCookie, 'text/html');
    expect(crossed.status).toBe(401);
    expect(crossed.contentType).toMatch(/text\/html/);
    expect(crossed.cookie).toBeUndefined();
  });

  it('the token endpoint checks PKCE and spends each code once', async () => {
    const start = await startBrowserLogin(engine, '/');
    const callback = await chooseAtDevProvider(engine, start.location!, { identity: 'elodie' });
    const code = callback.searchParams.get('code')!;
    const exchange = (verifier: string) =>
      engine.app.request('/dev/oidc/token', {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'civic-engine-dev', redirect_uri: 'http://engine.test/auth/callback', code_verifier: verifier }),
      });
    const wrong = await exchange('x'.repeat(43));
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });
    // The failed attempt spent the code: the real client cannot use it either.
    const late = await finishBrowserLogin(engine, callback, start.flowCookie, 'application/json');
    expect(late.status).toBe(401);
  });

  it('the authorize endpoint never redirects to an unregistered address and requires PKCE', async () => {
    const start = await startBrowserLogin(engine, '/');
    const url = new URL(start.location!);
    url.searchParams.set('redirect_uri', 'https://evil.example/callback');
    const evil = await engine.app.request(url.pathname + url.search);
    expect(evil.status).toBe(400);
    expect(evil.headers.get('location')).toBeNull();

    const noPkce = new URL(start.location!);
    noPkce.searchParams.delete('code_challenge');
    const refused = await engine.app.request(noPkce.pathname + noPkce.search);
    expect(refused.status).toBe(303);
    const back = new URL(refused.headers.get('location')!);
    expect(back.origin + back.pathname).toBe('http://engine.test/auth/callback');
    expect(back.searchParams.get('error')).toBe('invalid_request');
    // Back at the engine, the provider's refusal is a failed login that says what the provider said.
    const failed = await finishBrowserLogin(engine, back, start.flowCookie, 'application/json');
    expect(failed.status).toBe(401);
    expect(JSON.parse(failed.body).detail).toMatch(/invalid_request/);
  });

  it('logout clears the session cookie; a cross-site logout is refused', async () => {
    const login = await devLogin(engine, { identity: 'elodie' });
    const json = await engine.app.request('/auth/logout', { method: 'POST', headers: { cookie: login.cookie!, accept: 'application/json' } });
    expect(json.status).toBe(204);
    expect(json.headers.getSetCookie().find((c) => c.startsWith('session='))).toMatch(/Max-Age=0/);

    // A browser posts the logout form of a page, with that page's form token.
    const page = await engine.app.request('/', { headers: { cookie: login.cookie! } });
    const csrf = /csrf=([A-Za-z0-9_-]{43})/.exec(page.headers.get('set-cookie') ?? '')![1]!;
    const form = await engine.app.request('/auth/logout', {
      method: 'POST',
      headers: { cookie: `${login.cookie!}; csrf=${csrf}`, origin: 'http://engine.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${csrf}`,
    });
    expect(form.status).toBe(303);
    expect(form.headers.get('location')).toBe('/');

    const crossSite = await engine.app.request('/auth/logout', { method: 'POST', headers: { cookie: login.cookie!, origin: 'https://evil.example', accept: 'application/json' } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.getSetCookie()).toEqual([]);
  });

  it('POST /v1/session keeps working with ID tokens of the development provider', async () => {
    const minted = await engine.request('POST', '/dev/oidc/tokens', { body: { givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28' } });
    expect(minted.status).toBe(201);
    const session = await engine.request('POST', '/v1/session', { body: { idToken: minted.body.id_token } });
    expect(session.status).toBe(201);
    expect(session.body.subject).toBe(minted.body.sub);
  });
});

describe('cookies of an engine served over https', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    const devProvider = await createDevIdentityProvider({ issuer: 'https://engine.example/dev/oidc' });
    engine = await createTestEngine({ config: { publicUrl: 'https://engine.example' }, deps: { devProvider, identity: devProvider.verifier } });
  });
  afterAll(() => engine.close());

  it('are Secure, HttpOnly and SameSite=Lax', async () => {
    const login = await devLogin(engine, { identity: 'elodie' });
    expect(login.status).toBe(302);
    const session = login.setCookies.find((c) => c.startsWith('__Host-session='))!;
    expect(session).toMatch(/; Path=\/;/);
    expect(session).toMatch(/; Secure/);
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Lax/);
    const start = await startBrowserLogin(engine, '/');
    expect(start.res.headers.getSetCookie()[0]).toMatch(/^__Host-login_flow=.*; Path=\/;.*; Secure/);
  });

  it('finish a login only with the __Host- flow cookie: another host of the site cannot log a person in as itself', async () => {
    // evil.example.org starts a login of its own, stops at the callback, and plants its flow cookie and sends a
    // person to that callback address: state and nonce would match, and the person would be logged in as the attacker.
    const start = await startBrowserLogin(engine, '/');
    const callback = await chooseAtDevProvider(engine, start.location!, { identity: 'karim' });
    const planted = await finishBrowserLogin(engine, callback, start.flowCookie!.replace(/^__Host-/, ''));
    expect(planted.status).toBe(401);
    expect(planted.cookie).toBeUndefined();
    expect(planted.body).toContain('Recommencez la connexion');
  });

  it('log in only by a __Host- session cookie: another host of the site cannot plant its own session', async () => {
    // evil.example.org logs in itself, then sets `session=<its session>; Domain=…; Path=/initiatives` for its neighbours'
    // browsers: a person would draft or sign there as the attacker without knowing.
    const attacker = await devLogin(engine, { identity: 'karim' });
    const token = attacker.setCookies.find((c) => c.startsWith('__Host-session='))!.split(';')[0]!.split('=')[1]!;
    const planted = await engine.app.request('/initiatives/new', { headers: { cookie: `session=${token}` } });
    expect(planted.status).toBe(303);
    expect(planted.headers.get('location')).toMatch(/^\/auth\/login\?/);
    const own = await engine.app.request('/initiatives/new', { headers: { cookie: `__Host-session=${token}` } });
    expect(own.status).toBe(200);

    // Logging out clears that same cookie.
    const page = await engine.app.request('/', { headers: { cookie: `__Host-session=${token}` } });
    const csrf = /__Host-csrf=([A-Za-z0-9_-]{43})/.exec(page.headers.get('set-cookie') ?? '')![1]!;
    const out = await engine.app.request('/auth/logout', {
      method: 'POST',
      headers: { cookie: `__Host-session=${token}; __Host-csrf=${csrf}`, origin: 'https://engine.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${csrf}`,
    });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().find((c) => c.startsWith('__Host-session='))).toMatch(/Max-Age=0; Path=\/;.*Secure/);
  });
});
