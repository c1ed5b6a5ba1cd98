import { serve, type ServerType } from '@hono/node-server';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bumpCounts } from '../../src/features/progress/service';
import { sequenceLogs } from '../../src/features/transparency/service';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';

const ENTRIES = 60_000;
/** Less heap than holding 60,000 entries takes: the verifier keeps one flag per signature, not the entries, so a log of millions fits in an ordinary heap. */
const HEAP_MB = 48;

/** `npm run verify -- log` in a process of its own with a small heap: its exit code and what it wrote. */
function verifyLog(args: string[]) {
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', join(process.cwd(), 'src/verify.ts'), 'log', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return new Promise<{ code: number | null; output: string }>((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('the verifier on a large log', () => {
  let engine: TestEngine;
  let server: ServerType;
  let url: string;
  let initiativeId: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    const admin = engine.adminToken();
    await engine.request('POST', '/v1/jurisdictions', { token: await admin, body: parisJurisdiction({ committeeMinimum: 0 }) });
    await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: await admin, body: { subject: 'clerk-of-paris' } });
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    initiativeId = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT })).body.id;
    await engine.request('POST', `/v1/initiatives/${initiativeId}/submit`, { token: sponsor });
    const opened = await engine.request('POST', `/v1/initiatives/${initiativeId}/review`, { token: await engine.subjectToken('clerk-of-paris'), body: { decision: 'open' } });
    expect(opened.status).toBe(200);

    // Signatures of a large initiative as the log holds them, written by SQL rather than signed one by one.
    await engine.db.db.execute(sql`
      insert into log_entries (initiative_id, type, ref, data, leaf_hash, created_at)
      select ${initiativeId}::uuid, 'sign', ref, data, sha256('\\x00'::bytea || data), at
      from (select ref, at, convert_to('{"type":"sign","ref":"' || ref || '","at":"' || to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"}', 'UTF8') as data
            from (select gen_random_uuid() as ref, ${engine.clock.now().toISOString()}::timestamptz - make_interval(secs => ${ENTRIES} - g) as at
                  from generate_series(1, ${ENTRIES}::int) g) s) d`);
    await engine.db.db.transaction((tx) => bumpCounts(tx, initiativeId, [['75111', ENTRIES]]));
    await sequenceLogs(engine.deps, engine.clock.now());

    server = serve({ fetch: engine.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await engine?.close();
  });

  it(`npm run verify -- log checks ${ENTRIES.toLocaleString('en')} entries in ${HEAP_MB} MB of heap: entries are replayed page by page, not held`, async () => {
    const { code, output } = await verifyLog([initiativeId, '--server', url]);
    expect(output).toContain(`entries: ${ENTRIES} recomputed to the signed root; ${ENTRIES} sign − 0 withdraw − 0 invalidate = ${ENTRIES}`);
    expect(output).toContain(`count: ${ENTRIES}, the same as the published count`);
    expect(code, output).toBe(0);
  });
});
