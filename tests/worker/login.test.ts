import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProvider, type ProviderAccount, type TestProvider } from '../support/oidc-provider';
import { parisJurisdiction } from '../support/paris';
import { freePort } from '../support/process';
import { startWorkerEngine, type WorkerEngine } from '../support/worker';

const CLIENT = { clientId: 'civic-engine', clientSecret: 'engine-secret-at-the-provider' };
const person = (given_name: string, family_name: string, birthdate: string, acr: ProviderAccount['acr']): ProviderAccount => ({
  given_name,
  family_name,
  birthdate,
  birthplace: '75056',
  birthcountry: '99100',
  acr,
});

/**
 * The web login (authorization code flow, PKCE, state, nonce) on the Worker against a real OpenID
 * provider (oidc-provider on loopback, configured like FranceConnect), with OIDC_CLIENT_SECRET as a
 * secret. The flow lives in a sealed cookie, not in the isolate: it is finished by a workerd started
 * afresh between the redirect to the provider and the callback, as another isolate would get it.
 */
describe('on Workers: the web login at an OpenID provider', () => {
  let provider: TestProvider;
  let worker: WorkerEngine;
  let callback: string;

  beforeAll(async () => {
    const port = await freePort();
    callback = `http://127.0.0.1:${port}/auth/callback`;
    provider = await startTestProvider({
      accounts: { admin: person('Aline', 'Administratrice', '1975-03-08', 'eidas2') },
      clients: [
        {
          client_id: CLIENT.clientId,
          client_secret: CLIENT.clientSecret,
          redirect_uris: [callback],
          token_endpoint_auth_method: 'client_secret_post',
          id_token_signed_response_alg: 'ES256',
          subject_type: 'pairwise',
        },
      ],
    });
    worker = await startWorkerEngine({
      port,
      adminSubjects: [provider.subjectOf('admin', callback)],
      // Outside production: the web login reaches a plain-http provider only there (this one is on loopback).
      settings: { NODE_ENV: 'development', OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: CLIENT.clientId, OIDC_CLIENT_SECRET: CLIENT.clientSecret, OIDC_ALGORITHMS: 'ES256,RS256' },
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await provider?.close();
  });

  it('redirects to the provider, and a new isolate finishes the login from the callback alone', async () => {
    const start = await fetch(`${worker.url}/auth/login?returnTo=${encodeURIComponent('/me')}`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(start.status).toBe(302);
    const location = new URL(start.headers.get('location')!);
    expect(location.origin).toBe(provider.issuer);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      client_id: CLIENT.clientId,
      redirect_uri: callback,
      response_type: 'code',
      code_challenge_method: 'S256',
      acr_values: 'eidas1',
    });
    expect(location.searchParams.get('state')).toBeTruthy();
    expect(location.searchParams.get('nonce')).toBeTruthy();
    const flowCookie = start.headers.getSetCookie().find((c) => c.startsWith('login_flow='))!;
    expect(flowCookie).toMatch(/; HttpOnly/);
    expect(flowCookie).toMatch(/; Path=\/auth/);

    const back = await provider.authorize(location.href, 'admin', callback);
    await worker.restart();

    const finished = await fetch(`${worker.url}${back.pathname}${back.search}`, { redirect: 'manual', headers: { accept: 'text/html', cookie: flowCookie.split(';')[0]! } });
    expect(finished.status, await finished.clone().text()).toBe(302);
    expect(finished.headers.get('location')).toBe('/me');
    const session = finished.headers.getSetCookie().find((c) => /^session=[^;]/.test(c))!;
    expect(session).toMatch(/; HttpOnly/);

    // The session is the administrator's: the API takes it from the cookie.
    const created = await worker.request('POST', '/v1/jurisdictions', { headers: { cookie: session.split(';')[0]!, accept: 'application/json' }, body: parisJurisdiction() });
    expect(created.status).toBe(201);
    const me = await fetch(`${worker.url}/me`, { headers: { cookie: session.split(';')[0]!, accept: 'text/html' } });
    expect(me.status).toBe(200);
    expect(await me.text()).toContain('action="/auth/logout"');

    // Logging out ends the session in the database: a copy of the cookie no longer logs anyone in.
    const logout = await fetch(`${worker.url}/auth/logout`, { method: 'POST', headers: { cookie: session.split(';')[0]!, accept: 'application/json' } });
    expect(logout.status).toBe(204);
    const after = await fetch(`${worker.url}/me`, { redirect: 'manual', headers: { cookie: session.split(';')[0]!, accept: 'text/html' } });
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/auth/login?returnTo=%2Fme');
  });

  it('refuses a callback that carries no flow cookie, with a page and no session', async () => {
    const res = await fetch(`${worker.url}/auth/callback?code=forged&state=forged`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.getSetCookie().some((c) => /^session=[^;]/.test(c))).toBe(false);
  });
});
