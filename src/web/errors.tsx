import type { MiddlewareHandler } from 'hono';
import { describeError, logLevelOf, toProblem } from '../platform/error-problem';
import type { AppEnv } from '../platform/http';
import { Problem } from '../platform/problems';
import type { Messages } from './i18n/fr';
import { renderPage } from './layout';
import { actionOfPath, problemMessage } from './problems';
import { CSRF_FIELD, loginUrl, verifyCsrf, webRequest, type WebContext, type WebRequest } from './request';

/** Errors on pages become pages: a login redirect for 401, a readable message otherwise. */
export async function errorPage(error: Error, c: WebContext) {
  const problem = toProblem(error);
  const level = logLevelOf(error, problem);
  if (level) c.var.deps.logger[level](level === 'error' ? 'unhandled error' : 'contention', { requestId: c.var.requestId, route: c.req.routePath, error: describeError(error) });
  const status = problem.status;
  // The error may be the database's: a page for a visitor, then, rather than no page at all.
  const w = await webRequest(c).catch(() => {
    c.set('principal', undefined);
    return webRequest(c);
  });
  if (status === 401 && c.req.method === 'GET') return c.redirect(loginUrl(w.path), 303);
  if (status === 401 && c.req.method === 'POST') {
    const kept = await keptForm(c);
    if (kept) return sessionEndedPage(c, w, kept);
  }
  const { m } = w.t;
  const action = actionOfPath(c.req.method, new URL(c.req.url).pathname);
  const message = status === 503 ? m.problems.unavailable : status >= 500 ? m.errors.title : status === 404 ? m.errors.notFound : problemMessage(w.t, problem, { action });
  const title = errorTitle(m, status, problem.code);
  if (problem.headers['Retry-After']) c.header('Retry-After', problem.headers['Retry-After']);
  return renderPage(c, w, {
    title,
    status,
    titleSaysError: true,
    body: (
      <>
        <h1>{title}</h1>
        <p role="alert">{message}</p>
        <p><a href="/">{m.errors.back}</a></p>
      </>
    ),
  });
}

/** What happened, in a few words: the page's title and heading, so that a 404, a refusal and a fault are told apart at once. */
function errorTitle(m: Messages, status: number, code: string | undefined): string {
  if (status === 404) return m.errors.titles.notFound;
  if (code === 'csrf') return m.errors.titles.csrf;
  if (status === 403) return m.errors.titles.forbidden;
  if (status === 429) return m.errors.titles.rateLimited;
  if (status === 503) return m.errors.titles.unavailable;
  return status >= 500 ? m.errors.title : m.errors.titles.refused;
}

/**
 * The fields of a form post of this site refused only because the session ended meanwhile (a long
 * draft, a paper batch): they are kept so that nothing typed is lost. Undefined for anything else.
 */
async function keptForm(c: WebContext): Promise<Record<string, string> | undefined> {
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/.test(c.req.header('content-type') ?? '')) return undefined;
  try {
    const body = await c.req.parseBody();
    verifyCsrf(c, body);
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(body)) if (typeof value === 'string' && name !== CSRF_FIELD) fields[name] = value;
    return fields;
  } catch {
    return undefined;
  }
}

/** The form as it was sent, to send again once logged in (in another tab, so this page stays). */
function sessionEndedPage(c: WebContext, w: WebRequest, fields: Record<string, string>) {
  const { m } = w.t;
  const action = new URL(c.req.url).pathname;
  return renderPage(c, w, {
    title: m.errors.sessionEnded.title,
    status: 401,
    body: (
      <>
        <h1>{m.errors.sessionEnded.title}</h1>
        <p role="alert">{m.errors.sessionEnded.text}</p>
        <p>
          <a href={loginUrl(w.path)} target="_blank" rel="noopener">{m.errors.sessionEnded.login}</a>, {m.errors.sessionEnded.then}
        </p>
        <form method="post" action={action}>
          <input type="hidden" name={CSRF_FIELD} value={w.csrf} />
          {Object.entries(fields).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <p><button type="submit">{m.errors.sessionEnded.resend}</button></p>
        </form>
      </>
    ),
  });
}

/** Browsers asking for a page (not the API's paths) get the page "not found"; API clients their problem document. */
export function wantsPage(c: WebContext): boolean {
  const path = c.req.path;
  if (path.startsWith('/v1/') || path.startsWith('/.well-known/')) return false;
  return /\btext\/html\b/.test(c.req.header('accept') ?? '');
}

export function notFoundPage(c: WebContext) {
  return errorPage(new Problem({ status: 404, code: 'not-found', title: 'Page not found' }), c);
}

/**
 * The logout form of every page carries the form token, and a browser's logout (it says where it
 * comes from: Origin, Sec-Fetch-Site) is checked as every form post is. SameSite=Lax keeps the session
 * cookie off another page's post, not the cookie's clearing off the answer; and a sibling subdomain's
 * post redirected here says `Origin: null` and is same-site. Clients that are no browser send neither header.
 */
export const verifyLogoutForm: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method !== 'POST' || (c.req.header('origin') === undefined && c.req.header('sec-fetch-site') === undefined)) return next();
  try {
    verifyCsrf(c, await c.req.parseBody().catch(() => ({})));
  } catch (error) {
    if (wantsPage(c)) return errorPage(error as Error, c);
    throw error;
  }
  return next();
};
