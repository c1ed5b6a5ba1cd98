/**
 * `npx tsx bench/roll.ts [rows]`: imports an electoral roll of 1,000,000 lines (by default) into the
 * engine running as a separate process in production mode on PostgreSQL (a database created and
 * dropped here), uploaded with a streaming fetch, while the engine's resident memory is sampled
 * from /proc. Prints the duration and the peak RSS beside their targets.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { cpuSnapshot, processCpuSeconds } from './lib/cpu';
import { startEngine } from './lib/engine';
import { lettersOf, startProviderStandIn } from './lib/provider';
import { createBenchDatabase, DISTRICTS, openInitiatives } from './lib/setup';

const DEFAULT_ROWS = Number(process.env.BENCH_ROLL_ROWS ?? 1_000_000);
export const TARGET_SECONDS = 30;
export const TARGET_RSS_MB = 300;

/** A roll file of distinct people (names spelled in letters: digits are not part of a name). */
async function writeRoll(file: string, rows: number) {
  const out = createWriteStream(file);
  out.write('family_name,given_names,birthdate,district\n');
  for (let i = 0; i < rows; i++) {
    const line = `${lettersOf(i)},Camille Marie,${1930 + (i % 80)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')},${DISTRICTS[i % DISTRICTS.length]!.code}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export interface RollFigures {
  rows: number;
  megabytes: number;
  imported: unknown;
  duplicates: unknown;
  rejected: unknown;
  seconds: number;
  rowsPerSecond: number;
  idleRssMb: number;
  peakRssMb: number;
  /** Until the last byte of the file was handed to the upload; the rest is the engine and PostgreSQL finishing. */
  uploadSeconds: number;
  engineCpuSeconds: number;
  /** CPU of the bench database's backends (the engine's connections) during the import. */
  postgresCpuSeconds: number;
  /** How busy the machine's cores were during the import, this run and anything else running. */
  machineBusyPercent: number;
}

/** Writes the roll, imports it into a fresh engine on a fresh database, and returns the figures (also for `npm run bench -- roll`). */
export async function rollImportBench(rows = DEFAULT_ROWS): Promise<{ figures: RollFigures; durationMet: boolean; memoryMet: boolean }> {
  const ROWS = rows;
  const dir = await mkdtemp(join(tmpdir(), 'civic-bench-roll-'));
  const file = join(dir, 'roll.csv');
  process.stdout.write(`Writing a roll of ${ROWS.toLocaleString('en')} lines…\n`);
  await writeRoll(file, ROWS);
  const bytes = (await stat(file)).size;

  const db = await createBenchDatabase();
  const provider = await startProviderStandIn();
  const engine = await startEngine({ databaseUrl: db.url, issuer: provider.issuer, clientId: provider.clientId });
  try {
    const tokens = {
      admin: await provider.mint({ sub: 'bench-admin', acr: 'eidas3' }),
      clerk: await provider.mint({ sub: 'bench-clerk', acr: 'eidas3' }),
      sponsor: await provider.mint({ sub: 'bench-sponsor', given_name: 'Sam', family_name: 'Sponsor', birthdate: '1970-01-01', acr: 'eidas3' }),
    };
    await openInitiatives(engine.url, tokens, 0);
    const idleRss = await engine.rssMb();

    let peakRss = idleRss;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, await engine.rssMb());
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const engineCpuBefore = await engine.cpuSeconds();
    const machineBefore = await cpuSnapshot();
    const started = performance.now();
    let uploaded = Number.NaN;
    const upload = createReadStream(file, { highWaterMark: 256 * 1024 }).on('end', () => (uploaded = performance.now()));
    const res = await fetch(`${engine.url}/v1/jurisdictions/bench/roll`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens.clerk}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(upload) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit);
    const report = (await res.json()) as Record<string, unknown>;
    const seconds = (performance.now() - started) / 1000;
    sampling = false;
    await sampler;
    const engineCpuSeconds = (await engine.cpuSeconds()) - engineCpuBefore;
    const backends = await db.sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
    let postgresCpuSeconds = 0;
    for (const { pid } of backends) postgresCpuSeconds += (await processCpuSeconds(pid)) - (machineBefore.postgres.get(String(pid)) ?? 0);
    const machineAfter = await cpuSnapshot();
    if (res.status !== 200) throw new Error(`import failed: ${res.status} ${JSON.stringify(report)}`);

    const figures = {
      rows: ROWS,
      megabytes: Math.round(bytes / 1e5) / 10,
      imported: report.imported,
      duplicates: report.duplicates,
      rejected: report.rejected,
      seconds: Math.round(seconds * 10) / 10,
      rowsPerSecond: Math.round(ROWS / seconds),
      idleRssMb: Math.round(idleRss),
      peakRssMb: Math.round(peakRss),
      uploadSeconds: Math.round((uploaded - started) / 100) / 10,
      engineCpuSeconds: Math.round(engineCpuSeconds * 10) / 10,
      postgresCpuSeconds: Math.round(postgresCpuSeconds * 10) / 10,
      machineBusyPercent: Math.round((100 * (machineAfter.machineBusy - machineBefore.machineBusy)) / (machineAfter.machineTotal - machineBefore.machineTotal)),
    };
    const durationMet = seconds <= TARGET_SECONDS;
    const memoryMet = peakRss < TARGET_RSS_MB;
    return { figures, durationMet, memoryMet };
  } finally {
    await engine.stop();
    await provider.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  const { figures, durationMet, memoryMet } = await rollImportBench(Number(process.argv[2] ?? DEFAULT_ROWS));
  {
    process.stdout.write(
      `\nElectoral roll import (PostgreSQL COPY, engine in its own process)\n` +
        `  ${JSON.stringify(figures)}\n` +
        `  duration ${figures.seconds} s   target ≤ ${TARGET_SECONDS} s   ${durationMet ? 'met' : 'NOT met'}\n` +
        `  peak RSS ${figures.peakRssMb} MB   target < ${TARGET_RSS_MB} MB   ${memoryMet ? 'met' : 'NOT met'}\n`,
    );
    process.exitCode = durationMet && memoryMet ? 0 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
