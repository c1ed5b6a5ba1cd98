import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import { constantTimeEqual } from '../core/constant-time';
import { clerkJurisdictions } from '../features/auth/access';
import { fromOwnOrigin, type AppEnv, type Principal } from '../platform/http';
import { Problem, problems } from '../platform/problems';
import { LANG_COOKIE, negotiateLocale, translator, type Translator } from './i18n';

export const CSRF_COOKIE = 'csrf';
export const CSRF_FIELD = '_csrf';

/** What every page needs to know about the request: words, caller, form token. */
export interface WebRequest {
  t: Translator;
  principal: Principal | undefined;
  /** Jurisdictions where the caller is a clerk. */
  clerkOf: string[];
  csrf: string;
  /** This page's path and query; for a form post, the page the form is on. */
  path: string;
  devProvider: boolean;
}

export type WebContext = Context<AppEnv>;

/** Reads the locale and the caller, and makes sure the browser holds a form token (double-submit cookie). */
export async function webRequest(c: WebContext): Promise<WebRequest> {
  const t = translator(negotiateLocale(getCookie(c, LANG_COOKIE), c.req.header('accept-language')));
  let csrf = csrfCookie(c);
  if (!csrf || !/^[A-Za-z0-9_-]{43}$/.test(csrf)) {
    csrf = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
    setCookie(c, CSRF_COOKIE, csrf, { httpOnly: true, sameSite: 'Lax', path: '/', secure: isHttps(c), ...(isHttps(c) ? { prefix: 'host' as const } : {}) });
  }
  const principal = c.get('principal');
  const clerkOf = principal ? await clerkJurisdictions(c.var.deps.db.db, principal.subject) : [];
  const url = new URL(c.req.url);
  const path = c.req.method === 'GET' ? url.pathname + url.search : formPage(url.pathname);
  return { t, principal, clerkOf, csrf, path, devProvider: Boolean(c.var.deps.devProvider) };
}

/** Form posts whose path is no page, and the page their form is on. */
const FORM_PAGES: [RegExp, string][] = [
  [/^(\/initiatives\/[^/]+)\/(submit|close|withdraw)$/, '$1/manage'],
  [/^(\/initiatives\/[^/]+\/signature)\/withdraw$/, '$1'],
  [/^(\/clerk\/initiatives\/[^/]+)\/(review|paper|verification\/(start|decide|complete))$/, '$1'],
];

/**
 * The page a form was posted from, for the links of the page answering the post (language switch,
 * login's return address): they must lead to a page that answers GET. The other forms post to their page's own path.
 */
export function formPage(pathname: string): string {
  const found = FORM_PAGES.find(([pattern]) => pattern.test(pathname));
  return found ? pathname.replace(found[0], found[1]) : pathname;
}

function isHttps(c: WebContext): boolean {
  return c.var.deps.config.publicUrl.startsWith('https:');
}

/**
 * The browser's form token. Over https its cookie is `__Host-csrf`, which only this host can set: another
 * host of the same site (a sibling subdomain) can set a plain `csrf` cookie for the whole domain, and
 * with it the token its own forged form sends.
 */
function csrfCookie(c: WebContext): string | undefined {
  return isHttps(c) ? getCookie(c, CSRF_COOKIE, 'host') : getCookie(c, CSRF_COOKIE);
}

/** Refuses a form post that is cross-site (Origin, Sec-Fetch-Site) or lacks the double-submit token. */
export function verifyCsrf(c: WebContext, form: Record<string, unknown>): void {
  const cookie = csrfCookie(c);
  const field = form[CSRF_FIELD];
  // A post with `Origin: null` (Referrer-Policy: no-referrer) passes the origin check; the token decides then.
  if (!fromOwnOrigin(c) || !cookie || typeof field !== 'string' || !constantTimeEqual(cookie, field)) {
    throw new Problem({ status: 403, code: 'csrf', title: 'Form refused', detail: 'The form token is missing or does not match; reload the page.' });
  }
}

/** Where to send someone who must log in first; the login flow comes back to `returnTo`. */
export function loginUrl(returnTo: string): string {
  return `/auth/login?returnTo=${encodeURIComponent(returnTo)}`;
}

/** A form's fields as strings (files and repeated fields are not used by these pages). */
export async function formFields(c: WebContext): Promise<Record<string, string>> {
  const body = await c.req.parseBody().catch(() => {
    throw problems.unreadableForm();
  });
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') fields[k] = v;
  return fields;
}

/** Form posts are small; a paper batch of a few thousand lines fits well under this. */
export const formLimit = bodyLimit({
  maxSize: 2 * 1024 * 1024,
  onError: () => {
    throw new Problem({ status: 413, code: 'payload-too-large', title: 'Form too large', detail: 'The form exceeds 2 MiB.' });
  },
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string | undefined): value is string {
  return value !== undefined && UUID.test(value);
}

/** The path's `:id` when it is a UUID; anything else is the page "not found" (`what` names it). */
export function uuidParam(c: WebContext, what: string): string {
  const id = c.req.param('id') ?? '';
  if (!isUuid(id)) throw new Problem({ status: 404, code: 'not-found', title: `${what} not found` });
  return id;
}
