import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

/** What wrangler bundles for Workers: the Node-only parts of the engine stay out of src/worker.ts's graph. */
describe("the Worker's bundle", () => {
  let dir: string;
  let inputs: string[];
  let code: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'civic-worker-bundle-'));
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', dir, '--metafile', join(dir, 'meta.json')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: dir, WRANGLER_SEND_METRICS: 'false', WRANGLER_LOG_PATH: join(dir, 'logs'), CI: 'true' },
    });
    inputs = Object.keys(JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')).inputs);
    code = await readFile(join(dir, 'worker.js'), 'utf8');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('holds the engine and its drivers, built from src/worker.ts', () => {
    expect(inputs).toEqual(expect.arrayContaining(['src/worker.ts', 'src/app.ts', 'src/db/postgres-connection.ts']));
    expect(inputs.some((i) => i.startsWith('node_modules/postgres/cf/'))).toBe(true);
  });

  it('leaves out PGlite, file access, generated keys and the Node server', () => {
    const nodeOnly = inputs.filter((i) => /@electric-sql\/pglite|src\/platform\/dev-keys|src\/platform\/docs-assets|src\/server\.ts|src\/db\/client\.ts|src\/db\/migrate|drizzle-orm\/[^/]+\/migrator/.test(i));
    expect(nodeOnly).toEqual([]);
    expect(code).not.toMatch(/["']node:fs(\/promises)?["']/);
  });
});
