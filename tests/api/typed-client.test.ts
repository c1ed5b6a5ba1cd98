import { hc, type InferRequestType } from 'hono/client';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { App } from '../../src/app';
import { createTestEngine, PUBLIC_URL, type TestEngine } from '../support/engine';
import { parisJurisdiction } from '../support/paris';

/** Integrators' typed client (README): hc<App> from hono/client, its types from the routes' zod schemas. */
describe('the typed client for integrators', () => {
  let engine: TestEngine;
  let client: ReturnType<typeof hc<App>>;

  beforeAll(async () => {
    engine = await createTestEngine();
    client = hc<App>(PUBLIC_URL, { fetch: (input: RequestInfo | URL, init?: RequestInit) => engine.app.request(input, init) });
  });
  afterAll(() => engine.close());

  it('creates and reads a jurisdiction with typed requests and responses', async () => {
    const admin = await engine.adminToken();
    // The fixture is plain JSON (as an integrator's would be); the client types what is sent.
    const body = parisJurisdiction() as InferRequestType<typeof client.v1.jurisdictions.$post>['json'];
    const created = await client.v1.jurisdictions.$post({ json: body }, { headers: { authorization: `Bearer ${admin}` } });
    expect(created.status).toBe(201);

    const res = await client.v1.jurisdictions[':id'].$get({ param: { id: 'paris' } });
    expect(res.status).toBe(200);
    if (res.status !== 200) return;
    const jurisdiction = await res.json();
    expectTypeOf(jurisdiction.districts).toEqualTypeOf<{ code: string; name: string; electorate: number }[]>();
    expect(jurisdiction).toMatchObject({ id: 'paris', name: 'Ville de Paris', minimumAge: 16 });
    expect(jurisdiction.districts).toHaveLength(20);
  });

  it('gets problems back as typed errors', async () => {
    const res = await client.v1.jurisdictions[':id'].$get({ param: { id: 'nowhere' } });
    expect(res.status).toBe(404);
    if (res.status !== 404) return;
    const problem = await res.json();
    expect(problem.type).toBe('/problems/not-found');
  });
});
