import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestEngine } from '../support/engine';
import { createEngineForProvider, startBrowserLogin, switchProvider } from '../support/oidc-engine';
import { refusingAddress, startSilentProvider } from '../support/oidc-provider';

/**
 * A provider that is down or does not answer: the engine answers 503 with a problem (or a page for
 * browsers) after its timeout, and never hangs a request.
 */
describe('an identity provider that cannot be reached', () => {
  const TIMEOUT_MS = 300;
  let silent: Awaited<ReturnType<typeof startSilentProvider>>;
  let silentJwks: Awaited<ReturnType<typeof startSilentProvider>>;
  let engine: TestEngine;
  let refusing: string;

  beforeAll(async () => {
    silent = await startSilentProvider({ answerDiscovery: false });
    silentJwks = await startSilentProvider({ answerDiscovery: true });
    refusing = await refusingAddress();
    engine = await createEngineForProvider({ issuer: refusing, clientId: 'civic-engine', timeoutMs: TIMEOUT_MS });
  });
  afterAll(async () => {
    await engine?.close();
    await Promise.all([silent?.close(), silentJwks?.close()]);
  });

  /** A well-formed ID token of that issuer, so that verifying it needs the provider's keys. */
  async function tokenOf(issuer: string) {
    const { privateKey } = await generateKeyPair('ES256');
    return new SignJWT({ sub: 'someone', acr: 'eidas2' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience('civic-engine')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  }

  it('connection refused: login and bearer tokens get a 503 problem with Retry-After', async () => {
    const login = await startBrowserLogin(engine, '/', { accept: 'application/json' });
    expect(login.res.status).toBe(503);
    expect(login.res.headers.get('content-type')).toBe('application/problem+json');
    expect(login.res.headers.get('retry-after')).toBeTruthy();
    expect(login.flowCookie).toBeUndefined();

    const session = await engine.request('POST', '/v1/session', { body: { idToken: await tokenOf(refusing) } });
    expect(session.status).toBe(503);
    expect(session.body.type).toBe('/problems/unavailable');
  });

  it('a browser gets a page saying the provider is not answering', async () => {
    const login = await startBrowserLogin(engine, '/initiatives', { accept: 'text/html', 'accept-language': 'fr-FR,fr;q=0.9' });
    expect(login.res.status).toBe(503);
    expect(login.res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await login.res.text()).toContain('Le fournisseur d’identité ne répond pas');
  });

  it('discovery that never answers: 503 after the timeout, not a hang', async () => {
    switchProvider(engine, { issuer: silent.issuer, clientId: 'civic-engine', timeoutMs: TIMEOUT_MS });
    const login = await startBrowserLogin(engine, '/', { accept: 'application/json' });
    expect(login.res.status).toBe(503);
    const session = await engine.request('POST', '/v1/session', { body: { idToken: await tokenOf(silent.issuer) } });
    expect(session.status).toBe(503);
  });

  it('a JWKS endpoint that never answers: 503 after the timeout, not a hang', async () => {
    switchProvider(engine, { issuer: silentJwks.issuer, clientId: 'civic-engine', timeoutMs: TIMEOUT_MS });
    const session = await engine.request('POST', '/v1/session', { body: { idToken: await tokenOf(silentJwks.issuer) } });
    expect(session.status).toBe(503);
    expect(session.body.detail).toMatch(/keys cannot be fetched/);
  });
});
