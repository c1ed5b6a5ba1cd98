import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { decodeJwt } from 'jose';
import { isCalendarDate } from '../../core/identity';
import type { CustomFetch } from 'openid-client';
import { createRouter, type AppDeps } from '../../platform/http';
import { LANG_COOKIE, negotiateLocale, type Locale } from '../../platform/locale';
import { errors, json, jsonBody } from '../../platform/openapi';
import { Problem, problems } from '../../platform/problems';
import { devIdentities, DevOAuthError, type DevIdentity, type DevIdentityProvider, type DevPerson } from './dev-provider';

const DevPersonSchema = z
  .strictObject({
    givenNames: z.string().trim().min(1).max(200),
    familyName: z.string().trim().min(1).max(200),
    birthdate: z.string().refine(isCalendarDate, 'a real date as YYYY-MM-DD'),
    acr: z.enum(['eidas1', 'eidas2', 'eidas3']).default('eidas2'),
    subject: z.string().trim().min(1).max(255).optional(),
  })
  .openapi('DevPerson', { example: { givenNames: 'Élodie Marie', familyName: 'Dupont', birthdate: '1990-04-12', acr: 'eidas2' } });

const DevTokenSchema = z.object({ id_token: z.string(), sub: z.string(), issuer: z.string() }).openapi('DevToken');

function requireProvider(provider: DevIdentityProvider | undefined): DevIdentityProvider {
  if (!provider) throw problems.notFound('Development identity provider', 'dev');
  return provider;
}

/**
 * The development identity provider: ID tokens for made-up people, so the engine can be tried
 * without a real provider. Mounted only when no OIDC_ISSUER is configured, never in production.
 */
export const devProviderRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'post',
      path: '/dev/oidc/tokens',
      tags: ['Development identity provider'],
      summary: 'Mint an ID token for a made-up person (development only)',
      request: { body: jsonBody(DevPersonSchema) },
      responses: { 201: json(DevTokenSchema, 'An ID token signed by the development provider.'), ...errors(400, 401, 404, 415) },
    }),
    async (c) => {
      const provider = requireProvider(c.var.deps.devProvider);
      const person = c.req.valid('json');
      const idToken = await provider.mintIdToken(person, c.var.deps.clock());
      return c.json({ id_token: idToken, sub: String(decodeJwt(idToken).sub), issuer: provider.issuer }, 201);
    },
  )
  .get('/dev/oidc/.well-known/openid-configuration', (c) => {
    const provider = requireProvider(c.var.deps.devProvider);
    return c.json({
      issuer: provider.issuer,
      jwks_uri: `${provider.issuer}/jwks`,
      authorization_endpoint: `${provider.issuer}/authorize`,
      token_endpoint: `${provider.issuer}/token`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      authorization_response_iss_parameter_supported: true,
      scopes_supported: ['openid', 'given_name', 'family_name', 'birthdate'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['ES256'],
      claims_supported: ['sub', 'given_name', 'family_name', 'birthdate', 'acr', 'nonce', 'auth_time'],
      acr_values_supported: ['eidas1', 'eidas2', 'eidas3'],
    });
  })
  .get('/dev/oidc/authorize', (c) => {
    const provider = requireProvider(c.var.deps.devProvider);
    const request = checkAuthorizationRequest(provider, new URL(c.req.url).searchParams);
    if (request.kind === 'page') return page(c, request.page, 400);
    if (request.kind === 'redirect') return c.redirect(request.location, 303);
    return page(c, authorizePage(request.params, devIdentities(c.var.deps.clock()), localeOf(c)));
  })
  .post('/dev/oidc/authorize', async (c) => {
    const { deps } = c.var;
    const provider = requireProvider(deps.devProvider);
    const form = new URLSearchParams();
    const fields = await c.req.parseBody().catch(() => {
      throw problems.unreadableForm();
    });
    for (const [name, value] of Object.entries(fields)) if (typeof value === 'string') form.set(name, value);
    const request = checkAuthorizationRequest(provider, form);
    if (request.kind === 'page') return page(c, request.page, 400);
    if (request.kind === 'redirect') return c.redirect(request.location, 303);
    const now = deps.clock();
    let person: DevPerson | undefined = devIdentities(now).find((p) => p.key === form.get('identity'));
    if (!person) {
      const typed = DevPersonSchema.safeParse({
        givenNames: form.get('givenNames') ?? undefined,
        familyName: form.get('familyName') ?? undefined,
        birthdate: form.get('birthdate') ?? undefined,
        acr: form.get('acr') || undefined,
      });
      if (!typed.success) {
        const locale = localeOf(c);
        const typedBack = { givenNames: form.get('givenNames') ?? undefined, familyName: form.get('familyName') ?? undefined, birthdate: form.get('birthdate') ?? undefined, acr: form.get('acr') ?? undefined };
        return page(c, authorizePage(request.params, devIdentities(now), locale, LOGIN_WORDS[locale].checkFields, typedBack), 400);
      }
      person = typed.data;
    }
    const code = provider.issueCode(
      { clientId: request.params.client_id, redirectUri: request.params.redirect_uri, nonce: request.params.nonce, codeChallenge: request.params.code_challenge },
      person,
      now,
    );
    return c.redirect(withParams(request.params.redirect_uri, { code, state: request.params.state, iss: provider.issuer }), 303);
  })
  .post('/dev/oidc/token', async (c) => {
    const { deps } = c.var;
    const provider = requireProvider(deps.devProvider);
    c.header('Cache-Control', 'no-store');
    const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const field = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : undefined);
    try {
      if (field('grant_type') !== 'authorization_code') throw new DevOAuthError('unsupported_grant_type', 'Only authorization_code is supported.');
      const code = field('code');
      if (!code) throw new DevOAuthError('invalid_request', 'code is required.');
      const idToken = await provider.redeemCode(
        { code, clientId: field('client_id'), redirectUri: field('redirect_uri'), codeVerifier: field('code_verifier') },
        deps.clock(),
      );
      const accessToken = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
      return c.json({ access_token: accessToken, token_type: 'Bearer', expires_in: 60, id_token: idToken, scope: 'openid' });
    } catch (error) {
      // OAuth clients expect RFC 6749 errors here, not problem documents.
      if (error instanceof DevOAuthError) return c.json({ error: error.error, error_description: error.description }, error.error === 'invalid_client' ? 401 : 400);
      throw error;
    }
  })
  .get('/dev/oidc/jwks', (c) => c.json(requireProvider(c.var.deps.devProvider).jwks))
  .get('/dev/oidc', (c) => {
    requireProvider(c.var.deps.devProvider);
    return page(c, devPage());
  })
  .post('/dev/oidc', async (c) => {
    const provider = requireProvider(c.var.deps.devProvider);
    const form = await c.req.parseBody().catch(() => {
      throw problems.unreadableForm();
    });
    const parsed = DevPersonSchema.safeParse({
      givenNames: form.givenNames,
      familyName: form.familyName,
      birthdate: form.birthdate,
      acr: form.acr || undefined,
    });
    if (!parsed.success) {
      const typed = Object.fromEntries(['givenNames', 'familyName', 'birthdate', 'acr'].map((name) => [name, typeof form[name] === 'string' ? form[name] : undefined]));
      return page(c, devPage('Check the fields: every one is required and the birth date is YYYY-MM-DD.', undefined, typed), 400);
    }
    const idToken = await provider.mintIdToken(parsed.data, c.var.deps.clock());
    return page(c, devPage(undefined, idToken));
  });

/** The provider's pages have no script nor style of their own, and show names, birth dates or an ID token: never kept. */
const DEV_PAGE_CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function page(c: Context, body: ReturnType<typeof devPage>, status: 200 | 400 = 200) {
  c.header('Content-Security-Policy', DEV_PAGE_CSP);
  c.header('Cache-Control', 'no-store');
  return c.html(body, status);
}

/** What a person typed in the free form, given back to them when it is refused. */
type TypedPerson = Partial<Record<'givenNames' | 'familyName' | 'birthdate' | 'acr', string>>;

/** The made-up identity both pages ask for: names, birth date and assurance level, with what was typed if the form came back. */
function identityFields(w: Pick<LoginWords, 'givenNames' | 'familyName' | 'birthdate' | 'assurance'> = LOGIN_WORDS.en, typed: TypedPerson = {}) {
  const acr = typed.acr && ['eidas1', 'eidas2', 'eidas3'].includes(typed.acr) ? typed.acr : 'eidas2';
  return html`<p><label>${w.givenNames} <input name="givenNames" value="${typed.givenNames ?? ''}" required autocomplete="off" /></label></p>
    <p><label>${w.familyName} <input name="familyName" value="${typed.familyName ?? ''}" required autocomplete="off" /></label></p>
    <p><label>${w.birthdate} <input name="birthdate" type="date" value="${typed.birthdate ?? ''}" required /></label></p>
    <p>
      <label
        >${w.assurance}
        <select name="acr">
          ${['eidas1', 'eidas2', 'eidas3'].map((level) => (level === acr ? html`<option selected>${level}</option>` : html`<option>${level}</option>`))}
        </select></label
      >
    </p>`;
}

function devPage(error?: string, idToken?: string, typed?: TypedPerson) {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Development identity provider</title>
      </head>
      <body>
        <main>
          <p role="note"><strong>Development identity provider.</strong> It asserts whatever identity you type. It is off in production.</p>
          <h1>Get an ID token</h1>
          ${error ? html`<p role="alert">${error}</p>` : ''}
          <form method="post" action="/dev/oidc">
            ${identityFields(LOGIN_WORDS.en, typed)}
            <p><button type="submit">Get a token</button></p>
          </form>
          ${idToken
            ? html`<h2>Your ID token</h2>
                <p><textarea readonly rows="8" cols="80" aria-label="ID token">${idToken}</textarea></p>
                <p>Use it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>`
            : ''}
        </main>
      </body>
    </html>`;
}

const AuthorizationRequestSchema = z.object({
  response_type: z.literal('code'),
  scope: z.string().refine((scope) => scope.split(' ').includes('openid'), 'must include openid'),
  state: z.string().max(512).optional(),
  nonce: z.string().max(512).optional(),
  code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'an S256 PKCE challenge is required'),
  code_challenge_method: z.literal('S256'),
  acr_values: z.string().max(200).optional(),
});
type AuthorizationParams = z.infer<typeof AuthorizationRequestSchema> & { client_id: string; redirect_uri: string };

/**
 * RFC 6749 §4.1.2.1: an unknown client or redirect URI gets an error page (never a redirect);
 * any other fault goes back to the client as `error=`.
 */
function checkAuthorizationRequest(
  provider: DevIdentityProvider,
  query: URLSearchParams,
): { kind: 'page'; page: ReturnType<typeof devPage> } | { kind: 'redirect'; location: string } | { kind: 'ok'; params: AuthorizationParams } {
  const clientId = query.get('client_id');
  const redirectUri = query.get('redirect_uri');
  if (clientId !== provider.clientId || !redirectUri || !provider.redirectUris.includes(redirectUri)) {
    return { kind: 'page', page: devPage(`Unknown client or redirect URI: this provider only serves ${provider.clientId} at ${provider.redirectUris.join(', ')}.`) };
  }
  const parsed = AuthorizationRequestSchema.safeParse(Object.fromEntries(query));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      kind: 'redirect',
      location: withParams(redirectUri, {
        error: 'invalid_request',
        error_description: `${issue.path.join('.')}: ${issue.message}`,
        state: query.get('state') ?? undefined,
        iss: provider.issuer,
      }),
    };
  }
  return { kind: 'ok', params: { ...parsed.data, client_id: clientId, redirect_uri: redirectUri } };
}

function withParams(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}

function hiddenFields(params: AuthorizationParams) {
  return Object.entries(params)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`);
}

/** The login page's words: it stands for a real provider's, in the reader's language as the engine's pages are. */
const LOGIN_WORDS = {
  fr: {
    title: 'Connexion · Fournisseur d’identité de développement',
    note: html`<strong>Fournisseur d’identité de développement.</strong> Il atteste l’identité que vous choisissez, quelle qu’elle soit. Il est désactivé en production.`,
    heading: 'Qui êtes-vous\u00a0?',
    asks: (acr: string) => html`Le service demande un niveau de garantie <strong>${acr}</strong> au moins.`,
    person: (p: DevIdentity) => `${p.role.fr}\u00a0; date de naissance\u00a0: ${p.birthdate}\u00a0; garantie ${p.acr}\u00a0; arrondissement ${p.district}`,
    someoneElse: 'Quelqu’un d’autre',
    logIn: 'Se connecter sous cette identité',
    checkFields: 'Vérifiez les champs\u00a0: tous sont obligatoires, et la date de naissance est une date réelle.',
    givenNames: 'Prénoms',
    familyName: 'Nom de famille',
    birthdate: 'Date de naissance',
    assurance: 'Niveau de garantie',
  },
  en: {
    title: 'Log in · Development identity provider',
    note: html`<strong>Development identity provider.</strong> It asserts whatever identity you choose. It is off in production.`,
    heading: 'Who are you?',
    asks: (acr: string) => html`The engine asks for identity assurance <strong>${acr}</strong> or higher.`,
    person: (p: DevIdentity) => `${p.role.en}; born ${p.birthdate}; assurance ${p.acr}; lives in ${p.district}`,
    someoneElse: 'Someone else',
    logIn: 'Log in as this person',
    checkFields: 'Check the fields: every one is required and the birth date is YYYY-MM-DD.',
    givenNames: 'Given names',
    familyName: 'Family name',
    birthdate: 'Birth date',
    assurance: 'Assurance',
  },
};
type LoginWords = (typeof LOGIN_WORDS)[Locale];

/** The reader's language, chosen as the engine's own pages choose it (the language switch's cookie, then the browser's). */
const localeOf = (c: Context): Locale => negotiateLocale(getCookie(c, LANG_COOKIE), c.req.header('accept-language'));

function authorizePage(params: AuthorizationParams, identities: DevIdentity[], locale: Locale, error?: string, typed?: TypedPerson) {
  const w = LOGIN_WORDS[locale];
  return html`<!doctype html>
    <html lang="${locale}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${w.title}</title>
      </head>
      <body>
        <main>
          <p role="note">${w.note}</p>
          <h1>${w.heading}</h1>
          ${params.acr_values ? html`<p>${w.asks(params.acr_values)}</p>` : ''}
          ${error ? html`<p role="alert">${error}</p>` : ''}
          <form method="post" action="/dev/oidc/authorize">
            ${hiddenFields(params)}
            <ul>
              ${identities.map(
                (p) => html`<li>
                  <button type="submit" name="identity" value="${p.key}">${p.givenNames} ${p.familyName}</button>
                  ${w.person(p)}
                </li>`,
              )}
            </ul>
          </form>
          <h2>${w.someoneElse}</h2>
          <form method="post" action="/dev/oidc/authorize">
            ${hiddenFields(params)}
            ${identityFields(w, typed)}
            <p><button type="submit" name="identity" value="custom">${w.logIn}</button></p>
          </form>
        </main>
      </body>
    </html>`;
}

/**
 * The relying party reaches the built-in provider in-process: no socket, so the same login code
 * works behind any proxy, on Workers and under app.request() in tests.
 */
export function devProviderDispatch(deps: AppDeps): CustomFetch {
  const provider = createRouter();
  provider.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  provider.route('/', devProviderRoutes);
  provider.onError((error, c) => {
    const problem = error instanceof Problem ? error : problems.internal();
    return c.json(problem.toJSON(c.req.path), problem.status as 400);
  });
  const base = new URL(deps.config.publicUrl);
  return async (url, options) => {
    const target = new URL(url);
    if (target.origin !== base.origin) throw new TypeError(`The development provider only serves ${base.origin}`);
    const path = target.pathname.slice(base.pathname.replace(/\/$/, '').length) + target.search;
    return provider.request(path, { method: options.method, headers: options.headers, body: options.body as BodyInit | null | undefined, signal: options.signal });
  };
}
