import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestEngine } from '../support/engine';
import { browserLogin, createEngineForProvider, ENGINE_CALLBACK } from '../support/oidc-engine';
import { startTestProvider, type TestProvider } from '../support/oidc-provider';

const ENGINE_CLIENT = { clientId: 'civic-engine', clientSecret: 'engine-secret-at-the-provider' };

/**
 * In production the configuration accepts a plain http OIDC_ISSUER on this very host (loopback:
 * a provider beside the engine, whose traffic never leaves the machine). Bearer ID tokens were
 * checked against it, and the web login must reach it too, rather than answer 503 at every login.
 */
describe('production engine with a provider on loopback http', () => {
  let provider: TestProvider;
  let engine: TestEngine;

  beforeAll(async () => {
    provider = await startTestProvider({
      accounts: { lea: { given_name: 'Léa', family_name: 'Martin', birthdate: '2001-02-28', birthplace: '75056', birthcountry: '99100', acr: 'eidas2' } },
      clients: [
        {
          client_id: ENGINE_CLIENT.clientId,
          client_secret: ENGINE_CLIENT.clientSecret,
          redirect_uris: [ENGINE_CALLBACK],
          token_endpoint_auth_method: 'client_secret_post',
          id_token_signed_response_alg: 'ES256',
        },
      ],
    });
    expect(provider.issuer).toMatch(/^http:\/\/127\.0\.0\.1:/);
    engine = await createEngineForProvider({ issuer: provider.issuer, ...ENGINE_CLIENT, production: true });
  });
  afterAll(async () => {
    await engine?.close();
    await provider?.close();
  });

  it('logs in through the whole code flow', async () => {
    const login = await browserLogin(engine, provider, 'lea');
    expect(login.status).toBe(302);
    expect(login.cookie).toBeDefined();
  });
});
