import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Database, DatabaseHandle } from './client';
import * as schema from './schema';

export interface PostgresConnectionOptions {
  /** Connections this client may open; Hyperdrive pools behind them. */
  max?: number;
}

/**
 * A short-lived PostgreSQL client without migrations or file access, for runtimes that open one
 * per request (Workers behind Hyperdrive). Connects on first query, so requests that never touch
 * the database open nothing.
 */
export function connectPostgres(url: string, options: PostgresConnectionOptions = {}): DatabaseHandle {
  let client: postgres.Sql | undefined;
  let db: Database | undefined;
  const open = () => {
    // fetch_types: the schema uses no custom types, and the lookup would cost a round trip per client.
    client ??= postgres(url, { max: options.max ?? 5, fetch_types: false, onnotice: () => {}, connect_timeout: 5, idle_timeout: 10 });
    db ??= drizzle(client, { schema }) as unknown as Database;
    return db;
  };
  return {
    get db() {
      return open();
    },
    kind: 'postgres',
    ping: async () => {
      await open().execute(sql`select 1`);
    },
    poolUse: () => ({ active: 0, max: options.max ?? 5 }),
    close: async () => {
      if (client) await client.end({ timeout: 5 });
    },
  };
}
