import { spawnSync } from 'node:child_process';
import { cp, rm, symlink, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine } from '../../src/build';
import { startEngineExpectingExit, tempDir } from '../support/process';

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * An operator updates the checkout (git pull, a new release) and restarts with
 * `npm run start:production` without `npm run build`: the bundle in dist/node/ is the old code, and
 * would apply the new release's migrations from drizzle/ to the database under it.
 */
describe('a production bundle older than its checkout', () => {
  let project: Awaited<ReturnType<typeof tempDir>>;
  let server: string;

  beforeAll(async () => {
    // A checkout of its own, built there, so that changing its sources (and building) touches nothing else.
    project = await tempDir('civic-checkout-');
    for (const folder of ['src', 'drizzle']) await cp(join(ROOT, folder), join(project.path, folder), { recursive: true });
    await cp(join(ROOT, 'package.json'), join(project.path, 'package.json'));
    await symlink(join(ROOT, 'node_modules'), join(project.path, 'node_modules'));
    server = await buildEngine(project.path);
    expect(server).toBe(join(project.path, 'dist/node/server.js'));
  }, 120_000);

  afterAll(async () => {
    await project?.remove();
  });

  // A bad PORT stops the start at once: reaching that message shows the bundle went past its own check.
  const start = (data: string) => startEngineExpectingExit({ DATA_DIR: data, PORT: 'abc' }, { built: server });

  it('starts when the sources are those it was built from', async () => {
    const data = await tempDir('civic-stale-data-');
    try {
      const run = await start(data.path);
      expect(run.output).toContain('Configuration error: PORT: must be a whole number');
    } finally {
      await data.remove();
    }
  });

  it('starts with an editor’s swap file beside the sources, which changes nothing', async () => {
    const data = await tempDir('civic-stale-data-');
    try {
      await writeFile(join(project.path, 'src/.app.ts.swp'), 'swap');
      await writeFile(join(project.path, 'src/app.ts~'), 'backup');
      expect((await start(data.path)).output).toContain('Configuration error: PORT: must be a whole number');
    } finally {
      await rm(join(project.path, 'src/.app.ts.swp'));
      await rm(join(project.path, 'src/app.ts~'));
      await data.remove();
    }
  });

  it('refuses to start, saying to build, when the code changed since the build', async () => {
    const data = await tempDir('civic-stale-data-');
    try {
      await appendFile(join(project.path, 'src/app.ts'), '\n// a fix pulled after the build\n');
      const run = await start(data.path);
      expect(run.code).toBe(1);
      expect(run.output).toContain('run `npm run build`, then start again');
      expect(run.output).not.toContain('Configuration error');
      expect(run.output).not.toMatch(/\n\s+at /);
    } finally {
      await cp(join(ROOT, 'src/app.ts'), join(project.path, 'src/app.ts'));
      await data.remove();
    }
  });

  it('refuses to start when a migration arrived since the build, before touching the database', async () => {
    const data = await tempDir('civic-stale-data-');
    try {
      await writeFile(join(project.path, 'drizzle/9999_from_a_later_release.sql'), 'CREATE TABLE later_release (id integer);\n');
      const run = await start(data.path);
      expect(run.code).toBe(1);
      expect(run.output).toContain('dist/node/ was built from other sources than src/ and drizzle/ hold now');
    } finally {
      await data.remove();
    }
  });

  it('npm run start:production without a build says to build, not a stack trace', async () => {
    await rm(join(project.path, 'dist'), { recursive: true, force: true });
    const run = spawnSync('npm', ['run', '--silent', 'start:production'], {
      cwd: project.path,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('dist/node/server.js is missing: run npm run build first');
    expect(run.stderr).not.toContain('MODULE_NOT_FOUND');
  });
});
