import { asc, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { appendLeaves, foldSubtrees, fromBase64, leafHash, toBase64, verifyConsistency, verifyInclusion, type Subtree } from '../../src/core/merkle';
import { openPostgres, type DatabaseHandle } from '../../src/db/client';
import { logEntries, signatures } from '../../src/db/schema';
import { logNodes, logTreeHeads } from '../../src/db/schema-transparency';
import { runVerifier } from '../../src/verify';
import { engineProcessSuite } from '../support/engine-processes';
import { citizen, mapLimit, openInitiativeOver, sleep } from '../support/process';

const PEOPLE = 400;

/**
 * Two engine processes on one PostgreSQL database, each with its own sequencer ticking every
 * 50 ms, while citizens sign through both: the sequencer row lock makes one log with no gap
 * and no fork, whichever process integrates which batch.
 */
describe('the log sequenced by two engine processes during signing', () => {
  let db: DatabaseHandle;
  const suite = engineProcessSuite('civic-log-race-', { beforeRemove: () => db?.close() });

  it('integrates every entry exactly once, in one append-only tree, and the verifier agrees', async () => {
    // One data folder: both processes use the same generated keys and pepper, as replicas would.
    const env = { DATABASE_URL: suite.databaseUrl, DATABASE_POOL_SIZE: '8', LOG_MERGE_DELAY_MS: '100' };
    const [a, b] = [await suite.start(env), await suite.start(env)];
    const { initiativeId } = await openInitiativeOver(a);
    const tokens = await mapLimit(
      Array.from({ length: PEOPLE }, (_, i) => citizen(i, 'Registre')),
      16,
      (person, i) => (i % 2 === 0 ? a : b).token(person),
    );

    // Tree heads as the public sees them while the load runs, read from both processes.
    const seen: { size: number; root: string }[] = [];
    let signing = true;
    const watcher = (async () => {
      for (let i = 0; signing; i++) {
        const res = await (i % 2 === 0 ? a : b).request('GET', `/v1/initiatives/${initiativeId}/log`);
        if (res.status === 200) seen.push({ size: res.body.size, root: res.body.root });
        await sleep(10);
      }
    })();
    const results = await mapLimit(tokens, 16, (token, i) =>
      (i % 2 === 0 ? a : b).request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: i % 3 === 0 ? '75111' : '75118', consent: true } }),
    );
    signing = false;
    await watcher;
    expect(results.filter((r) => r.status === 201)).toHaveLength(PEOPLE);

    // Both sequencers catch up within their merge delay; wait for it rather than assume a time.
    for (const engine of suite.engines) {
      const deadline = Date.now() + 60_000;
      while ((await engine.request('GET', `/v1/initiatives/${initiativeId}/log`)).body.size < PEOPLE && Date.now() < deadline) await sleep(50);
    }

    db = await openPostgres(suite.databaseUrl, { max: 2, migrate: false });
    const entries = await db.db
      .select({ index: logEntries.leafIndex, data: logEntries.data, ref: logEntries.ref })
      .from(logEntries)
      .where(eq(logEntries.initiativeId, initiativeId))
      .orderBy(asc(logEntries.leafIndex));
    // No gap, no duplicate: the leaf indexes are exactly 0..N-1, one per signature.
    expect(entries.map((e) => e.index)).toEqual(Array.from({ length: PEOPLE }, (_, i) => i));
    const rows = await db.db.select({ id: signatures.id }).from(signatures).where(eq(signatures.initiativeId, initiativeId));
    expect(new Set(entries.map((e) => e.ref))).toEqual(new Set(rows.map((r) => r.id)));

    // No fork: every stored tree head is the root of the first `size` entries, and they only grow.
    const heads = await db.db.select().from(logTreeHeads).where(eq(logTreeHeads.initiativeId, initiativeId)).orderBy(asc(logTreeHeads.size));
    expect(heads.length).toBeGreaterThan(1);
    const leaves = entries.map((e) => leafHash(e.data));
    let frontier: Subtree[] = [];
    let size = 0;
    for (const head of heads) {
      frontier = appendLeaves(frontier, size, leaves.slice(size, head.size)).frontier;
      size = head.size;
      expect(toBase64(foldSubtrees(frontier.map((f) => f.hash))), `head of size ${head.size}`).toBe(toBase64(head.root));
    }
    for (let i = 1; i < heads.length; i++) expect(heads[i]!.timestamp >= heads[i - 1]!.timestamp).toBe(true);
    expect(heads.at(-1)!.size).toBe(PEOPLE);

    // Each complete subtree was written once: n/1 + n/2 + n/4 + ... nodes, no more.
    let expectedNodes = 0;
    for (let width = 1; width <= PEOPLE; width *= 2) expectedNodes += Math.floor(PEOPLE / width);
    const [nodes] = await db.db.select({ n: sql<string>`count(*)` }).from(logNodes).where(eq(logNodes.initiativeId, initiativeId));
    expect(Number(nodes!.n)).toBe(expectedNodes);

    // Every head the public saw during the load is consistent with the final one.
    const final = heads.at(-1)!;
    const observed = [...new Map(seen.filter((s) => s.size > 0).map((s) => [s.size, s])).values()];
    expect(observed.length).toBeGreaterThan(0);
    for (const head of observed) {
      const proof = await b.request('GET', `/v1/initiatives/${initiativeId}/log/consistency?from=${head.size}&to=${final.size}`);
      expect(proof.status).toBe(200);
      expect(verifyConsistency(head.size, final.size, fromBase64(head.root)!, final.root, proof.body.proof.map((p: string) => fromBase64(p)!)), `from ${head.size}`).toBe(true);
    }

    // Every signature's inclusion proof, asked by its id of either process, leads to the final root.
    const leafOf = new Map(entries.map((e) => [e.ref, { index: e.index!, leaf: leafHash(e.data) }]));
    await mapLimit(results, 8, async (res, i) => {
      const id = res.body.signature.id as string;
      const proof = await (i % 2 === 0 ? b : a).request('GET', `/v1/initiatives/${initiativeId}/log/inclusion?ref=${id}&size=${final.size}`);
      expect(proof.status).toBe(200);
      expect(proof.body.index).toBe(leafOf.get(id)!.index);
      expect(verifyInclusion(proof.body.index, final.size, leafOf.get(id)!.leaf, proof.body.proof.map((p: string) => fromBase64(p)!), final.root), id).toBe(true);
    });

    const lines: string[] = [];
    const code = await runVerifier(['log', initiativeId, '--server', a.url], (line) => lines.push(line));
    expect(code, lines.join('\n')).toBe(0);
    expect(lines.join('\n')).toContain(`${PEOPLE} sign − 0 withdraw − 0 invalidate = ${PEOPLE}`);
  });
});
