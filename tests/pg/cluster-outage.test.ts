import { describe, expect, it } from 'vitest';
import { engineProcessSuite } from '../support/engine-processes';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres';
import { childProcesses, sleep } from '../support/process';

/** The engine's processes that answer requests: the children of the primary running the server. */
async function answeringProcesses(primary: number): Promise<number[]> {
  return (await childProcesses(primary)).filter((child) => child.cmdline.includes('src/server.ts')).map((child) => child.pid);
}

/**
 * ENGINE_PROCESSES: processes that die while the database is away (a failover, a restart) cannot
 * start again until it is back, as a new process checks the database before it answers. The
 * primary keeps trying: once the database is back, the engine answers again with all its processes.
 * A private PostgreSQL server is used so the shared one is never stopped.
 */
describe('a cluster whose processes die during a database outage', () => {
  let postgres: PrivatePostgres;
  const suite = engineProcessSuite('civic-cluster-outage-', {
    database: async () => {
      postgres = await startPrivatePostgres();
      return { url: postgres.url, remove: () => postgres.destroy() };
    },
  });

  it('starts them again once the database is back, instead of leaving the port unanswered', { timeout: 180_000 }, async () => {
    const engine = await suite.start({
      DATABASE_URL: postgres.url,
      ENGINE_PROCESSES: '2',
      // Never reached here: only the probes are asked.
      OIDC_ISSUER: 'http://127.0.0.1:9/oidc',
      OIDC_CLIENT_ID: 'civic-engine',
      LOG_LEVEL: 'info',
    });
    // Both answer once the primary says it listens (a process that dies before then fails the start).
    while (!engine.output.some((line) => line.includes('"msg":"listening"'))) await sleep(100);
    const first = await answeringProcesses(engine.child.pid!);
    expect(first).toHaveLength(2);

    await postgres.stop();
    for (const pid of first) process.kill(pid, 'SIGKILL');
    // Their replacements cannot start while the database is away.
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
      if (engine.output.filter((line) => line.includes('could not be started again') || line.includes('trying again')).length >= 2) break;
    }
    await sleep(1000);
    await postgres.start();
    // Each failed start says why, not which statement it was running with which parameters.
    const failures = engine.output.filter((line) => line.startsWith('Could not start'));
    expect(failures.length).toBeGreaterThan(0);
    for (const line of failures) expect(line).toMatch(/^Could not start: a query to the database failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    expect(engine.output.filter((line) => line.startsWith('params:'))).toEqual([]);

    let ready = 0;
    let now: number[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
      ready = (await engine.request('GET', '/readyz', { timeoutMs: 2000 })).status;
      now = await answeringProcesses(engine.child.pid!);
      if (ready === 200 && now.length === 2) break;
    }
    expect(ready).toBe(200);
    expect(now).toHaveLength(2);
    for (const pid of first) expect(now).not.toContain(pid);

    engine.kill('SIGTERM');
    expect(await engine.exited).toEqual({ code: 0, signal: null });
  });
});
