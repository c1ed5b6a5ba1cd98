import type { JWK } from 'jose';
import * as oidc from 'openid-client';
import { configuredIdentityProvider } from '../../src/features/auth/provider';
import { createTestEngine, PUBLIC_URL, type TestEngine } from './engine';
import type { TestProvider } from './oidc-provider';

export const ENGINE_CALLBACK = `${PUBLIC_URL}/auth/callback`;

/** What a browser would hold after a web login: the session cookie, ready for a Cookie header. */
export interface BrowserLogin {
  /** The last answer of the engine (the callback's redirect, or its refusal). */
  status: number;
  location: string | null;
  setCookies: string[];
  body: string;
  contentType: string | null;
  /** `session=<token>`, when the login succeeded. */
  cookie: string | undefined;
  /** The provider's authorization URL the engine sent the browser to. */
  authorizationUrl: URL;
}

/**
 * The real engine configured for an OpenID provider other than the development one, exactly as
 * server.ts builds it from OIDC_* settings (verifier and login client from the same settings).
 */
export async function createEngineForProvider(options: ProviderSettings & { adminSubjects?: string[] }) {
  return createTestEngine({ adminSubjects: options.adminSubjects, deps: { ...identityProviderFor(options), devProvider: undefined } });
}

/** Points a running test engine at another provider, as a restart with other OIDC_* settings would. */
export function switchProvider(engine: TestEngine, options: ProviderSettings) {
  Object.assign(engine.deps, identityProviderFor(options));
}

interface ProviderSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  decryptionKey?: JWK;
  timeoutMs?: number;
  jwksCooldownMs?: number;
  /** Built as with NODE_ENV=production (the engine itself stays a test engine). */
  production?: boolean;
}

function identityProviderFor(options: ProviderSettings) {
  return configuredIdentityProvider(
    {
      publicUrl: PUBLIC_URL,
      production: options.production ?? false,
      oidc: {
        issuer: options.issuer,
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        algorithms: ['ES256', 'RS256'],
        scopes: 'openid given_name family_name birthdate',
        idTokenDecryptionKey: options.decryptionKey,
      },
    },
    { timeoutMs: options.timeoutMs, jwksCooldownMs: options.jwksCooldownMs },
  );
}

/** Opens /auth/login?returnTo=… like a browser; answers the redirect to the provider and the flow cookie. */
export async function startBrowserLogin(engine: TestEngine, returnTo: string, headers: Record<string, string> = {}) {
  const res = await engine.app.request(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`, { headers: { accept: 'text/html', ...headers } });
  const flowCookie = res.headers.getSetCookie().find((c) => /^(__Host-)?login_flow=/.test(c))?.split(';')[0];
  return { res, location: res.headers.get('location'), flowCookie };
}

/** Sends the provider's redirect back to the engine's /auth/callback with the flow cookie, like a browser. */
export async function finishBrowserLogin(engine: TestEngine, callback: URL, flowCookie: string | undefined, accept = 'text/html') {
  const res = await engine.app.request(callback.pathname + callback.search, {
    headers: { accept, ...(flowCookie ? { cookie: flowCookie } : {}) },
  });
  const setCookies = res.headers.getSetCookie();
  return {
    status: res.status,
    location: res.headers.get('location'),
    setCookies,
    body: await res.text(),
    contentType: res.headers.get('content-type'),
    cookie: setCookies.find((c) => /^(__Host-)?session=[^;]/.test(c))?.split(';')[0],
  };
}

/** The whole web login at a real provider: engine → provider (login, consent) → engine callback. */
export async function browserLogin(
  engine: TestEngine,
  provider: TestProvider,
  accountId: string,
  options: { returnTo?: string; accept?: string } = {},
): Promise<BrowserLogin> {
  const start = await startBrowserLogin(engine, options.returnTo ?? '/');
  if (start.res.status !== 302 || !start.location) throw new Error(`/auth/login answered ${start.res.status}: ${await start.res.text()}`);
  const callback = await provider.authorize(start.location, accountId, ENGINE_CALLBACK);
  return { ...(await finishBrowserLogin(engine, callback, start.flowCookie, options.accept)), authorizationUrl: new URL(start.location) };
}

/** Another relying party at the same provider (openid-client too): its ID tokens, for tests of what the engine refuses. */
export async function idTokenOf(
  provider: TestProvider,
  client: { clientId: string; clientSecret: string; redirectUri: string },
  accountId: string,
  extra: Record<string, string> = {},
  /** For clients whose ID tokens the provider encrypts: the token is returned as received (JWE). */
  decryptionKey?: oidc.DecryptionKey,
): Promise<string> {
  const config = await oidc.discovery(new URL(provider.issuer), client.clientId, client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  if (decryptionKey) oidc.enableDecryptingResponses(config, undefined, decryptionKey);
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: client.redirectUri,
    scope: 'openid given_name family_name birthdate',
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  });
  const callback = await provider.authorize(url.href, accountId, client.redirectUri);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
  return tokens.id_token!;
}
