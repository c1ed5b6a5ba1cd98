import { afterAll, beforeAll } from 'vitest';
import { createPostgresDatabase } from './database';
import { startEngineProcess, stopEngine, tempDir, type EngineProcess } from './process';

/** Where the engine processes of one suite keep their rows: a URL, and how to remove it afterwards. */
export interface SuiteDatabase {
  url: string;
  remove(): Promise<void>;
}

const freshDatabase = async (): Promise<SuiteDatabase> => {
  const created = await createPostgresDatabase();
  return { url: created.url, remove: () => created.drop() };
};

/**
 * Hooks for a suite of engine processes sharing one database and one data folder (the same keys
 * and pepper, as replicas would have). Before all: the database (a fresh one on the shared
 * PostgreSQL unless `database` opens another) and the folder. After all: every engine started
 * through `start` is stopped, then `beforeRemove` runs (to close the suite's own connections),
 * then the database and the folder are removed.
 */
export function engineProcessSuite(
  prefix: string,
  options: { database?: () => Promise<SuiteDatabase>; beforeRemove?: () => Promise<void> | void } = {},
) {
  let database: SuiteDatabase | undefined;
  let data: Awaited<ReturnType<typeof tempDir>> | undefined;
  const engines: EngineProcess[] = [];

  beforeAll(async () => {
    database = await (options.database ?? freshDatabase)();
    data = await tempDir(prefix);
  });
  afterAll(async () => {
    for (const engine of engines) await stopEngine(engine);
    await options.beforeRemove?.();
    await database?.remove();
    await data?.remove();
  });

  return {
    /** Every engine started through `start`, in order. */
    engines,
    get databaseUrl() {
      if (!database) throw new Error('the suite database is opened in beforeAll');
      return database.url;
    },
    get dataDir() {
      if (!data) throw new Error('the suite data folder is made in beforeAll');
      return data.path;
    },
    /** One more engine process on the suite's data folder, stopped after all. */
    async start(env: Record<string, string>, more: { port?: number } = {}) {
      const engine = await startEngineProcess({ env, dataDir: this.dataDir, ...more });
      engines.push(engine);
      return engine;
    },
  };
}
