import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { citizen, freePort, openInitiativeOver, startEngineExpectingExit, startEngineProcess, stopEngine, tempDir, type EngineProcess } from '../support/process';

/**
 * `npm start` with nothing configured keeps everything in its data folder (PGlite, generated keys):
 * what it promises across a restart, and what it refuses rather than lose data.
 */
describe('the embedded engine and its data folder', () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let engine: EngineProcess | undefined;
  let initiativeId: string;

  beforeAll(async () => {
    data = await tempDir('civic-embedded-');
    engine = await startEngineProcess({ dataDir: data.path, env: {} });
    ({ initiativeId } = await openInitiativeOver(engine));
  }, 120_000);

  afterAll(async () => {
    await stopEngine(engine);
    await data?.remove();
  });

  it('refuses a second engine on the same data folder, which would overwrite the first one’s signatures', async () => {
    const token = await engine!.token(citizen(1));
    const signed = await engine!.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75111', consent: true } });
    expect(signed.status).toBe(201);

    const second = await startEngineExpectingExit({ DATA_DIR: data.path, PORT: String(await freePort()) });
    expect(second.code).toBe(1);
    expect(second.output).toContain(`the embedded database in ${join(data.path, 'pglite')} is in use by another engine (process ${engine!.child.pid})`);
    expect(second.output).not.toMatch(/\n\s+at /);

    const progress = await engine!.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    expect(progress.body.signatures).toBe(1);
  }, 120_000);

  it('PORT=0: listens on a port the kernel picks, and names that port in its address and its issuer', async () => {
    const other = await tempDir('civic-embedded-port0-');
    const child = spawn(process.execPath, ['--import', 'tsx', join(new URL('../..', import.meta.url).pathname, 'src/server.ts')], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', DATA_DIR: other.path, LOG_LEVEL: 'warn', DEMO: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          const printed = /Civic initiative engine on (\S+)/.exec(output);
          if (printed) resolve(printed[1]!);
        });
        child.once('exit', () => reject(new Error(`engine exited:\n${output}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(url).not.toBe('http://127.0.0.1:0');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const discovery = (await (await fetch(`${url}/dev/oidc/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(discovery.issuer).toBe(`${url}/dev/oidc`);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      await other.remove();
    }
  }, 120_000);

  it('says the port is taken, without a stack trace, when something already listens on it', async () => {
    const other = await tempDir('civic-embedded-port-');
    const busy: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
    try {
      const refused = await startEngineExpectingExit({ DATA_DIR: other.path, PORT: String(port) });
      expect(refused.code).toBe(1);
      expect(refused.output).toContain(`Configuration error: PORT: 127.0.0.1:${port} is already in use`);
      expect(refused.output).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
      await other.remove();
    }
  }, 120_000);

  it('stops cleanly on Ctrl-C and keeps signatures, keys and sessions across the restart', async () => {
    const idToken = await engine!.token(citizen(2));
    const session = await engine!.request('POST', '/v1/session', { token: idToken });
    expect(session.status).toBe(201);
    const signed = await engine!.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: session.body.token, body: { district: '75112', consent: true } });
    expect(signed.status).toBe(201);
    const jwks = await engine!.request('GET', '/.well-known/jwks.json');

    engine!.kill('SIGINT');
    expect(await engine!.exited).toEqual({ code: 0, signal: null });
    engine = await startEngineProcess({ dataDir: data.path, env: {}, port: engine!.port });

    expect((await engine.request('GET', '/.well-known/jwks.json')).body).toEqual(jwks.body);
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(2);
    const mine = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: session.body.token });
    expect(mine.status).toBe(200);
    expect(mine.body.signature.id).toBe(signed.body.signature.id);
    // The development provider keeps its key too: an ID token it signed before still logs in.
    expect((await engine.request('POST', '/v1/session', { token: idToken })).status).toBe(201);
  }, 120_000);
});
