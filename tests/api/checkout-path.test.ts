import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, http, sleep } from '../support/process';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A program of the checkout run as npm runs it: its exit code and everything it wrote. */
function run(checkout: string, script: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(checkout, script), ...args], {
    cwd: checkout,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', DEMO: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** A clone in a folder whose name has a space and an accent, as on many desktops ("My Projects", "Élodie"). */
describe('a checkout in a folder with a space in its name', () => {
  let checkout: string;

  beforeAll(async () => {
    checkout = await mkdtemp(join(tmpdir(), 'civic checkout é-'));
    for (const part of ['src', 'drizzle', 'package.json', 'tsconfig.json']) await cp(join(ROOT, part), join(checkout, part), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
  });

  afterAll(async () => {
    await rm(checkout, { recursive: true, force: true });
  });

  it('npm start starts the engine, instead of exiting at once without a word', async () => {
    const port = await freePort();
    const engine = run(checkout, 'src/server.ts', [], { PORT: String(port), DATA_DIR: join(checkout, '.data') });
    let answered = 0;
    let gone = false;
    void engine.exited.then(() => (gone = true));
    for (let attempt = 0; attempt < 900 && !gone && answered !== 200; attempt++) {
      answered = (await http(`http://127.0.0.1:${port}`, 'GET', '/healthz', { timeoutMs: 1000 })).status;
      if (answered !== 200) await sleep(100);
    }
    if (!gone) engine.child.kill('SIGTERM');
    expect(answered, engine.output()).toBe(200);
    expect(engine.output()).toContain(`Civic initiative engine on http://127.0.0.1:${port}`);
    expect(await engine.exited).toBe(0);
  }, 120_000);

  it('npm run verify without arguments prints its usage and exits 2', async () => {
    const verify = run(checkout, 'src/verify.ts', []);
    expect(await verify.exited).toBe(2);
    expect(verify.output()).toContain('usage:');
  }, 60_000);

  it('npm run verify-certificate, reached through a link to the checkout, checks what it is given instead of exiting 0 without a word', async () => {
    const link = join(`${checkout}-link`);
    await symlink(checkout, link);
    try {
      await writeFile(join(checkout, 'truncated.jws'), 'eyJhbGciOiJFZERTQSIs');
      const certificate = run(link, 'src/verify-certificate.ts', [join(link, 'truncated.jws')]);
      expect(await certificate.exited, certificate.output()).toBe(2);
      expect(certificate.output()).toContain('cannot read a certificate from');
    } finally {
      await rm(link, { force: true });
    }
  }, 60_000);
});
