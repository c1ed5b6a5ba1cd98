import type { Sql } from 'postgres';

/**
 * A starting line for requests that race: the initiative's row is held FOR UPDATE while each of
 * `starts` sends its request(s), one after the other once the previous one waits for a lock (so they
 * queue for the row in this order); then the row is let go and they all go on at the same instant.
 * Returns what each start returned (its promise), in order.
 */
export async function releasedTogether<T extends (() => unknown)[]>(sql: Sql, initiativeId: string, starts: [...T]): Promise<{ [K in keyof T]: ReturnType<T[K]> }> {
  const started: unknown[] = [];
  await sql.begin(async (hold) => {
    await hold`select 1 from initiatives where id = ${initiativeId} for update`;
    for (const start of starts) {
      started.push(start());
      await lockWaiters(sql, started.length, `request ${started.length} of ${starts.length} did not reach the starting line`);
    }
  });
  return started as { [K in keyof T]: ReturnType<T[K]> };
}

/** Until `n` sessions of this database wait for a lock (or `failure` after 10 s). */
export async function lockWaiters(sql: Sql, n: number, failure = `${n} session(s) waiting for a lock expected`): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
    if (row!.n >= n) return;
    if (Date.now() > deadline) throw new Error(failure);
    await new Promise((r) => setTimeout(r, 5));
  }
}
