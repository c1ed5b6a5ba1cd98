import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine } from '../support/engine';

const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);

/** What an operator watches to size DATABASE_POOL_SIZE: the connections in use, out of the pool's size. */
describe('the database pool in /metrics', () => {
  let engine: Awaited<ReturnType<typeof createTestEngine>>;

  beforeAll(async () => {
    engine = await createTestEngine({ poolSize: 4 });
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('counts the connections busy with a query, and none once they are done', async () => {
    const metrics = async () => (await engine.request('GET', '/metrics')).body as string;
    await engine.deps.db.ping();
    expect(gauge(await metrics(), 'db_pool_connections_active')).toBe(0);
    expect(gauge(await metrics(), 'db_pool_connections_max')).toBe(4);

    const slow = Promise.all(Array.from({ length: 3 }, () => engine.deps.db.db.execute(sql`select pg_sleep(1)`)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(gauge(await metrics(), 'db_pool_connections_active')).toBe(3);
    await slow;
    expect(gauge(await metrics(), 'db_pool_connections_active')).toBe(0);
  });
});
