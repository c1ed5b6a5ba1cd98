import type { Sql } from 'postgres';

/**
 * A starting line for requests that race: the initiative's row is held FOR UPDATE while `start`
 * sends them, until `waiting` sessions of the database wait on a lock (each request blocked at
 * its own lock of the row); then the row is let go and they all go on at the same instant.
 * Returns what `start` returned (the requests' promises).
 */
export async function releasedTogether<T>(sql: Sql, initiativeId: string, waiting: number, start: () => T): Promise<T> {
  let started: T | undefined;
  await sql.begin(async (hold) => {
    await hold`select 1 from initiatives where id = ${initiativeId} for update`;
    started = start();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
      if (row!.n >= waiting) break;
      if (Date.now() > deadline) throw new Error(`${row!.n} of ${waiting} requests reached the starting line`);
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  return started!;
}
