import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatabaseHandle } from '../db/client';

/**
 * The database of the request (or cron run) being served, for an app built once whose requests
 * each open and close their own client, as on Workers: `run` binds a client to everything the
 * request awaits, and `current` returns it. Nothing is shared between requests, so nothing
 * (a batcher, a poller) can carry one request's connection into another's.
 */
export function scopedDatabase() {
  const bound = new AsyncLocalStorage<DatabaseHandle>();
  return {
    current(): DatabaseHandle {
      const handle = bound.getStore();
      if (!handle) throw new Error('no database is bound to this request');
      return handle;
    },
    run<T>(handle: DatabaseHandle, fn: () => T): T {
      return bound.run(handle, fn);
    },
  };
}
