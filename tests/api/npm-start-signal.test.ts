import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { freePort, http, sleep, tempDir } from '../support/process';

/**
 * `npm start` under a process manager (systemd's main process, `docker stop` of `CMD ["npm", "start"]`,
 * `kill <pid>`): the signal goes to npm alone. The engine must get it, stop cleanly and free its port
 * and its embedded database, not run on without npm.
 */
describe('npm start', () => {
  /** `npm start` in a process group of its own (as a terminal runs it), until /healthz answers. */
  async function npmStart() {
    const port = await freePort();
    const data = await tempDir('civic-npm-start-');
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', PORT: String(port), DATA_DIR: data.path, LOG_LEVEL: 'info', DEMO: 'off', CRYPTO_THREADS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    for (let attempt = 0; attempt < 900 && (await http(`http://127.0.0.1:${port}`, 'GET', '/healthz', { timeoutMs: 1000 })).status !== 200; attempt++) await sleep(100);
    return {
      npm,
      port,
      exited,
      output: () => output,
      answers: async () => (await http(`http://127.0.0.1:${port}`, 'GET', '/healthz', { timeoutMs: 1000 })).status === 200,
      lockHeld: async () => (await readdir(data.path)).includes('pglite.lock'),
      async cleanUp() {
        // Without the signal passed on, the engine outlives npm: find it by its port, and stop it.
        for (let attempt = 0; attempt < 100 && (await http(`http://127.0.0.1:${port}`, 'GET', '/healthz', { timeoutMs: 500 })).status === 200; attempt++) {
          await stopOrphanOnPort(port);
          await sleep(100);
        }
        await data.remove();
      },
    };
  }

  it('passes SIGTERM on to the engine, which stops cleanly instead of running on without npm', async () => {
    const started = await npmStart();
    try {
      // What a process manager does: the signal to the process it started, npm, and to it alone.
      started.npm.kill('SIGTERM');
      expect(await started.exited).toBe(0);
      expect(started.output()).toContain('"msg":"shutting down","signal":"SIGTERM"');
      expect(await started.answers()).toBe(false);
      // The embedded database's lock is released: the next start on this folder is not refused.
      expect(await started.lockHeld()).toBe(false);
    } finally {
      await started.cleanUp();
    }
  }, 180_000);

  it('on Ctrl-C (SIGINT to npm, tsx and the engine at once) finishes its shutdown instead of being killed halfway by the second SIGINT', async () => {
    const started = await npmStart();
    try {
      process.kill(-started.npm.pid!, 'SIGINT');
      // npm's own exit code on Ctrl-C varies (0 or 130); what matters is that the engine's shutdown ran to its end.
      await started.exited;
      for (let attempt = 0; attempt < 200 && (await started.lockHeld()); attempt++) await sleep(100);
      expect(started.output()).toContain('"msg":"shutting down","signal":"SIGINT"');
      expect(await started.answers()).toBe(false);
      // Released at the very end of the shutdown: an engine killed halfway left it behind.
      expect(await started.lockHeld()).toBe(false);
    } finally {
      await started.cleanUp();
    }
  }, 180_000);

  it('a stop signal sent again seconds later, while the shutdown waits, stops the engine at once (status 1)', async () => {
    const started = await npmStart();
    // A request whose body never comes keeps the shutdown waiting for its grace period (15 s).
    const stuck = connect(started.port, '127.0.0.1');
    await new Promise<void>((resolve) => stuck.once('connect', () => resolve()));
    stuck.on('error', () => {});
    stuck.write('POST /v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"idT');
    try {
      await sleep(300);
      started.npm.kill('SIGTERM');
      await sleep(3000);
      // Still waiting for that request: the first signal's shutdown runs on.
      expect(started.output()).toContain('"msg":"shutting down","signal":"SIGTERM"');
      expect(started.output()).not.toContain('stopped again');
      const before = performance.now();
      started.npm.kill('SIGTERM');
      expect(await started.exited).not.toBe(0);
      expect(performance.now() - before).toBeLessThan(5000);
      expect(started.output()).toContain('"msg":"stopped again during the shutdown: exiting without finishing it"');
    } finally {
      stuck.destroy();
      await started.cleanUp();
    }
  }, 180_000);
});

/** tsx and the engine under it, left behind by npm, found in /proc by their command line and port. */
async function stopOrphanOnPort(port: number) {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('src/server.ts') && environ.split('\0').includes(`PORT=${port}`)) process.kill(Number(entry), 'SIGTERM');
  }
}
