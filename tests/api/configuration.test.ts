import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config';
import { startEngineExpectingExit, startEngineProcess, stopEngine, tempDir } from '../support/process';

/** What loadConfig says of a setting it refuses: the message the engine prints before exiting 1. */
const refusal = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
};

/**
 * An operator's environment file, or a compose file passing on a variable the host does not set,
 * gives a setting an empty value: the engine refuses it, naming the setting, rather than start with
 * a value nobody chose.
 */
describe('number settings', () => {
  const numbers = [
    'PORT',
    'DATABASE_POOL_SIZE',
    'PERSONAL_DATA_RETENTION_MONTHS',
    'PERSONAL_DATA_RETENTION_WITHDRAWN_MONTHS',
    'ROLL_MAX_BYTES',
    'SESSION_TTL_SECONDS',
    'SCHEDULER_INTERVAL_MS',
    'LOG_MERGE_DELAY_MS',
    'RATE_LIMIT_WINDOW_SECONDS',
    'RATE_LIMIT_SIGN_PER_ADDRESS',
    'RATE_LIMIT_SIGN_PER_IDENTITY',
    'RATE_LIMIT_LOGIN_PER_ADDRESS',
    'RATE_LIMIT_LOGIN_PER_IDENTITY',
    'RATE_LIMIT_PAPER_PER_ADDRESS',
    'RATE_LIMIT_PAPER_PER_IDENTITY',
  ];

  it('refuses an empty one, which was read as 0: a rate limit off, personal data kept 0 months, a port chosen at random', () => {
    for (const name of numbers) {
      expect(refusal({ [name]: '' }), name).toBe(`${name}: must be a whole number`);
      expect(refusal({ [name]: '  ' }), name).toBe(`${name}: must be a whole number`);
    }
    expect(loadConfig({ RATE_LIMIT_LOGIN_PER_IDENTITY: '0' }).rateLimits.login.perIdentity).toBe(0);
    expect(loadConfig({ PERSONAL_DATA_RETENTION_MONTHS: ' 6 ' }).retention.afterResultMonths).toBe(6);
    expect(loadConfig({}).port).toBe(3000);
  });

  it('says what a whole number is, and where the range ends', () => {
    expect(refusal({ SESSION_TTL_SECONDS: '1h' })).toBe('SESSION_TTL_SECONDS: must be a whole number');
    expect(refusal({ PORT: '3000.5' })).toBe('PORT: must be a whole number');
    expect(refusal({ PERSONAL_DATA_RETENTION_MONTHS: '-1' })).toBe('PERSONAL_DATA_RETENTION_MONTHS: must be a whole number');
    expect(refusal({ PORT: '70000' })).toMatch(/^PORT: .*65535/);
  });

  it('says what ENGINE_PROCESSES and CRYPTO_THREADS take, and refuses them empty (CRYPTO_THREADS was read as 0)', () => {
    for (const value of ['', 'two', 'Auto', '0', '65']) expect(refusal({ ENGINE_PROCESSES: value }), value).toBe('ENGINE_PROCESSES: must be auto or a whole number from 1 to 64');
    for (const value of ['', 'x', '17']) expect(refusal({ CRYPTO_THREADS: value }), value).toBe('CRYPTO_THREADS: must be auto or a whole number from 0 to 16');
    expect(loadConfig({ CRYPTO_THREADS: '0' }).cryptoThreads).toBe(0);
    expect(loadConfig({ CRYPTO_THREADS: 'auto' }).cryptoThreads).toBe('auto');
    expect(loadConfig({ ENGINE_PROCESSES: 'auto', DATABASE_URL: 'postgres://db/civic', OIDC_ISSUER: 'https://idp.example.org', OIDC_CLIENT_ID: 'c' }).processes).toBe('auto');
  });

  it('an engine given PORT= exits 1 naming it, instead of listening on a port nobody knows', async () => {
    const data = await tempDir('civic-config-');
    try {
      const refused = await startEngineExpectingExit({ DATA_DIR: data.path, PORT: '' });
      expect(refused.code).toBe(1);
      expect(refused.output.trim()).toBe('Configuration error: PORT: must be a whole number');
    } finally {
      await data.remove();
    }
  });
});

describe('OIDC_ALGORITHMS', () => {
  const provider = { OIDC_ISSUER: 'https://idp.example.org', OIDC_CLIENT_ID: 'civic' };

  it('refuses an algorithm no ID token could be verified with, which refused every login after a start that looked fine', () => {
    const expected = 'OIDC_ALGORITHMS: must list the ID tokens’ signature algorithms, comma-separated, among RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519';
    // A typo, a lower-case name, a shared-secret algorithm (the provider's keys are public ones), no signature, nothing.
    for (const value of ['ES265', 'es256', 'HS256', 'none', 'RS256,HS256', '', ' , ']) expect(refusal({ ...provider, OIDC_ALGORITHMS: value }), value).toBe(expected);
    expect(loadConfig({ ...provider, OIDC_ALGORITHMS: ' PS256, EdDSA ' }).oidc!.algorithms).toEqual(['PS256', 'EdDSA']);
    expect(loadConfig(provider).oidc!.algorithms).toEqual(['ES256', 'RS256']);
  });
});

describe('DATABASE_URL', () => {
  it('refuses one that is no URL, naming it, where the start ended with "Could not start: Invalid URL"', () => {
    const expected = 'DATABASE_URL: must be a postgres:// URL (a password with #, / or ? in it percent-encoded)';
    for (const value of ['postgres://civic:pa#ss@db/civic', 'postgres://civic:pa/ss@db/civic', 'postgres://db:five432/civic', 'mysql://db/civic', '']) {
      expect(refusal({ DATABASE_URL: value }), value).toBe(expected);
    }
    expect(loadConfig({ DATABASE_URL: 'postgres://civic:pa%23ss@db/civic' }).databaseUrl).toBe('postgres://civic:pa%23ss@db/civic');
    expect(loadConfig({ DATABASE_URL: 'postgresql://civic@localhost/civic?host=/var/run/postgresql' }).databaseUrl).toBeDefined();
  });
});

describe('PUBLIC_URL', () => {
  const production = {
    NODE_ENV: 'production',
    OIDC_ISSUER: 'https://idp.example.org',
    OIDC_CLIENT_ID: 'civic',
    IDENTITY_PEPPER: Buffer.alloc(32, 1).toString('base64'),
    PII_KEY: Buffer.alloc(32, 2).toString('base64'),
    SIGNING_KEY: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'a'.repeat(43), d: 'b'.repeat(43) }),
  };

  it('is required in production, where http://HOST:PORT would be signed into receipts and certificates as their issuer for good', () => {
    expect(refusal(production)).toBe('PUBLIC_URL: is required in production: the https:// address people reach the engine at (it issues receipts, certificates and the login redirect)');
    expect(refusal({ ...production, HOST: '0.0.0.0' })).toMatch(/^PUBLIC_URL: is required in production/);
    expect(loadConfig({ ...production, PUBLIC_URL: 'https://petitions.example.org/' }).publicUrl).toBe('https://petitions.example.org');
  });

  it('is https:// in production (session cookies are Secure only then), but for an engine on this very host', () => {
    expect(refusal({ ...production, PUBLIC_URL: 'http://petitions.example.org' })).toBe('PUBLIC_URL: must be an https:// URL in production');
    expect(loadConfig({ ...production, PUBLIC_URL: 'http://127.0.0.1:3000' }).publicUrl).toBe('http://127.0.0.1:3000');
  });

  it("at an https:// address, the development provider (anyone logs in as anyone, an administrator too) is refused unless asked for by name", () => {
    expect(refusal({ PUBLIC_URL: 'https://petitions.example.org' })).toBe(
      'OIDC_ISSUER: is not set, so the development identity provider would let anyone log in as anyone at https://petitions.example.org, as an administrator too: set NODE_ENV=production and OIDC_ISSUER, or DEV_PROVIDER=public for a public demonstration',
    );
    expect(loadConfig({ PUBLIC_URL: 'https://petitions.example.org', DEV_PROVIDER: 'public' }).publicUrl).toBe('https://petitions.example.org');
    expect(refusal({ PUBLIC_URL: 'https://petitions.example.org', DEV_PROVIDER: 'yes' })).toMatch(/^DEV_PROVIDER: /);
    // On this host, over http, or with a provider configured, nothing changes.
    for (const url of ['http://localhost:3000', 'https://localhost:8443', 'http://petitions.test']) expect(loadConfig({ PUBLIC_URL: url }).publicUrl).toBe(url);
    expect(loadConfig({ PUBLIC_URL: 'https://petitions.example.org', OIDC_ISSUER: 'https://idp.example.org', OIDC_CLIENT_ID: 'civic' }).oidc?.issuer).toBe('https://idp.example.org');
  });

  it('is the root of a site: under a path, the engine would start, then its links, assets, cookies and login would miss it', () => {
    const refused =
      'PUBLIC_URL: must be the address of a site root, with no path, query or credentials (https://petitions.example.org): the engine serves its pages, its API and its login at /, so give it a host name of its own';
    for (const value of ['https://www.ville.example/petitions', 'https://www.ville.example/petitions/', 'https://petitions.example.org/?lang=fr', 'https://petitions.example.org?', 'https://petitions.example.org/#top', 'https://civic:secret@petitions.example.org']) {
      expect(refusal({ ...production, PUBLIC_URL: value }), value).toBe(refused);
    }
    expect(refusal({ PUBLIC_URL: 'http://127.0.0.1:3000/civic' })).toBe(refused);
    for (const value of ['https://petitions.example.org', 'https://petitions.example.org/', 'https://petitions.example.org:8443']) expect(loadConfig({ ...production, PUBLIC_URL: value }).publicUrl).toBe(value.replace(/\/$/, ''));
  });

  it('by default is the address the engine listens at, or 127.0.0.1 when it listens on every address (a container), never 0.0.0.0', () => {
    // At http://0.0.0.0:3000 the login left the page opened at 127.0.0.1 for another host, without its flow cookie: « Connexion refusée ».
    expect(loadConfig({}).publicUrl).toBe('http://127.0.0.1:3000');
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicUrl).toBe('http://127.0.0.1:8080');
    expect(loadConfig({ HOST: '::' }).publicUrl).toBe('http://127.0.0.1:3000');
    expect(loadConfig({ HOST: '::1' }).publicUrl).toBe('http://[::1]:3000');
    expect(loadConfig({ HOST: 'localhost' }).publicUrl).toBe('http://localhost:3000');
    expect(loadConfig({ HOST: '0.0.0.0', PUBLIC_URL: 'http://192.168.1.10:3000' }).publicUrl).toBe('http://192.168.1.10:3000');
  });

  it('is an http:// or https:// URL anywhere', () => {
    for (const value of ['ftp://petitions.example.org', 'petitions.example.org', '']) expect(refusal({ PUBLIC_URL: value }), value).toBe('PUBLIC_URL: must be an http:// or https:// URL');
  });
});

describe('npm run db:migrate', () => {
  const migrate = (url: string) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/db/migrate.ts'], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.once('close', (code) => resolve({ code, output }));
    });

  it('refuses a DATABASE_URL that is no URL as the engine does, where it said "migration failed: Invalid URL"', async () => {
    const refused = await migrate('postgres://civic:pa#ss@db.example.org/civic');
    expect(refused).toEqual({ code: 2, output: 'DATABASE_URL: must be a postgres:// URL (a password with #, / or ? in it percent-encoded)\n' });
  });
});

describe('ADMIN_SUBJECTS', () => {
  it('left empty with a real provider, the engine starts but warns that nobody can create a jurisdiction, and says how to find a subject', async () => {
    const data = await tempDir('civic-no-admin-');
    const engine = await startEngineProcess({ dataDir: data.path, env: { OIDC_ISSUER: 'https://idp.example.org', OIDC_CLIENT_ID: 'civic', ADMIN_SUBJECTS: '' } });
    try {
      const find = () => engine.output.map((line) => JSON.parse(line.startsWith('{') ? line : '{}')).find((entry) => entry.msg?.startsWith('no administrator'));
      for (let attempt = 0; attempt < 50 && !find(); attempt++) await new Promise((r) => setTimeout(r, 100));
      expect(find()).toMatchObject({ level: 'warn', msg: 'no administrator: ADMIN_SUBJECTS is empty, so nobody can create a jurisdiction or grant the clerk role' });
      expect(find().howTo).toBe(`log in at ${engine.url}/me, read "My identifier at this service", list it in ADMIN_SUBJECTS and restart`);
    } finally {
      await stopEngine(engine);
      await data.remove();
    }
  }, 120_000);
});
