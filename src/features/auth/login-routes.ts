import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { createRouter, type AppEnv } from '../../platform/http';
import { LANG_COOKIE, negotiateLocale, type Locale } from '../../platform/locale';
import { errors } from '../../platform/openapi';
import { Problem, problems } from '../../platform/problems';
import { completeLogin, isSafeReturnTo, LOGIN_FLOW_TTL_SECONDS, openFlow, startLogin } from './login';
import { endSession } from './revocation';
import { SESSION_COOKIE, servedOverHttps, sessionCookiePrefix } from './session';

export const LOGIN_FLOW_COOKIE = 'login_flow';

/**
 * Over https the flow cookie is `__Host-login_flow`, which only this host can set (hence Path=/): with a
 * plain `login_flow` another host of the same site could plant the flow of a login of its own, send a
 * person to that login's callback address, and state and nonce would match: the person logged in as it.
 */
function flowCookie(c: Context<AppEnv>) {
  return servedOverHttps(c) ? { prefix: 'host' as const, path: '/' } : { path: '/auth' };
}

const ReturnToQuery = z.object({
  returnTo: z
    .string()
    .refine(isSafeReturnTo, 'a path on this site, starting with a single /')
    .default('/')
    .openapi({ description: 'Where to go after login: a path on this site (never another site).', example: '/initiatives' }),
});

const CallbackQuery = z
  .looseObject({
    code: z.string().max(2048).optional(),
    state: z.string().max(2048).optional(),
    iss: z.string().max(2048).optional(),
    error: z.string().max(200).optional(),
    error_description: z.string().max(2000).optional(),
  })
  .openapi('LoginCallbackQuery');

const redirect = (description: string) => ({ description, headers: { Location: { schema: { type: 'string' as const } } } });

/** Cookies are Secure when the engine is served over https (directly or behind a TLS proxy). */
const isHttps = servedOverHttps;

/** A JSON client (Accept names JSON and not HTML) gets a problem; a browser gets a page. */
function wantsJson(c: Context<AppEnv>): boolean {
  const accept = c.req.header('accept') ?? '';
  return /application\/(problem\+)?json/.test(accept) && !/text\/html/.test(accept);
}

/**
 * The web login (authorization code flow with PKCE, state and nonce, by openid-client) against
 * OIDC_ISSUER, or the built-in development provider when it is unset.
 */
export const loginRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/auth/login',
      tags: ['Auth'],
      summary: 'Start the web login at the identity provider',
      description:
        "Redirects to the provider with acr_values set to the minimum assurance of the jurisdiction that `returnTo` points at (an initiative's or a jurisdiction's page), else the lowest any jurisdiction accepts.",
      request: { query: ReturnToQuery },
      responses: { 302: redirect("The provider's authorization endpoint."), ...errors(400, 401, 429, 503) },
    }),
    async (c) => {
      const { returnTo } = c.req.valid('query');
      try {
        const { url, sealedFlow } = await startLogin(c.var.deps, returnTo);
        setCookie(c, LOGIN_FLOW_COOKIE, sealedFlow, {
          httpOnly: true,
          secure: isHttps(c),
          sameSite: 'Lax',
          maxAge: LOGIN_FLOW_TTL_SECONDS,
          ...flowCookie(c),
        });
        c.header('Cache-Control', 'no-store');
        return c.redirect(url.href, 302);
      } catch (error) {
        return refusal(c, error, returnTo);
      }
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/auth/callback',
      tags: ['Auth'],
      summary: 'Finish the web login (the redirect URI to register at the provider)',
      description:
        'Exchanges the code, verifies the ID token and the assurance, sets the `session` cookie and redirects to returnTo. A refusal (e.g. an assurance below the minimum) is a page for browsers and a problem for `Accept: application/json`.',
      request: { query: CallbackQuery },
      responses: { 302: redirect('Back to returnTo, logged in.'), ...errors(400, 401, 403, 503) },
    }),
    async (c) => {
      const { deps } = c.var;
      const sealed = getCookie(c, LOGIN_FLOW_COOKIE, flowCookie(c).prefix);
      // Single use: whatever happens next, this flow is over.
      deleteCookie(c, LOGIN_FLOW_COOKIE, { secure: isHttps(c), httpOnly: true, sameSite: 'Lax', ...flowCookie(c) });
      c.header('Cache-Control', 'no-store');
      let returnTo = '/';
      try {
        const flow = await openFlow(deps, sealed);
        returnTo = flow.returnTo;
        const callbackUrl = new URL(`${deps.config.publicUrl}/auth/callback${new URL(c.req.url).search}`);
        const { session } = await completeLogin(deps, callbackUrl, flow);
        setCookie(c, SESSION_COOKIE, session.token, {
          httpOnly: true,
          secure: isHttps(c),
          sameSite: 'Lax',
          path: '/',
          maxAge: deps.config.sessionTtlSeconds,
          prefix: sessionCookiePrefix(c),
        });
        return c.redirect(flow.returnTo, 302);
      } catch (error) {
        return refusal(c, error, returnTo);
      }
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/auth/logout',
      tags: ['Auth'],
      summary: 'Log out of the engine (ends the session and clears its cookie)',
      description:
        'The session token is refused from then on, by every engine process, even where a copy of it was kept. Without a session, or with one that has expired, it still succeeds.',
      responses: { 204: { description: 'Logged out (JSON clients).' }, 303: redirect('Logged out; back to the home page (browsers).'), ...errors(401, 403) },
    }),
    async (c) => {
      // SameSite=Lax already keeps the cookie off cross-site posts; this also refuses the attempt itself.
      const origin = c.req.header('origin');
      if (c.req.header('sec-fetch-site') === 'cross-site' || (origin && origin !== 'null' && origin !== new URL(c.var.deps.config.publicUrl).origin && origin !== new URL(c.req.url).origin)) {
        throw problems.forbidden('Logging out must be asked from this site.');
      }
      await endSession(c.var.deps.db, c.get('principal'));
      deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c), httpOnly: true, sameSite: 'Lax', prefix: sessionCookiePrefix(c) });
      c.header('Cache-Control', 'no-store');
      if (wantsJson(c)) return c.body(null, 204);
      return c.redirect('/', 303);
    },
  );

/** Problems of the login: thrown for JSON clients (rendered as problem+json), a page for browsers. */
function refusal(c: Context<AppEnv>, error: unknown, returnTo: string) {
  if (!(error instanceof Problem) || wantsJson(c)) throw error;
  c.header('Content-Security-Policy', "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  for (const [name, value] of Object.entries(error.headers)) if (name !== 'WWW-Authenticate') c.header(name, value);
  return c.html(refusalPage(error, returnTo, negotiateLocale(getCookie(c, LANG_COOKIE), c.req.header('accept-language'))), error.status as 400);
}

const WORDS = {
  fr: {
    lang: 'fr',
    heading: 'Connexion refusée',
    unavailable: 'Le fournisseur d’identité ne répond pas. Réessayez dans un instant.',
    assurance: (required: string, actual: string) =>
      `Cette démarche demande une identité vérifiée de niveau de garantie «\u00a0${required}\u00a0» au moins\u00a0; votre fournisseur d’identité a attesté le niveau «\u00a0${actual}\u00a0». Connectez-vous avec un moyen d’identification plus sûr (par exemple l’Identité Numérique La Poste ou France Identité).`,
    /** eIDAS levels of assurance, as the regulation names them. */
    levels: { eidas1: 'faible', eidas2: 'substantiel', eidas3: 'élevé' } as Record<string, string>,
    expired: 'La connexion a pris trop de temps, ou le navigateur n’a pas gardé son cookie. Recommencez la connexion.',
    failed: 'La connexion n’a pas abouti.',
    retry: 'Recommencer la connexion',
    home: 'Retour à l’accueil',
  },
  en: {
    lang: 'en',
    heading: 'Login refused',
    unavailable: 'The identity provider is not answering. Try again in a moment.',
    assurance: (required: string, actual: string) =>
      `This requires a verified identity of assurance level “${required}” or higher; your identity provider asserted level “${actual}”. Log in with a stronger means of identification.`,
    levels: { eidas1: 'low', eidas2: 'substantial', eidas3: 'high' } as Record<string, string>,
    expired: 'The login took too long, or the browser did not keep its cookie. Start the login again.',
    failed: 'The login did not succeed.',
    retry: 'Log in again',
    home: 'Back to the home page',
  },
};

function refusalPage(problem: Problem, returnTo: string, locale: Locale) {
  const w = WORDS[locale];
  const level = (value: unknown) => (typeof value === 'string' ? (w.levels[value] ?? value) : '—');
  const explanation =
    problem.code === 'insufficient-assurance'
      ? w.assurance(level(problem.extra.required), level(problem.extra.actual))
      : problem.status === 503
        ? w.unavailable
        : problem.extra.reason === 'flow-expired'
          ? w.expired
          : w.failed;
  return html`<!doctype html>
    <html lang="${w.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${w.heading}</title>
        <link rel="stylesheet" href="/assets/site.css" />
        <link rel="icon" href="/assets/icon.svg" type="image/svg+xml" />
      </head>
      <body>
        <main>
          <h1>${w.heading}</h1>
          <p role="alert" data-problem="${problem.type}">${explanation}</p>
          ${
            // The engine's own English detail, for English readers only, when the words above are the general ones.
            locale === 'en' && explanation === w.failed && problem.detail ? html`<p>${problem.detail}</p>` : ''
          }
          <p><a href="/auth/login?returnTo=${encodeURIComponent(returnTo)}">${w.retry}</a> · <a href="/">${w.home}</a></p>
        </main>
      </body>
    </html>`;
}
