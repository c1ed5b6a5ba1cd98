import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parisJurisdiction, REFERENDUM_DRAFT } from './paris';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A port nobody listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The processes `pid` started that are still running (from /proc), with their command lines. */
export async function childProcesses(pid: number): Promise<{ pid: number; cmdline: string }[]> {
  const children: { pid: number; cmdline: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The parent's pid is the 2nd field after the command name (which may hold spaces and parentheses).
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== pid) continue;
    children.push({ pid: Number(entry), cmdline: (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ') });
  }
  return children;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Maps with at most `limit` calls in flight (thousands of sockets at once would fail). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!, i);
      }
    }),
  );
  return results;
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  contentType: string | null;
}

/** One HTTP request to a running engine; network failures come back as status 0. */
export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  init: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpResult<T>> {
  // What the database holds, as a hard reload reads it (anonymous reads may otherwise come from memory for a second).
  const headers: Record<string, string> = { ...(method === 'GET' ? { 'cache-control': 'no-cache' } : {}), ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] ??= 'application/json';
  try {
    const res = await fetch(base + path, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    const contentType = res.headers.get('content-type');
    let body: unknown = text;
    if (contentType?.includes('json') && text) body = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: body as T, contentType };
  } catch (error) {
    return { status: 0, headers: new Headers(), body: String(error) as T, contentType: null };
  }
}

export interface EngineProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote, line by line (stdout and stderr). */
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Development-provider ID token for a made-up person or a bare subject. */
  token(person: { givenNames: string; familyName: string; birthdate: string; subject?: string; acr?: string }): Promise<string>;
  request<T = any>(method: string, path: string, init?: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number }): Promise<HttpResult<T>>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * The engine as a real child process (`node --import tsx src/server.ts`), the way `npm start`
 * runs it, with the development identity provider; or, given `built`, the production bundle that
 * `npm run build` wrote (`node dist/node/server.js`, as `npm run start:production`). Resolves once
 * /healthz answers.
 */
export async function startEngineProcess(options: { env: Record<string, string>; dataDir: string; port?: number; startTimeoutMs?: number; built?: string }): Promise<EngineProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const entry = options.built ? [options.built] : ['--import', 'tsx', join(ROOT, 'src/server.ts')];
  const child = spawn(process.execPath, entry, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'development',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: options.dataDir,
      LOG_LEVEL: 'warn',
      ADMIN_SUBJECTS: 'admin-subject',
      DEMO: 'off',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (gone) throw new Error(`engine exited before answering:\n${output.join('\n')}`);
    const res = await http(url, 'GET', '/healthz', { timeoutMs: 2000 });
    if (res.status === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`engine did not answer on ${url}:\n${output.join('\n')}`);
    }
    await sleep(100);
  }

  const request: EngineProcess['request'] = (method, path, init) => http(url, method, path, init);
  return {
    url,
    port,
    child,
    output,
    exited,
    request,
    async token(person) {
      const res = await request('POST', '/dev/oidc/tokens', { body: { acr: 'eidas2', ...person } });
      if (res.status !== 201) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.id_token as string;
    },
    kill: (signal) => void child.kill(signal),
  };
}

/**
 * An engine expected to stop on its own (a refused configuration): its exit code and everything it
 * wrote. From source as `npm start` runs it, or, given `built`, the production bundle.
 */
export function startEngineExpectingExit(env: Record<string, string>, options: { built?: string } = {}): Promise<{ code: number | null; output: string }> {
  const entry = options.built ? [options.built] : ['--import', 'tsx', join(ROOT, 'src/server.ts')];
  const child = spawn(process.execPath, entry, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DEMO: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

/** A temporary data folder for one engine, removed by `remove`. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Stops an engine process if still running (SIGKILL) and waits for it. */
export async function stopEngine(engine: EngineProcess | undefined) {
  if (!engine || engine.child.exitCode !== null || engine.child.signalCode !== null) return;
  engine.kill('SIGKILL');
  await engine.exited;
}

/** A citizen with a name made of letters only (digits are not part of a canonical name). */
export function citizen(n: number, familyName = 'Durand') {
  const letters = n.toString(26).split('').map((d) => String.fromCharCode(97 + parseInt(d, 26))).join('');
  return { givenNames: `${letters}x`, familyName, birthdate: '1980-01-01' };
}

/** Paris with its clerk and an open referendum initiative, through the HTTP API only. */
export async function openInitiativeOver(engine: Pick<EngineProcess, 'request' | 'token'>, jurisdiction: Record<string, unknown> = {}) {
  const admin = await engine.token({ givenNames: 'Ada', familyName: 'Admin', birthdate: '1970-01-01', subject: 'admin-subject' });
  const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0, ...jurisdiction }) });
  if (created.status !== 201 && created.status !== 409) throw new Error(`jurisdiction: ${created.status} ${JSON.stringify(created.body)}`);
  await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk' } });
  const sponsor = await engine.token({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
  const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
  if (draft.status !== 201) throw new Error(`draft: ${draft.status} ${JSON.stringify(draft.body)}`);
  await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor });
  const clerk = await engine.token({ givenNames: 'Claire', familyName: 'Clerk', birthdate: '1975-01-01', subject: 'clerk' });
  const opened = await engine.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: clerk, body: { decision: 'open' } });
  if (opened.status !== 200) throw new Error(`open: ${opened.status} ${JSON.stringify(opened.body)}`);
  return { initiativeId: draft.body.id as string, sponsor, clerk, admin };
}
