import { CompactEncrypt, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcVerifier } from '../../src/features/auth/verifier';
import { ConfigError, loadConfig } from '../../src/platform/config';
import type { TestEngine } from '../support/engine';
import { startEngineExpectingExit, tempDir } from '../support/process';
import { browserLogin, createEngineForProvider, ENGINE_CALLBACK, idTokenOf } from '../support/oidc-engine';
import { startTestProvider, type TestProvider } from '../support/oidc-provider';
import { parisJurisdiction } from '../support/paris';

const CLIENT = { clientId: 'civic-engine-jwe', clientSecret: 'jwe-client-secret' };

/** Providers such as FranceConnect may encrypt ID tokens to the service's public key (JWE around the JWS). */
describe('encrypted ID tokens (JWE) from a real OpenID provider', () => {
  let provider: TestProvider;
  let engine: TestEngine;
  let decryptionJwk: JWK;
  let decryptionKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RSA-OAEP', { extractable: true });
    decryptionKey = pair.privateKey;
    decryptionJwk = { ...(await exportJWK(pair.privateKey)), alg: 'RSA-OAEP', kid: 'engine-enc-1' };
    const publicJwk = { ...(await exportJWK(pair.publicKey)), alg: 'RSA-OAEP', kid: 'engine-enc-1', use: 'enc' };
    provider = await startTestProvider({
      accounts: {
        admin: { given_name: 'Aline', family_name: 'Administratrice', birthdate: '1975-03-08', birthplace: '75056', birthcountry: '99100', acr: 'eidas2' },
        sofia: { given_name: 'Sofia Maria', family_name: 'Rossi', birthdate: '1978-09-30', birthplace: '', birthcountry: '99127', acr: 'eidas2' },
      },
      clients: [
        {
          client_id: CLIENT.clientId,
          client_secret: CLIENT.clientSecret,
          redirect_uris: [ENGINE_CALLBACK],
          token_endpoint_auth_method: 'client_secret_post',
          id_token_signed_response_alg: 'RS256',
          id_token_encrypted_response_alg: 'RSA-OAEP',
          id_token_encrypted_response_enc: 'A256GCM',
          subject_type: 'pairwise',
          jwks: { keys: [publicJwk as never] },
        },
      ],
    });
    engine = await createEngineForProvider({
      issuer: provider.issuer,
      ...CLIENT,
      decryptionKey: decryptionJwk,
      adminSubjects: [provider.subjectOf('admin', ENGINE_CALLBACK)],
    });
  });
  afterAll(async () => {
    await engine?.close();
    await provider?.close();
  });

  it('the web login decrypts the ID token and opens a session', async () => {
    const login = await browserLogin(engine, provider, 'admin');
    expect(login.status).toBe(302);
    const created = await engine.request('POST', '/v1/jurisdictions', { headers: { cookie: login.cookie!, accept: 'application/json' }, body: parisJurisdiction() });
    expect(created.status).toBe(201);
  });

  it('POST /v1/session accepts the encrypted ID token as received', async () => {
    const jwe = await idTokenOf(provider, { ...CLIENT, redirectUri: ENGINE_CALLBACK }, 'sofia', { acr_values: 'eidas2', claims: JSON.stringify({ id_token: { given_name: null, family_name: null, birthdate: null } }) }, { key: decryptionKey, alg: 'RSA-OAEP', kid: 'engine-enc-1' });
    expect(jwe.split('.')).toHaveLength(5);
    const res = await engine.request('POST', '/v1/session', { body: { idToken: jwe } });
    expect(res.status).toBe(201);
    expect(res.body.subject).toBe(provider.subjectOf('sofia', ENGINE_CALLBACK));

    // The same token as a bearer token is decrypted too.
    const me = await engine.request('POST', '/v1/session', { token: jwe });
    expect(me.status).toBe(201);

    // Without the private key, the engine says why it refuses.
    const keyless = createOidcVerifier({ issuer: provider.issuer, audience: CLIENT.clientId, algorithms: ['ES256', 'RS256'] });
    await expect(keyless.verify(jwe)).rejects.toMatchObject({ status: 401, detail: expect.stringMatching(/no decryption key/) });
  });

  it('a JWE encrypted to another key is a 401, not a 500', async () => {
    const stranger = await generateKeyPair('RSA-OAEP', { extractable: true });
    const jwe = await new CompactEncrypt(new TextEncoder().encode('eyJhbGciOiJSUzI1NiJ9.e30.c2ln'))
      .setProtectedHeader({ alg: 'RSA-OAEP', enc: 'A256GCM', cty: 'JWT' })
      .encrypt(stranger.publicKey);
    const res = await engine.request('POST', '/v1/session', { body: { idToken: jwe } });
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/cannot be decrypted/);
  });

  it('OIDC_ID_TOKEN_DECRYPTION_KEY must be a private JWK; the error names the variable', () => {
    const base = { OIDC_ISSUER: 'https://idp.example', OIDC_CLIENT_ID: 'civic' };
    expect(loadConfig({ ...base, OIDC_ID_TOKEN_DECRYPTION_KEY: JSON.stringify(decryptionJwk) }).oidc?.idTokenDecryptionKey).toMatchObject({ kty: 'RSA', kid: 'engine-enc-1' });
    const { d: _d, ...publicOnly } = decryptionJwk;
    for (const bad of ['not json', JSON.stringify(publicOnly)]) {
      expect(() => loadConfig({ ...base, OIDC_ID_TOKEN_DECRYPTION_KEY: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, OIDC_ID_TOKEN_DECRYPTION_KEY: bad })).toThrow(/OIDC_ID_TOKEN_DECRYPTION_KEY/);
    }
  });

  it('a decryption key that cannot be used stops the start with a message naming the variable, not the first encrypted login', { timeout: 120_000 }, async () => {
    const ec = await exportJWK((await generateKeyPair('ECDH-ES', { extractable: true, crv: 'P-256' })).privateKey);
    const { crv: _crv, x: _x, y: _y, ...ecWithoutPoint } = ec;
    const { qi: _qi, ...rsaWithoutQi } = decryptionJwk;
    const refusals: [JWK, RegExp][] = [
      [ecWithoutPoint, /OIDC_ID_TOKEN_DECRYPTION_KEY: .*EC.*crv.*x.*y/],
      [rsaWithoutQi, /OIDC_ID_TOKEN_DECRYPTION_KEY: .*RSA.*qi/],
      [{ ...ec, alg: 'RSA-OAEP' }, /OIDC_ID_TOKEN_DECRYPTION_KEY: .*alg/],
      // Well formed, but its public point is not the private key's: only importing it tells.
      [{ ...ec, x: ec.y, y: ec.x }, /OIDC_ID_TOKEN_DECRYPTION_KEY: /],
    ];
    const data = await tempDir('civic-decryption-key-');
    try {
      for (const [key, message] of refusals) {
        const refused = await startEngineExpectingExit({ DATA_DIR: data.path, OIDC_ISSUER: 'https://idp.example.org', OIDC_CLIENT_ID: 'civic', OIDC_ID_TOKEN_DECRYPTION_KEY: JSON.stringify(key) });
        expect(refused.code, JSON.stringify(key)).toBe(1);
        expect(refused.output).toMatch(/^Configuration error: /m);
        expect(refused.output).toMatch(message);
        expect(refused.output).not.toMatch(/\n\s+at /);
      }
    } finally {
      await data.remove();
    }
  });
});
