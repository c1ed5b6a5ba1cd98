/**
 * `npx tsx bench/history.ts`: progress history on one initiative with a million signatures
 * (30 days, 20 districts, 1 % withdrawn) in a PostgreSQL database created and dropped here.
 * Prints medians of the history read live from the signatures (what a plain GROUP BY costs) and
 * read from the hourly roll-up the scheduler maintains, and what sealing costs.
 */
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { openPostgres } from '../src/db/client';
import { progressHistory, rollUpSignatureHours, signaturesSince } from '../src/features/monitoring/history';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SIGNATURES = Number(process.env.BENCH_HISTORY_SIGNATURES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_HISTORY_RUNS ?? 15);
const INITIATIVE = '00000000-0000-4000-8000-000000000001';
const START = new Date('2027-01-01T00:00:00Z');
const SPAN_MS = 30 * 86_400_000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function time(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return Math.round(median(ms) * 10) / 10;
}

async function main() {
  const name = `civic_bench_history_${Date.now().toString(36)}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const handle = await openPostgres(ADMIN_URL.replace(/\/[^/]*$/, `/${name}`), { max: 2 });
  const db = handle.db;
  try {
    const now = new Date(START.getTime() + SPAN_MS + 4 * 3_600_000);
    await db.execute(sql`insert into jurisdictions (id, name, electorate, minimum_age, minimum_assurance, districts, rules)
      values ('bench', 'Bench', 2000000, 16, 'eidas1', '[]'::jsonb, '{}'::jsonb)`);
    await db.execute(sql`insert into initiatives (id, jurisdiction_id, kind, title, summary, text, sponsor_subject, committee_code, status, pepper_version, opens_at, closes_at, created_at, updated_at)
      values (${INITIATIVE}, 'bench', 'agenda', 'Bench', 'Bench', 'Bench', 'bench', 'BENCHCODE1', 'open', 'v1', ${START.toISOString()}::timestamptz,
              ${new Date(START.getTime() + 365 * 86_400_000).toISOString()}::timestamptz, ${START.toISOString()}::timestamptz, ${START.toISOString()}::timestamptz)`);
    const step = SPAN_MS / SIGNATURES / 1000;
    let t = performance.now();
    await db.execute(sql`insert into signatures (id, initiative_id, signer_hash, key_version, channel, assurance, district, status, created_at, withdrawn_at)
      select gen_random_uuid(), ${INITIATIVE}::uuid, sha256(i::text::bytea), 'v1', 'online', 'eidas2', '751' || lpad((1 + i % 20)::text, 2, '0'),
             case when i % 100 = 0 then 'withdrawn' else 'counted' end,
             ${START.toISOString()}::timestamptz + i * ${`${step} seconds`}::interval,
             case when i % 100 = 0 then ${START.toISOString()}::timestamptz + i * ${`${step} seconds`}::interval + interval '3 hours' end
      from generate_series(1, ${SIGNATURES}) as i`);
    await db.execute(sql`vacuum analyze signatures`);
    process.stdout.write(`${SIGNATURES} signatures inserted in ${Math.round(performance.now() - t)} ms\n`);

    const subject = { id: INITIATIVE, opensAt: START, closesAt: new Date(START.getTime() + 365 * 86_400_000), createdAt: START };
    const reads = {
      'days, whole collection': () => progressHistory(db, subject, 'Europe/Paris', { bucket: 'day' }, now),
      'hours, last 7 days': () => progressHistory(db, subject, 'Europe/Paris', { bucket: 'hour' }, now),
      'days, one district': () => progressHistory(db, subject, 'Europe/Paris', { bucket: 'day', district: '75105' }, now),
      'hours, whole collection': () => progressHistory(db, subject, 'Europe/Paris', { bucket: 'hour', from: START }, now),
      'velocity (last hour, last day)': () =>
        signaturesSince(db, INITIATIVE, { hour: new Date(now.getTime() - 3_600_000), day: new Date(now.getTime() - 86_400_000) }, now),
    };

    const live: Record<string, number> = {};
    for (const [label, read] of Object.entries(reads)) live[label] = await time(Math.min(RUNS, 5), read);

    t = performance.now();
    await rollUpSignatureHours(db, now);
    const firstSeal = Math.round(performance.now() - t);
    const hourLater = new Date(now.getTime() + 3_600_000);
    t = performance.now();
    await rollUpSignatureHours(db, hourLater);
    const hourlySeal = Math.round(performance.now() - t);
    const [rows] = (await db.execute(sql`select count(*)::int as n from signature_hours`)) as unknown as { n: number }[];

    const rolled: Record<string, number> = {};
    for (const [label, read] of Object.entries(reads)) rolled[label] = await time(RUNS, read);
    const check = await reads['days, whole collection']();

    process.stdout.write(`\nProgress history, ${SIGNATURES} signatures over 30 days, 20 districts (median ms of ${RUNS} runs)\n`);
    process.stdout.write(`${'read'.padEnd(34)}${'live GROUP BY'.padStart(15)}${'roll-up'.padStart(10)}\n`);
    for (const label of Object.keys(reads)) {
      process.stdout.write(`${label.padEnd(34)}${String(live[label]).padStart(15)}${String(rolled[label]).padStart(10)}\n`);
    }
    process.stdout.write(`\nfirst seal (all hours at once): ${firstSeal} ms; an hour's seal: ${hourlySeal} ms; roll-up rows: ${rows?.n}\n`);
    process.stdout.write(`final cumulative ${check.signatures} (expected ${SIGNATURES - Math.floor(SIGNATURES / 100)})\n`);
  } finally {
    await handle.close();
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
