import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import { templatePath } from './pglite-template';
import { openPglite, openPostgres, type DatabaseHandle } from '../../src/db/client';

export const ADMIN_DATABASE_URL = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const usePostgres = process.env.TEST_DATABASE === 'postgres';

/** A fresh PostgreSQL database for one test file, dropped on close. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `civic_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = ADMIN_DATABASE_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    async drop() {
      const again = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
      await again.unsafe(`drop database if exists "${name}" with (force)`);
      await again.end();
    },
  };
}

/** PGlite in memory for `npm test`; a real PostgreSQL database for `npm run test:pg`. */
export async function openTestDatabase(options: { poolSize?: number } = {}): Promise<DatabaseHandle & { url?: string }> {
  if (!usePostgres) {
    const template = templatePath();
    const dump = existsSync(template) ? new Blob([await readFile(template)]) : undefined;
    return openPglite(undefined, { loadDataDir: dump });
  }
  const created = await createPostgresDatabase();
  const handle = await openPostgres(created.url, { max: options.poolSize ?? 10 });
  return {
    ...handle,
    url: created.url,
    async close() {
      await handle.close();
      await created.drop();
    },
  };
}
