import { beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/db/client';
import { engineProcessSuite } from '../support/engine-processes';
import { brokenInvariants, ledgerOf } from '../support/ledger';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres';
import { citizen, mapLimit, openInitiativeOver, sleep, type EngineProcess, type HttpResult } from '../support/process';

/** Requests that do not answer within this bound count as hung, and fail the test. */
const NO_HANG_MS = 15_000;

/**
 * The database goes away under signing load and comes back: the engine answers 503 with
 * Retry-After meanwhile (never hangs, never a 500), says it is not ready, and recovers by itself.
 * A private PostgreSQL server is used so the shared one is never stopped.
 */
describe('a PostgreSQL restart during signing load', () => {
  let postgres: PrivatePostgres;
  const suite = engineProcessSuite('civic-dbrestart-', {
    database: async () => {
      postgres = await startPrivatePostgres();
      return { url: postgres.url, remove: () => postgres.destroy() };
    },
  });
  let engine: EngineProcess;

  beforeAll(async () => {
    engine = await suite.start({ DATABASE_URL: postgres.url, DATABASE_POOL_SIZE: '6' });
  });

  it('answers 503 with Retry-After during the outage, recovers without a restart, loses and doubles nothing', { timeout: 240_000 }, async () => {
    const { initiativeId } = await openInitiativeOver(engine);
    const people = Array.from({ length: 1200 }, (_, i) => citizen(i, 'Outage'));
    const tokens = await mapLimit(people, 16, (p) => engine.token(p));

    type Outcome = { person: number; phase: 'before' | 'down' | 'after'; res: HttpResult };
    const outcomes: Outcome[] = [];
    let phase: Outcome['phase'] = 'before';
    let stopLoad = false;
    let next = 0;
    const sign = (i: number) =>
      engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: tokens[i], body: { district: '75112', consent: true }, timeoutMs: NO_HANG_MS });
    const worker = async () => {
      while (!stopLoad && next < people.length) {
        const i = next++;
        const at = phase;
        outcomes.push({ person: i, phase: at, res: await sign(i) });
        if (at === 'down') await sleep(20); // a client would honour Retry-After; keep the outage from burning through everyone
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    while (outcomes.filter((o) => o.res.status === 201).length < 100) await sleep(10);

    phase = 'down';
    await postgres.stop();
    const downSince = outcomes.length;
    // While the database is down: not ready, and signing is refused with a problem and Retry-After.
    let ready = await engine.request('GET', '/readyz', { timeoutMs: NO_HANG_MS });
    expect(ready.status, engine.output.join('\n')).toBe(503);
    expect(ready.contentType).toContain('application/problem+json');
    while (outcomes.slice(downSince).filter((o) => o.res.status === 503).length < 20) await sleep(20);
    expect((await engine.request('GET', '/healthz')).status).toBe(200);
    // A citizen opening the initiative's page meanwhile is told to try again in a moment, not "an error occurred".
    const page = await engine.request('GET', `/initiatives/${initiativeId}`, { headers: { accept: 'text/html' }, timeoutMs: NO_HANG_MS });
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(String(page.body)).toContain('Le service est momentanément indisponible');

    await postgres.start();
    phase = 'after';
    for (let tries = 0; ; tries++) {
      ready = await engine.request('GET', '/readyz', { timeoutMs: NO_HANG_MS });
      if (ready.status === 200 || tries > 300) break;
      await sleep(100);
    }
    expect(ready.status).toBe(200);
    const afterSince = outcomes.length;
    while (outcomes.slice(afterSince).filter((o) => o.res.status === 201).length < 100) await sleep(10);
    stopLoad = true;
    await load;

    // Nothing hung, nothing crashed: every answer is a 2xx, or a 503 problem with Retry-After.
    for (const { res } of outcomes) {
      expect(res.status, String(res.body)).not.toBe(0);
      if (res.status === 200 || res.status === 201) continue;
      expect(res.status, JSON.stringify(res.body)).toBe(503);
      expect(res.contentType).toContain('application/problem+json');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+|stack/i);
    }
    expect(outcomes.filter((o) => o.phase === 'down' && o.res.status === 503).length).toBeGreaterThan(0);
    // Recovery came without restarting the engine: the same process signs again.
    expect(engine.child.exitCode).toBeNull();

    // Those refused during the outage retry: each ends with exactly one signature.
    const retried = outcomes.filter((o) => o.res.status === 503).map((o) => o.person);
    for (const i of retried) expect([200, 201], engine.output.slice(-20).join('\n')).toContain((await sign(i)).status);

    const db = await openPostgres(postgres.url, { max: 2, migrate: false });
    try {
      const ledger = await ledgerOf(db.db, initiativeId);
      expect(brokenInvariants(ledger)).toEqual([]);
      const acknowledged = outcomes.filter((o) => o.res.status === 201 || o.res.status === 200);
      for (const { res } of acknowledged) expect(ledger.ids.has(res.body.signature.id)).toBe(true);
      expect(ledger.counted).toBe(new Set([...acknowledged.map((o) => o.person), ...retried]).size);
      const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
      expect(progress.body.signatures).toBe(ledger.counted);
    } finally {
      await db.close();
    }
  });
});
