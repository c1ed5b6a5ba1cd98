/**
 * `npx tsx bench/transparency.ts`: what integrating entries and serving proofs cost as one
 * initiative's log grows. PGlite in memory, or PostgreSQL when DATABASE_URL is set (a scratch
 * database: the bench writes one initiative's log into it). Prints medians per batch and proof;
 * flat figures as the tree grows are the O(k + log n) and O(log n) the stored subtrees promise.
 */
import { openPglite, openPostgres } from '../src/db/client';
import { appendLogEntries } from '../src/features/transparency/entries';
import { consistencyProofFor, inclusionProofFor, sequenceLog } from '../src/features/transparency/service';
import { generateKeyMaterial, loadEngineKeys } from '../src/platform/keys';
import { initiatives, jurisdictions } from '../src/db/schema';

const TARGET = Number(process.env.BENCH_LOG_SIZE ?? 100_000);
const BATCH = 1000;
const PROOFS = 200;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function main() {
  const db = process.env.DATABASE_URL ? await openPostgres(process.env.DATABASE_URL, { max: 4 }) : await openPglite();
  const keys = await loadEngineKeys(await generateKeyMaterial());
  const deps = { db, keys, config: { publicUrl: 'http://bench.invalid', adminSubjects: [], sessionTtlSeconds: 3600, production: false } };
  const initiativeId = crypto.randomUUID();
  const now = new Date();
  // The proof endpoints' services read the initiative: a minimal open one.
  const jurisdictionId = `bench-${initiativeId.slice(0, 8)}`;
  await db.db.insert(jurisdictions).values({ id: jurisdictionId, name: 'Bench', electorate: 1, minimumAge: 16, minimumAssurance: 'eidas1', districts: [], rules: {} });
  await db.db.insert(initiatives).values({
    id: initiativeId, jurisdictionId, kind: 'agenda', title: 'Bench', summary: 'Bench', text: 'Bench', sponsorSubject: 'bench',
    committeeCode: 'BENCH', status: 'open', pepperVersion: 'v1', createdAt: now, updatedAt: now,
  });

  const checkpoints = new Set([BATCH, 10_000, TARGET]);
  const perBatch: Record<number, number[]> = {};
  let size = 0;
  process.stdout.write(`db: ${db.kind}; growing one log to ${TARGET} entries in batches of ${BATCH}\n`);
  while (size < TARGET) {
    const entries = Array.from({ length: BATCH }, () => ({ initiativeId, type: 'sign' as const, ref: crypto.randomUUID(), at: now }));
    await db.db.transaction((tx) => appendLogEntries(tx, entries));
    const started = performance.now();
    const { added } = await sequenceLog(deps, initiativeId, new Date());
    const elapsed = performance.now() - started;
    const bucket = size < 10_000 ? 0 : size < TARGET / 2 ? 1 : 2;
    (perBatch[bucket] ??= []).push(elapsed);
    size += added;
    if (checkpoints.has(size)) {
      const inclusion: number[] = [];
      const consistency: number[] = [];
      for (let i = 0; i < PROOFS; i++) {
        const index = Math.floor(Math.random() * size);
        let t = performance.now();
        await inclusionProofFor(deps, initiativeId, { index, size });
        inclusion.push(performance.now() - t);
        t = performance.now();
        await consistencyProofFor(deps, initiativeId, 1 + Math.floor(Math.random() * size), size);
        consistency.push(performance.now() - t);
      }
      process.stdout.write(`n = ${size}: inclusion proof median ${ms(median(inclusion))}, consistency proof median ${ms(median(consistency))} (${PROOFS} each)\n`);
    }
  }
  const labels = ['n < 10k', `10k ≤ n < ${TARGET / 2}`, `n ≥ ${TARGET / 2}`];
  for (const [bucket, times] of Object.entries(perBatch)) {
    process.stdout.write(`integrating ${BATCH} entries at ${labels[Number(bucket)]}: median ${ms(median(times))} over ${times.length} batches\n`);
  }
  const first = median(perBatch[0] ?? [0]);
  const last = median(perBatch[2] ?? [0]);
  process.stdout.write(`ratio of batch cost, largest tree / smallest: ${(last / first).toFixed(2)}\n`);
  await db.close();
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
