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
