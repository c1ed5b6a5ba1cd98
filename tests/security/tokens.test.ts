import { createServer, type Server } from 'node:http';
import { base64url, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { createDevIdentityProvider, DEV_CLIENT_ID, generateDevProviderKey, type DevIdentityProvider } from '../../src/features/auth/dev-provider';
import { issueSession, verifyBearer } from '../../src/features/auth/session';
import { createOidcVerifier } from '../../src/features/auth/verifier';
import { startJoseThreads, type JoseThreads } from '../../src/platform/jose-threads';
import { generateKeyMaterial, loadEngineKeys, signWithEngineKey } from '../../src/platform/keys';
import { createLogger } from '../../src/platform/logger';
import { createTestEngine, PUBLIC_URL, type TestEngine } from '../support/engine';

const PERSON = { given_name: 'Irène', family_name: 'Lambert', birthdate: '1991-09-09', acr: 'eidas2' };
/** Any authenticated caller gets 200 here: the route only needs a verified principal. */
const PROTECTED = '/v1/webhooks';

function expectRefused(res: { status: number; contentType: string | null; headers: Headers; body: any }, why: string) {
  expect(res.status, why).toBe(401);
  expect(res.contentType, why).toContain('application/problem+json');
  expect(res.headers.get('www-authenticate'), why).toMatch(/^Bearer/);
  expect(JSON.stringify(res.body), why).not.toMatch(/at .*\.(ts|js):\d+/);
}

const b64 = (value: unknown) => base64url.encode(JSON.stringify(value));

/**
 * Token attacks against the bearer verification: every one is a 401 problem, none gets in; the
 * same whether the verification runs on the request's thread or in a JOSE thread (as `npm start` runs it).
 */
describe.each([
  { where: "on the request's thread", threaded: false },
  { where: 'in a JOSE thread', threaded: true },
])('forged, stale and misdirected tokens, verified $where', ({ threaded }) => {
  let engine: TestEngine;
  let threads: JoseThreads | undefined;
  let provider: DevIdentityProvider;
  let privateJwk: JWK;
  let privateKey: CryptoKey;
  // ID tokens are checked against the wall clock (the provider's clock), not the engine's test clock.
  const now = () => Math.floor(Date.now() / 1000);
  const claims = () => ({ sub: 'attacker-target', ...PERSON, iss: provider.issuer, aud: DEV_CLIENT_ID, iat: now(), exp: now() + 600 });
  const sign = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid!, typ: 'JWT', ...header }).sign(privateKey);
  const call = (token: string) => engine.request('GET', PROTECTED, { token });

  beforeAll(async () => {
    // The development provider with a key this test holds, so it can forge near-valid tokens.
    privateJwk = await generateDevProviderKey();
    privateKey = (await importJWK(privateJwk, 'ES256')) as CryptoKey;
    provider = await createDevIdentityProvider({ issuer: `${PUBLIC_URL}/dev/oidc`, privateJwk });
    let identity = provider.verifier;
    if (threaded) {
      const material = await generateKeyMaterial('t1');
      threads = await startJoseThreads(1, { signingJwk: material.signingJwk, piiKey: material.piiKey, piiKeyId: 'pii-1', verifier: provider.verifier.options }, createLogger('silent'));
      identity = threads.verifier(provider.verifier);
    }
    engine = await createTestEngine({ deps: { devProvider: provider, identity } });
  });
  afterAll(async () => {
    await engine.close();
    await threads?.close();
  });

  it('accepts the genuine token (so the refusals below are about the attack)', async () => {
    expect((await call(await sign(claims()))).status).toBe(200);
  });

  it('refuses alg "none"', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`;
    expectRefused(await call(token), 'alg none');
    expectRefused(await call(`${b64({ alg: 'none', kid: privateJwk.kid })}.${b64(claims())}.`), 'alg none with kid');
  });

  it("refuses HS256 signed with the provider's public key as the secret", async () => {
    const { d: _d, ...publicJwk } = privateJwk;
    for (const secret of [JSON.stringify(publicJwk), JSON.stringify(provider.jwks), base64url.decode(publicJwk.x!)]) {
      const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: privateJwk.kid! }).sign(key);
      expectRefused(await call(token), 'HS256 confusion');
    }
  });

  it('refuses an expired token and one not yet valid', async () => {
    expectRefused(await call(await sign({ ...claims(), iat: now() - 7200, exp: now() - 3600 })), 'expired');
    expectRefused(await call(await sign({ ...claims(), nbf: now() + 3600 })), 'not yet valid');
  });

  it('refuses a wrong issuer, a wrong audience and a token without expiry', async () => {
    expectRefused(await call(await sign({ ...claims(), iss: 'https://idp.example.org' })), 'wrong issuer');
    expectRefused(await call(await sign({ ...claims(), aud: 'another-client' })), 'wrong audience');
    const { exp: _exp, ...noExpiry } = claims();
    expectRefused(await call(await sign(noExpiry)), 'no exp');
  });

  it('refuses a token issued to another client that also names this one (OpenID Connect Core 3.1.3.7: azp)', async () => {
    expectRefused(await call(await sign({ ...claims(), aud: [DEV_CLIENT_ID, 'another-client'], azp: 'another-client' })), 'azp of another client');
    expectRefused(await call(await sign({ ...claims(), aud: ['another-client', DEV_CLIENT_ID] })), 'several audiences, no azp');
    expectRefused(await call(await sign({ ...claims(), azp: 'another-client' })), 'azp of another client, one audience');
    // Issued to this engine: azp names it, whatever other audiences the token has.
    expect((await call(await sign({ ...claims(), aud: [DEV_CLIENT_ID, 'an-api'], azp: DEV_CLIENT_ID }))).status).toBe(200);
    expect((await call(await sign({ ...claims(), aud: [DEV_CLIENT_ID] }))).status).toBe(200);
  });

  it('refuses an unknown kid and a key the provider never published', async () => {
    expectRefused(await call(await sign(claims(), { kid: 'unknown-kid' })), 'unknown kid');
    const stranger = await generateKeyPair('ES256');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid! }).sign(stranger.privateKey);
    expectRefused(await call(token), 'stranger key, known kid');
  });

  it('refuses a tampered payload', async () => {
    const genuine = await sign(claims());
    const [header, , signature] = genuine.split('.');
    for (const change of [{ sub: 'admin-subject' }, { given_name: 'Someone' }, { exp: now() + 99999 }]) {
      expectRefused(await call(`${header}.${b64({ ...claims(), ...change })}.${signature}`), `tampered ${Object.keys(change)[0]}`);
    }
  });

  it("refuses a session of another engine, a signed session, an engine receipt used as a session and a tampered session", async () => {
    const otherKeys = await loadEngineKeys(await generateKeyMaterial('other'));
    const target = { subject: 'admin-subject', issuer: provider.issuer, assurance: 'eidas2' as const, identity: { givenNames: 'Irène', familyName: 'Lambert', birthdate: '1991-09-09' }, missingClaims: [], expiresAt: 0 };
    const forged = await issueSession({ ...engine.deps, keys: otherKeys }, target);
    expectRefused(await call(forged.token), 'session of another engine');

    // Sessions were once signed JWS carrying the claims in clear; one signed with the engine's own key is no session now.
    const signed = await signWithEngineKey(engine.deps.keys, 'session+jwt', { sub: 'admin-subject', aud: 'session', idp: provider.issuer, ...PERSON }, { issuer: PUBLIC_URL, now: engine.clock.now(), expiresInSeconds: 600 });
    expectRefused(await call(signed), 'signed session');

    const receiptLike = await signWithEngineKey(engine.deps.keys, 'receipt+jwt', { sub: 'admin-subject', aud: 'session' }, { issuer: PUBLIC_URL, now: engine.clock.now(), expiresInSeconds: 600 });
    expectRefused(await call(receiptLike), 'engine JWS of another type');

    const session = await engine.request('POST', '/v1/session', { token: await sign(claims()) });
    expect(session.status).toBe(201);
    expect((await call(session.body.token)).status).toBe(200);
    const parts = session.body.token.split('.');
    for (const at of [3, 4]) {
      const flipped = [...parts];
      flipped[at] = (flipped[at][0] === 'A' ? 'B' : 'A') + flipped[at].slice(1);
      expectRefused(await call(flipped.join('.')), `session with part ${at} changed`);
    }
    engine.clock.advance(3601 * 1000);
    expectRefused(await call(session.body.token), 'expired session');
  });

  it('a session token does not show who it is for: names, birth date and subject are encrypted', async () => {
    const session = await engine.request('POST', '/v1/session', { token: await sign(claims()) });
    expect(session.status).toBe(201);
    const token: string = session.body.token;
    expect(token.split('.')).toHaveLength(5);
    const readable = token
      .split('.')
      .map((part) => Buffer.from(part, 'base64url').toString('latin1'))
      .join(' ');
    for (const secret of ['Lambert', 'Irène', 'Ir\u00e8ne', '1991-09-09', 'attacker-target']) expect(readable).not.toContain(secret);
    expect(readable).toContain('session+jwt');
    // The engine, and only it, reads the person back from it.
    const principal = await verifyBearer(engine.deps, token);
    expect(principal).toMatchObject({ subject: 'attacker-target', via: 'session', assurance: 'eidas2', identity: { givenNames: 'Irène', familyName: 'Lambert', birthdate: '1991-09-09' } });
  });

  it('refuses malformed bearer values', async () => {
    for (const token of ['abc', 'a.b.c', '..', `${b64({ alg: 'ES256' })}.e30.AAAA`]) expectRefused(await call(token), `malformed ${token}`);
    const res = await engine.request('GET', PROTECTED, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    expect(res.status).toBe(401);
  });
});

describe('an engine configured for a production identity provider', () => {
  let jwksServer: Server;
  let issuer: string;
  let issuerKey: CryptoKey;
  let kid: string;

  beforeAll(async () => {
    // A fake production issuer on loopback: discovery document and JWKS, as a real provider serves them.
    const pair = await generateKeyPair('ES256', { extractable: true });
    issuerKey = pair.privateKey;
    kid = 'prod-1';
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' };
    jwksServer = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      else if (req.url === '/jwks') res.end(JSON.stringify({ keys: [publicJwk] }));
      else res.writeHead(404).end('{}');
    });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', () => r()));
    const address = jwksServer.address();
    issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => jwksServer.close(() => r())));

  it("refuses the development provider's tokens and accepts the configured issuer's", async () => {
    const dev = await createTestEngine();
    try {
      const verifier = createOidcVerifier({ issuer, audience: 'civic-prod', algorithms: ['ES256'] });
      const app = createApp({ ...dev.deps, identity: verifier, devProvider: undefined, config: { ...dev.deps.config, production: true } });
      const get = (token: string) => app.request(PROTECTED, { headers: { authorization: `Bearer ${token}` } });

      const devToken = await dev.tokenFor({ givenNames: 'Irène', familyName: 'Lambert', birthdate: '1991-09-09' });
      const refused = await get(devToken);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      // The development provider is not even mounted.
      expect((await app.request('/dev/oidc/tokens', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(404);

      const iat = Math.floor(Date.now() / 1000);
      const genuine = await new SignJWT({ sub: 'prod-person', ...PERSON })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer(issuer)
        .setAudience('civic-prod')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 600)
        .sign(issuerKey);
      expect((await get(genuine)).status).toBe(200);
    } finally {
      await dev.close();
    }
  });
});
