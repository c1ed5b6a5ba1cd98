import type { DatabaseHandle } from './client';

const later: (fn: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? (fn) => void globalThis.setImmediate(fn) : (fn) => void setTimeout(fn, 0);

interface Pending<I, O> {
  item: I;
  resolve: (outcome: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items submitted while earlier batches are being written go together into the next
 * one, written by one statement (`write` answers each item, in order). Idle, an item goes alone at
 * once; under load the waiting queue becomes the next batch. A batch that fails as a whole (a
 * deadlock, a value the database refused) is written again item by item, so a failure stays its own.
 */
export class GroupCommit<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
  ) {}

  /** Resolves once the item's batch is committed. */
  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the current I/O callbacks, so requests parsed in the same turn join one batch.
    later(() => {
      this.scheduled = false;
      while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
        const batch = this.queue.splice(0, this.maxBatch);
        this.inFlight++;
        void this.run(batch).finally(() => {
          this.inFlight--;
          if (this.queue.length > 0) this.schedule();
        });
      }
    });
  }

  private async run(batch: Pending<I, O>[]): Promise<void> {
    let outcomes: O[];
    try {
      outcomes = await this.write(batch.map((p) => p.item));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      for (const pending of batch) await this.run([pending]);
      return;
    }
    batch.forEach((pending, i) => pending.resolve(outcomes[i]!));
  }
}

/**
 * One group commit per database handle, made on first use. Statements in flight at once: a third of
 * the pool on PostgreSQL (the rest serves reads and the other kinds), one on PGlite (a single
 * connection). On Workers a handle is one request's, so nothing is batched across requests.
 */
export function groupCommitPerHandle<I, O>(write: (handle: DatabaseHandle, items: I[]) => Promise<O[]>, maxBatch: number): (handle: DatabaseHandle) => GroupCommit<I, O> {
  const byHandle = new WeakMap<DatabaseHandle, GroupCommit<I, O>>();
  return (handle) => {
    let group = byHandle.get(handle);
    if (!group) {
      const inFlight = handle.kind === 'pglite' ? 1 : Math.max(1, Math.floor(handle.poolUse().max / 3));
      byHandle.set(handle, (group = new GroupCommit((items) => write(handle, items), inFlight, maxBatch)));
    }
    return group;
  };
}
