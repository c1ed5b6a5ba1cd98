import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { buildEngine } from '../../src/build';
import { freePort } from '../../tests/support/process';
import { processCpuSeconds, processTree } from './cpu';

export interface EngineProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Resident memory of the engine, in MB (from /proc): all its processes when it runs as a cluster. */
  rssMb(): Promise<number>;
  /** CPU time the engine has used so far (user + system, all its processes), in seconds (from /proc). */
  cpuSeconds(): Promise<number>;
  stop(): Promise<number | null>;
}

/** BENCH_CPU_PROFILE=<dir>: the engine writes a V8 CPU profile there when it stops (open it in Chrome's DevTools). */
const cpuProfile = () => (process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : []);

/** Built once per run, as an operator builds it before starting it (`npm run build`). */
let built: Promise<string> | undefined;

/**
 * Starts the engine as an operator would: `npm run build`, then a separate process running the
 * bundle with Node alone (`npm run start:production`), production mode, keys from the environment.
 * BENCH_FROM_SOURCE=1 runs `src/server.ts` through tsx instead, as `npm start` does.
 */
export async function startEngine(options: {
  databaseUrl?: string;
  issuer: string;
  clientId: string;
  env?: Record<string, string>;
}): Promise<EngineProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'civic-bench-'));
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const signingKey = JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'bench-engine' });
  const random = (n: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString('base64');
  const logFile = join(dataDir, 'engine.log');
  const log = createWriteStream(logFile);
  const entry = process.env.BENCH_FROM_SOURCE === '1' ? ['--import', 'tsx', 'src/server.ts'] : [await (built ??= buildEngine())];
  const child = spawn(process.execPath, [...cpuProfile(), ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), ...entry], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: url,
      DATA_DIR: dataDir,
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      OIDC_ISSUER: options.issuer,
      OIDC_CLIENT_ID: options.clientId,
      IDENTITY_PEPPER: random(32),
      IDENTITY_PEPPER_VERSION: 'bench',
      SIGNING_KEY: signingKey,
      PII_KEY: random(32),
      ADMIN_SUBJECTS: 'bench-admin',
      LOG_LEVEL: 'info',
      // Rate limits as an operator runs them, the defaults: signing is limited per identity (each bench
      // identity signs once or twice, under the limit) and not per address (the load comes from one).
      ...(process.env.BENCH_POOL_SIZE ? { DATABASE_POOL_SIZE: process.env.BENCH_POOL_SIZE } : {}),
      ...(process.env.BENCH_ENGINE_PROCESSES && options.databaseUrl ? { ENGINE_PROCESSES: process.env.BENCH_ENGINE_PROCESSES } : {}),
      ...options.env,
      // BENCH_ENGINE_ENV="NAME=value …": more settings to try (CRYPTO_THREADS=0, NODE_OPTIONS=…).
      ...Object.fromEntries((process.env.BENCH_ENGINE_ENV ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`engine exited with ${child.exitCode}; see ${logFile}:\n${await readFile(logFile, 'utf8')}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`engine did not become ready; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: child.pid!,
    child,
    logFile,
    async rssMb() {
      let kb = 0;
      for (const pid of await processTree(child.pid!)) {
        const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
        kb += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      }
      return kb / 1024;
    },
    async cpuSeconds() {
      let seconds = 0;
      for (const pid of await processTree(child.pid!)) seconds += await processCpuSeconds(pid);
      return seconds;
    },
    /** Stops the engine and removes its folder (its log, and the embedded database's files), unless BENCH_KEEP_ENGINE_DIR=1. */
    async stop() {
      const code = await new Promise<number | null>((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (exitCode) => resolve(exitCode));
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      });
      if (process.env.BENCH_KEEP_ENGINE_DIR === '1') process.stdout.write(`  the engine's log and data: ${dataDir}\n`);
      else await rm(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
