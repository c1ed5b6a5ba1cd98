import type { Logger } from './logger';
import type { Metrics } from './metrics';

export interface ScheduledTask {
  name: string;
  run(now: Date): Promise<unknown>;
}

/**
 * For a task that runs less often than the scheduler ticks: true when `intervalMs` has passed since
 * it last said true (a clock set back, as tests do, counts as time passed).
 */
export function atMostEvery(intervalMs: number): (now: Date) => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return (now) => {
    const since = now.getTime() - last;
    if (since >= 0 && since < intervalMs) return false;
    last = now.getTime();
    return true;
  };
}

/**
 * Runs the engine's periodic tasks (deadlines, crossings, ...) one after the other, never
 * overlapping itself. On Node it ticks on a timer; on Workers the cron trigger calls `tick`.
 */
export function createScheduler(tasks: ScheduledTask[], clock: () => Date, logger: Logger, metrics?: Pick<Metrics, 'tasks'>) {
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> | undefined;

  const tick = async (): Promise<void> => {
    if (running) return running;
    running = (async () => {
      for (const task of tasks) {
        try {
          await task.run(clock());
          metrics?.tasks.inc({ task: task.name, outcome: 'ok' });
        } catch (error) {
          // Counted for /metrics: a failing sequencer breaks receipts' merge-delay promise, a failing purge the retention periods.
          metrics?.tasks.inc({ task: task.name, outcome: 'failed' });
          logger.warn('scheduled task failed', { task: task.name, error: error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message.split('\nparams:')[0]) : String(error) });
        }
      }
    })().finally(() => (running = undefined));
    return running;
  };

  return {
    tick,
    start(intervalMs: number) {
      timer ??= setInterval(() => void tick(), intervalMs);
      (timer as { unref?: () => void }).unref?.();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
