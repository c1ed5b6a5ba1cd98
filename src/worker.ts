import type { ExecutionContext } from 'hono';
import { createApp, engineTasks, type App } from './app';
import type { DatabaseHandle } from './db/client';
import { connectPostgres } from './db/postgres-connection';
import { createDevIdentityProvider } from './features/auth/dev-provider';
import { checkIdTokenDecryptionKey } from './features/auth/id-token-decryption';
import { configuredIdentityProvider } from './features/auth/provider';
import { ConfigError, loadConfig, type Config } from './platform/config';
import type { AppDeps } from './platform/http';
import { checkIdentityPeppers } from './platform/identity-peppers';
import { configuredKeyMaterial, loadEngineKeys, type KeyMaterial } from './platform/keys';
import { createLogger, type Logger } from './platform/logger';
import { createMetrics } from './platform/metrics';
import { problems } from './platform/problems';
import { createScheduler, type Scheduler } from './platform/scheduler';
import { scopedDatabase } from './platform/scoped-database';
import { dnsOverHttpsResolver, fetchWebhookSender } from './platform/workers-runtime';

/** The parts of the Workers runtime this entry point uses. */
interface HyperdriveBinding {
  connectionString: string;
}
interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}
interface ScheduledController {
  cron: string;
  scheduledTime: number;
}

/** Bindings of wrangler.toml: Hyperdrive, Swagger UI's files, and string variables and secrets read by loadConfig. */
export interface WorkerEnv {
  HYPERDRIVE?: HyperdriveBinding;
  ASSETS?: AssetsBinding;
  [setting: string]: unknown;
}

interface Engine {
  app: App;
  deps: AppDeps;
  logger: Logger;
  database: ReturnType<typeof scopedDatabase>;
  scheduler: Scheduler;
  connectionString: string;
}

/**
 * The shortest maximum merge delay a Worker may promise in receipts: its logs are sequenced by the
 * cron trigger, once a minute at best, so an entry written just after a run waits for the next one
 * and for that run to reach it. wrangler.toml sets this value. Not exported: a Worker's module
 * exports its handlers only.
 */
const WORKERS_MIN_MERGE_DELAY_MS = 90_000;

// Built once per isolate: parsing the keys and compiling the routes would otherwise cost every request.
let engine: Promise<Engine> | undefined;

function engineFor(env: WorkerEnv, connect: (url: string) => DatabaseHandle): Promise<Engine> {
  engine ??= buildEngine(env, connect).catch((error: unknown) => {
    engine = undefined;
    throw error;
  });
  return engine;
}

async function buildEngine(env: WorkerEnv, connect: (url: string) => DatabaseHandle): Promise<Engine> {
  const settings: Record<string, string | undefined> = {};
  // An empty value unsets a variable of wrangler.toml (e.g. OIDC_ISSUER= in .dev.vars for the development provider).
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string' && value !== '') settings[name] = value;
  settings.DATABASE_URL = env.HYPERDRIVE?.connectionString ?? settings.DATABASE_URL;
  // Links, token issuers and the OpenAPI server are absolute: a cron run has no request to take them from.
  if (!settings.PUBLIC_URL) throw new ConfigError('PUBLIC_URL', 'is required on Workers');
  const config = loadConfig(settings);
  if (!config.databaseUrl) throw new ConfigError('HYPERDRIVE', 'a Hyperdrive binding (or DATABASE_URL) is required on Workers');
  if (config.logMergeDelayMs < WORKERS_MIN_MERGE_DELAY_MS) {
    throw new ConfigError(
      'LOG_MERGE_DELAY_MS',
      `must be at least ${WORKERS_MIN_MERGE_DELAY_MS} on Workers: the cron trigger sequences the logs once a minute, and receipts promise inclusion within this delay`,
    );
  }
  const logger = createLogger(config.logLevel, (line) => console.log(line));
  const keys = await loadEngineKeys(keyMaterialOf(config));
  // Once per isolate, before its first request or cron run hashes anything.
  const checking = connect(config.databaseUrl);
  try {
    await checkIdentityPeppers(checking.db, keys.keyring, new Date());
  } finally {
    await checking.close();
  }
  const devProvider = config.oidc ? undefined : await createDevIdentityProvider({ issuer: `${config.publicUrl}/dev/oidc` });
  if (config.oidc?.idTokenDecryptionKey) await checkIdTokenDecryptionKey(config.oidc.idTokenDecryptionKey);
  const provider = config.oidc ? configuredIdentityProvider({ ...config, oidc: config.oidc }) : undefined;
  const identity = provider ? provider.identity : devProvider!.verifier;
  const resolve = dnsOverHttpsResolver();
  const database = scopedDatabase();
  const assets = env.ASSETS;
  const deps: AppDeps = {
    // Read per use: each request (and cron run) has its own client.
    get db() {
      return database.current();
    },
    keys,
    clock: () => new Date(),
    identity,
    login: provider?.login,
    devProvider,
    config,
    logger,
    metrics: createMetrics(),
    // Cloudflare sets the caller's address; nothing else may claim it.
    clientAddress: (c) => c.req.header('cf-connecting-ip'),
    // A request's database client closes with it: the stream sends the progress once, and clients reconnect.
    progressStream: { mode: 'snapshot' },
    webhooks: { send: fetchWebhookSender(resolve), resolve },
    docsAssets: assets
      ? async (file) => {
          const response = await assets.fetch(new Request(`https://assets.invalid/${file}`));
          return response.ok ? response : undefined;
        }
      : undefined,
  };
  const app = createApp(deps);
  const scheduler = createScheduler(engineTasks(deps), deps.clock, logger, deps.metrics);
  return { app, deps, logger, database, scheduler, connectionString: config.databaseUrl };
}

/** Keys and pepper come from secrets: a Worker has nowhere to keep generated ones. */
function keyMaterialOf(config: Config): KeyMaterial {
  return configuredKeyMaterial(config, undefined, (variable) => `is required on Workers (wrangler secret put ${variable})`);
}

function misconfigured(error: unknown): Response {
  // Names the setting at fault, never its value.
  const detail = error instanceof ConfigError ? error.message : 'The engine could not start.';
  console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'engine not started', error: detail }));
  const problem = problems.unavailable(`The engine is misconfigured: ${detail}`);
  return new Response(JSON.stringify(problem.toJSON()), {
    status: problem.status,
    headers: { 'Content-Type': 'application/problem+json', ...problem.headers },
  });
}

/** The Worker's handlers; `connect` opens a request's database client (postgres.js unless a measurement swaps it). */
export function createWorker(connect: (url: string) => DatabaseHandle = connectPostgres) {
  return {
    async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
      let current: Engine;
      try {
        current = await engineFor(env, connect);
      } catch (error) {
        return misconfigured(error);
      }
      // One client per request: a Worker may not share sockets between requests; Hyperdrive pools behind it.
      const db = connect(current.connectionString);
      let response: Response;
      try {
        response = await current.database.run(db, () => current.app.fetch(request, env, ctx));
      } catch (error) {
        ctx.waitUntil(db.close());
        throw error;
      }
      if (!response.body) {
        ctx.waitUntil(db.close());
        return response;
      }
      // Streamed bodies (CSV exports, server-sent events) still read the database: close once sent.
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      ctx.waitUntil(response.body.pipeTo(writable).catch(() => {}).finally(() => db.close()));
      return new Response(readable, response);
    },

    /** The cron trigger: the engine's periodic tasks (deadlines, crossings, ...), once per run. */
    async scheduled(_controller: ScheduledController, env: WorkerEnv, ctx: ExecutionContext): Promise<void> {
      const current = await engineFor(env, connect);
      const db = connect(current.connectionString);
      try {
        await current.database.run(db, () => current.scheduler.tick());
      } finally {
        ctx.waitUntil(db.close());
      }
    },
  };
}

export default createWorker();
