import { serve } from '@hono/node-server';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { getConnInfo } from '@hono/node-server/conninfo';
import { realpathSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server as HttpServer, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { JWK } from 'jose';
import { createApp, engineTasks, SEQUENCE_LOGS_TASK } from './app';
import { openDatabase } from './db/client';
import { createDevIdentityProvider, DEV_CLIENT_ID, generateDevProviderKey } from './features/auth/dev-provider';
import { seedDemo } from './features/demo/seed';
import { checkIdTokenDecryptionKey } from './features/auth/id-token-decryption';
import { configuredIdentityProvider } from './features/auth/provider';
import { progressHubFor } from './features/monitoring/live';
import { ConfigError, loadConfig, type Config } from './platform/config';
import { loadOrGenerateKeyMaterial } from './platform/dev-keys';
import { packageDocsAssets } from './platform/docs-assets';
import type { AppDeps } from './platform/http';
import { checkIdentityPeppers } from './platform/identity-peppers';
import { loadEngineKeys } from './platform/keys';
import { startJoseThreads } from './platform/jose-threads';
import { superviseWorkers, joinCluster, type WorkerSupervisor } from './platform/cluster';
import { createLogger, flushLogs, type Logger } from './platform/logger';
import { processMetrics } from './features/ops/routes';
import { createMetrics } from './platform/metrics';
import { createScheduler } from './platform/scheduler';
import { sourceFingerprint } from './platform/source-fingerprint';

/** Set by `npm run build` in the production bundle (src/build.ts): the digest of the src/ and drizzle/ it was built from. */
declare const __CIVIC_SOURCE_FINGERPRINT__: string | undefined;

/**
 * How long a stopping engine waits for the requests under way before cutting their connections: 15 s,
 * as a cluster gives its processes, within the 30 s most process managers wait before killing.
 */
const SHUTDOWN_GRACE_MS = 15_000;

async function devProviderKey(config: Config): Promise<JWK> {
  const file = join(config.dataDir, 'dev-provider-key.json');
  const stored = await readFile(file, 'utf8').then(JSON.parse, () => undefined);
  if (stored) return stored as JWK;
  const jwk = await generateDevProviderKey();
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

/** A port nobody listens on right now at `host`, picked by the kernel. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', () => reject(new ConfigError('HOST', `cannot listen on ${host}`)));
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Database, keys and identity provider: what every engine process (and a cluster's primary) opens first. */
async function openEngine(config: Config, logger: Logger, options: { migrate: boolean }): Promise<AppDeps> {
  if (config.oidc?.idTokenDecryptionKey) await checkIdTokenDecryptionKey(config.oidc.idTokenDecryptionKey);
  await mkdir(config.dataDir, { recursive: true });
  const db = await openDatabase({ url: config.databaseUrl, dataDir: join(config.dataDir, 'pglite'), poolSize: config.databasePoolSize, migrate: options.migrate });
  const material = await loadOrGenerateKeyMaterial(config);
  const keys = await loadEngineKeys(material);
  // Before anything is hashed; a refused start closes the database it opened.
  await checkIdentityPeppers(db.db, keys.keyring, new Date()).catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  const devProvider = config.oidc
    ? undefined
    : await createDevIdentityProvider({ issuer: `${config.publicUrl}/dev/oidc`, privateJwk: await devProviderKey(config) });
  const provider = config.oidc ? configuredIdentityProvider({ ...config, oidc: config.oidc }) : undefined;
  let identity = provider ? provider.identity : devProvider!.verifier;
  const threads = config.cryptoThreads === 'auto' ? (availableParallelism() > 1 ? 1 : 0) : config.cryptoThreads;
  if (threads > 0) {
    const jose = await startJoseThreads(threads, { signingJwk: material.signingJwk, piiKey: material.piiKey, piiKeyId: keys.pii.kid, verifier: identity.options }, logger);
    keys.offload = jose;
    identity = jose.verifier(identity);
  }
  const deps: AppDeps = { db, keys, clock: () => new Date(), identity, login: provider?.login, devProvider, config, logger, metrics: createMetrics(), docsAssets: packageDocsAssets(), clientAddress: (c) => getConnInfo(c).remote.address };
  // After migrations, before listening: the first page a newcomer sees already has initiatives.
  if (config.demo && options.migrate) await seedDemo(deps);
  return deps;
}

/** An engine nobody administers starts, and then no jurisdiction can be created nor any clerk named: say so, and how to find a subject. */
function warnWithoutAdministrators(config: Config, logger: Logger) {
  if (config.adminSubjects.length > 0) return;
  logger.warn('no administrator: ADMIN_SUBJECTS is empty, so nobody can create a jurisdiction or grant the clerk role', {
    howTo: `log in at ${config.publicUrl}/me, read "My identifier at this service", list it in ADMIN_SUBJECTS and restart`,
  });
}

/** The periodic tasks, in the one process that runs them (a single engine, or a cluster's primary). */
function startTasks(deps: AppDeps, config: Config, logger: Logger) {
  const tasks = engineTasks(deps);
  const scheduler = createScheduler(tasks.filter((t) => t.name !== SEQUENCE_LOGS_TASK), deps.clock, logger, deps.metrics);
  scheduler.start(config.schedulerIntervalMs);
  // The log sequencer keeps its own pace, so receipts' merge-delay promise holds whatever else the scheduler does.
  const sequencer = createScheduler(tasks.filter((t) => t.name === SEQUENCE_LOGS_TASK), deps.clock, logger, deps.metrics);
  sequencer.start(Math.max(50, Math.floor(config.logMergeDelayMs / 2)));
  return {
    stop: () => Promise.all([scheduler.stop(), sequencer.stop()]),
    // Receipts promise inclusion within the merge delay: what was signed since the last pass enters its log before the engine stops, not when it starts again.
    sequenceLast: () => sequencer.tick(),
  };
}

/** After the last request: the periodic tasks end, the logs take the last signatures, then the JOSE threads end (tree heads are signed to the end), then the pool. */
async function closeEngine(deps: AppDeps, tasks?: ReturnType<typeof startTasks>) {
  await tasks?.stop();
  await tasks?.sequenceLast();
  await deps.keys.offload?.close();
  await deps.db.close();
}

export async function startServer(env: Record<string, string | undefined> = process.env) {
  let config = loadConfig(env);
  const processes = config.processes === 'auto' ? availableParallelism() : config.processes;
  // PORT=0 without PUBLIC_URL: the port is chosen now, so that the address the engine prints and signs into receipts,
  // sessions and its development provider's tokens is the one it listens on (a cluster's processes inherit it).
  if (config.port === 0 && !env.PUBLIC_URL && cluster.isPrimary) {
    const port = await freePort(config.host);
    if (processes > 1) process.env.PORT = String(port);
    config = loadConfig({ ...env, PORT: String(port) });
  }
  const logger = createLogger(config.logLevel);
  if (processes > 1 && cluster.isPrimary) return startPrimary(config, logger, processes);
  const inCluster = cluster.isWorker;
  // A cluster's primary has migrated, seeded and runs the periodic tasks; its processes only answer.
  const deps = await openEngine(config, logger, { migrate: !inCluster });
  if (inCluster) deps.clusterMetrics = joinCluster(() => processMetrics(deps));
  const app = createApp(deps);
  const tasks = inCluster ? undefined : startTasks(deps, config, logger);
  const devProvider = deps.devProvider;
  const db = deps.db;

  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }) as HttpServer;
  // Responses under way, so a shutdown can tell their keep-alive connections to close after them.
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  server.on('request', (_req, res: ServerResponse) => {
    if (draining) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => resolve());
      server.once('error', reject);
    });
  } catch (error) {
    await closeEngine(deps, tasks);
    // Another engine, or anything else, on the port is the usual case: name the setting, not a stack.
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${config.host}:${config.port}`;
    if (code === 'EADDRINUSE') throw new ConfigError('PORT', `${where} is already in use: stop what listens there, or choose another PORT`);
    if (code === 'EACCES') throw new ConfigError('PORT', `${where} may not be used by this user: choose a PORT above 1023`);
    throw new ConfigError('HOST', `cannot listen on ${where} (${(error as Error).message})`);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (!inCluster) logger.info('listening', { url: config.publicUrl, port, database: db.kind, identityProvider: devProvider ? 'development' : config.oidc!.issuer });
  if (!inCluster) warnWithoutAdministrators(config, logger);
  if (devProvider) {
    process.stdout.write(
      `\nCivic initiative engine on ${config.publicUrl}\n` +
        `  database: ${db.kind === 'pglite' ? `PGlite in ${join(config.dataDir, 'pglite')}` : 'PostgreSQL'}\n` +
        `  DEVELOPMENT identity provider: ${devProvider.issuer} (client id ${DEV_CLIENT_ID}) — never use it in production\n\n`,
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!inCluster) logger.info('shutting down', { signal });
    // Stop accepting, let in-flight requests and scheduled work finish, then close the pool.
    draining = true;
    // Live progress streams never end by themselves: end them so the server can close.
    progressHubFor(deps).close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive connections would carry new requests: idle ones close now, busy ones after their response.
    for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    server.closeIdleConnections();
    // A request that never ends (a client sending its body at a trickle, or gone without closing) would
    // keep the process up until it is killed, mid-transaction perhaps: after the grace, its connection is cut
    // (its transaction, if any, rolls back), and the engine stops as usual.
    const cut = setTimeout(() => {
      logger.warn('shutdown: requests still running after the grace period are cut', { requests: inFlight.size, graceMs: SHUTDOWN_GRACE_MS });
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    cut.unref();
    await Promise.all([closed, tasks?.stop()]);
    clearTimeout(cut);
    await closeEngine(deps, tasks);
    flushLogs();
    process.exit(0);
  };
  onStopSignals(shutdown, logger);
  return { app, deps, server, port, shutdown };
}

/**
 * A cluster's primary: migrates and seeds once, runs the periodic tasks (so the processes that
 * answer requests never pause for them), starts the processes and stops them on SIGTERM.
 */
async function startPrimary(config: Config, logger: Logger, processes: number) {
  const deps = await openEngine(config, logger, { migrate: true });
  const tasks = startTasks(deps, config, logger);
  let workers: WorkerSupervisor;
  try {
    // The primary runs the periodic tasks: its counts of them join the processes' in /metrics.
    workers = await superviseWorkers(processes, logger, () => deps.metrics.snapshot());
  } catch (error) {
    await closeEngine(deps, tasks);
    throw error;
  }
  logger.info('listening', { url: config.publicUrl, port: config.port, processes, database: deps.db.kind, identityProvider: config.oidc!.issuer });
  warnWithoutAdministrators(config, logger);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, processes: workers.size });
    await workers.stop();
    await closeEngine(deps, tasks);
    flushLogs();
    process.exit(0);
  };
  onStopSignals(shutdown, logger);
  return { deps, shutdown };
}

/** A signal repeated within this time is the same request to stop, passed on by another process. */
const REPEATED_SIGNAL_MS = 2000;

/**
 * SIGTERM and SIGINT start the shutdown. Ctrl-C reaches the engine from the terminal and again from
 * tsx (`npm start`) passing it on, or from a cluster's primary: a signal within REPEATED_SIGNAL_MS
 * of the first changes nothing (without a handler it would kill the engine halfway through its
 * shutdown, its last signatures unsequenced). One sent later is the operator insisting on a
 * shutdown that hangs (a database that does not answer): the engine exits at once, status 1.
 */
function onStopSignals(shutdown: (signal: string) => Promise<void>, logger: Logger) {
  let first: number | undefined;
  const on = (signal: string) => {
    const now = performance.now();
    if (first === undefined) {
      first = now;
      void shutdown(signal);
    } else if (now - first > REPEATED_SIGNAL_MS) {
      logger.warn('stopped again during the shutdown: exiting without finishing it', { signal });
      flushLogs();
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => on('SIGTERM'));
  process.on('SIGINT', () => on('SIGINT'));
}

/**
 * The production bundle, started after an update (git pull, a new release) without `npm run build`,
 * would run the old code, and apply the new release's migrations to the database under it.
 */
async function checkBuildIsCurrent(): Promise<void> {
  const built = typeof __CIVIC_SOURCE_FINGERPRINT__ === 'string' ? __CIVIC_SOURCE_FINGERPRINT__ : undefined;
  if (!built) return;
  // The bundle is in dist/node/, two folders below the project, as the modules of src/ are.
  const current = await sourceFingerprint(fileURLToPath(new URL('../..', import.meta.url)));
  if (current !== undefined && current !== built) {
    throw new Error('dist/node/ was built from other sources than src/ and drizzle/ hold now (updated without a new build?): run `npm run build`, then start again');
  }
}

// As a URL, with the real path: a checkout in a folder whose name has a space or an accent, or reached by a link.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  (cluster.isPrimary ? checkBuildIsCurrent() : Promise.resolve()).then(() => startServer()).catch((error) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
    } else if (error instanceof DrizzleQueryError && error.cause) {
      // drizzle's message is the statement and its parameters, over several lines; the reason (the database away) is its cause.
      process.stderr.write(`Could not start: a query to the database failed: ${error.cause.message}\n`);
    } else {
      process.stderr.write(`Could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    process.exit(1);
  });
}
