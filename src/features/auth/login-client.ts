import * as oidc from 'openid-client';
import type { JWK } from 'jose';
import { problems, type Problem } from '../../platform/problems';
import { CONTENT_ENCRYPTION, idTokenDecryption } from './id-token-decryption';

/** What the browser keeps between /auth/login and /auth/callback (sealed in a cookie). */
export interface LoginFlow {
  codeVerifier: string;
  state: string;
  nonce: string;
  returnTo: string;
  /** The assurance asked with acr_values; a lower `acr` is refused. */
  minimumAssurance: string;
}

export interface LoginResult {
  /** The signed ID token (decrypted first when the provider encrypts it). */
  idToken: string;
  /** The provider's userinfo claims, for providers that keep identity claims out of the ID token (FranceConnect). */
  userinfo(subject: string): Promise<Record<string, unknown> | undefined>;
}

/** The relying party of the web login: authorization code flow with PKCE, state and nonce (openid-client). */
export interface LoginClient {
  readonly issuer: string;
  readonly redirectUri: string;
  start(returnTo: string, minimumAssurance: string): Promise<{ url: URL; flow: LoginFlow }>;
  finish(callbackUrl: URL, flow: LoginFlow): Promise<LoginResult>;
}

export interface LoginClientOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** `${PUBLIC_URL}/auth/callback`, registered at the provider. */
  redirectUri: string;
  scopes: string;
  /** Private JWK for providers that encrypt ID tokens (JWE). */
  decryptionKey?: JWK;
  /** Plain http issuers (loopback tests, the built-in provider); never in production. */
  allowHttp: boolean;
  /** In-process dispatch for the built-in provider; the global fetch otherwise. */
  fetch?: oidc.CustomFetch;
  /** Each request to the provider (discovery, token, userinfo) gives up after this long: a 503, not a hang. */
  timeoutMs?: number;
}

const DISCOVERY_TTL_MS = 3_600_000;

export function createLoginClient(options: LoginClientOptions): LoginClient {
  const timeout = (options.timeoutMs ?? 5000) / 1000;
  const decryption = options.decryptionKey ? idTokenDecryption(options.decryptionKey) : undefined;
  let discovered: { config: Promise<oidc.Configuration>; at: number } | undefined;

  const configuration = (): Promise<oidc.Configuration> => {
    if (discovered && Date.now() - discovered.at < DISCOVERY_TTL_MS) return discovered.config;
    const config = discover();
    discovered = { config, at: Date.now() };
    // A failed discovery is retried at the next login rather than cached.
    config.catch(() => {
      if (discovered?.config === config) discovered = undefined;
    });
    return config;
  };

  const discover = async (): Promise<oidc.Configuration> => {
    let config: oidc.Configuration;
    try {
      config = await oidc.discovery(
        new URL(options.issuer),
        options.clientId,
        options.clientSecret,
        options.clientSecret ? oidc.ClientSecretPost(options.clientSecret) : oidc.None(),
        {
          timeout,
          ...(options.fetch ? { [oidc.customFetch]: options.fetch } : {}),
          ...(options.allowHttp && options.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : {}),
        },
      );
    } catch (error) {
      throw providerProblem(error, 'discovery');
    }
    if (decryption) {
      const keys = await Promise.all(
        decryption.keyManagementAlgorithms.map(async (alg) => ({ key: await decryption.keyFor(alg), alg, kid: decryption.kid })),
      );
      oidc.enableDecryptingResponses(config, CONTENT_ENCRYPTION, ...keys);
    }
    return config;
  };

  return {
    issuer: options.issuer,
    redirectUri: options.redirectUri,

    async start(returnTo, minimumAssurance) {
      const config = await configuration();
      const flow: LoginFlow = {
        codeVerifier: oidc.randomPKCECodeVerifier(),
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        returnTo,
        minimumAssurance,
      };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: options.redirectUri,
        response_type: 'code',
        scope: options.scopes,
        state: flow.state,
        nonce: flow.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
        code_challenge_method: 'S256',
        acr_values: minimumAssurance,
        // The person at the keyboard says who they are at each login: on a shared computer, the provider's
        // session of the one before (still open after they left the engine) would log the next one in as them.
        prompt: 'login',
      });
      return { url, flow };
    },

    async finish(callbackUrl, flow) {
      const config = await configuration();
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: flow.codeVerifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
        });
      } catch (error) {
        throw providerProblem(error, 'token');
      }
      const raw = tokens.id_token;
      if (!raw) throw problems.loginFailed('The identity provider returned no ID token.');
      const idToken = oidc.getDecryptedResponses(tokens)?.id_token?.token_endpoint ?? raw;
      return {
        idToken,
        async userinfo(subject) {
          if (!config.serverMetadata().userinfo_endpoint) return undefined;
          try {
            return { ...(await oidc.fetchUserInfo(config, tokens.access_token, subject)) };
          } catch (error) {
            throw providerProblem(error, 'userinfo');
          }
        },
      };
    },
  };
}

/** Network failures and timeouts are a 503 (retry later); a refusal or a protocol mismatch is a failed login. */
function providerProblem(error: unknown, step: 'discovery' | 'token' | 'userinfo'): Problem {
  if (error instanceof Error && error.name === 'Problem') return error as Problem;
  if (error instanceof oidc.AuthorizationResponseError) {
    return problems.loginFailed(`The identity provider refused the login (${error.error}${error.error_description ? `: ${error.error_description}` : ''}).`);
  }
  if (error instanceof oidc.ResponseBodyError) {
    if (error.status >= 500) return problems.unavailable(`The identity provider's ${step} endpoint answered ${error.status}.`);
    return problems.loginFailed(`The identity provider refused the ${step} request (${error.error}).`);
  }
  const code = (error as { code?: string }).code;
  const unreachable =
    error instanceof TypeError || // fetch failed: connection refused, DNS, reset
    (error instanceof oidc.ClientError && ['OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON'].includes(code ?? ''));
  if (unreachable || step === 'discovery') return problems.unavailable(`The identity provider cannot be reached (${step}).`);
  return problems.loginFailed(`The identity provider's answer was not accepted (${error instanceof Error ? error.message : 'invalid response'}).`);
}
