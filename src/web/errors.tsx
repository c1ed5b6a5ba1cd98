import { HTTPException } from 'hono/http-exception';
import { Problem } from '../platform/problems';
import { renderPage } from './layout';
import { actionOfPath, problemMessage } from './problems';
import { loginUrl, webRequest, type WebContext } from './request';

/** Errors on pages become pages: a login redirect for 401, a readable message otherwise. */
export async function errorPage(error: Error, c: WebContext) {
  let problem: Problem | undefined;
  if (error instanceof Problem) {
    problem = error;
  } else if (error instanceof HTTPException) {
    problem = new Problem({ status: error.status, code: `http-${error.status}`, title: error.message || 'Request refused' });
  } else if (error instanceof TypeError && /parse body as FormData/i.test(error.message)) {
    problem = new Problem({ status: 400, code: 'unreadable-form', title: 'Malformed form' });
  } else {
    c.var.deps.logger.error('unhandled error', { requestId: c.var.requestId, route: c.req.routePath, error: error.name });
  }
  const status = problem?.status ?? 500;
  const w = await webRequest(c);
  if (status === 401 && c.req.method === 'GET') return c.redirect(loginUrl(w.path), 303);
  const { m } = w.t;
  const action = actionOfPath(c.req.method, new URL(c.req.url).pathname);
  const message = !problem || status >= 500 ? m.errors.title : status === 404 ? m.errors.notFound : problemMessage(w.t, problem, { action });
  return renderPage(c, w, {
    title: m.errors.title,
    status,
    body: (
      <>
        <h1>{m.errors.title}</h1>
        <p role="alert">{message}</p>
        <p><a href="/">{m.errors.back}</a></p>
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
