import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './logger';
import { sumSnapshots, type MetricsSnapshot } from './metrics';
import { problems } from './problems';

/**
 * Several Node processes answering on one port (node:cluster): the primary starts them, starts
 * another when one dies, stops them on SIGTERM, and sums their metrics for /metrics. Everything
 * they share lives in PostgreSQL (signatures, locks, rate limits, sessions are signed tokens), so a
 * request may land on any of them.
 */

type Message =
  | { type: 'civic:metrics?'; ask: number }
  | { type: 'civic:metrics'; ask: number; snapshots: MetricsSnapshot[] | null }
  | { type: 'civic:snapshot?'; id: number }
  | { type: 'civic:snapshot'; id: number; snapshot: MetricsSnapshot };

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && String((m as { type?: unknown }).type).startsWith('civic:');

/** How long the primary waits for the workers' snapshots. */
const SNAPSHOT_TIMEOUT_MS = 2000;
/** A process that could not start again (the database away) is tried again after this long. */
const RESTART_DELAY_MS = 1000;

export interface WorkerSupervisor {
  /** Processes answering now. */
  readonly size: number;
  /** SIGTERM to every process (each drains its requests), then waits for them all to exit. */
  stop(timeoutMs?: number): Promise<void>;
}

/** In the primary: starts `count` engine processes and keeps that many running until `stop`. */
export async function superviseWorkers(count: number, logger: Logger, own?: () => MetricsSnapshot): Promise<WorkerSupervisor> {
  const listening = new Set<Worker>();
  let stopping = false;
  let nextSnapshot = 0;
  const collections = new Map<number, { snapshots: MetricsSnapshot[]; expected: number; done: () => void }>();
  // What each process last reported, and the sum of what the processes that died had reported:
  // their counts stay in the totals, which would otherwise go backwards when one is replaced.
  const latest = new Map<Worker, MetricsSnapshot>();
  let departed: MetricsSnapshot | undefined;

  const collect = (): Promise<MetricsSnapshot[]> => {
    const targets = [...listening];
    const id = ++nextSnapshot;
    return new Promise((resolve) => {
      const snapshots: MetricsSnapshot[] = [];
      const done = () => {
        clearTimeout(timer);
        collections.delete(id);
        resolve(snapshots);
      };
      const timer = setTimeout(done, SNAPSHOT_TIMEOUT_MS);
      collections.set(id, { snapshots, expected: targets.length, done });
      for (const worker of targets) worker.send({ type: 'civic:snapshot?', id } satisfies Message);
    });
  };

  const onMessage = (worker: Worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === 'civic:metrics?') {
      void collect().then((snapshots) => {
        // All or nothing: a sum that misses a process would make its counters go backwards.
        const complete = snapshots.length === listening.size;
        const all = [...snapshots, ...(departed ? [departed] : []), ...(own ? [own()] : [])];
        if (worker.isConnected()) worker.send({ type: 'civic:metrics', ask: message.ask, snapshots: complete ? all : null } satisfies Message);
      });
    } else if (message.type === 'civic:snapshot') {
      const collection = collections.get(message.id);
      latest.set(worker, message.snapshot);
      if (!collection) return;
      collection.snapshots.push(message.snapshot);
      if (collection.snapshots.length === collection.expected) collection.done();
    }
  };

  const fork = (index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ ENGINE_PROCESS_INDEX: String(index) });
      worker.on('message', (m) => onMessage(worker, m));
      worker.once('listening', () => {
        listening.add(worker);
        resolve();
      });
      worker.once('exit', (code, signal) => {
        const answered = listening.delete(worker);
        const last = latest.get(worker);
        latest.delete(worker);
        if (last) departed = sumSnapshots(departed ? [departed, last] : [last]);
        if (stopping) return;
        if (!answered) {
          const error = new Error(`engine process ${index + 1} exited before listening (${signal ?? `code ${code}`})`);
          reject(error);
          return;
        }
        logger.error('engine process exited; starting another', { process: index + 1, code, signal });
        replace(index);
      });
    });

  // Until one answers: given up on, a process that died while the database was away left the port
  // unanswered for good, while the primary ran on and no supervisor restarted it.
  const replace = (index: number) =>
    void fork(index).catch((error: Error) => {
      logger.error('engine process could not be started again; trying again shortly', { process: index + 1, error: error.message, retryInMs: RESTART_DELAY_MS });
      setTimeout(() => stopping || replace(index), RESTART_DELAY_MS);
    });

  const stop = async (timeoutMs = 15_000) => {
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
    await Promise.all(
      alive.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
            setTimeout(() => worker.process.kill('SIGKILL'), timeoutMs).unref();
          }),
      ),
    );
  };

  try {
    await Promise.all(Array.from({ length: count }, (_, i) => fork(i)));
  } catch (error) {
    await stop(5000);
    throw error;
  }
  return {
    get size() {
      return listening.size;
    },
    stop,
  };
}

/**
 * In a worker: answers the primary's requests for this process's snapshot, and returns how to get
 * every process's (for /metrics).
 */
export function joinCluster(snapshot: () => MetricsSnapshot): () => Promise<MetricsSnapshot[]> {
  let nextAsk = 0;
  const asks = new Map<number, (snapshots: MetricsSnapshot[] | null) => void>();
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === 'civic:snapshot?') process.send?.({ type: 'civic:snapshot', id: message.id, snapshot: snapshot() } satisfies Message);
    else if (message.type === 'civic:metrics') asks.get(message.ask)?.(message.snapshots);
  });
  return () =>
    new Promise((resolve, reject) => {
      const ask = ++nextAsk;
      const timer = setTimeout(() => settle(null), SNAPSHOT_TIMEOUT_MS + 1000);
      const settle = (snapshots: MetricsSnapshot[] | null) => {
        clearTimeout(timer);
        asks.delete(ask);
        if (snapshots) resolve(snapshots);
        else reject(problems.unavailable('The metrics of every engine process could not be gathered; try again.'));
      };
      asks.set(ask, settle);
      process.send?.({ type: 'civic:metrics?', ask } satisfies Message);
    });
}
