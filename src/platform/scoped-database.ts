import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database, DatabaseHandle } from '../db/client';

/**
 * One database handle for an app built once, whose connection is chosen per request: where each
 * request (or cron run) must open and close its own client, as on Workers, `run` binds that
 * client to everything the request awaits, and `handle.db` resolves to it.
 */
export function scopedDatabase(kind: DatabaseHandle['kind'] = 'postgres') {
  const current = new AsyncLocalStorage<DatabaseHandle>();
  const scoped = (): DatabaseHandle => {
    const handle = current.getStore();
    if (!handle) throw new Error('no database is bound to this request');
    return handle;
  };
  const handle: DatabaseHandle = {
    get db(): Database {
      return scoped().db;
    },
    kind,
    ping: () => scoped().ping(),
    poolUse: () => current.getStore()?.poolUse() ?? { active: 0, max: 0 },
    // The request's owner closes its client; the shared handle has nothing of its own.
    close: async () => {},
  };
  return {
    handle,
    run<T>(db: DatabaseHandle, fn: () => T): T {
      return current.run(db, fn);
    },
  };
}
