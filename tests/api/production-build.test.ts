import { spawn } from 'node:child_process';
import { compactVerify, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine } from '../../src/build';
import { createPostgresDatabase, usePostgres } from '../support/database';
import { childProcesses, citizen, freePort, http, openInitiativeOver, sleep, startEngineExpectingExit, startEngineProcess, stopEngine, tempDir, type EngineProcess } from '../support/process';

/**
 * What `npm run build` writes is what operators run (`npm run start:production`): Node alone, no
 * TypeScript loader. It must find its migrations and start its JOSE thread from the bundle, and sign
 * as the engine does from source.
 */
describe('the production build', () => {
  let engine: EngineProcess | undefined;
  let server: string;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let database: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;

  beforeAll(async () => {
    server = await buildEngine();
    data = await tempDir('civic-built-');
    database = usePostgres ? await createPostgresDatabase() : undefined;
    engine = await startEngineProcess({
      built: server,
      dataDir: data.path,
      // One JOSE thread whatever the machine's CPUs: the thread's own bundle must load.
      env: { CRYPTO_THREADS: '1', ...(database ? { DATABASE_URL: database.url } : {}) },
    });
  }, 120_000);

  afterAll(async () => {
    await stopEngine(engine);
    await database?.drop();
    await data?.remove();
  });

  it('migrates a new database, takes a signature and gives a receipt its published key verifies', async () => {
    const { initiativeId } = await openInitiativeOver(engine!);
    const token = await engine!.token(citizen(1));
    const signed = await engine!.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75111', consent: true } });
    expect(signed.status).toBe(201);
    expect(signed.body.signature.status).toBe('counted');

    const jwks = await engine!.request('GET', '/.well-known/jwks.json');
    const { payload } = await compactVerify(signed.body.receipt, createLocalJWKSet(jwks.body));
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ initiative: initiativeId, signature: signed.body.signature.id });

    const again = await engine!.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75111', consent: true } });
    expect(again.status).toBe(200);
    expect(again.body.signature.id).toBe(signed.body.signature.id);
  });

  it('refuses a malformed secret in production with a message naming it and exit 1, not a stack trace', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const { d, x } = await exportJWK(privateKey);
    const secret = Buffer.alloc(32, 7).toString('base64');
    const elsewhere = await tempDir('civic-refused-');
    const production = {
      NODE_ENV: 'production',
      DATA_DIR: elsewhere.path,
      OIDC_ISSUER: 'https://idp.example.org',
      OIDC_CLIENT_ID: 'civic',
      IDENTITY_PEPPER: secret,
      PII_KEY: secret,
      SIGNING_KEY: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x, d }),
    };
    const refusals: [Record<string, string>, string][] = [
      // The README's example as written, placeholders and all.
      [{ SIGNING_KEY: '{"kty":"OKP","crv":"Ed25519","x":"…","d":"…"}' }, 'Configuration error: SIGNING_KEY: must be a private Ed25519 JWK'],
      [{ SIGNING_KEY: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x }) }, 'Configuration error: SIGNING_KEY: must be a private Ed25519 JWK'],
      [{ PII_KEY: 'not base64!' }, 'Configuration error: PII_KEY: must be base64 of 32 bytes'],
    ];
    try {
      for (const [change, message] of refusals) {
        const refused = await startEngineExpectingExit({ ...production, ...change }, { built: server });
        expect(refused.code).toBe(1);
        expect(refused.output).toContain(message);
        expect(refused.output).not.toMatch(/\n\s+at /);
      }
    } finally {
      await elsewhere.remove();
    }
  });

  it('names the database and the reason when it cannot migrate it, not only the statement that failed', async () => {
    const elsewhere = await tempDir('civic-nodb-');
    try {
      const port = await freePort();
      const refused = await startEngineExpectingExit({ DATA_DIR: elsewhere.path, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/civic` }, { built: server });
      expect(refused.code).toBe(1);
      expect(refused.output).toContain(`Could not start: the database 127.0.0.1:${port}/civic could not be migrated: connect ECONNREFUSED 127.0.0.1:${port}`);
      if (database) {
        const missing = new URL(database.url);
        missing.pathname = '/civic_no_such_database';
        const absent = await startEngineExpectingExit({ DATA_DIR: elsewhere.path, DATABASE_URL: missing.toString() }, { built: server });
        expect(absent.code).toBe(1);
        expect(absent.output).toContain('could not be migrated: database "civic_no_such_database" does not exist');
      }
    } finally {
      await elsewhere.remove();
    }
  });

  it('npm run start:production passes SIGTERM on to the engine, which stops cleanly instead of running on without npm', async () => {
    // What a process manager does: the signal to the process it started, npm, and to it alone.
    const port = await freePort();
    const elsewhere = await tempDir('civic-npm-');
    const npm = spawn('npm', ['run', '--silent', 'start:production'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', PORT: String(port), DATA_DIR: elsewhere.path, LOG_LEVEL: 'info', DEMO: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    try {
      for (let attempt = 0; attempt < 600 && (await http(`http://127.0.0.1:${port}`, 'GET', '/healthz', { timeoutMs: 1000 })).status !== 200; attempt++) await sleep(100);
      npm.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('"msg":"shutting down","signal":"SIGTERM"');
      expect((await http(`http://127.0.0.1:${port}`, 'GET', '/healthz', { timeoutMs: 1000 })).status).toBe(0);
    } finally {
      // Without the signal passed on, the engine outlives npm: find it by its port's owner, and stop it.
      for (let attempt = 0; attempt < 50 && (await http(`http://127.0.0.1:${port}`, 'GET', '/healthz', { timeoutMs: 500 })).status === 200; attempt++) {
        await stopOrphanOnPort(port);
        await sleep(100);
      }
      await elsewhere.remove();
    }
  }, 120_000);

  it('runs without a compiler process beside it, and stops cleanly on SIGTERM', async () => {
    // From source, tsx keeps esbuild's service running as a child of the engine.
    expect(await childProcesses(engine!.child.pid!)).toEqual([]);
    engine!.kill('SIGTERM');
    expect(await engine!.exited).toEqual({ code: 0, signal: null });
  });
});

/** The engine left behind by npm (its parent gone), found in /proc by its command line and data folder. */
async function stopOrphanOnPort(port: number) {
  const { readdir, readFile } = await import('node:fs/promises');
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('dist/node/server.js') && environ.split('\0').includes(`PORT=${port}`)) process.kill(Number(entry), 'SIGTERM');
  }
}
