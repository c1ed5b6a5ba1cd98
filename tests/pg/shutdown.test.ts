import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/db/client';
import { engineProcessSuite } from '../support/engine-processes';
import { brokenInvariants, ledgerOf } from '../support/ledger';
import { citizen, mapLimit, openInitiativeOver, sleep, type EngineProcess } from '../support/process';

/** SIGTERM under load (a deploy, a scale-down): requests in flight finish, later ones are refused, exit 0. */
describe('graceful shutdown under signing load', () => {
  const suite = engineProcessSuite('civic-shutdown-');
  let engine: EngineProcess;

  beforeAll(async () => {
    // The log sequenced every 30 s: what was signed before SIGTERM is still waiting for it then.
    engine = await suite.start({ DATABASE_URL: suite.databaseUrl, LOG_MERGE_DELAY_MS: '60000' });
  });

  it('finishes the requests in flight, refuses new ones, puts every signature it took in the public log and exits with code 0', async () => {
    const { initiativeId } = await openInitiativeOver(engine);
    const people = Array.from({ length: 500 }, (_, i) => citizen(i, 'Shutdown'));
    const tokens = await mapLimit(people, 16, (p) => engine.token(p));

    type Outcome = { person: number; started: number; finished: number; status: number; id?: string };
    const outcomes: Outcome[] = [];
    let next = 0;
    let exited = false;
    void engine.exited.then(() => (exited = true));
    const worker = async () => {
      while (!exited && next < people.length) {
        const i = next++;
        const started = performance.now();
        const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: tokens[i], body: { district: '75113', consent: true } });
        outcomes.push({ person: i, started, finished: performance.now(), status: res.status, id: res.body?.signature?.id });
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    while (outcomes.filter((o) => o.status === 201).length < 100) await sleep(5);

    const termAt = performance.now();
    engine.kill('SIGTERM');
    const exit = await engine.exited;
    await load;
    expect(exit).toEqual({ code: 0, signal: null });
    // The load went on, but the engine stopped taking it: people were left who never got served.
    expect(next).toBeLessThan(people.length);

    // Requests already running when SIGTERM arrived completed normally.
    const inFlight = outcomes.filter((o) => o.started < termAt && o.finished > termAt);
    expect(inFlight.length).toBeGreaterThan(0);
    for (const o of inFlight) expect([0, 201]).toContain(o.status);
    expect(inFlight.filter((o) => o.status === 201).length).toBeGreaterThan(0);
    // No answer was an error: a request was either served or never accepted.
    for (const o of outcomes) expect([0, 201]).toContain(o.status);
    const refused = outcomes.filter((o) => o.status === 0);
    expect(refused.length).toBeGreaterThan(0);

    const db = await openPostgres(suite.databaseUrl, { max: 2, migrate: false });
    try {
      const ledger = await ledgerOf(db.db, initiativeId);
      expect(brokenInvariants(ledger)).toEqual([]);
      for (const o of outcomes.filter((x) => x.status === 201)) expect(ledger.ids.has(o.id!)).toBe(true);
      // Refused requests never reached a handler: nothing was recorded for them.
      expect(ledger.rows).toBe(outcomes.filter((o) => o.status === 201).length);
      // Receipts promise inclusion in the log: it holds for the signatures taken just before the stop,
      // without waiting for the engine to start again.
      const [pending] = await db.postgres!`select count(*)::int as n from log_entries where initiative_id = ${initiativeId} and leaf_index is null`;
      const [head] = await db.postgres!`select max(size)::int as size from log_tree_heads where initiative_id = ${initiativeId}`;
      expect(pending!.n).toBe(0);
      expect(head!.size).toBe(ledger.rows);
    } finally {
      await db.close();
    }
  });

  it('stops within its grace period when a client never finishes sending its request, cutting that connection', { timeout: 90_000 }, async () => {
    const slow = await suite.start({ DATABASE_URL: suite.databaseUrl });
    // A request whose body never comes in full: a client on a dying link, or one holding the connection on purpose.
    const socket = connect(slow.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let cut = false;
    socket.on('close', () => (cut = true));
    socket.on('error', () => {});
    socket.write('POST /v1/initiatives HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"title":');
    await sleep(500);

    const termAt = performance.now();
    slow.kill('SIGTERM');
    const exit = await Promise.race([slow.exited, sleep(45_000).then(() => 'still running' as const)]);
    // Node would otherwise keep the request for its 5-minute timeout, and the process up with it.
    expect(exit, slow.output.join('\n')).toEqual({ code: 0, signal: null });
    expect(performance.now() - termAt).toBeGreaterThan(10_000);
    expect(cut).toBe(true);
    expect(slow.output.some((line) => line.includes('requests still running after the grace period are cut'))).toBe(true);
  });
});
