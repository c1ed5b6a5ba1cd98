import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { freePort, http, sleep, tempDir } from '../support/process';

/**
 * `npm start` under a process manager (systemd's main process, `docker stop` of `CMD ["npm", "start"]`,
 * `kill <pid>`): the signal goes to npm alone. The engine must get it, stop cleanly and free its port
 * and its embedded database, not run on without npm.
 */
describe('npm start', () => {
  it('passes SIGTERM on to the engine, which stops cleanly instead of running on without npm', async () => {
    const port = await freePort();
    const data = await tempDir('civic-npm-start-');
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', PORT: String(port), DATA_DIR: data.path, LOG_LEVEL: 'info', DEMO: 'off', CRYPTO_THREADS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    try {
      for (let attempt = 0; attempt < 900 && (await http(`http://127.0.0.1:${port}`, 'GET', '/healthz', { timeoutMs: 1000 })).status !== 200; attempt++) await sleep(100);
      npm.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('"msg":"shutting down","signal":"SIGTERM"');
      expect((await http(`http://127.0.0.1:${port}`, 'GET', '/healthz', { timeoutMs: 1000 })).status).toBe(0);
      // The embedded database's lock is released: the next start on this folder is not refused.
      expect(await readdir(data.path)).not.toContain('pglite.lock');
    } finally {
      // Without the signal passed on, the engine outlives npm: find it by its port, and stop it.
      for (let attempt = 0; attempt < 100 && (await http(`http://127.0.0.1:${port}`, 'GET', '/healthz', { timeoutMs: 500 })).status === 200; attempt++) {
        await stopOrphanOnPort(port);
        await sleep(100);
      }
      await data.remove();
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
