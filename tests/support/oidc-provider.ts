import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';

/** A person known to the test provider, with FranceConnect's claims and an eIDAS level. */
export interface ProviderAccount {
  given_name: string;
  family_name: string;
  birthdate: string;
  birthplace: string;
  birthcountry: string;
  acr: 'eidas1' | 'eidas2' | 'eidas3';
}

/** FranceConnect names each identity claim as its own scope. */
const FRANCECONNECT_CLAIMS = ['given_name', 'family_name', 'birthdate', 'birthplace', 'birthcountry'] as const;

export async function signingKey(alg: 'ES256' | 'RS256' | 'PS256', kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
}

/**
 * A real OpenID provider (oidc-provider, certified) on a loopback port, configured like
 * FranceConnect: pairwise subjects, claims as scopes and in userinfo, eIDAS acr values, ES256/RS256
 * signatures and encrypted ID tokens for the clients that ask. Login and consent are interaction
 * endpoints that tests drive without a browser.
 */
export async function startTestProvider(options: { clients: ClientMetadata[]; accounts: Record<string, ProviderAccount> }) {
  const server: Server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let keys: JWK[] = [await signingKey('ES256', 'es256-1'), await signingKey('RS256', 'rs256-1'), await signingKey('PS256', 'ps256-1')];
  const sectorSubject = (accountId: string, sector: string) => createHash('sha256').update(`${accountId}|${sector}`).digest('hex');

  const configuration = (): Configuration => ({
    clients: options.clients,
    jwks: { keys: keys as never },
    findAccount: (_ctx, id) => {
      const account = options.accounts[id];
      if (!account) return undefined;
      const { acr: _acr, ...claims } = account;
      return { accountId: id, claims: () => ({ sub: id, ...claims }) };
    },
    claims: { openid: ['sub'], acr: null, auth_time: null, ...Object.fromEntries(FRANCECONNECT_CLAIMS.map((c) => [c, [c]])) },
    scopes: ['openid', ...FRANCECONNECT_CLAIMS],
    acrValues: ['eidas1', 'eidas2', 'eidas3'],
    subjectTypes: ['public', 'pairwise'],
    // FranceConnect gives each service its own `sub` for one person.
    pairwiseIdentifier: (_ctx, accountId, client) => sectorSubject(accountId, String(client.sectorIdentifier ?? client.clientId)),
    features: {
      devInteractions: { enabled: false },
      encryption: { enabled: true },
      claimsParameter: { enabled: true },
    },
    pkce: { required: () => true },
    cookies: { keys: ['test-provider-cookie-key'] },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600 },
    renderError: (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  let provider = new Provider(issuer, configuration());
  /** The accountId and acr to assert at the next login interaction, chosen by the test. */
  let nextLogin: string | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const match = /^\/interaction\/([^/?]+)(\/login|\/confirm)?/.exec(req.url ?? '');
    if (!match) return provider.callback()(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (match[2] === '/login') {
        const accountId = nextLogin!;
        await provider.interactionFinished(req, res, { login: { accountId, acr: options.accounts[accountId]!.acr } }, { mergeWithLastSubmission: false });
      } else if (match[2] === '/confirm') {
        const { prompt, params, session, grantId } = details;
        const grant = grantId ? (await provider.Grant.find(grantId))! : new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
        const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ uid: details.uid, prompt: details.prompt.name, params: details.params }));
      }
    } catch (error) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) }));
    }
  }

  return {
    issuer,
    /** The `sub` this provider gives an account at a client (pairwise, like FranceConnect). */
    subjectOf: (accountId: string, redirectUri: string) => sectorSubject(accountId, new URL(redirectUri).host),

    /**
     * A person at the keyboard without a browser: follows the redirects from the authorization URL,
     * logs in as `accountId` and consents, until the provider sends them back to `redirectPrefix`.
     * `jar` holds the provider's cookies of one browser across logins (a shared computer); a fresh one by default.
     */
    async authorize(authorizationUrl: string, accountId: string, redirectPrefix: string, jar = new Map<string, string>()): Promise<URL> {
      nextLogin = accountId;
      let url = authorizationUrl;
      let method = 'GET';
      let form: string | undefined;
      for (let hop = 0; hop < 20; hop++) {
        if (url.startsWith(redirectPrefix)) return new URL(url);
        const res = await fetch(url, {
          method,
          redirect: 'manual',
          headers: {
            cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
            accept: 'text/html',
            ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
          },
          body: form,
        });
        form = undefined;
        for (const cookie of res.headers.getSetCookie()) {
          const [pair = ''] = cookie.split(';');
          const eq = pair.indexOf('=');
          jar.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
        const location = res.headers.get('location');
        if (location) {
          url = new URL(location, url).href;
          method = 'GET';
          continue;
        }
        if (res.status === 200 && res.headers.get('content-type')?.includes('text/html')) {
          // A page that posts its form as it loads, as a browser does (the provider ending the session of the one before).
          const page = await res.text();
          const action = /<form method="post" action="([^"]+)">/.exec(page)?.[1];
          if (!action) throw new Error(`The provider stopped the flow at ${url}: ${page}`);
          url = new URL(action, url).href;
          method = 'POST';
          form = new URLSearchParams([...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)].map((m) => [m[1]!, m[2]!])).toString();
          continue;
        }
        if (res.status !== 200 || !/^\/interaction\//.test(new URL(url).pathname)) {
          throw new Error(`The provider stopped the flow at ${url}: ${res.status} ${await res.text()}`);
        }
        const { prompt } = (await res.json()) as { prompt: string };
        url = `${url}/${prompt === 'login' ? 'login' : 'confirm'}`;
        method = 'POST';
      }
      throw new Error('Too many redirects at the provider');
    },

    /** Key rotation as a provider does it: a new key signs, the old one is still published. */
    async rotateKeys(kid: string) {
      keys = [await signingKey('ES256', kid), ...keys];
      provider = new Provider(issuer, configuration());
    },
    /** The provider's current private signing key of an algorithm (to forge tokens it did not issue). */
    privateKey: (alg: 'ES256' | 'RS256') => keys.find((k) => k.alg === alg)!,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type TestProvider = Awaited<ReturnType<typeof startTestProvider>>;

/**
 * Servers that fail the way a provider does: `refusing` (nothing listens on the port) and
 * `silent` (accepts the connection and never answers; discovery optionally answered so that the
 * JWKS request is the one that hangs).
 */
export async function startSilentProvider(options: { answerDiscovery: boolean }) {
  const pending = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (options.answerDiscovery && req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer,
          jwks_uri: `${issuer}/jwks`,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          response_types_supported: ['code'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['ES256'],
        }),
      );
      return;
    }
    pending.add(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    close: () => {
      for (const res of pending) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An address where nothing listens: a port the system gave us and that we released. */
export async function refusingAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
