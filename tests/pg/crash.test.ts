import { describe, expect, it } from 'vitest';
import { openPostgres, type DatabaseHandle } from '../../src/db/client';
import { engineProcessSuite } from '../support/engine-processes';
import { brokenInvariants, ledgerOf } from '../support/ledger';
import { citizen, mapLimit, openInitiativeOver, sleep, type EngineProcess } from '../support/process';

/**
 * kill -9 in the middle of signing load: what was acknowledged survives, nothing is half-written.
 * The engine runs as a real process on a real PostgreSQL database.
 */
describe('the engine killed with SIGKILL during signing load', () => {
  let engine: EngineProcess | undefined;
  let db: DatabaseHandle;
  const suite = engineProcessSuite('civic-crash-', { beforeRemove: () => db?.close() });

  it('keeps every acknowledged signature, leaves no row for a refused one, and counts = rows = log entries', async () => {
    const env = { DATABASE_URL: suite.databaseUrl, DATABASE_POOL_SIZE: '8' };
    engine = await suite.start(env);
    const { port } = engine;
    const { initiativeId } = await openInitiativeOver(engine);

    // Every fifth person is 15 years old: refused (403), which must leave nothing behind.
    const people = Array.from({ length: 600 }, (_, i) => ({ ...citizen(i, 'Crash'), ...(i % 5 === 4 ? { birthdate: '2012-01-01' } : {}) }));
    const tokens = await mapLimit(people, 16, (p) => engine!.token(p));

    const acknowledged = new Map<number, string>(); // person → signature id
    const refused = new Set<number>();
    const unknown = new Set<number>(); // the connection died: the outcome is not known to the client
    let killed = false;
    let next = 0;
    const worker = async () => {
      while (!killed && next < people.length) {
        const i = next++;
        const res = await engine!.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
          token: tokens[i],
          body: { district: '75111', consent: true },
        });
        if (res.status === 201 || res.status === 200) acknowledged.set(i, res.body.signature.id);
        else if (res.status === 0) unknown.add(i);
        else refused.add(i);
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, worker));
    while (acknowledged.size < 150) await sleep(5);
    engine.kill('SIGKILL');
    killed = true;
    expect((await engine.exited).signal).toBe('SIGKILL');
    await load;
    expect(refused.size).toBeGreaterThan(0);

    // Straight from the database, before any restart: the invariants hold at the moment of the crash.
    db = await openPostgres(suite.databaseUrl, { max: 2, migrate: false });
    const ledger = await ledgerOf(db.db, initiativeId);
    expect(brokenInvariants(ledger)).toEqual([]);
    for (const id of acknowledged.values()) expect(ledger.ids.has(id)).toBe(true);
    // Rows beyond the acknowledged ones can only belong to requests cut off by the kill.
    expect(ledger.rows - acknowledged.size).toBeGreaterThanOrEqual(0);
    expect(ledger.rows - acknowledged.size).toBeLessThanOrEqual(unknown.size);

    // Restarted on the same data: the engine finds every acknowledged signature again.
    engine = await suite.start(env, { port });
    for (const [i, id] of acknowledged) {
      const mine = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: tokens[i] });
      expect(mine.status).toBe(200);
      expect(mine.body.signature.id).toBe(id);
    }
    for (const i of refused) {
      const mine = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: tokens[i] });
      expect(mine.status).toBe(404);
    }
    // A client that never heard back retries safely: one signature, never two.
    for (const i of unknown) {
      const again = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: tokens[i], body: { district: '75111', consent: true } });
      expect([200, 201, 403]).toContain(again.status);
    }
    const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    const after = await ledgerOf(db.db, initiativeId);
    expect(brokenInvariants(after)).toEqual([]);
    expect(progress.body.signatures).toBe(after.counted);
    expect(after.counted).toBe(acknowledged.size + [...unknown].filter((i) => i % 5 !== 4).length);
  });
});
