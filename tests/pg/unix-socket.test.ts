import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type DatabaseHandle } from '../../src/db/client';
import { createPostgresDatabase } from '../support/database';

/** An operator running PostgreSQL on the same machine points DATABASE_URL at its Unix socket, as libpq allows. */
describe('DATABASE_URL naming a Unix socket directory', () => {
  let created: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    created = await createPostgresDatabase();
    const name = new URL(created.url).pathname.slice(1);
    handle = await openPostgres(`postgres://postgres@localhost/${name}?host=/var/run/postgresql`);
  });
  afterAll(async () => {
    await handle?.close();
    await created?.drop();
  });

  it('connects through the socket (no TCP peer address) and runs the migrations', async () => {
    const result = await handle.db.execute(sql`select inet_server_addr() as address, current_database() as name, count(*)::int as tables
      from information_schema.tables where table_name = 'signatures'`);
    const [row] = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { address: string | null; name: string; tables: number }[];
    expect(row!.address).toBeNull();
    expect(row!.name).toBe(new URL(created.url).pathname.slice(1));
    expect(row!.tables).toBe(1);
  });
});
