/**
 * `npx tsx bench/retention.ts [signatures]`: what the retention purge of a large initiative costs.
 * Two closed initiatives below their goal with 1,000,000 signatures each (by default), loaded with SQL
 * and each holding sealed personal data, both due for destruction. The first is purged as the engine
 * did before pages (one transaction: the initiative's row held, one UPDATE of every signature, the
 * audit entry), the second by the scheduler's task as it is now, pass after pass. Prints the total
 * time, the longest transaction and the WAL written by each. PostgreSQL only; the database
 * (BENCH_DATABASE_NAME, or one of its own) is dropped at the end unless BENCH_KEEP is set.
 */
import { and, count, eq, isNotNull } from 'drizzle-orm';
import { personalDataPurges, signatures } from '../src/db/schema';
import { appendAudit } from '../src/features/audit/service';
import { getInitiative } from '../src/features/initiatives/service';
import { PURGE_BUDGET_MS, PURGE_PAGE, purgePersonalData, sealPersonalData } from '../src/features/personal-data/service';
import { inProcessDatabase, inProcessEngine } from './lib/in-process';

const SIGNATURES = Number(process.argv[2] ?? 1_000_000);
const DAY = 86_400_000;

const { url, db, sql, end } = await inProcessDatabase();
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const walNow = async () => (await sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`)[0]!.lsn;
const walSince = async (from: string) => Number((await sql<{ n: string }[]>`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${from}::pg_lsn)::text as n`)[0]!.n) / 1024 / 1024;
try {
  const now = new Date();
  const { deps, call, createCity, clerkToken, sponsor } = await inProcessEngine(db, now);
  // Out of reach: both close below their goal, and their data is due 3 months later.
  await createCity({ goal: { signatures: SIGNATURES * 10 }, collectionDays: 270 });
  // One sealed value, as long as a signer's: the cost is in the rows written, not in what they hold.
  const sealed = await sealPersonalData(deps.keys, { givenNames: 'Camille Marie', familyName: 'Martin', birthdate: '1980-01-01' });
  const ids: string[] = [];
  for (const title of ['Single transaction', 'Pages']) {
    const draft = await call('POST', '/v1/initiatives', sponsor, { jurisdictionId: 'bench', kind: 'referendum', title, summary: 'Bench.', text: 'Bench.', question: 'Bench?' });
    const id = String(draft.id);
    await call('POST', `/v1/initiatives/${id}/submit`, sponsor);
    await call('POST', `/v1/initiatives/${id}/review`, clerkToken, { decision: 'open' });
    process.stdout.write(`loading ${SIGNATURES.toLocaleString('en')} signatures with personal data into "${title}" (generate_series)…\n`);
    await sql.unsafe(
      `insert into signatures (id, initiative_id, signer_hash, key_version, channel, assurance, district, status, created_at, personal_data)
       select gen_random_uuid(), $1::uuid, sha256(($1::text || g)::bytea), 'b1', 'online', 'eidas2',
              '751' || lpad(((g % 20) + 1)::text, 2, '0'), 'counted', now() - (g || ' seconds')::interval, $2
       from generate_series(1, ${SIGNATURES}) g`,
      [id, sealed],
    );
    await sql.unsafe(`insert into signature_counts (initiative_id, district, slot, count) select $1::uuid, district, 0, count(*) from signatures where initiative_id = $1::uuid group by district`, [id]);
    await call('POST', `/v1/initiatives/${id}/close`, sponsor);
    ids.push(id);
  }
  await sql.unsafe('vacuum analyze');
  await sql.unsafe('checkpoint');
  const due = new Date(now.getTime() + 95 * DAY);

  // As the engine did before pages, on the first initiative.
  const single = ids[0]!;
  let wal = await walNow();
  let started = performance.now();
  const destroyedAtOnce = await db.db.transaction(async (tx) => {
    const initiative = await getInitiative(tx, single, 'update');
    const held = and(eq(signatures.initiativeId, single), isNotNull(signatures.personalData));
    const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(signatures).where(held);
    await tx.update(signatures).set({ personalData: null }).where(held);
    await appendAudit(tx, { actor: 'system:scheduler', action: 'personal-data.destroyed', at: due, jurisdictionId: 'bench', initiativeId: single, details: { signatures: n, status: initiative.status } });
    // The new engine's purge must not take it up again.
    await tx.insert(personalDataPurges).values({ initiativeId: single, status: initiative.status, begunAt: due, destroyed: n, doneAt: due });
    return n;
  });
  const singleMs = performance.now() - started;
  const singleWal = await walSince(wal);
  process.stdout.write(`one transaction: ${destroyedAtOnce.toLocaleString('en')} destroyed in ${seconds(singleMs)}, the initiative's row held all along; WAL ${singleWal.toFixed(0)} MB\n`);

  await sql.unsafe('vacuum analyze');
  await sql.unsafe('checkpoint');
  // In pages, on the second, as the scheduler's task does it.
  wal = await walNow();
  started = performance.now();
  let destroyed = 0;
  let pages = 0;
  let longest = 0;
  const pageTimes: number[] = [];
  for (;;) {
    const passStarted = performance.now();
    // One page a pass (no time to spare), to time each transaction on its own.
    const n = await purgePersonalData(db.db, due, undefined, { budgetMs: 0 });
    const ms = performance.now() - passStarted;
    pageTimes.push(ms);
    longest = Math.max(longest, ms);
    destroyed += n;
    pages++;
    const [done] = await sql<{ done: boolean }[]>`select done_at is not null as done from personal_data_purges where initiative_id = ${ids[1]!}`;
    if (done?.done) break;
  }
  const pagedMs = performance.now() - started;
  const pagedWal = await walSince(wal);
  const sorted = [...pageTimes].sort((a, b) => a - b);
  process.stdout.write(
    `pages of ${PURGE_PAGE.toLocaleString('en')}: ${destroyed.toLocaleString('en')} destroyed in ${seconds(pagedMs)} over ${pages} transactions ` +
      `(median ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} ms, longest ${Math.round(longest)} ms), about ${Math.ceil(pagedMs / PURGE_BUDGET_MS)} scheduler passes of ${PURGE_BUDGET_MS / 1000} s; WAL ${pagedWal.toFixed(0)} MB\n`,
  );
  if (process.env.BENCH_KEEP) process.stdout.write(`kept ${url}\n`);
} finally {
  await end();
}
