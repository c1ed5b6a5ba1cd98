import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { startEngineProcess, stopEngine, tempDir, type EngineProcess } from '../support/process';
import { launchChromium } from './browser';

export interface DemoEngine {
  engine: EngineProcess;
  base: string;
  stop(): Promise<void>;
}

/**
 * The engine as `npm start` runs it (a child process, the demo on, dev-admin an administrator),
 * plus a small town whose threshold a handful of paper signatures meets, so a clerk can certify,
 * with dev-clerk as its clerk.
 */
export async function startDemoEngine(prefix: string): Promise<DemoEngine> {
  const dataDir = await tempDir(prefix);
  let engine: EngineProcess | undefined;
  try {
    engine = await startEngineProcess({ dataDir: dataDir.path, env: { DEMO: 'on', ADMIN_SUBJECTS: '' }, startTimeoutMs: 170_000 });
    const admin = await engine.token({ givenNames: 'Aline', familyName: 'Administratrice', birthdate: '1975-03-08', subject: 'dev-admin' });
    const created = await engine.request('POST', '/v1/jurisdictions', {
      token: admin,
      body: {
        id: 'bourg',
        name: 'Commune de Bourg',
        electorate: 1200,
        minimumAge: 16,
        minimumAssurance: 'eidas2',
        committeeMinimum: 1,
        districts: [
          { code: 'nord', name: 'Bourg Nord', electorate: 600 },
          { code: 'sud', name: 'Bourg Sud', electorate: 600 },
        ],
        rules: { agenda: { goal: { signatures: 5 }, collectionDays: 60 } },
      },
    });
    expect(created.status).toBe(201);
    expect((await engine.request('POST', '/v1/jurisdictions/bourg/clerks', { token: admin, body: { subject: 'dev-clerk' } })).status).toBe(201);
  } catch (error) {
    if (engine) await stopEngine(engine);
    await dataDir.remove();
    throw error;
  }
  const running = engine;
  return {
    engine: running,
    base: running.url,
    async stop() {
      await stopEngine(running);
      await dataDir.remove();
    },
  };
}

/** The demo engine and Chromium for the tests of one file: started before them, stopped after them. */
export function demoInChromium(prefix: string): { readonly base: string; readonly browser: Browser } {
  let demo: DemoEngine | undefined;
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
  beforeAll(async () => {
    demo = await startDemoEngine(prefix);
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
    await demo?.stop();
  });
  return {
    get base() {
      return demo!.base;
    },
    get browser() {
      return chromium!.browser;
    },
  };
}

/** The engine's API at `base` for a test's setup: ID tokens from the development provider, calls that must succeed. */
export function apiOf(base: string) {
  const token = async (person: Record<string, string>) => {
    const res = await fetch(`${base}/dev/oidc/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(person) });
    return ((await res.json()) as { id_token: string }).id_token;
  };
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
    return (await res.json()) as Record<string, any>;
  };
  return { token, call };
}

/**
 * Over the API: an initiative open in "Communes de la Loire", 150 communes, beyond what the sign form
 * lists (its signers type the name), three of them named Sainte-Colombe. Its id.
 */
export async function initiativeAmongManyDistricts(base: string): Promise<string> {
  const { token, call } = apiOf(base);
  const admin = await token({ givenNames: 'Aline', familyName: 'Administratrice', birthdate: '1975-03-08', subject: 'dev-admin' });
  const districts = [
    ...Array.from({ length: 147 }, (_, i) => ({ code: String(42_300 + i), name: `Commune ${i + 1}`, electorate: 1000 })),
    { code: '01340', name: 'Sainte-Colombe', electorate: 400 },
    { code: '05135', name: 'Sainte-Colombe', electorate: 300 },
    { code: '69189', name: 'Sainte Colombe', electorate: 1500 },
  ];
  await call(admin, 'POST', '/v1/jurisdictions', {
    id: 'loire',
    name: 'Communes de la Loire',
    electorate: 150_000,
    minimumAge: 16,
    minimumAssurance: 'eidas2',
    districtTerm: 'circonscription',
    districts,
    rules: { agenda: { goal: { signatures: 100 }, collectionDays: 60 } },
  });
  await call(admin, 'POST', '/v1/jurisdictions/loire/clerks', { subject: 'dev-clerk' });
  const sponsor = await token({ givenNames: 'Rose', familyName: 'Porteuse', birthdate: '1972-02-02' });
  const clerk = await token({ givenNames: 'Claire', familyName: 'Greffe', birthdate: '1970-01-01', subject: 'dev-clerk' });
  const draft = await call(sponsor, 'POST', '/v1/initiatives', { jurisdictionId: 'loire', kind: 'agenda', title: 'Une voie verte le long de la Loire', summary: 'Une voie verte.', text: 'Le conseil est invité à débattre d’une voie verte le long de la Loire.' });
  await call(sponsor, 'POST', `/v1/initiatives/${draft.id}/submit`);
  await call(clerk, 'POST', `/v1/initiatives/${draft.id}/review`, { decision: 'open' });
  return draft.id as string;
}
