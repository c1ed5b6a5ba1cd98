import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import * as schema from './schema';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, any>;
/** Anything that runs queries: the database itself or an open transaction. */
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** The postgres.js client itself, for what drizzle does not offer (COPY); absent on PGlite. */
  postgres?: import('postgres').Sql;
  /** The embedded database itself (dumps, tests); absent on PostgreSQL. */
  pglite?: import('@electric-sql/pglite').PGlite;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  /** Connections in use and the pool's size, for /metrics. */
  poolUse(): { active: number; max: number };
  close(): Promise<void>;
}

/** Two folders up from this module, and from the production bundle in dist/node/ (src/build.ts). */
const MIGRATIONS = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** PostgreSQL through postgres.js, migrations applied from drizzle/. */
export async function openPostgres(url: string, options: { max?: number; migrate?: boolean } = {}): Promise<DatabaseHandle> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const max = options.max ?? 10;
  const connection = postgresConnection(url);
  const client = postgres(connection.url, { ...connection.options, max, onnotice: () => {}, connect_timeout: 5, idle_timeout: 60, backoff: reconnectDelaySeconds });
  const db = drizzle(client, { schema }) as unknown as Database;
  if (options.migrate !== false) {
    const { migrate } = await import('drizzle-orm/postgres-js/migrator');
    // Engines started together on a new database would each create the tables, and all but one fail:
    // one at a time, under a lock held by a transaction on a connection of its own (the pool may have
    // only one; a transaction, so a pooler in transaction mode keeps it on one server connection and
    // its end releases it), the later ones find them made.
    const lock = postgres(connection.url, { ...connection.options, max: 1, onnotice: () => {}, connect_timeout: 5 });
    try {
      await lock.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(hashtext('civic-engine migrations'))`;
        await migrate(db as never, { migrationsFolder: MIGRATIONS });
      });
    } catch (error) {
      await lock.end({ timeout: 1 }).catch(() => {});
      await client.end({ timeout: 1 }).catch(() => {});
      // drizzle's message is only the failed statement; the reason (no such database, refused) is its cause.
      const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
      const { host, pathname } = new URL(url);
      throw new Error(`the database ${host}${pathname} could not be migrated: ${reason}`, { cause: error });
    }
    await lock.end({ timeout: 1 });
  }
  return {
    db,
    kind: 'postgres',
    postgres: client,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    poolUse: () => {
      const pool = client as unknown as { options: { max: number } };
      return { active: activeConnections(client), max: pool.options.max };
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * A URL as libpq reads it, for postgres.js: `postgres://user@localhost/db?host=/var/run/postgresql`
 * connects through the Unix socket in that directory (postgres.js itself takes no socket in a URL).
 * On one machine the socket costs the engine and the server far less per query than loopback TCP.
 */
export function postgresConnection(url: string): { url: string; options: { host?: string } } {
  const parsed = new URL(url);
  const socketDirectory = parsed.searchParams.get('host');
  if (!socketDirectory?.startsWith('/')) return { url, options: {} };
  parsed.searchParams.delete('host');
  return { url: parsed.toString(), options: { host: socketDirectory } };
}

/**
 * Wait before reconnecting after failed attempts, in seconds. The driver's default grows to 20 s,
 * so queries kept waiting long after the database was back; capped at 1 s, the engine recovers at once.
 */
export function reconnectDelaySeconds(attempts: number): number {
  return Math.min(0.05 * 2 ** attempts, 1);
}

/** postgres.js keeps its connection queues to itself: patches/postgres+3.4.9.patch counts the ones in use. */
function activeConnections(client: unknown): number {
  return (client as { connectionsInUse?: number }).connectionsInUse ?? 0;
}

/** Embedded PostgreSQL (PGlite): in `dataDir`, or in memory when none is given. */
export async function openPglite(dataDir?: string, options: { loadDataDir?: Blob } = {}): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const lock = dataDir === undefined ? undefined : await lockDataDir(dataDir);
  let client: import('@electric-sql/pglite').PGlite | undefined;
  try {
    // Starting from a dump of an already initialised database skips initdb, the slow part of a start.
    client = new PGlite(dataDir, options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
    await client.waitReady;
    const db = drizzle(client, { schema }) as unknown as Database;
    await migrate(db as never, { migrationsFolder: MIGRATIONS });
    const opened = client;
    return {
      db,
      kind: 'pglite',
      pglite: opened,
      ping: async () => {
        await db.execute(sql`select 1`);
      },
      poolUse: () => ({ active: 0, max: 1 }),
      close: async () => {
        await opened.close();
        await lock?.release();
      },
    };
  } catch (error) {
    await client?.close().catch(() => {});
    await lock?.release();
    throw error;
  }
}

/**
 * PGlite has no server to share a folder: two engines on one folder each keep their own copy in
 * memory and overwrite each other's writes, so signatures that got a receipt would vanish.
 * A lock file beside the folder holds the pid of the engine using it; a dead process's is taken over.
 */
async function lockDataDir(dataDir: string): Promise<{ release(): Promise<void> }> {
  const { mkdir, open, readFile, rm } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const file = `${dataDir.replace(/[\\/]+$/, '')}.lock`;
  await mkdir(dirname(file), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const holder = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && holder !== process.ppid && processIsRunning(holder)) {
      throw new Error(`the embedded database in ${dataDir} is in use by another engine (process ${holder}): stop it first, or give this one another DATA_DIR (if no engine uses it, remove ${file})`);
    }
    await rm(file, { force: true });
  }
}

function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function openDatabase(options: { url?: string; dataDir: string; poolSize?: number; migrate?: boolean }): Promise<DatabaseHandle> {
  return options.url ? openPostgres(options.url, { max: options.poolSize, migrate: options.migrate }) : openPglite(options.dataDir);
}
