import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/run.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    // Nowhere to run anything: a bench that started would fail, not load this machine.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', BENCH_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
  });

/** `npm run bench -- --help` is what a newcomer tries first: it must print the usage, not start ten minutes of load. */
describe('npm run bench arguments', () => {
  it('--help prints the usage and the scenarios, and starts nothing', () => {
    const run = bench('--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('usage: npm run bench');
    expect(run.stdout).toContain('scenarios: sign, sign-spread, duplicates, read-under-load, roll, log, memory, embedded');
    expect(run.stdout).not.toContain('▶');
  }, 90_000);

  it('an unknown scenario or option is refused before anything starts', () => {
    const run = bench('sing', '--quick');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('bench: unknown "sing", "--quick"');
    expect(run.stdout).not.toContain('▶');
  }, 90_000);
});
