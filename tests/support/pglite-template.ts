import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MIGRATIONS = new URL('../../drizzle/', import.meta.url).pathname;

/** Where the migrated template of this set of migrations lives: one file per migrations' content. */
export function templatePath(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS, { recursive: true }).map(String).sort()) {
    if (file.endsWith('.sql') || file.endsWith('.json')) hash.update(file).update(readFileSync(join(MIGRATIONS, file)));
  }
  return join(tmpdir(), `civic-pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
}

/**
 * Vitest global set-up: initialise and migrate one PGlite database, dump it, and let every test
 * file start from that dump instead of running initdb and the migrations again.
 */
export default async function setup() {
  const path = templatePath();
  if (existsSync(path)) return;
  const { openPglite } = await import('../../src/db/client');
  const handle = await openPglite();
  const dump = await handle.pglite!.dumpDataDir('none');
  await writeFile(`${path}.part`, Buffer.from(await dump.arrayBuffer()));
  await rename(`${path}.part`, path);
  await handle.close();
}
