import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { createWorld, ROLES, type Role, type World } from '../support/world';
import { routeTable } from './route-table';

/**
 * The authorization matrix: every route of the app × every kind of caller → the status they get.
 * The routes come from the app's own route table, so a new route without a row fails this test.
 *
 * Roles (columns, in order): anonymous, citizen (verified, no role), otherSponsor (sponsor of another
 * initiative), committee (member of the target's committee), otherClerk (clerk of Lyon), clerk (of
 * Paris), admin. The target is an open initiative in Paris sponsored by someone outside these roles.
 * Requests carry valid bodies, so a status other than 401/403/404 means "let through".
 */
interface Row {
  /** Concrete path; by default the pattern with :id → the target initiative. */
  path?: (w: World, role: Role) => string;
  body?: (w: World, role: Role) => unknown;
  /** A raw body with its content type (CSV, forms). */
  raw?: { type: string; body: string };
  /** Seven statuses, one per role in the order above. */
  expect: string;
}

const target = (suffix = '') => (w: World) => `/v1/initiatives/${w.targetId}${suffix}`;
const form = { type: 'application/x-www-form-urlencoded', body: '' };

const MATRIX: Record<string, Row> = {
  'GET /healthz': { expect: '200 200 200 200 200 200 200' },
  'GET /readyz': { expect: '200 200 200 200 200 200 200' },
  'GET /.well-known/jwks.json': { expect: '200 200 200 200 200 200 200' },
  'GET /metrics': { expect: '200 200 200 200 200 200 200' },
  'POST /v1/session': { expect: '401 201 201 201 201 201 201' },
  // Every role here comes with an ID token, which is no session to end (tests/api/logout.test.ts ends real ones).
  'DELETE /v1/session': { expect: '401 401 401 401 401 401 401' },
  'GET /v1/jurisdictions': { expect: '200 200 200 200 200 200 200' },
  'GET /v1/jurisdictions/:id': { path: () => '/v1/jurisdictions/paris', expect: '200 200 200 200 200 200 200' },
  'POST /v1/jurisdictions': { body: (_, role) => parisJurisdiction({ id: `j-${role.toLowerCase()}` }), expect: '401 403 403 403 403 403 201' },
  'PATCH /v1/jurisdictions/:id': { path: () => '/v1/jurisdictions/paris', body: () => ({ name: 'Ville de Paris' }), expect: '401 403 403 403 403 200 200' },
  'POST /v1/jurisdictions/:id/clerks': { path: () => '/v1/jurisdictions/paris/clerks', body: () => ({ subject: 'new-clerk' }), expect: '401 403 403 403 403 403 201' },
  'GET /v1/jurisdictions/:id/clerks': { path: () => '/v1/jurisdictions/paris/clerks', expect: '401 403 403 403 403 200 200' },
  // A subject that is no clerk: the administrator passes and finds nothing to revoke (the API tests revoke a real one).
  'DELETE /v1/jurisdictions/:id/clerks/:subject': { path: () => '/v1/jurisdictions/paris/clerks/nobody-here', expect: '401 403 403 403 403 403 404' },
  'GET /v1/initiatives': { expect: '200 200 200 200 200 200 200' },
  'POST /v1/initiatives': { body: () => REFERENDUM_DRAFT, expect: '401 201 201 201 201 201 201' },
  'GET /v1/initiatives/:id': { path: target(), expect: '200 200 200 200 200 200 200' },
  'PATCH /v1/initiatives/:id': { path: target(), body: () => ({ title: 'Autre titre' }), expect: '401 403 403 403 403 403 403' },
  'POST /v1/initiatives/:id/committee': { path: target('/committee'), body: (w) => ({ code: w.committeeCode }), expect: '401 409 409 409 409 409 409' },
  'POST /v1/initiatives/:id/submit': { path: target('/submit'), expect: '401 403 403 403 403 403 403' },
  'POST /v1/initiatives/:id/review': { path: target('/review'), body: () => ({ decision: 'open' }), expect: '401 403 403 403 403 409 403' },
  'POST /v1/initiatives/:id/withdraw': { path: target('/withdraw'), body: () => ({}), expect: '401 403 403 403 403 403 403' },
  'POST /v1/initiatives/:id/close': { path: target('/close'), expect: '401 403 403 403 403 403 403' },
  'GET /v1/initiatives/:id/progress': { path: target('/progress'), expect: '200 200 200 200 200 200 200' },
  'POST /v1/initiatives/:id/signatures': { path: target('/signatures'), body: () => ({ district: '75111', consent: true }), expect: '401 201 201 201 201 201 201' },
  'GET /v1/initiatives/:id/signatures/me': { path: target('/signatures/me'), expect: '401 200 200 200 200 200 200' },
  'DELETE /v1/initiatives/:id/signatures/me': { path: target('/signatures/me'), expect: '401 200 200 200 200 200 200' },
  'PUT /v1/jurisdictions/:id/roll': { path: () => '/v1/jurisdictions/paris/roll', raw: { type: 'text/csv', body: 'given_names,family_name,birthdate,district\n' }, expect: '401 403 403 403 403 400 403' },
  'GET /v1/jurisdictions/:id/roll': { path: () => '/v1/jurisdictions/paris/roll', expect: '401 403 403 403 403 404 403' },
  'POST /v1/initiatives/:id/paper-signatures': {
    path: target('/paper-signatures'),
    body: () => ({ entries: [{ familyName: 'Papier', givenNames: 'Paul', birthdate: '1960-01-01', district: '75111', sheet: 'F-1', collector: 'C-1', signedOn: '2027-01-15' }] }),
    expect: '401 403 403 403 403 200 403',
  },
  'GET /v1/initiatives/:id/paper-signatures/anomalies': { path: target('/paper-signatures/anomalies'), expect: '401 403 403 403 403 200 403' },
  'GET /v1/initiatives/:id/signatures/:signatureId/personal-data': {
    path: (w) => `/v1/initiatives/${w.targetId}/signatures/${w.signatureId}/personal-data`,
    expect: '401 403 403 403 403 200 403',
  },
  'POST /v1/initiatives/:id/verification': { path: target('/verification'), body: () => ({ method: 'full' }), expect: '401 403 403 403 403 409 403' },
  'GET /v1/initiatives/:id/verification': { path: target('/verification'), expect: '401 403 403 403 403 404 403' },
  'POST /v1/initiatives/:id/verification/decisions': { path: target('/verification/decisions'), body: (w) => ({ decisions: [{ signatureId: w.signatureId, decision: 'valid' }] }), expect: '401 403 403 403 403 409 403' },
  'GET /v1/initiatives/:id/verification/export': { path: target('/verification/export'), expect: '401 403 403 403 403 404 403' },
  'GET /v1/initiatives/:id/verification/districts': { path: target('/verification/districts'), expect: '401 403 403 403 403 404 403' },
  'POST /v1/initiatives/:id/verification/complete': { path: target('/verification/complete'), expect: '401 403 403 403 403 409 403' },
  'GET /v1/referendum-items': { expect: '200 200 200 200 200 200 200' },
  'GET /v1/referendum-items/:id': { path: () => '/v1/referendum-items/00000000-0000-4000-8000-000000000000', expect: '404 404 404 404 404 404 404' },
  'GET /v1/initiatives/:id/log': { path: target('/log'), expect: '200 200 200 200 200 200 200' },
  'GET /v1/initiatives/:id/log/entries': { path: target('/log/entries?start=0'), expect: '200 200 200 200 200 200 200' },
  'GET /v1/initiatives/:id/log/inclusion': { path: target('/log/inclusion?index=0'), expect: '200 200 200 200 200 200 200' },
  'GET /v1/initiatives/:id/log/consistency': { path: target('/log/consistency?from=0'), expect: '200 200 200 200 200 200 200' },
  'GET /v1/audit': { expect: '401 403 403 403 200 200 200' },
  'GET /v1/audit/head': { expect: '200 200 200 200 200 200 200' },
  'GET /v1/initiatives/:id/progress/history': { path: target('/progress/history'), expect: '200 200 200 200 200 200 200' },
  'GET /v1/initiatives/:id/dashboard': { path: target('/dashboard'), expect: '401 403 403 200 403 200 403' },
  'GET /v1/initiatives/:id/progress/stream': { path: target('/progress/stream'), expect: '200 200 200 200 200 200 200' },
  'POST /v1/webhooks': { body: () => ({ url: 'https://hooks.example.org/civic', events: ['initiative.opened'], jurisdictionId: 'paris' }), expect: '401 403 403 403 403 403 400' },
  'GET /v1/webhooks': { expect: '401 200 200 200 200 200 200' },
  'POST /v1/webhooks/:id/enable': { path: () => '/v1/webhooks/00000000-0000-4000-8000-000000000000/enable', expect: '401 404 404 404 404 404 404' },
  'DELETE /v1/webhooks/:id': { path: () => '/v1/webhooks/00000000-0000-4000-8000-000000000000', expect: '401 404 404 404 404 404 404' },
  'GET /v1/webhooks/:id/deliveries': { path: () => '/v1/webhooks/00000000-0000-4000-8000-000000000000/deliveries', expect: '401 404 404 404 404 404 404' },
  'GET /auth/login': { path: () => '/auth/login?returnTo=/', expect: '302 302 302 302 302 302 302' },
  'GET /auth/callback': { path: () => '/auth/callback?code=x&state=y', expect: '401 401 401 401 401 401 401' },
  // Not a browser (neither Origin nor Sec-Fetch-Site): no form token needed; a browser's logout needs its page's (tests/security/web.test.ts).
  'POST /auth/logout': { raw: form, expect: '303 303 303 303 303 303 303' },
  'POST /dev/oidc/tokens': { body: () => ({ givenNames: 'Hugo', familyName: 'Test', birthdate: '1990-01-01' }), expect: '201 201 201 201 201 201 201' },
  'GET /dev/oidc/.well-known/openid-configuration': { expect: '200 200 200 200 200 200 200' },
  'GET /dev/oidc/authorize': { path: () => '/dev/oidc/authorize?client_id=x', expect: '400 400 400 400 400 400 400' },
  'POST /dev/oidc/authorize': { raw: form, expect: '400 400 400 400 400 400 400' },
  'POST /dev/oidc/token': { raw: form, expect: '400 400 400 400 400 400 400' },
  'GET /dev/oidc/jwks': { expect: '200 200 200 200 200 200 200' },
  'GET /dev/oidc': { expect: '200 200 200 200 200 200 200' },
  'POST /dev/oidc': { raw: form, expect: '400 400 400 400 400 400 400' },
  'GET /assets/site.css': { expect: '200 200 200 200 200 200 200' },
  'GET /assets/app.js': { expect: '200 200 200 200 200 200 200' },
  'GET /assets/icon.svg': { expect: '200 200 200 200 200 200 200' },
  'GET /favicon.ico': { expect: '301 301 301 301 301 301 301' },
  'GET /initiatives/new': { expect: '303 200 200 200 200 200 200' },
  'POST /initiatives/new': { raw: form, expect: '403 403 403 403 403 403 403' },
  'GET /initiatives/:id/edit': { path: (w) => `/initiatives/${w.targetId}/edit`, expect: '303 403 403 403 403 403 403' },
  'POST /initiatives/:id/edit': { path: (w) => `/initiatives/${w.targetId}/edit`, raw: form, expect: '403 403 403 403 403 403 403' },
  'GET /initiatives/:id/manage': { path: (w) => `/initiatives/${w.targetId}/manage`, expect: '303 403 403 200 403 200 403' },
  'POST /initiatives/:id/submit': { path: (w) => `/initiatives/${w.targetId}/submit`, raw: form, expect: '403 403 403 403 403 403 403' },
  'GET /initiatives/:id/close': { path: (w) => `/initiatives/${w.targetId}/close`, expect: '303 403 403 403 403 403 403' },
  'GET /initiatives/:id/withdraw': { path: (w) => `/initiatives/${w.targetId}/withdraw`, expect: '303 403 403 403 403 403 403' },
  'POST /initiatives/:id/close': { path: (w) => `/initiatives/${w.targetId}/close`, raw: form, expect: '403 403 403 403 403 403 403' },
  'POST /initiatives/:id/withdraw': { path: (w) => `/initiatives/${w.targetId}/withdraw`, raw: form, expect: '403 403 403 403 403 403 403' },
  'GET /initiatives/:id/join': { path: (w) => `/initiatives/${w.targetId}/join`, expect: '303 200 200 200 200 200 200' },
  'POST /initiatives/:id/join': { path: (w) => `/initiatives/${w.targetId}/join`, raw: form, expect: '403 403 403 403 403 403 403' },
  'GET /me': { expect: '303 200 200 200 200 200 200' },
  'GET /clerk': { expect: '303 403 403 403 200 200 403' },
  'GET /clerk/initiatives/:id': { path: (w) => `/clerk/initiatives/${w.targetId}`, expect: '303 403 403 403 403 200 403' },
  'POST /clerk/initiatives/:id/review': { path: (w) => `/clerk/initiatives/${w.targetId}/review`, raw: form, expect: '403 403 403 403 403 403 403' },
  'POST /clerk/initiatives/:id/paper': { path: (w) => `/clerk/initiatives/${w.targetId}/paper`, raw: form, expect: '403 403 403 403 403 403 403' },
  'POST /clerk/initiatives/:id/verification/start': { path: (w) => `/clerk/initiatives/${w.targetId}/verification/start`, raw: form, expect: '403 403 403 403 403 403 403' },
  'POST /clerk/initiatives/:id/verification/decide': { path: (w) => `/clerk/initiatives/${w.targetId}/verification/decide`, raw: form, expect: '403 403 403 403 403 403 403' },
  'POST /clerk/initiatives/:id/verification/complete': { path: (w) => `/clerk/initiatives/${w.targetId}/verification/complete`, raw: form, expect: '403 403 403 403 403 403 403' },
  'GET /clerk/audit': { expect: '303 403 403 403 200 200 403' },
  'GET /clerk/audit.csv': { expect: '303 403 403 403 200 200 403' },
  'GET /clerk/initiatives/:id/districts.csv': { path: (w) => `/clerk/initiatives/${w.targetId}/districts.csv`, expect: '303 403 403 403 403 200 403' },
  'GET /': { expect: '200 200 200 200 200 200 200' },
  'GET /results': { expect: '200 200 200 200 200 200 200' },
  // The world certifies nothing: an item that does not exist is the page "not found" for everyone (tests/web/results.test.ts shows a real one).
  'GET /results/:id': { path: () => '/results/00000000-0000-4000-8000-000000000000', expect: '404 404 404 404 404 404 404' },
  'GET /initiatives/:id': { path: (w) => `/initiatives/${w.targetId}`, expect: '200 200 200 200 200 200 200' },
  'GET /initiatives/:id/sign': { path: (w) => `/initiatives/${w.targetId}/sign`, expect: '303 200 200 200 200 200 200' },
  'POST /initiatives/:id/sign': { path: (w) => `/initiatives/${w.targetId}/sign`, raw: form, expect: '403 403 403 403 403 403 403' },
  'GET /initiatives/:id/signature': { path: (w) => `/initiatives/${w.targetId}/signature`, expect: '303 200 200 200 200 200 200' },
  'POST /initiatives/:id/signature/withdraw': { path: (w) => `/initiatives/${w.targetId}/signature/withdraw`, raw: form, expect: '403 403 403 403 403 403 403' },
  'GET /receipt': { expect: '200 200 200 200 200 200 200' },
  'GET /initiatives/:id/transparency': { path: (w) => `/initiatives/${w.targetId}/transparency`, expect: '200 200 200 200 200 200 200' },
  // Anyone may print the paper form of an open initiative.
  'GET /initiatives/:id/paper-form': { path: (w) => `/initiatives/${w.targetId}/paper-form`, expect: '200 200 200 200 200 200 200' },
  // A jurisdiction's districts are public: the paper form sends signers there.
  'GET /jurisdictions/:id': { path: () => '/jurisdictions/paris', expect: '200 200 200 200 200 200 200' },
  'GET /lang': { path: () => '/lang?to=en&returnTo=/', expect: '303 303 303 303 303 303 303' },
  'GET /openapi.json': { expect: '200 200 200 200 200 200 200' },
  'GET /docs': { expect: '200 200 200 200 200 200 200' },
  // The test engine is given no documentation files: public, but absent here.
  'GET /docs/assets/:file': { path: () => '/docs/assets/swagger-ui.css', expect: '404 404 404 404 404 404 404' },
};

describe('authorization matrix', () => {
  let world: World;
  beforeAll(async () => {
    // One snapshot instead of a live stream, so every answer ends.
    world = await createWorld({ deps: { progressStream: { mode: 'snapshot' } } });
  });
  afterAll(() => world.engine.close());

  it('has a row for every route of the app, and no row for a route that is gone', () => {
    const routes = routeTable(world.engine.app);
    expect(routes.filter((r) => !MATRIX[r]), 'routes without a row in the authorization matrix').toEqual([]);
    expect(Object.keys(MATRIX).filter((r) => !routes.includes(r)), 'rows for routes that no longer exist').toEqual([]);
  });

  it('gives each kind of caller exactly the expected status on every route', { timeout: 240_000 }, async () => {
    const mismatches: string[] = [];
    for (const key of routeTable(world.engine.app)) {
      const row = MATRIX[key];
      if (!row) continue;
      const [method, pattern] = key.split(' ') as [string, string];
      const observed: number[] = [];
      for (const role of ROLES) {
        const path = row.path ? row.path(world, role) : pattern;
        const res = await world.engine.request(method, path, {
          token: world.tokens[role],
          ...(row.body ? { body: row.body(world, role) } : {}),
          ...(row.raw ? { rawBody: row.raw.body, headers: { 'content-type': row.raw.type } } : {}),
        });
        observed.push(res.status);
        // Refusals are problem documents, whoever is refused.
        if ((res.status === 401 || res.status === 403) && path.startsWith('/v1/')) {
          expect(res.contentType, `${key} as ${role}`).toContain('application/problem+json');
        }
      }
      if (observed.join(' ') !== row.expect) mismatches.push(`${key}: expected ${row.expect}, got ${observed.join(' ')}`);
    }
    expect(mismatches).toEqual([]);
  });
});
