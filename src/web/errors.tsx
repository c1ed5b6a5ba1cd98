import { HTTPException } from 'hono/http-exception';
import { Problem } from '../platform/problems';
import { renderPage } from './layout';
import { loginUrl, webRequest, type WebContext } from './request';

/** Errors on pages become pages: a login redirect for 401, a readable message otherwise. */
export async function errorPage(error: Error, c: WebContext) {
  let status = 500;
  let code = 'internal';
  let detail: string | undefined;
  if (error instanceof Problem) {
    status = error.status;
    code = error.code;
    detail = error.detail;
  } else if (error instanceof HTTPException) {
    status = error.status;
    code = `http-${status}`;
  } else if (error instanceof TypeError && /parse body as FormData/i.test(error.message)) {
    status = 400;
    code = 'unreadable-form';
  } else {
    c.var.deps.logger.error('unhandled error', { requestId: c.var.requestId, route: c.req.routePath, error: error.name });
  }
  const w = await webRequest(c);
  if (status === 401 && c.req.method === 'GET') return c.redirect(loginUrl(w.path), 303);
  const { m } = w.t;
  const message =
    code === 'csrf' ? m.errors.csrf : status === 404 ? m.errors.notFound : status === 403 && code === 'forbidden' ? m.errors.forbidden : status >= 500 ? m.errors.title : (detail ?? m.errors.title);
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
