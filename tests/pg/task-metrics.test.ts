import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../support/database';
import { sleep, startEngineProcess, stopEngine, tempDir, type EngineProcess } from '../support/process';

/** The value of one series of a Prometheus text exposition (0 when absent). */
function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/**
 * An operator alerts on /metrics: the periodic tasks (closing overdue initiatives, sequencing the
 * logs that receipts promise inclusion in, webhooks, the retention purge) failing with the database
 * away must show there, not only in the log.
 */
describe('/metrics counts the periodic tasks', () => {
  let engine: EngineProcess | undefined;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;

  beforeAll(async () => {
    data = await tempDir('civic-task-metrics-');
    database = await createPostgresDatabase();
    engine = await startEngineProcess({ dataDir: data.path, env: { DATABASE_URL: database.url, SCHEDULER_INTERVAL_MS: '100', LOG_MERGE_DELAY_MS: '200', LOG_LEVEL: 'error' } });
  }, 120_000);

  afterAll(async () => {
    await stopEngine(engine);
    await database?.drop();
    await data?.remove();
  });

  const read = async () => (await engine!.request('GET', '/metrics', { headers: { accept: 'text/plain' } })).body as string;

  async function until(series: string, atLeast: number): Promise<string> {
    let text = '';
    for (let attempt = 0; attempt < 100; attempt++) {
      text = await read();
      if (metric(text, series) >= atLeast) return text;
      await sleep(100);
    }
    return text;
  }

  it('by task and outcome: runs that succeed, then runs that fail once the database is gone', async () => {
    const ok = await until('scheduled_task_runs_total{outcome="ok",task="close-overdue"}', 2);
    expect(ok).toContain('# TYPE scheduled_task_runs_total counter');
    expect(metric(ok, 'scheduled_task_runs_total{outcome="ok",task="close-overdue"}')).toBeGreaterThanOrEqual(2);
    expect(metric(ok, 'scheduled_task_runs_total{outcome="ok",task="sequence-logs"}')).toBeGreaterThanOrEqual(1);
    expect(metric(ok, 'scheduled_task_runs_total{outcome="failed",task="close-overdue"}')).toBe(0);

    // The database dropped under the engine (its connections ended): every pass fails from then on.
    await database.drop();
    const failed = await until('scheduled_task_runs_total{outcome="failed",task="close-overdue"}', 1);
    expect(metric(failed, 'scheduled_task_runs_total{outcome="failed",task="close-overdue"}')).toBeGreaterThanOrEqual(1);
    expect(metric(failed, 'scheduled_task_runs_total{outcome="failed",task="sequence-logs"}')).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
