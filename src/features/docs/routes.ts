import { z } from '@hono/zod-openapi';
import type { Router } from '../../platform/http';
import { PAGE_CSP } from '../../web/layout';

/** Swagger UI's files the /docs page loads; nothing else of the package is served. */
export const DOCS_ASSET_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png'] as const;
export type DocsAssetFile = (typeof DOCS_ASSET_FILES)[number];

/**
 * Routes the OpenAPI document leaves out on purpose: pages and files for people in a browser,
 * and the development provider's standard OpenID endpoints. Everything else, and the whole of
 * /v1, must be described (tests/api/openapi.test.ts fails otherwise).
 */
export const UNDOCUMENTED_ROUTES: { path: RegExp; why: string }[] = [
  { path: /^\/docs(\/|$)/, why: 'the interactive documentation itself and its scripts' },
  { path: /^\/dev\/oidc(\/(authorize|token|jwks|\.well-known\/openid-configuration))?$/, why: 'the development identity provider: its login page and OpenID Connect endpoints' },
  { path: /^\/$/, why: 'web front: home page' },
  { path: /^\/assets\//, why: 'web front: styles, scripts and icon' },
  { path: /^\/favicon\.ico$/, why: "web front: the browsers' icon address, leading to the icon" },
  { path: /^\/initiatives\//, why: 'web front: initiative pages and their forms' },
  { path: /^\/(me|receipt|lang)$/, why: 'web front: my signatures, receipt check, language choice' },
  { path: /^\/clerk(\/|$)/, why: "web front: the clerks' pages, forms and CSV downloads" },
  { path: /^\/results(\/|$)/, why: 'web front: certified results and their certificates' },
  { path: /^\/jurisdictions\/[^/]+$/, why: "web front: a jurisdiction's districts, their names and codes" },
];

export function isUndocumented(method: string, path: string): boolean {
  return method !== 'ALL' && UNDOCUMENTED_ROUTES.some((r) => r.path.test(path));
}

export const API_TITLE = 'Civic initiative engine API';
export const API_VERSION = '1.0.0';

const API_DESCRIPTION = [
  'Initiatives, verified signatures, thresholds and certification.',
  '',
  'Errors are `application/problem+json` (RFC 9457): `type` is stable (for example `/problems/validation`), and validation problems list each field at fault in `errors`.',
  'Calls that act for a person take `Authorization: Bearer <token>`: an ID token of the configured identity provider, or an engine session token from `POST /v1/session`.',
  '',
  'Reads anyone may make without a token may be made from a page of another origin (CORS: `Access-Control-Allow-Origin: *`, no credentials); nothing else may. An answer that says `Cache-Control: public` carries an `ETag`: send it back as `If-None-Match` and an unchanged answer is `304 Not Modified`, without a body.',
].join('\n');

/**
 * The reads whose answers are marked `Cache-Control: public` (the same for everyone), so carry an
 * `ETag` and may be answered `304`: only they declare it.
 */
export const CONDITIONAL_READS = new Set([
  '/v1/initiatives/{id}',
  '/v1/initiatives/{id}/progress',
  '/v1/initiatives/{id}/progress/history',
  '/v1/initiatives/{id}/log',
  '/v1/initiatives/{id}/log/entries',
  '/v1/initiatives/{id}/log/inclusion',
  '/v1/initiatives/{id}/log/consistency',
  '/.well-known/jwks.json',
  '/openapi.json',
]);

/** An unchanged answer to a conditional read (see `conditionalReads`). */
const NOT_MODIFIED = {
  description: 'Not modified: `If-None-Match` named the answer’s current `ETag` (answers marked `Cache-Control: public` carry one). No body.',
  headers: { ETag: { description: 'The same tag, quoted.', schema: { type: 'string' } } },
};

/**
 * The document as generated, with the conditional reads' `304` beside their JSON `200`, and
 * the webhooks named by their event types (routers mounted at `/` put a slash before each name).
 */
function finished<T extends { paths?: object; webhooks?: object }>(document: T): T {
  if (document.webhooks) {
    document.webhooks = Object.fromEntries(Object.entries(document.webhooks).map(([name, item]) => [name.replace(/^\//, ''), item]));
  }
  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, { get?: unknown }>)) {
    if (!CONDITIONAL_READS.has(path)) continue;
    const get = item.get as { responses?: Record<string, object & { content?: Record<string, unknown> }> } | undefined;
    const ok = get?.responses?.['200'];
    if (get?.responses && ok?.content && Object.keys(ok.content).some((type) => type.endsWith('json'))) get.responses['304'] ??= NOT_MODIFIED;
  }
  return document;
}

// Loaded as a file rather than inline so the page works under a strict Content-Security-Policy.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
});
`;


const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${API_TITLE}</title>
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" />
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
  </head>
  <body>
    <noscript>The interactive documentation needs JavaScript; the machine-readable description is at <a href="/openapi.json">/openapi.json</a>.</noscript>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/assets/init.js"></script>
  </body>
</html>
`;

/**
 * The machine-readable contract (GET /openapi.json, OpenAPI 3.1 generated from the routes' zod
 * schemas) and its interactive documentation (GET /docs, Swagger UI served by the engine itself,
 * so it needs no network). Mounted last: the document is built once, on first request, from
 * every route registered by then.
 */
export function mountApiDocs(app: Router) {
  let document: ReturnType<Router['getOpenAPI31Document']> | undefined;

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/openapi.json',
    tags: ['Operations'],
    summary: 'This description of the API (OpenAPI 3.1)',
    responses: {
      200: {
        description: 'The OpenAPI document; the interactive documentation at /docs reads it.',
        content: { 'application/json': { schema: z.object({ openapi: z.string() }).passthrough() } },
      },
    },
  });

  app.get('/openapi.json', (c) => {
    document ??= finished(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: { title: API_TITLE, version: API_VERSION, description: API_DESCRIPTION },
        servers: [{ url: c.var.deps.config.publicUrl }],
      }),
    );
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(document);
  });

  app.get('/docs', (c) => {
    // The web front's policy: the page's scripts and styles are the engine's own files; "Try it out" calls the API.
    c.header('Content-Security-Policy', PAGE_CSP);
    return c.html(DOCS_PAGE);
  });

  app.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file');
    if (file === 'init.js') {
      return c.body(INIT_SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=300' });
    }
    const asset = (DOCS_ASSET_FILES as readonly string[]).includes(file) ? await c.var.deps.docsAssets?.(file as DocsAssetFile) : undefined;
    if (!asset) return c.notFound();
    const headers = new Headers(asset.headers);
    headers.set('Content-Type', contentTypeOf(file));
    headers.set('Cache-Control', 'public, max-age=86400');
    return new Response(asset.body, { status: 200, headers });
  });
}

function contentTypeOf(file: string): string {
  if (file.endsWith('.js')) return 'text/javascript; charset=utf-8';
  if (file.endsWith('.css')) return 'text/css; charset=utf-8';
  return 'image/png';
}
