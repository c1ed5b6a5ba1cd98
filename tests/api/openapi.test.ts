import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isForEveryone } from '../../src/app';
import { isUndocumented } from '../../src/features/docs/routes';
import { packageDocsAssets } from '../../src/platform/docs-assets';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisJurisdiction } from '../support/paris';

type Operation = {
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: { name: string; in: string; example?: unknown; schema?: { example?: unknown; format?: string } }[];
  requestBody?: { content: Record<string, { schema?: { $ref?: string; example?: unknown }; example?: unknown; examples?: Record<string, { value: unknown }> }> };
  responses: Record<string, { description?: string; content?: Record<string, unknown> }>;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/**
 * The OpenAPI document is the API's contract: valid OpenAPI 3.1, complete (every route of the
 * app is described or deliberately left out), and its example requests pass the routes' own
 * validation.
 */
describe('the OpenAPI document and the interactive documentation', () => {
  let engine: TestEngine;
  let document: { openapi: string; paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>; components: { schemas: Record<string, { example?: unknown }> } };
  let operations: { method: string; path: string; op: Operation }[];

  beforeAll(async () => {
    engine = await createTestEngine({
      // Webhook examples name hooks.example.org; with no DNS here, it resolves to example.org's public address.
      deps: { docsAssets: packageDocsAssets(), webhooks: { resolve: async () => ['93.184.215.14'] } },
    });
    const res = await engine.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    document = res.body;
    operations = Object.entries(document.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method]! })),
    );
  });
  afterAll(() => engine.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    const result = await new Validator().validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every route of the app, and nothing the app does not serve', () => {
    const served = new Set<string>();
    const missing: string[] = [];
    for (const route of engine.app.routes) {
      // `ALL` entries are middleware (request ids, body limits, authentication), not endpoints.
      if (route.method === 'ALL') continue;
      const path = route.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
      served.add(`${route.method} ${path}`);
      if (isUndocumented(route.method, route.path)) {
        expect(route.path, 'the JSON API under /v1 is always described').not.toMatch(/^\/v1\//);
        continue;
      }
      if (!document.paths[path]?.[route.method.toLowerCase() as (typeof METHODS)[number]]) missing.push(`${route.method} ${route.path}`);
    }
    expect(missing, 'routes without a description: describe them with createRoute, or list them in UNDOCUMENTED_ROUTES').toEqual([]);
    const phantom = operations.map(({ method, path }) => `${method.toUpperCase()} ${path}`).filter((o) => !served.has(o));
    expect(phantom).toEqual([]);
  });

  it('gives every operation a summary, its auth, and the problems it can answer', () => {
    const faults: string[] = [];
    const check = (ok: boolean, fault: string) => void (ok || faults.push(fault));
    for (const { method, path, op } of operations) {
      const name = `${method.toUpperCase()} ${path}`;
      const statuses = Object.keys(op.responses);
      check(Boolean(op.summary ?? op.description), `${name}: no summary`);
      for (const [status, response] of Object.entries(op.responses)) {
        check(Boolean(response.description), `${name} ${status}: no description`);
        if (Number(status) >= 400) check(Object.keys(response.content ?? {}).join() === 'application/problem+json', `${name} ${status}: not a problem document`);
      }
      if (op.security) check(JSON.stringify(op.security) === '[{"Bearer":[]}]', `${name}: unknown security`);
      // A bearer token that is not valid is refused wherever one is read, public operations included.
      if (!isForEveryone(path)) check(statuses.includes('401'), `${name}: reads a bearer token but documents no 401`);
      // The session cookie is refused on a change asked by a page of another origin.
      if (path.startsWith('/v1/') && method !== 'get') check(statuses.includes('403'), `${name}: changes something but documents no 403`);
      if (op.requestBody && path.startsWith('/v1/')) check(statuses.includes('400'), `${name}: validates a body but documents no 400`);
      // Any body of another media type is refused (415); under /v1 any body over the limit (413).
      if (op.requestBody) check(statuses.includes('415'), `${name}: takes a body but documents no 415`);
      if (op.requestBody && path.startsWith('/v1/')) check(statuses.includes('413'), `${name}: takes a body but documents no 413`);
      if (path.includes('{')) check(statuses.includes('404'), `${name}: names a resource but documents no 404`);
      // The database may be away, or a change may meet another of the same records: 503, send it again.
      if (path.startsWith('/v1/')) check(statuses.includes('503'), `${name}: uses the database but documents no 503`);
    }
    expect(faults).toEqual([]);
    expect(Object.keys(document.components.schemas)).toContain('Problem');
  });

  it('has an example for every JSON request body, and each passes the route’s own validation', async () => {
    const admin = await engine.adminToken();
    // The examples speak of Paris: it exists, and the admin's token is accepted.
    expect((await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction() })).status).toBe(201);
    const faults: string[] = [];
    let checked = 0;
    for (const { method, path, op } of operations) {
      const media = op.requestBody?.content['application/json'];
      if (!media) continue;
      const name = `${method.toUpperCase()} ${path}`;
      const example = exampleOf(media, document.components.schemas);
      if (example === undefined) {
        faults.push(`${name}: its request body has no example`);
        continue;
      }
      const url = path.replace(/\{([^}]+)\}/g, (_, param: string) => {
        const declared = op.parameters?.find((p) => p.in === 'path' && p.name === param);
        const value = declared?.example ?? declared?.schema?.example;
        if (value !== undefined) return encodeURIComponent(String(value));
        return declared?.schema?.format === 'uuid' ? '0192f0c4-6f7d-7a51-9c35-2b1f6c0c7e11' : 'paris';
      });
      const res = await engine.request(method.toUpperCase(), url, { token: admin, body: example });
      const errors: { field: string; message: string }[] = res.status === 400 ? (res.body.errors ?? [{ field: 'body', message: res.body.title }]) : [];
      const bodyErrors = errors.filter((e) => e.field.startsWith('body'));
      if (bodyErrors.length > 0) faults.push(`${name} refuses its own example: ${JSON.stringify(bodyErrors)}`);
      if (res.status >= 500) faults.push(`${name}: ${res.status}`);
      checked++;
    }
    expect(faults).toEqual([]);
    expect(checked).toBeGreaterThan(5);
  });

  it('serves the interactive documentation with its own scripts, needing no network', async () => {
    const page = await engine.request('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.contentType).toMatch(/^text\/html/);
    // The same policy as the web front's pages: the engine's own scripts only, never framed.
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) expect(csp).toContain(directive);
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    const sources = [...String(page.body).matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources).toEqual(expect.arrayContaining(['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/assets/init.js']));
    // Everything the page loads comes from the engine itself.
    expect(sources.filter((s) => /^(https?:)?\/\//.test(s))).toEqual([]);
    for (const source of sources.filter((s) => s.startsWith('/docs/assets/'))) {
      const res = await engine.request('GET', source);
      expect(res.status, source).toBe(200);
    }
    const init = await engine.request('GET', '/docs/assets/init.js');
    expect(init.body).toContain("url: '/openapi.json'");
    expect((await engine.request('GET', '/docs/assets/package.json')).status).toBe(404);
  });
});

function exampleOf(
  media: { schema?: { $ref?: string; example?: unknown }; example?: unknown; examples?: Record<string, { value: unknown }> },
  schemas: Record<string, { example?: unknown }>,
): unknown {
  if (media.example !== undefined) return media.example;
  const first = Object.values(media.examples ?? {})[0];
  if (first) return first.value;
  const ref = media.schema?.$ref?.replace('#/components/schemas/', '');
  return ref ? schemas[ref]?.example : media.schema?.example;
}
