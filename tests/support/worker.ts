import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgres, type DatabaseHandle } from '../../src/db/client';
import { createDevIdentityProvider, DEV_CLIENT_ID, type DevIdentityProvider, type DevPerson } from '../../src/features/auth/dev-provider';
import { generateKeyMaterial } from '../../src/platform/keys';
import { createPostgresDatabase } from './database';
import { childProcesses, freePort, http, sleep, type HttpResult } from './process';

const ROOT = new URL('../..', import.meta.url).pathname;
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');

/**
 * An OpenID provider on loopback for the Worker: discovery and JWKS over HTTP, ID tokens signed
 * with its key. The Worker finds it by OIDC_ISSUER and verifies tokens as it would a real one's.
 */
export async function startLoopbackProvider(): Promise<{ issuer: string; provider: DevIdentityProvider; close(): Promise<void> }> {
  let provider: DevIdentityProvider | undefined;
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!provider) return send(503, { error: 'starting' });
    if (req.url === '/.well-known/openid-configuration') {
      return send(200, {
        issuer: provider.issuer,
        jwks_uri: `${provider.issuer}/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['ES256'],
      });
    }
    if (req.url === '/jwks') return send(200, provider.jwks);
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  provider = await createDevIdentityProvider({ issuer });
  return { issuer, provider, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface WorkerEngine {
  url: string;
  /** The Worker's database, for what the API does not show. */
  db: DatabaseHandle;
  provider: DevIdentityProvider;
  output: string[];
  request<T = any>(method: string, path: string, init?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<HttpResult<T>>;
  /** Runs the cron trigger once (wrangler dev --test-scheduled), resolving when the run ends. */
  tick(): Promise<void>;
  /** Stops workerd and starts it again on the same port, database and secrets: the next request meets a new isolate, as another of Cloudflare's would. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The engine in workerd under `wrangler dev` (local mode: no login, no network), on a fresh
 * PostgreSQL database with migrations applied, reached through the Hyperdrive binding's local
 * connection string; keys and pepper are passed the way secrets are, from an env file.
 */
export async function startWorkerEngine(
  options: {
    adminSubjects?: string[];
    logLevel?: string;
    /** Another entry point and wrangler flags, for measurements (such an entry gets DATABASE_URL, not Hyperdrive). */
    script?: string;
    wranglerArgs?: string[];
    /** Variables and secrets over the defaults below and wrangler.toml's [vars]; an empty value unsets one, as in .dev.vars. */
    settings?: Record<string, string>;
    /** The port to listen on (e.g. a redirect URI registered at a provider beforehand). */
    port?: number;
    /** False: return as soon as the engine answers, ready or not (a misconfigured one answers 503), not once /readyz says ready. */
    ready?: boolean;
  } = {},
): Promise<WorkerEngine> {
  const database = await createPostgresDatabase();
  const migrated = await openPostgres(database.url, { max: 1 });
  await migrated.close();
  const db = await openPostgres(database.url, { max: 2, migrate: false });
  const identity = await startLoopbackProvider();
  const dir = await mkdtemp(join(tmpdir(), 'civic-worker-'));
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;

  const keys = await generateKeyMaterial('w1');
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const settings: Record<string, string> = {
    NODE_ENV: 'production',
    PUBLIC_URL: url,
    LOG_LEVEL: options.logLevel ?? 'warn',
    OIDC_ISSUER: identity.issuer,
    OIDC_CLIENT_ID: DEV_CLIENT_ID,
    OIDC_ALGORITHMS: 'ES256',
    ADMIN_SUBJECTS: ['admin-subject', ...(options.adminSubjects ?? [])].join(','),
    SIGNING_KEY: JSON.stringify(keys.signingJwk),
    IDENTITY_PEPPER: b64(keys.pepper.secret),
    IDENTITY_PEPPER_VERSION: keys.pepper.version,
    PII_KEY: b64(keys.piiKey),
    ...(options.script ? { DATABASE_URL: database.url } : {}),
    ...options.settings,
  };
  const envFile = join(dir, 'worker.env');
  await writeFile(envFile, Object.entries(settings).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n', { mode: 0o600 });

  // Hyperdrive's local mode wants a password in the URL; the local server trusts loopback and ignores it.
  const hyperdriveUrl = database.url.replace('postgres://postgres@', 'postgres://postgres:local@');
  const output: string[] = [];
  const inspectorPort = await freePort();
  let child: ChildProcess;
  let exited: Promise<void>;
  let gone = false;

  const launch = () => {
    gone = false;
    child = spawn(
      process.execPath,
      [WRANGLER, 'dev', ...(options.script ? [options.script] : []), '--local', '--ip', '127.0.0.1', '--port', String(port), '--env-file', envFile, '--persist-to', join(dir, 'state'),
        '--test-scheduled', '--show-interactive-dev-session=false', '--log-level', 'warn', '--inspector-port', String(inspectorPort), ...(options.wranglerArgs ?? [])],
      {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          // Miniflare skips fetching the Request.cf object from the network in test mode.
          NODE_ENV: 'test',
          WRANGLER_SEND_METRICS: 'false',
          WRANGLER_SEND_ERROR_REPORTS: 'false',
          WRANGLER_LOG_PATH: join(dir, 'logs'),
          CI: 'true',
          CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: hyperdriveUrl,
        },
      },
    );
    const collect = (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => (gone = true));
  };

  const stopWrangler = async () => {
    if (!gone && child.pid) {
      // workerd may run in a process group of its own: found now, while wrangler is still its parent, and ended last.
      const family = await descendants(child.pid);
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      await Promise.race([exited, sleep(5000)]);
      if (!gone) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      for (const pid of family) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  };

  const stop = async () => {
    await stopWrangler();
    await identity.close();
    await db.close();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  };

  const waitReady = async () => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const res = gone ? undefined : await http(url, 'GET', '/readyz', { timeoutMs: 5000 });
      // Not ready yet, wrangler's own server may answer before the engine's code is loaded (a 404 of its own): wait for the engine's answer.
      if (res?.status === 200 || (options.ready === false && res?.status === 503 && res.contentType === 'application/problem+json')) return;
      if (gone || Date.now() > deadline) {
        await stop();
        throw new Error(`wrangler dev did not become ready on ${url}:\n${output.slice(-40).join('\n')}`);
      }
      await sleep(250);
    }
  };

  launch();
  await waitReady();

  const request: WorkerEngine['request'] = (method, path, init = {}) =>
    init.rawBody !== undefined
      ? rawRequest(url, method, path, init.rawBody, init.token, init.headers)
      : http(url, method, path, { token: init.token, body: init.body, headers: init.headers });

  return {
    url,
    db,
    provider: identity.provider,
    output,
    request,
    async tick() {
      const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent('* * * * *')}`);
      await res.text();
      if (res.status !== 200) throw new Error(`scheduled run answered ${res.status}`);
    },
    async restart() {
      await stopWrangler();
      launch();
      await waitReady();
    },
    stop,
  };
}

async function rawRequest(url: string, method: string, path: string, body: string, token?: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  // What the database holds, as a hard reload reads it (anonymous reads may otherwise come from memory for a second).
  const fresh: Record<string, string> = method === 'GET' ? { 'cache-control': 'no-cache' } : {};
  const res = await fetch(url + path, { method, body, headers: { ...fresh, ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const text = await res.text();
  const contentType = res.headers.get('content-type');
  return { status: res.status, headers: res.headers, body: contentType?.includes('json') && text ? JSON.parse(text) : text, contentType };
}

/** Tokens of the loopback provider, as createTestEngine's are of the in-process one. */
export function workerTokens(provider: DevIdentityProvider) {
  const subjectToken = (sub: string) => provider.mintRaw({ sub, acr: 'eidas2' }, new Date());
  return {
    tokenFor: (person: DevPerson) => provider.mintIdToken(person, new Date()),
    subjectToken,
    adminToken: () => subjectToken('admin-subject'),
  };
}

/** Every process `pid` started, and theirs, still running. */
async function descendants(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const child of await childProcesses(pid)) found.push(child.pid, ...(await descendants(child.pid)));
  return found;
}
