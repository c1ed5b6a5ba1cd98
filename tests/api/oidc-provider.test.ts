import { decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestEngine } from '../support/engine';
import { browserLogin, createEngineForProvider, ENGINE_CALLBACK, finishBrowserLogin, idTokenOf, startBrowserLogin } from '../support/oidc-engine';
import { startTestProvider, type ProviderAccount, type TestProvider } from '../support/oidc-provider';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';

const ENGINE_CLIENT = { clientId: 'civic-engine', clientSecret: 'engine-secret-at-the-provider' };
const OTHER_SERVICE = { clientId: 'other-service', clientSecret: 'other-secret', redirectUri: 'http://other.test/callback' };
const PS256_SERVICE = { clientId: 'ps256-service', clientSecret: 'ps256-secret', redirectUri: 'http://ps256.test/callback' };

const person = (given_name: string, family_name: string, birthdate: string, acr: ProviderAccount['acr']): ProviderAccount => ({
  given_name,
  family_name,
  birthdate,
  birthplace: '75056',
  birthcountry: '99100',
  acr,
});

const ACCOUNTS: Record<string, ProviderAccount> = {
  admin: person('Aline', 'Administratrice', '1975-03-08', 'eidas2'),
  clerk: person('Gaspard', 'Greffier', '1968-10-21', 'eidas2'),
  sponsor: person('Anne', 'Sponsor', '1980-01-01', 'eidas2'),
  karim: person('Karim', 'Benali', '1985-11-03', 'eidas3'),
  lea: person('Léa', 'Martin', '2001-02-28', 'eidas2'),
  // All given names, as FranceConnect sends them; a birth date presumed to be 1 January.
  elodie: person('Élodie Marie Jeanne', 'Dupont', '1990-01-01', 'eidas2'),
  // The same person under another account (another `sub`): after a change of civil status, or another provider behind FranceConnect.
  'elodie-again': person('ELODIE', 'DUPONT', '1990-01-01', 'eidas3'),
  marcel: person('Marcel Louis', 'Lefèvre', '1962-09-23', 'eidas1'),
  // Two readers of a public library, one after the other at its computer.
  anna: person('Anna', 'Lecomte', '1992-06-14', 'eidas2'),
  bruno: person('Bruno', 'Perrin', '1988-03-09', 'eidas2'),
};

/**
 * The web login against a real OpenID provider (oidc-provider on a loopback port) configured like
 * FranceConnect, through the whole code flow without a browser, then signing with the session.
 */
describe('login at a real OpenID provider, then signing', () => {
  let provider: TestProvider;
  let engine: TestEngine;
  let initiativeId: string;
  const cookies: Record<string, string> = {};

  const asBrowser = (cookie: string) => ({ cookie, accept: 'application/json' });

  beforeAll(async () => {
    provider = await startTestProvider({
      accounts: ACCOUNTS,
      clients: [
        {
          client_id: ENGINE_CLIENT.clientId,
          client_secret: ENGINE_CLIENT.clientSecret,
          redirect_uris: [ENGINE_CALLBACK],
          token_endpoint_auth_method: 'client_secret_post',
          id_token_signed_response_alg: 'ES256',
          subject_type: 'pairwise',
        },
        {
          client_id: OTHER_SERVICE.clientId,
          client_secret: OTHER_SERVICE.clientSecret,
          redirect_uris: [OTHER_SERVICE.redirectUri],
          id_token_signed_response_alg: 'ES256',
          subject_type: 'pairwise',
        },
        {
          client_id: PS256_SERVICE.clientId,
          client_secret: PS256_SERVICE.clientSecret,
          redirect_uris: [PS256_SERVICE.redirectUri],
          id_token_signed_response_alg: 'PS256',
        },
      ],
    });
    engine = await createEngineForProvider({
      issuer: provider.issuer,
      ...ENGINE_CLIENT,
      adminSubjects: [provider.subjectOf('admin', ENGINE_CALLBACK)],
      jwksCooldownMs: 0,
    });
  });
  afterAll(async () => {
    await engine?.close();
    await provider?.close();
  });

  it('an administrator logs in at the provider and gets an HttpOnly, SameSite=Lax session cookie', async () => {
    const login = await browserLogin(engine, provider, 'admin', { returnTo: '/me?tab=1' });
    expect(login.authorizationUrl.origin).toBe(provider.issuer);
    expect(login.authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(login.authorizationUrl.searchParams.get('state')).toBeTruthy();
    expect(login.authorizationUrl.searchParams.get('nonce')).toBeTruthy();
    // No jurisdiction yet: the lowest level there is.
    expect(login.authorizationUrl.searchParams.get('acr_values')).toBe('eidas1');

    expect(login.status).toBe(302);
    expect(login.location).toBe('/me?tab=1');
    const session = login.setCookies.find((c) => c.startsWith('session='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Lax/);
    expect(session).toMatch(/; Path=\//);
    expect(session).not.toMatch(/; Secure/); // served over http here
    expect(login.setCookies.some((c) => /^login_flow=;/.test(c) && /Max-Age=0/.test(c))).toBe(true);
    cookies.admin = login.cookie!;

    const created = await engine.request('POST', '/v1/jurisdictions', { headers: asBrowser(cookies.admin), body: parisJurisdiction() });
    expect(created.status).toBe(201);
  });

  it('the clerk, the sponsor and the committee log in the same way; the initiative opens', async () => {
    for (const who of ['clerk', 'sponsor', 'karim', 'lea']) {
      const login = await browserLogin(engine, provider, who);
      expect(login.status, who).toBe(302);
      cookies[who] = login.cookie!;
    }
    // The clerk's sub is pairwise, known to nobody beforehand: they read it on their own page and give it to the administrator.
    const myPage = await (await engine.app.request('/me', { headers: { cookie: cookies.clerk! } })).text();
    expect(myPage).toContain('Mon identifiant pour ce service');
    const subject = /<code id="my-subject">([^<]+)<\/code>/.exec(myPage)?.[1];
    expect(subject).toBe(provider.subjectOf('clerk', ENGINE_CALLBACK));
    const granted = await engine.request('POST', '/v1/jurisdictions/paris/clerks', { headers: asBrowser(cookies.admin!), body: { subject } });
    expect(granted.status).toBe(201);

    const draft = await engine.request('POST', '/v1/initiatives', { headers: asBrowser(cookies.sponsor!), body: REFERENDUM_DRAFT });
    expect(draft.status).toBe(201);
    initiativeId = draft.body.id;
    for (const member of ['karim', 'lea']) {
      const joined = await engine.request('POST', `/v1/initiatives/${initiativeId}/committee`, {
        headers: asBrowser(cookies[member]!),
        body: { code: draft.body.committeeCode },
      });
      expect(joined.status, member).toBe(201);
    }
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/submit`, { headers: asBrowser(cookies.sponsor!) })).status).toBe(200);
    const opened = await engine.request('POST', `/v1/initiatives/${initiativeId}/review`, {
      headers: asBrowser(cookies.clerk!),
      body: { decision: 'open', closesAt: '2027-06-30T22:00:00Z' },
    });
    expect(opened.status).toBe(200);
  });

  it("a citizen logs in from the initiative's page (acr_values = Paris's minimum) and signs with the session cookie", async () => {
    const login = await browserLogin(engine, provider, 'elodie', { returnTo: `/initiatives/${initiativeId}` });
    expect(login.authorizationUrl.searchParams.get('acr_values')).toBe('eidas2');
    expect(login.status).toBe(302);
    expect(login.location).toBe(`/initiatives/${initiativeId}`);
    cookies.elodie = login.cookie!;

    // The identity came from the provider's userinfo, as FranceConnect gives it (all given names, presumed birth date).
    const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
      headers: asBrowser(cookies.elodie),
      body: { district: '75111', consent: true },
    });
    expect(signed.status).toBe(201);
    expect(signed.body.signature).toMatchObject({ status: 'counted', district: '75111', channel: 'online' });
  });

  it('the same person under another sub signs again: the same signature, counted once', async () => {
    const again = await browserLogin(engine, provider, 'elodie-again', { returnTo: `/initiatives/${initiativeId}` });
    expect(again.status).toBe(302);
    expect(provider.subjectOf('elodie-again', ENGINE_CALLBACK)).not.toBe(provider.subjectOf('elodie', ENGINE_CALLBACK));

    const first = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { headers: asBrowser(cookies.elodie!) });
    const second = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
      headers: asBrowser(again.cookie!),
      body: { district: '75111', consent: true },
    });
    expect(second.status).toBe(200);
    expect(second.body.signature.id).toBe(first.body.signature.id);
    const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    expect(progress.body.signatures).toBe(1);
  });

  it('an identity below the minimum is refused with the reason: a page for browsers, a problem for JSON clients, no session', async () => {
    const page = await browserLogin(engine, provider, 'marcel', { returnTo: `/initiatives/${initiativeId}` });
    expect(page.status).toBe(403);
    expect(page.contentType).toMatch(/text\/html/);
    // The levels in words (eIDAS: low, substantial, high), not the provider's codes.
    expect(page.body).toContain('de niveau de garantie «\u00a0substantiel\u00a0» au moins');
    expect(page.body).toContain('a attesté le niveau «\u00a0faible\u00a0»');
    expect(page.body).not.toMatch(/niveau eidas/);
    expect(page.body).toContain('/problems/insufficient-assurance');
    expect(page.cookie).toBeUndefined();

    const problem = await browserLogin(engine, provider, 'marcel', { returnTo: `/initiatives/${initiativeId}`, accept: 'application/json' });
    expect(problem.status).toBe(403);
    expect(problem.contentType).toBe('application/problem+json');
    expect(JSON.parse(problem.body)).toMatchObject({ type: '/problems/insufficient-assurance', required: 'eidas2', actual: 'eidas1' });
    expect(problem.cookie).toBeUndefined();
  });

  it('a replayed callback (same code, same flow cookie) gets no second session', async () => {
    const start = await engine.app.request('/auth/login?returnTo=/', { headers: { accept: 'text/html' } });
    const flowCookie = start.headers.getSetCookie()[0]!.split(';')[0]!;
    const callback = await provider.authorize(start.headers.get('location')!, 'karim', ENGINE_CALLBACK);
    const path = callback.pathname + callback.search;
    const first = await engine.app.request(path, { headers: { cookie: flowCookie } });
    expect(first.status).toBe(302);
    const replay = await engine.app.request(path, { headers: { cookie: flowCookie, accept: 'application/json' } });
    expect(replay.status).toBe(401);
    expect((await replay.json()).type).toBe('/problems/login-failed');
  });

  it('POST /v1/session exchanges an ID token of this provider for an engine session', async () => {
    // The engine's own client, driven by openid-client outside the engine (a mobile app, say).
    // It asks for the identity claims in the ID token itself (OpenID `claims` parameter).
    const idToken = await idTokenOf(provider, { ...ENGINE_CLIENT, redirectUri: ENGINE_CALLBACK }, 'karim', {
      acr_values: 'eidas2',
      claims: JSON.stringify({ id_token: { given_name: null, family_name: null, birthdate: null } }),
    });
    const res = await engine.request('POST', '/v1/session', { body: { idToken } });
    expect(res.status).toBe(201);
    expect(res.body.subject).toBe(provider.subjectOf('karim', ENGINE_CALLBACK));
    const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: res.body.token, body: { district: '75118', consent: true } });
    expect(signed.status, JSON.stringify(signed.body)).toBe(201);
  });

  it('refuses ID tokens of another audience, of an algorithm not pinned and of another issuer with a 401', async () => {
    const otherAudience = await idTokenOf(provider, OTHER_SERVICE, 'karim');
    const aud = await engine.request('POST', '/v1/session', { body: { idToken: otherAudience } });
    expect(aud.status).toBe(401);
    expect(aud.body.detail).toMatch(/aud/);

    const ps256 = await idTokenOf(provider, PS256_SERVICE, 'karim');
    expect(decodeProtectedHeader(ps256).alg).toBe('PS256');
    const alg = await engine.request('POST', '/v1/session', { body: { idToken: ps256 } });
    expect(alg.status).toBe(401);
    expect(alg.body.detail).toMatch(/algorithm/);

    // Signed with the provider's own key, but naming another issuer.
    const key = provider.privateKey('ES256');
    const forged = await new SignJWT({ sub: 'someone', acr: 'eidas3' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setIssuer('https://other-issuer.example')
      .setAudience(ENGINE_CLIENT.clientId)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(await importJWK(key, 'ES256'));
    const iss = await engine.request('POST', '/v1/session', { body: { idToken: forged } });
    expect(iss.status).toBe(401);
    expect(iss.body.detail).toMatch(/iss/);
  });

  it('on a shared computer, the next person to log in is asked who they are: the provider session of the one before is not reused', async () => {
    // One browser (a library's computer): it keeps the provider's cookies from one login to the next.
    const browser = new Map<string, string>();
    const loginAt = async (accountId: string) => {
      const start = await startBrowserLogin(engine, `/initiatives/${initiativeId}`);
      const back = await provider.authorize(start.location!, accountId, ENGINE_CALLBACK, browser);
      return { authorizationUrl: new URL(start.location!), ...(await finishBrowserLogin(engine, back, start.flowCookie)) };
    };
    const sign = (cookie: string) => engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { headers: asBrowser(cookie), body: { district: '75118', consent: true } });
    const before = (await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`, { headers: { 'cache-control': 'no-cache' } })).body.signatures as number;

    const anna = await loginAt('anna');
    expect(anna.authorizationUrl.searchParams.get('prompt')).toBe('login');
    expect((await sign(anna.cookie!)).status).toBe(201);
    const logout = await engine.app.request('/auth/logout', { method: 'POST', headers: { cookie: anna.cookie!, accept: 'application/json' } });
    expect(logout.status).toBe(204);

    // Bruno sits down at the same computer and logs in: the provider asks him who he is, and he signs as himself.
    // (Without a new login at the provider, its session answered for Anna: Bruno was logged in as her, got her
    // signature back as his, and could have withdrawn it.)
    const bruno = await loginAt('bruno');
    expect(bruno.status).toBe(302);
    const signed = await sign(bruno.cookie!);
    expect(signed.status).toBe(201);
    const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`, { headers: { 'cache-control': 'no-cache' } });
    expect(progress.body.signatures).toBe(before + 2);
  });

  it('picks up a rotated signing key (new kid) without restarting', async () => {
    const before = await idTokenOf(provider, { ...ENGINE_CLIENT, redirectUri: ENGINE_CALLBACK }, 'lea');
    expect(decodeProtectedHeader(before).kid).toBe('es256-1');
    expect((await engine.request('POST', '/v1/session', { body: { idToken: before } })).status).toBe(201);

    await provider.rotateKeys('es256-2');
    const after = await idTokenOf(provider, { ...ENGINE_CLIENT, redirectUri: ENGINE_CALLBACK }, 'lea');
    expect(decodeProtectedHeader(after).kid).toBe('es256-2');
    expect((await engine.request('POST', '/v1/session', { body: { idToken: after } })).status).toBe(201);

    const login = await browserLogin(engine, provider, 'lea');
    expect(login.status).toBe(302);
    expect(login.cookie).toBeDefined();
  });
});
