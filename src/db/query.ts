import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { DatabaseHandle } from './client';

// Query helpers shared by Node and Workers: this module must not import client.ts's values (PGlite, migrations).

/** Rows of a raw query, whichever driver ran it (PGlite returns {rows}, postgres.js an array). */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** A json column as parsed by one driver or as text from another. */
export function jsonValue<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

const dialect = new PgDialect();

/**
 * Runs a statement whose text is always the same (only its parameters change) as a prepared
 * statement where the driver allows it (postgres.js): the server parses and plans it once per
 * connection, not on every call. PGlite and other handles run it as given.
 */
export async function runPrepared<T>(handle: DatabaseHandle, query: SQL): Promise<T[]> {
  if (!handle.postgres) return rowsOf<T>(await handle.db.execute(query));
  const { sql: text, params } = dialect.sqlToQuery(query);
  return (await handle.postgres.unsafe(text, params as never[], { prepare: true })) as unknown as T[];
}
