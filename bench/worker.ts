/**
 * `npm run bench:worker`: signing latency of the engine in workerd under `wrangler dev` beside
 * the Node server, for the same load, both on PostgreSQL over loopback with the same loopback
 * identity provider. Prints median and p99 of each and their ratio (target: Worker within 2×).
 */
import { join } from 'node:path';
import { DEV_CLIENT_ID } from '../src/features/auth/dev-provider';
import { generateKeyMaterial } from '../src/platform/keys';
import { createPostgresDatabase } from '../tests/support/database';
import { citizen, freePort, http, mapLimit, openInitiativeOver, startEngineProcess, stopEngine, tempDir, type EngineProcess } from '../tests/support/process';
import { startWorkerEngine, type WorkerEngine } from '../tests/support/worker';

const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const WARMUP = Math.min(40, Math.floor(SIGNATURES / 10));
const BATCH = 50;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

interface Target {
  name: string;
  url: string;
  token(person: { givenNames: string; familyName: string; birthdate: string; subject?: string }): Promise<string>;
}

/** An open initiative on the target and ready-minted tokens of distinct citizens. */
async function prepare(target: Target, family: string) {
  const request = (method: string, path: string, init?: { token?: string; body?: unknown }) => http(target.url, method, path, init);
  const { initiativeId } = await openInitiativeOver({ request, token: target.token });
  // Tokens are minted before the clock starts: only the engine's work is timed.
  const people = Array.from({ length: SIGNATURES + WARMUP }, (_, i) => citizen(i + 1, family));
  const tokens = await Promise.all(people.map((p) => target.token(p)));
  const latencies: number[] = [];
  let busySeconds = 0;
  const sign = async (token: string) => {
    const started = performance.now();
    const res = await http(target.url, 'POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75111', consent: true } });
    const ms = performance.now() - started;
    if (res.status !== 201) throw new Error(`${target.name}: signing answered ${res.status} ${JSON.stringify(res.body)}`);
    return ms;
  };
  return {
    async warmUp() {
      await mapLimit(tokens.splice(0, WARMUP), CONCURRENCY, sign);
    },
    async batch(size: number) {
      const started = performance.now();
      latencies.push(...(await mapLimit(tokens.splice(0, size), CONCURRENCY, sign)));
      busySeconds += (performance.now() - started) / 1000;
    },
    async figures() {
      const progress = await request('GET', `/v1/initiatives/${initiativeId}/progress`);
      if (progress.body.signatures !== SIGNATURES + WARMUP) throw new Error(`${target.name}: counted ${progress.body.signatures}`);
      const sorted = [...latencies].sort((a, b) => a - b);
      return { median: percentile(sorted, 50), p99: percentile(sorted, 99), perSecond: latencies.length / busySeconds };
    },
  };
}

async function main() {
  process.stdout.write(`Signing latency, ${SIGNATURES} signatures (after ${WARMUP} warm-up), ${CONCURRENCY} in flight, PostgreSQL on loopback\n`);
  let worker: WorkerEngine | undefined;
  let node: EngineProcess | undefined;
  const dataDir = await tempDir('civic-bench-node-');
  const nodeDatabase = await createPostgresDatabase();
  try {
    worker = await startWorkerEngine();
    const provider = worker.provider;
    const keys = await generateKeyMaterial('b1');
    const port = await freePort();
    node = await startEngineProcess({
      dataDir: join(dataDir.path, 'data'),
      port,
      env: {
        NODE_ENV: 'production',
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        DATABASE_URL: nodeDatabase.url,
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: DEV_CLIENT_ID,
        OIDC_ALGORITHMS: 'ES256',
        SIGNING_KEY: JSON.stringify(keys.signingJwk),
        IDENTITY_PEPPER: Buffer.from(keys.pepper.secret).toString('base64'),
        PII_KEY: Buffer.from(keys.piiKey).toString('base64'),
      },
    });
    const token: Target['token'] = ({ subject, ...person }) =>
      subject ? provider.mintRaw({ sub: subject, acr: 'eidas2' }, new Date(), 3600) : provider.mintIdToken({ ...person, expiresInSeconds: 3600 }, new Date());
    const onNodeRun = await prepare({ name: 'node', url: node.url, token }, 'Noeud');
    const onWorkerRun = await prepare({ name: 'worker', url: worker.url, token }, 'Ouvrier');
    await onNodeRun.warmUp();
    await onWorkerRun.warmUp();
    // Alternating batches: the machine's load, shared and noisy, weighs on both alike.
    for (let done = 0; done < SIGNATURES; done += BATCH) {
      const size = Math.min(BATCH, SIGNATURES - done);
      await onNodeRun.batch(size);
      await onWorkerRun.batch(size);
    }
    const onNode = await onNodeRun.figures();
    const onWorker = await onWorkerRun.figures();
    const row = (name: string, r: { median: number; p99: number; perSecond: number }) =>
      `${name.padEnd(22)} median ${r.median.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms   ${r.perSecond.toFixed(0).padStart(5)} signatures/s\n`;
    process.stdout.write(row('Node (@hono/node-server)', onNode));
    process.stdout.write(row('Worker (wrangler dev)', onWorker));
    const ratio = onWorker.median / onNode.median;
    process.stdout.write(
      `ratio Worker/Node: median ${ratio.toFixed(2)}×, p99 ${(onWorker.p99 / onNode.p99).toFixed(2)}× (target: median within 2×) ${ratio <= 2 ? 'MET' : 'NOT MET'}\n`,
    );
  } finally {
    await stopEngine(node);
    await worker?.stop();
    await nodeDatabase.drop();
    await dataDir.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
