import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { toProblem } from '../../src/platform/error-problem';
import { lockWaiters } from '../support/barrier';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisWithClerk } from '../support/identity';

/**
 * A change that PostgreSQL stops because it lost a race for the same rows (here a deadlock made on
 * purpose: another session holds the audit trail's head and then asks for the initiative the
 * request holds) is rolled back whole; the client is told to send it again (503, Retry-After),
 * not that the server failed, and sending it again goes through.
 */
describe('a request that loses a race for the same rows on PostgreSQL', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, sponsor } = await parisWithClerk(engine));
  });
  afterAll(() => engine.close());

  it('is a 503 with Retry-After, nothing of it is kept, and the same request sent again succeeds', async () => {
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { jurisdictionId: 'paris', kind: 'agenda', title: 'Des bancs', summary: 'Des bancs.', text: 'Des bancs partout.' } });
    const id = draft.body.id as string;
    expect((await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor })).status).toBe(200);
    const reject = () => engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'reject', reason: 'Hors compétence.' } });
    const sql = engine.db.postgres!;
    const auditBefore = (await engine.request('GET', `/v1/audit?initiativeId=${id}`, { token: clerk })).body;

    let lost: Awaited<ReturnType<typeof reject>> | undefined;
    await sql.begin(async (other) => {
      // This session waits long before looking for deadlocks, so the request's session finds this one and gives up.
      await other`set local deadlock_timeout = '30s'`;
      await other`select 1 from audit_head where id = 1 for update`;
      const pending = reject();
      await lockWaiters(sql, 1);
      await other`select 1 from initiatives where id = ${id} for update`;
      lost = await pending;
    });

    expect(lost!.status, JSON.stringify(lost!.body)).toBe(503);
    expect(lost!.contentType).toContain('application/problem+json');
    expect(lost!.headers.get('retry-after')).toBe('1');
    expect(lost!.body.detail).toMatch(/nothing was saved/);
    expect(engine.logLines.some((line) => line.includes('"contention"') && line.includes('deadlock detected'))).toBe(true);
    // Nothing half-written: still submitted, no audit entry for a decision that did not happen.
    expect((await engine.request('GET', `/v1/initiatives/${id}`, { token: clerk })).body.status).toBe('submitted');
    expect((await engine.request('GET', `/v1/audit?initiativeId=${id}`, { token: clerk })).body).toEqual(auditBefore);

    const again = await reject();
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.status).toBe('rejected');
  });

  it('a server refusing more connections is "unavailable, retry", not a server fault', async () => {
    const sql = engine.db.postgres!;
    const role = `civic_limited_${process.pid}`;
    await sql.unsafe(`create role ${role} login connection limit 0`);
    const url = new URL(engine.db.url!);
    url.username = role;
    const refused = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      const error = await refused`select 1`.then(() => undefined, (e: unknown) => e);
      expect((error as { code?: string }).code).toBe('53300');
      const problem = toProblem(error);
      expect(problem.status).toBe(503);
      expect(problem.headers['Retry-After']).toMatch(/^\d+$/);
    } finally {
      await refused.end();
      await sql.unsafe(`drop role ${role}`);
    }
  });
});
