/**
 * `npx tsx bench/verification.ts [signatures]`: what a clerk's view of a verification costs at scale.
 * A closed initiative with 1,000,000 counted signatures (by default) loaded with SQL, a full count
 * started through the API with a roll imported, then 30 % of it decided with SQL as a check against
 * the roll and the clerks would have (25 % valid on the roll, 3 % invalid, 2 % duplicates), the
 * check 60 % of the way through, and its tallies counted from those rows. Times the verification
 * report (the service the API route and the clerk's page call) over five views, then a page of the
 * clerk's list of signatures still to decide and a page of the check against the roll, each five times.
 * BENCH_OTHER_SIGNATURES (default 4 times as many) are loaded first for nine other initiatives: a
 * city's verification in a database that also holds larger ones. PostgreSQL only;
 * the database (BENCH_DATABASE_NAME, or one of its own) is dropped at the end unless BENCH_KEEP is set.
 */
import { buildTallies, runRollChecks, verificationReport } from '../src/features/verification/service';
import { inProcessDatabase, inProcessEngine } from './lib/in-process';
import { DISTRICTS } from './lib/setup';

const SIGNATURES = Number(process.argv[2] ?? 1_000_000);
const VIEWS = 5;
const OTHERS = Number(process.env.BENCH_OTHER_SIGNATURES ?? SIGNATURES * 4);

const { url, db, sql, end } = await inProcessDatabase();
try {
  const now = new Date();
  const { deps, call, createCity, clerkToken, sponsor } = await inProcessEngine(db, now);
  await createCity({ goal: { signatures: Math.floor(SIGNATURES / 2) }, collectionDays: 270 });
  await call('PUT', '/v1/jurisdictions/bench/roll', clerkToken, `family_name,given_names,birthdate,district\nMartin,Camille,1980-01-01,${DISTRICTS[0]!.code}\n`, 'text/csv');
  const draft = await call('POST', '/v1/initiatives', sponsor, { jurisdictionId: 'bench', kind: 'referendum', title: 'Bench', summary: 'Bench.', text: 'Bench.', question: 'Bench?' });
  const id = String(draft.id);
  await call('POST', `/v1/initiatives/${id}/submit`, sponsor);
  await call('POST', `/v1/initiatives/${id}/review`, clerkToken, { decision: 'open' });

  process.stdout.write(`loading ${OTHERS.toLocaleString('en')} signatures of nine other initiatives, then ${SIGNATURES.toLocaleString('en')} of this one, with SQL (generate_series)…\n`);
  for (let i = 0; i < 9 && OTHERS > 0; i++) {
    await sql.unsafe(`
      insert into signatures (id, initiative_id, signer_hash, key_version, channel, assurance, district, status, created_at)
      select gen_random_uuid(), '${crypto.randomUUID()}', sha256(('other ${i} ' || g)::bytea), 'b1', 'online', 'eidas2', '${DISTRICTS[0]!.code}', 'counted', now() - (g || ' seconds')::interval
      from generate_series(1, ${Math.floor(OTHERS / 9)}) g`);
  }
  await sql.unsafe(`
    insert into signatures (id, initiative_id, signer_hash, key_version, channel, assurance, district, status, created_at)
    select gen_random_uuid(), '${id}', sha256(('preloaded ' || g)::bytea), 'b1', 'online', 'eidas2',
           '751' || lpad(((g % 20) + 1)::text, 2, '0'), 'counted', now() - (g || ' seconds')::interval
    from generate_series(1, ${SIGNATURES}) g`);
  await sql.unsafe(`
    insert into signature_counts (initiative_id, district, slot, count)
    select '${id}', district, 0, count(*) from signatures where initiative_id = '${id}' group by district`);
  await call('POST', `/v1/initiatives/${id}/close`, sponsor);
  await call('POST', `/v1/initiatives/${id}/verification`, clerkToken, { method: 'full' });

  process.stdout.write('deciding 30 % with SQL (check against the roll 60 % through)…\n');
  // Ranked by time signed then id, the order the check against the roll goes in: the first 60 % are checked, a quarter
  // of all are on the roll (valid), and clerks ruled 3 % invalid and 2 % duplicates among the rest.
  await sql.unsafe(`create temporary table ranked as select id, row_number() over (order by created_at, id) as r from signatures where initiative_id = '${id}'`);
  const n = SIGNATURES;
  await sql.unsafe(`
    insert into verification_roll_checks (initiative_id, signature_id, result)
    select '${id}', id, case when r % 12 < 5 then 'on-roll' when r % 12 < 10 then 'not-on-roll' else 'no-personal-data' end
    from ranked where r <= ${Math.floor(n * 0.6)}`);
  await sql.unsafe(`
    insert into verification_decisions (initiative_id, signature_id, decision, reason, source, clerk, decided_at)
    select '${id}', signature_id, 'valid', 'on the electoral roll', 'roll', 'bench-clerk', now()
    from verification_roll_checks where initiative_id = '${id}' and result = 'on-roll'`);
  await sql.unsafe(`
    insert into verification_decisions (initiative_id, signature_id, decision, reason, source, clerk, decided_at)
    select '${id}', id, case when r % 100 < 60 then 'invalid' else 'duplicate' end, case when r % 100 < 30 then 'not on the roll' when r % 100 < 60 then 'under age' end,
           'clerk', 'bench-clerk', now()
    from ranked where r % 12 between 5 and 11 and r % 7 = 0 and r <= ${Math.floor(n * 0.6)}`);
  await sql.unsafe(`
    update signatures set status = 'invalid' where initiative_id = '${id}'
    and id in (select signature_id from verification_decisions where initiative_id = '${id}' and decision <> 'valid')`);
  const [after] = await sql.unsafe(`select id from ranked where r = ${Math.floor(n * 0.6)}`);
  await sql.unsafe(`update verifications set roll_check_after = '${after!.id}' where initiative_id = '${id}'`);
  await sql.unsafe('drop table ranked');
  // What SQL wrote behind the engine's back, counted into the verification's tallies as the migration that made them does.
  await db.db.transaction((tx) => buildTallies(tx, id));
  await sql.unsafe('vacuum analyze');

  const principal = { subject: 'bench-clerk' } as Parameters<typeof verificationReport>[2];
  const times: number[] = [];
  let report!: Awaited<ReturnType<typeof verificationReport>>;
  for (let i = 0; i < VIEWS; i++) {
    const started = performance.now();
    report = await verificationReport(deps, id, principal, { filter: 'all', limit: 100, personalData: false });
    times.push(performance.now() - started);
  }
  process.stdout.write(`tallies ${JSON.stringify(report.tallies)}\nrollCheck ${JSON.stringify(report.rollCheck)}\nroll ${JSON.stringify(report.roll)}\n`);
  process.stdout.write(`verification report, ${VIEWS} views: ${times.map((t) => Math.round(t)).join(', ')} ms (median ${Math.round([...times].sort((a, b) => a - b)[Math.floor(VIEWS / 2)]!)} ms)\n`);
  const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! * 10) / 10;
  // The clerk's list of signatures still to decide, from the middle of the initiative on.
  const [middle] = await sql.unsafe(`select id from signatures where initiative_id = '${id}' order by created_at, id offset ${Math.floor(n / 2)} limit 1`);
  const listing: number[] = [];
  for (let i = 0; i < VIEWS; i++) {
    const started = performance.now();
    const page = await verificationReport(deps, id, principal, { filter: 'pending', limit: 100, personalData: false, cursor: String(middle!.id) });
    listing.push(performance.now() - started);
    if (page.signatures.items.length !== 100) throw new Error(`a page of ${page.signatures.items.length} signatures`);
  }
  process.stdout.write(`list of signatures to decide, a page of 100 from the middle, ${VIEWS} views: ${listing.map((t) => Math.round(t)).join(', ')} ms (median ${median(listing)} ms)\n`);
  // Pages of the check against the roll, each in its own transaction (each checks the next 1,000).
  const pages: number[] = [];
  for (let i = 0; i < VIEWS; i++) {
    const started = performance.now();
    await runRollChecks(deps, now, { pageSize: 1000, budgetMs: 0 });
    pages.push(performance.now() - started);
  }
  process.stdout.write(`check against the roll, a page of 1,000, ${VIEWS} pages: ${pages.map((t) => Math.round(t)).join(', ')} ms (median ${median(pages)} ms)\n`);
  if (process.env.BENCH_KEEP) process.stdout.write(`kept ${url} (initiative ${id})\n`);
} finally {
  await end();
}
