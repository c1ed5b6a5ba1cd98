import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/db/client';
import { createPostgresDatabase } from '../support/database';
import { startEngineProcess, stopEngine, tempDir, type EngineProcess } from '../support/process';

/**
 * Replicas deployed together (a first deploy, or an update bringing a migration) start at the same
 * moment on a database that does not have the tables yet: each engine applies the migrations at
 * start, and every one of them must come up.
 */
describe('engines started at the same moment on a new database', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const folders: Awaited<ReturnType<typeof tempDir>>[] = [];
  const engines: EngineProcess[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
  });
  afterAll(async () => {
    for (const engine of engines) await stopEngine(engine);
    await database?.drop();
    for (const folder of folders) await folder.remove();
  });

  it('all start, and the migrations are applied once', async () => {
    // The same secrets, as replicas have; a data folder each, as separate machines have.
    const secrets = { IDENTITY_PEPPER: Buffer.alloc(32, 3).toString('base64'), IDENTITY_PEPPER_VERSION: 'p1', PII_KEY: Buffer.alloc(32, 4).toString('base64') };
    for (let i = 0; i < 3; i++) folders.push(await tempDir('civic-together-'));
    const started = await Promise.allSettled(folders.map((folder) => startEngineProcess({ env: { DATABASE_URL: database.url, ...secrets }, dataDir: folder.path })));
    for (const outcome of started) if (outcome.status === 'fulfilled') engines.push(outcome.value);
    expect(started.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : 'started'))).toEqual(['started', 'started', 'started']);
    for (const engine of engines) expect((await engine.request('GET', '/readyz')).status).toBe(200);

    const db = await openPostgres(database.url, { max: 1, migrate: false });
    try {
      const applied = await db.postgres!`select hash from drizzle.__drizzle_migrations`;
      expect(applied.length).toBe(new Set(applied.map((row) => row.hash)).size);
    } finally {
      await db.close();
    }
  });

  it('several migrations at once (npm run db:migrate beside engines starting) all succeed', async () => {
    const other = await createPostgresDatabase();
    try {
      const handles = await Promise.allSettled(Array.from({ length: 4 }, () => openPostgres(other.url, { max: 1 })));
      for (const handle of handles) if (handle.status === 'fulfilled') await handle.value.close();
      expect(handles.map((handle) => (handle.status === 'rejected' ? String(handle.reason) : 'migrated'))).toEqual(Array(4).fill('migrated'));
    } finally {
      await other.drop();
    }
  });
});
