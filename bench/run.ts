/**
 * `npm run bench [-- scenario…]`: the engine as a separate process in production mode against
 * PostgreSQL (a database created and dropped per scenario), load from wrk over loopback,
 * figures printed beside their targets and written to bench/results/latest.json.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEngine, type EngineProcess } from './lib/engine';
import { pgbenchFloor } from './lib/pgbench';
import { cpuSnapshot, postgresCpuBetween } from './lib/cpu';
import { startProviderStandIn } from './lib/provider';
import { createBenchDatabase, DISTRICTS, openInitiatives } from './lib/setup';
import { runWrk, type LoadResult } from './lib/wrk';
import { preloadSequencedLog } from './lib/log';
import { rollImportBench, TARGET_RSS_MB as ROLL_RSS_MB, TARGET_SECONDS as ROLL_SECONDS } from './roll';
import { fromBase64, verifyInclusion } from '../src/core/merkle';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
/**
 * Signatures per second the tokens of an unpaced (closed-loop) load are minted for: above the 5,000/s
 * target, so that no load runs out of distinct people and re-signs (a re-signature is a 200, an error here).
 */
const MAX_RATE = Number(process.env.BENCH_MAX_RATE ?? 6000);
const LOG_SIZE = Number(process.env.BENCH_LOG_SIZE ?? 1_000_000);
/** Unmeasured load before a latency is measured on a fresh engine. */
const WARM_UP_SECONDS = 3;

type Figures = Record<string, number | string | boolean | null>;
interface Outcome {
  scenario: string;
  figures: Figures;
  targets: Record<string, string>;
  met: boolean;
  notes: string[];
}

const median = (xs: number[]) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The scenarios, in the order a full run takes them. */
const SCENARIOS = ['sign', 'sign-spread', 'duplicates', 'read-under-load', 'roll', 'log', 'memory', 'embedded'];
const USAGE =
  'usage: npm run bench [-- <scenario>…]   every scenario when none is named (about 10 minutes)\n' +
  `scenarios: ${SCENARIOS.join(', ')}\n` +
  'settings: BENCH_* environment variables (docs/performance.md)\n';

/** The scenarios asked for; `--help` or anything unknown prints the usage and stops before anything starts. */
function scenariosAsked(args: string[]): string[] {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const unknown = args.filter((a) => !SCENARIOS.includes(a));
  if (unknown.length) {
    process.stderr.write(`bench: unknown ${unknown.map((a) => `"${a}"`).join(', ')}\n${USAGE}`);
    process.exit(2);
  }
  return args;
}

async function main() {
  const wanted = scenariosAsked(process.argv.slice(2));
  const dir = await mkdtemp(join(tmpdir(), 'civic-bench-run-'));
  const provider = await startProviderStandIn();
  const staff = {
    admin: await provider.mint({ sub: 'bench-admin', acr: 'eidas3' }),
    clerk: await provider.mint({ sub: 'bench-clerk', acr: 'eidas3' }),
    sponsor: await provider.mint({ sub: 'bench-sponsor', given_name: 'Sam', family_name: 'Sponsor', birthdate: '1970-01-01', acr: 'eidas3' }),
  };
  // ID tokens of people who never signed before in this run, minted before the load's clock starts.
  let minted = 0;
  const take = async (n: number): Promise<string[]> => {
    process.stdout.write(`  minting ${n.toLocaleString('en')} ID tokens for distinct people (before the clock starts)…\n`);
    const tokens: string[] = [];
    for (let i = 0; i < n; i += 2000) {
      tokens.push(...(await Promise.all(Array.from({ length: Math.min(2000, n - i) }, (_, k) => provider.citizen(minted + i + k)))));
    }
    minted += n;
    return tokens;
  };
  /** Tokens for an unpaced load of `seconds`: enough for MAX_RATE signatures a second. */
  const forUnpaced = (seconds: number) => take(Math.ceil(MAX_RATE * seconds));
  const signLine = (initiativeId: string, token: string, i: number) =>
    `/v1/initiatives/${initiativeId}/signatures\t${token}\t${JSON.stringify({ district: DISTRICTS[i % DISTRICTS.length]!.code, consent: true })}`;

  const outcomes: Outcome[] = [];
  let floor: number | null = null;

  const withEngine = async <T>(fn: (ctx: { engine: EngineProcess; db: Awaited<ReturnType<typeof createBenchDatabase>> }) => Promise<T>, embedded = false): Promise<T> => {
    const db = await createBenchDatabase();
    try {
      // An engine that cannot start (a bad BENCH_ENGINE_ENV) still leaves no database behind.
      const engine = await startEngine({ databaseUrl: embedded ? undefined : db.url, issuer: provider.issuer, clientId: provider.clientId });
      try {
        return await fn({ engine, db });
      } finally {
        await engine.stop();
      }
    } finally {
      await db.drop();
    }
  };

  /** Signs under load while sampling the count every second; returns the per-second rates. */
  const signLoad = async (engine: EngineProcess, countSql: () => Promise<number>, lines: string[], name: string, connections = CONNECTIONS, seconds = SECONDS) => {
    const rates: number[] = [];
    const rss: number[] = [];
    let last = await countSql();
    let running = true;
    const sampler = (async () => {
      while (running) {
        await new Promise((r) => setTimeout(r, 1000));
        const now = await countSql();
        rates.push(now - last);
        last = now;
        rss.push(await engine.rssMb());
      }
    })();
    // The engine's CPU at rest (its scheduled tasks), so that the per-signature figure can leave it out.
    const idleFrom = await engine.cpuSeconds();
    await new Promise((r) => setTimeout(r, 3000));
    const idleCpuPerSecond = ((await engine.cpuSeconds()) - idleFrom) / 3;
    const cpuBefore = await engine.cpuSeconds();
    const machineBefore = await cpuSnapshot();
    const load = await runWrk({ url: engine.url, lines, connections, seconds, dir, name });
    const cpuSeconds = (await engine.cpuSeconds()) - cpuBefore;
    const machineAfter = await cpuSnapshot();
    const machine = {
      busyPercent: (100 * (machineAfter.machineBusy - machineBefore.machineBusy)) / (machineAfter.machineTotal - machineBefore.machineTotal),
      postgresCpuSeconds: postgresCpuBetween(machineBefore, machineAfter),
    };
    running = false;
    await sampler;
    // The first and last windows are partial (load starting and stopping).
    const windows = rates.slice(1, -1);
    return { load, medianRate: median(windows), peakRssMb: Math.max(0, ...rss), windows, cpuSeconds, idleCpuPerSecond, machine };
  };

  /**
   * Before a measured load: what earlier loads and preloads wrote is flushed now, so that the
   * checkpoint their WAL calls for (past max_wal_size) does not fall in the middle of this one.
   */
  const checkpoint = async (sql: Awaited<ReturnType<typeof createBenchDatabase>>['sql']) => {
    await sql`checkpoint`;
  };

  const consistency = async (sql: Awaited<ReturnType<typeof createBenchDatabase>>['sql']) => {
    const [row] = await sql`
      select (select count(*) from signatures where status = 'counted')::int as rows,
             (select coalesce(sum(count), 0) from signature_counts)::int as counters,
             (select count(*) filter (where type = 'sign') - count(*) filter (where type <> 'sign') from log_entries)::int as log`;
    return row as { rows: number; counters: number; log: number };
  };

  /**
   * Merge delay of every entry: from the signature's time (its request) to the timestamp of the first
   * signed tree head that includes it, both from the engine's clock. Waits for the sequencer to catch up.
   */
  const mergeDelays = async (sql: Awaited<ReturnType<typeof createBenchDatabase>>['sql']) => {
    const deadline = Date.now() + 15_000;
    let pending = 0;
    do {
      pending = Number((await sql`select count(*)::int as n from log_entries where leaf_index is null`)[0]!.n);
      if (pending > 0) await new Promise((r) => setTimeout(r, 250));
    } while (pending > 0 && Date.now() < deadline);
    const [row] = await sql`
      select percentile_cont(0.5) within group (order by ms) as p50, percentile_cont(0.99) within group (order by ms) as p99, max(ms) as max, count(*)::int as entries
      from (select extract(epoch from (h.timestamp - e.created_at)) * 1000 as ms
            from log_entries e
            cross join lateral (select timestamp from log_tree_heads h where h.initiative_id = e.initiative_id and h.size > e.leaf_index order by h.size limit 1) h) d`;
    return { p50: Math.round(Number(row!.p50)), p99: Math.round(Number(row!.p99)), max: Math.round(Number(row!.max)), entries: Number(row!.entries), pending };
  };
  let signRun: { peakRssMb: number; medianRate: number; merge: Awaited<ReturnType<typeof mergeDelays>> } | undefined;

  /** Count = rows = log; every 201 is a row, and at most the requests in flight when the load stopped are rows without a 201 seen. */
  const isExact = (check: { rows: number; counters: number; log: number }, created: number, inFlight: number) =>
    check.rows === check.counters && check.rows === check.log && check.rows >= created && check.rows <= created + inFlight;

  const errorsOf = (load: LoadResult, ok: string[]) =>
    load.socketErrors + Object.entries(load.statuses).filter(([s]) => !ok.includes(s)).reduce((a, [, n]) => a + n, 0);
  /** What the errors were, for the notes: answers by status and socket errors (timeouts, resets). */
  const errorNotes = (load: LoadResult, ok: string[]) =>
    errorsOf(load, ok) === 0 ? [] : [`answers by status ${JSON.stringify(load.statuses)}, socket errors ${load.socketErrors}`];

  const scenarios: Record<string, () => Promise<void>> = {
    sign: () =>
      withEngine(async ({ engine, db }) => {
        if (floor === null) floor = await pgbenchFloor(db.sql, db.url, dir);
        const [id] = await openInitiatives(engine.url, staff, 1);
        const lines = (await forUnpaced(SECONDS)).map((t, i) => signLine(id!, t, i));
        const count = async () => Number((await db.sql`select coalesce(sum(count), 0)::int as n from signature_counts`)[0]!.n);
        await checkpoint(db.sql);
        const run = await signLoad(engine, count, lines, 'sign');
        const check = await consistency(db.sql);
        signRun = { peakRssMb: run.peakRssMb, medianRate: run.medianRate, merge: await mergeDelays(db.sql) };
        const created = run.load.statuses['201'] ?? 0;
        const errors = errorsOf(run.load, ['201']);
        const exact = isExact(check, created, CONNECTIONS);
        outcomes.push({
          scenario: 'sign',
          figures: {
            signaturesPerSecondMedian: run.medianRate,
            // Over the whole load (start and end included), as wrk counts: what duplicates is compared with.
            signaturesPerSecondMean: Math.round(created / run.load.seconds),
            p99Ms: run.load.latencyMs.p99,
            p50Ms: run.load.latencyMs.p50,
            errors,
            pgbenchFloorTps: Math.round(floor),
            ratioToPgbench: Number((run.medianRate / floor).toFixed(2)),
            peakRssMb: Math.round(run.peakRssMb),
            // Load-independent: the engine's CPU per signature accepted (what caps the rate on 2 cores).
            engineCpuMsPerSignature: created ? Number(((1000 * run.cpuSeconds) / created).toFixed(2)) : null,
            engineIdleCpuPercent: Math.round(100 * run.idleCpuPerSecond),
            // The database's share of the same machine (every PostgreSQL process, so other users of the server count too).
            postgresCpuMsPerSignature: created ? Number(((1000 * run.machine.postgresCpuSeconds) / created).toFixed(2)) : null,
            machineBusyPercent: Math.round(run.machine.busyPercent),
            loadAverage: (await readFile('/proc/loadavg', 'utf8')).split(' ')[0]!,
            countExact: exact,
          },
          targets: { signaturesPerSecondMedian: '≥ 5000', p99Ms: '≤ 100', errors: '0', ratioToPgbench: '≥ 0.5 (aim)', peakRssMb: '≤ 300' },
          met: run.medianRate >= 5000 && run.load.latencyMs.p99 <= 100 && errors === 0 && run.peakRssMb <= 300 && exact,
          notes: [...(exact ? [] : [`count mismatch: ${JSON.stringify(check)} with ${created} × 201`]), ...errorNotes(run.load, ['201'])],
        });
        if (!exact) throw new Error(`sign: count, rows and log disagree: ${JSON.stringify(check)}, 201s: ${created}`);
      }),
    'sign-spread': () =>
      withEngine(async ({ engine, db }) => {
        const ids = await openInitiatives(engine.url, staff, 100);
        const lines = (await forUnpaced(SECONDS)).map((t, i) => signLine(ids[i % ids.length]!, t, i));
        const count = async () => Number((await db.sql`select coalesce(sum(count), 0)::int as n from signature_counts`)[0]!.n);
        await checkpoint(db.sql);
        const run = await signLoad(engine, count, lines, 'sign-spread');
        const check = await consistency(db.sql);
        const exact = isExact(check, run.load.statuses['201'] ?? 0, CONNECTIONS);
        // Both means over a whole wrk run: the sign scenario's median of 1-s windows leaves out its start and end.
        const single = outcomes.find((o) => o.scenario === 'sign')?.figures.signaturesPerSecondMean as number | undefined;
        const ratio = single ? Number((single / run.medianRate).toFixed(2)) : null;
        outcomes.push({
          scenario: 'sign-spread',
          figures: { signaturesPerSecondMedian: run.medianRate, p99Ms: run.load.latencyMs.p99, errors: errorsOf(run.load, ['201']), oneInitiativeOverSpread: ratio, countExact: exact },
          targets: { oneInitiativeOverSpread: '≥ 0.9 (no hot row)', errors: '0' },
          met: exact && errorsOf(run.load, ['201']) === 0 && (ratio === null || ratio >= 0.9),
          notes: [...(ratio === null ? ['run the sign scenario in the same run for the ratio'] : []), ...errorNotes(run.load, ['201'])],
        });
      }),
    duplicates: () =>
      withEngine(async ({ engine, db }) => {
        const [id] = await openInitiatives(engine.url, staff, 1);
        // Half the requests re-sign identities already counted (signed in a warm-up), half are new.
        const known = await take(20_000);
        const warm = await runWrk({ url: engine.url, lines: known.map((t, i) => signLine(id!, t, i)), connections: CONNECTIONS, seconds: 20, dir, name: 'duplicates-warmup' });
        const signedBefore = Number((await db.sql`select count(*)::int as n from signatures where status = 'counted'`)[0]!.n);
        // Half of an unpaced load's requests are new people.
        const fresh = await take(Math.ceil((MAX_RATE * SECONDS) / 2));
        // A new person and a returning one in turn on every wrk thread (wrk deals lines out to its threads in turn).
        const lines = fresh.flatMap((t, i) => (i % 2 ? [] : [signLine(id!, t, i), signLine(id!, fresh[i + 1] ?? t, i + 1), signLine(id!, known[i % signedBefore]!, i), signLine(id!, known[(i + 1) % signedBefore]!, i + 1)]));
        await checkpoint(db.sql);
        const cpuBefore = await engine.cpuSeconds();
        const load = await runWrk({ url: engine.url, lines, connections: CONNECTIONS, seconds: SECONDS, dir, name: 'duplicates' });
        const engineCpuMsPerRequest = Number(((1000 * ((await engine.cpuSeconds()) - cpuBefore)) / load.requests).toFixed(2));
        const rate = load.requests / load.seconds;
        const check = await consistency(db.sql);
        const created = (load.statuses['201'] ?? 0) + (warm.statuses['201'] ?? 0);
        const exact = isExact(check, created, 2 * CONNECTIONS);
        // Both means over a whole wrk run: the sign scenario's median of 1-s windows leaves out its start and end.
        const single = outcomes.find((o) => o.scenario === 'sign')?.figures.signaturesPerSecondMean as number | undefined;
        outcomes.push({
          scenario: 'duplicates',
          figures: { requestsPerSecond: Math.round(rate), p99Ms: load.latencyMs.p99, errors: errorsOf(load, ['200', '201']), duplicatesAnswered200: load.statuses['200'] ?? 0, engineCpuMsPerRequest, countExact: exact },
          targets: { requestsPerSecond: single ? `≥ ${single} (sign's mean rate)` : "≥ sign's mean rate", errors: '0' },
          met: exact && errorsOf(load, ['200', '201']) === 0 && (single === undefined || rate >= single),
          notes: errorNotes(load, ['200', '201']),
        });
      }),
    'read-under-load': async () => {
      // Half the sign scenario's rate of this run (it runs first when missing), paced by wrk.
      if (!signRun) await scenarios.sign!();
      const signRate = Math.max(1, Math.round(signRun!.medianRate / 2));
      await withEngine(async ({ engine, db }) => {
        const [id] = await openInitiatives(engine.url, staff, 1);
        process.stdout.write('  loading 1,000,000 signatures with SQL (generate_series), not through the API…\n');
        await db.sql.unsafe(`
          insert into signatures (id, initiative_id, signer_hash, key_version, channel, assurance, district, status, created_at)
          select gen_random_uuid(), '${id}', sha256(('preloaded ' || g)::bytea), 'bench', 'online', 'eidas2',
                 '751' || lpad(((g % 20) + 1)::text, 2, '0'), 'counted', now() - (g || ' seconds')::interval
          from generate_series(1, 1000000) g`);
        await db.sql.unsafe(`
          insert into signature_counts (initiative_id, district, slot, count)
          select '${id}', district, 0, count(*) from signatures where initiative_id = '${id}' group by district
          on conflict (initiative_id, district, slot) do update set count = signature_counts.count + excluded.count`);
        await db.sql.unsafe('analyze');
        const reads = Array.from({ length: 1000 }, (_, i) => `${i % 2 ? `/v1/initiatives/${id}/progress` : `/v1/initiatives/${id}`}\t\t`);
        const warmUpTokens = await take(Math.ceil(signRate * WARM_UP_SECONDS * 1.2));
        const tokensHere = await take(Math.ceil(signRate * SECONDS * 1.2));
        const mixed = (name: string, lines: string[], seconds: number) =>
          Promise.all([
            runWrk({ url: engine.url, lines, connections: CONNECTIONS, seconds, dir, name: `${name}-sign`, threads: 1, rate: signRate }),
            // As many page reads as signatures: left unpaced, the reads would take every cycle the
            // signing leaves, and signing would no longer run at half its rate.
            runWrk({ url: engine.url, lines: reads, method: 'GET', connections: 16, seconds, dir, name: `${name}-read`, threads: 1, rate: signRate }),
          ]);
        // The same load for a few seconds first, other people signing, not measured: a fresh engine compiles its hot paths and opens its connections.
        await checkpoint(db.sql);
        await mixed('rul-warm-up', warmUpTokens.map((t, i) => signLine(id!, t, i)), WARM_UP_SECONDS);
        const [signing, reading] = await mixed('rul', tokensHere.map((t, i) => signLine(id!, t, i)), SECONDS);
        outcomes.push({
          scenario: 'read-under-load',
          figures: {
            readP99Ms: reading.latencyMs.p99,
            readP50Ms: reading.latencyMs.p50,
            readsPerSecond: Math.round(reading.requests / reading.seconds),
            signaturesPerSecondMeanDuringReads: Math.round((signing.statuses['201'] ?? 0) / signing.seconds),
            signingPacedAt: signRate,
            readErrors: errorsOf(reading, ['200']),
          },
          targets: { readP99Ms: '≤ 20', readErrors: '0' },
          met: reading.latencyMs.p99 <= 20 && errorsOf(reading, ['200']) === 0,
          notes: [`1,000,000 signatures preloaded with SQL; signing paced at ${signRate}/s, half the sign scenario's median, and anonymous reads (progress and detail in turn) paced at the same rate; ${WARM_UP_SECONDS} s of the same load first, not measured`],
        });
      });
    },
    roll: async () => {
      const { figures, durationMet, memoryMet } = await rollImportBench();
      outcomes.push({
        scenario: 'roll',
        figures: { rows: figures.rows, seconds: figures.seconds, rowsPerSecond: figures.rowsPerSecond, peakRssMb: figures.peakRssMb, imported: Number(figures.imported) },
        targets: { seconds: `≤ ${ROLL_SECONDS}`, peakRssMb: `< ${ROLL_RSS_MB}` },
        met: durationMet && memoryMet && figures.imported === figures.rows,
        notes: ['CSV streamed to PUT /v1/jurisdictions/{id}/roll; RSS of the engine process sampled every 50 ms'],
      });
    },
    log: async () => {
      if (!signRun) await scenarios.sign!();
      const merge = signRun!.merge;
      const proofs = await withEngine(async ({ engine, db }) => {
        const [id] = await openInitiatives(engine.url, staff, 1);
        process.stdout.write(`  preloading a log of ${(LOG_SIZE - 1).toLocaleString('en')} sequenced entries with SQL (leaves and subtrees by generate_series), not through the API…\n`);
        const started = performance.now();
        await preloadSequencedLog(db.sql, id!, LOG_SIZE - 1);
        const preloadSeconds = (performance.now() - started) / 1000;
        // One real signature: the engine's own sequencer integrates it and signs the head at LOG_SIZE.
        const res = await fetch(`${engine.url}/v1/initiatives/${id}/signatures`, {
          method: 'POST',
          headers: { authorization: `Bearer ${(await take(1))[0]}`, 'content-type': 'application/json' },
          body: JSON.stringify({ district: DISTRICTS[0]!.code, consent: true }),
        });
        if (res.status !== 201) throw new Error(`log: the signature was refused: ${res.status} ${await res.text()}`);
        let head: { size: number; root: string } = { size: 0, root: '' };
        for (const deadline = Date.now() + 30_000; head.size < LOG_SIZE && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
          head = (await (await fetch(`${engine.url}/v1/initiatives/${id}/log`)).json()) as typeof head;
        }
        if (head.size !== LOG_SIZE) throw new Error(`log: the sequencer did not reach ${LOG_SIZE} entries (at ${head.size})`);
        // The SQL-built subtrees must agree with the engine's tree: one proof checked against the signed root.
        const sample = (await (await fetch(`${engine.url}/v1/initiatives/${id}/log/inclusion?index=${LOG_SIZE >> 1}&size=${LOG_SIZE}`)).json()) as { leaf: string; proof: string[] };
        const sound = verifyInclusion(LOG_SIZE >> 1, LOG_SIZE, fromBase64(sample.leaf)!, sample.proof.map((p) => fromBase64(p)!), fromBase64(head.root)!);
        if (!sound) throw new Error('log: an inclusion proof does not verify against the signed tree head');
        const lines = Array.from({ length: 5000 }, () => `/v1/initiatives/${id}/log/inclusion?index=${Math.floor(Math.random() * LOG_SIZE)}&size=${LOG_SIZE}\t\t`);
        // First as many proofs as the engine answers (16 connections, each asking again on its answer): its
        // capacity. Then the latency the target is about, at half that capacity, as signing runs at half its rate.
        await checkpoint(db.sql);
        const saturated = await runWrk({ url: engine.url, lines, method: 'GET', connections: 16, seconds: Math.min(SECONDS, 10), dir, name: 'log-inclusion-max', threads: 1 });
        const capacity = saturated.requests / saturated.seconds;
        const load = await runWrk({ url: engine.url, lines, method: 'GET', connections: 16, seconds: Math.min(SECONDS, 15), dir, name: 'log-inclusion', threads: 1, rate: Math.max(1, Math.round(capacity / 2)) });
        return { load, saturated, preloadSeconds };
      });
      const proofErrors = errorsOf(proofs.load, ['200']);
      outcomes.push({
        scenario: 'log',
        figures: {
          mergeDelayP50Ms: merge.p50,
          mergeDelayP99Ms: merge.p99,
          mergeDelayMaxMs: merge.max,
          entriesMeasured: merge.entries,
          leftPending: merge.pending,
          logSize: LOG_SIZE,
          inclusionProofP50Ms: proofs.load.latencyMs.p50,
          inclusionProofP99Ms: proofs.load.latencyMs.p99,
          proofsPerSecond: Math.round(proofs.load.requests / proofs.load.seconds),
          proofsPerSecondAtCapacity: Math.round(proofs.saturated.requests / proofs.saturated.seconds),
          inclusionProofP99MsAtCapacity: proofs.saturated.latencyMs.p99,
          proofErrors: proofErrors + errorsOf(proofs.saturated, ['200']),
          preloadSeconds: Math.round(proofs.preloadSeconds),
        },
        targets: { mergeDelayP99Ms: '≤ 1000', leftPending: '0', inclusionProofP99Ms: '≤ 20', proofErrors: '0' },
        met: merge.p99 <= 1000 && merge.pending === 0 && proofs.load.latencyMs.p99 <= 20 && proofErrors + errorsOf(proofs.saturated, ['200']) === 0,
        notes: [
          'merge delay: every entry of the sign scenario, from its signature time to the timestamp of the first tree head holding it',
          `proofs: ${(LOG_SIZE - 1).toLocaleString('en')} entries and their subtrees preloaded with SQL, the last one signed through the API and sequenced by the engine; one proof verified against the signed root`,
          'proof latency at half the capacity measured just before (16 connections asking as fast as answered), paced by wrk; the latency at capacity is the queue of those 16 connections',
        ],
      });
    },
    memory: async () => {
      if (!signRun) await scenarios.sign!();
      outcomes.push({
        scenario: 'memory',
        figures: { peakRssMbDuringSign: Math.round(signRun!.peakRssMb) },
        targets: { peakRssMbDuringSign: '≤ 300' },
        met: signRun!.peakRssMb <= 300,
        notes: ['engine resident memory from /proc, sampled every second while the sign scenario ran'],
      });
    },
    embedded: () =>
      withEngine(async ({ engine }) => {
        const [id] = await openInitiatives(engine.url, staff, 1);
        const lines = (await forUnpaced(Math.min(SECONDS, 20))).map((t, i) => signLine(id!, t, i));
        const load = await runWrk({ url: engine.url, lines, connections: CONNECTIONS, seconds: Math.min(SECONDS, 20), dir, name: 'embedded' });
        const rate = (load.statuses['201'] ?? 0) / load.seconds;
        outcomes.push({
          scenario: 'embedded',
          figures: { signaturesPerSecondMean: Math.round(rate), p99Ms: load.latencyMs.p99, errors: errorsOf(load, ['201']) },
          targets: { signaturesPerSecondMean: '≥ 1000', errors: '0' },
          met: rate >= 1000 && errorsOf(load, ['201']) === 0,
          notes: ['PGlite: the engine without DATABASE_URL, as `npm start` runs it', ...errorNotes(load, ['201'])],
        });
      }, true),
  };

  if (Object.keys(scenarios).join() !== SCENARIOS.join()) throw new Error(`SCENARIOS lists ${SCENARIOS.join(', ')}; the run has ${Object.keys(scenarios).join(', ')}`);
  const names = wanted.length ? wanted : SCENARIOS;
  try {
    for (const name of names) {
      const scenario = scenarios[name];
      if (!scenario) throw new Error(`unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}`);
      process.stdout.write(`\n▶ ${name}\n`);
      await scenario();
    }
  } finally {
    await provider.close();
    // wrk's scripts and the loads' lines (ID tokens by the hundred thousand).
    await rm(dir, { recursive: true, force: true });
  }

  process.stdout.write('\n');
  for (const o of outcomes) {
    process.stdout.write(`${o.met ? '✔' : '✘'} ${o.scenario}\n`);
    for (const [k, v] of Object.entries(o.figures)) {
      process.stdout.write(`    ${k.padEnd(28)} ${String(v).padStart(10)}   ${o.targets[k] ? `target ${o.targets[k]}` : ''}\n`);
    }
    for (const n of o.notes) process.stdout.write(`    note: ${n}\n`);
  }
  const resultsDir = new URL('./results/', import.meta.url).pathname;
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'latest.json'), JSON.stringify(Object.fromEntries(outcomes.map((o) => [o.scenario, { ...o.figures, met: o.met }])), null, 2));
  process.exit(outcomes.every((o) => o.met) ? 0 : 1);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(2);
});
