import { request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineProcessSuite } from '../support/engine-processes';
import { idTokenOf } from '../support/oidc-engine';
import { startTestProvider, type ProviderAccount, type TestProvider } from '../support/oidc-provider';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { childProcesses, freePort, sleep, type EngineProcess } from '../support/process';

const CLIENT = { clientId: 'civic-engine', clientSecret: 'cluster-secret' };
const PEOPLE = 40;
const person = (given_name: string, family_name: string): ProviderAccount => ({ given_name, family_name, birthdate: '1980-01-01', birthplace: '75056', birthcountry: '99100', acr: 'eidas2' });
const letters = (n: number) => String.fromCharCode(97 + (n % 26)) + String.fromCharCode(97 + Math.floor(n / 26));

/** The engine's processes that answer requests: the children of the primary running the server. */
async function answeringProcesses(primary: number): Promise<number[]> {
  return (await childProcesses(primary))
    .filter((child) => child.cmdline.includes('src/server.ts'))
    .map((child) => child.pid)
    .sort();
}

/** One request on a connection of its own (so the cluster hands each to its processes in turn). */
function once(url: string, method: string, path: string, init: { token?: string; cookie?: string; body?: unknown; accept?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }>((resolve, reject) => {
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const req = httpRequest(
      url + path,
      {
        method,
        agent: false,
        headers: {
          accept: init.accept ?? 'application/json',
          // What the database holds (anonymous reads may otherwise come from memory for a second).
          ...(method === 'GET' ? { 'cache-control': 'no-cache' } : {}),
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          ...(init.cookie ? { cookie: init.cookie } : {}),
          ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: res.headers['content-type']?.includes('json') && text ? JSON.parse(text) : text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const metric = (text: string, line: string) => Number(new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);

/**
 * ENGINE_PROCESSES=2: a primary that migrates and runs the periodic tasks, and two processes
 * sharing the port. Tokens come from a real OpenID provider (the development provider keeps its
 * login codes in one process, so a cluster refuses it).
 */
describe('a cluster of engine processes on one port', () => {
  const suite = engineProcessSuite('civic-cluster-');
  let provider: TestProvider;
  let engine: EngineProcess;
  let callback: string;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    callback = `http://127.0.0.1:${port}/auth/callback`;
    const accounts: Record<string, ProviderAccount> = { admin: person('Aline', 'Admin'), clerk: person('Gaspard', 'Greffier'), sponsor: person('Anne', 'Sponsor') };
    for (let i = 0; i < PEOPLE + 5; i++) accounts[`c${i}`] = person(`${letters(i)}x`, 'Grappe');
    provider = await startTestProvider({
      accounts,
      clients: [{ client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, redirect_uris: [callback], token_endpoint_auth_method: 'client_secret_post', id_token_signed_response_alg: 'ES256', subject_type: 'pairwise' }],
    });
  });
  afterAll(async () => {
    await provider?.close();
  });

  // The identity claims in the ID token itself, as a bearer token needs them.
  const tokenOf = (account: string) =>
    idTokenOf(provider, { ...CLIENT, redirectUri: callback }, account, { acr_values: 'eidas2', claims: JSON.stringify({ id_token: { given_name: null, family_name: null, birthdate: null } }) });

  it('refuses to start as a cluster on the embedded database or with the development provider', async () => {
    await expect(suite.start({ ENGINE_PROCESSES: '2' })).rejects.toThrow(/ENGINE_PROCESSES: needs DATABASE_URL/);
    await expect(suite.start({ ENGINE_PROCESSES: '2', DATABASE_URL: suite.databaseUrl })).rejects.toThrow(/ENGINE_PROCESSES: needs OIDC_ISSUER/);
  });

  it('counts signatures taken by either process once, sums /metrics over them, logs in across them, replaces a dead one and stops on SIGTERM', async () => {
    engine = await suite.start(
      {
        DATABASE_URL: suite.databaseUrl,
        ENGINE_PROCESSES: '2',
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: CLIENT.clientId,
        OIDC_CLIENT_SECRET: CLIENT.clientSecret,
        ADMIN_SUBJECTS: provider.subjectOf('admin', callback),
        LOG_LEVEL: 'info',
      },
      { port },
    );
    const first = await answeringProcesses(engine.child.pid!);
    expect(first).toHaveLength(2);

    // The web login: the flow cookie set by one process is redeemed by the other (each request on a new connection).
    const login = await once(engine.url, 'GET', '/auth/login?returnTo=/', { accept: 'text/html' });
    expect(login.status).toBe(302);
    const flow = (login.headers['set-cookie'] as string[]).find((c) => c.startsWith('login_flow='))!.split(';')[0]!;
    const back = await provider.authorize(String(login.headers.location), 'sponsor', callback);
    const finished = await once(engine.url, 'GET', back.pathname + back.search, { cookie: flow, accept: 'text/html' });
    expect(finished.status).toBe(302);
    const sponsor = (finished.headers['set-cookie'] as string[]).find((c) => /^session=[^;]/.test(c))!.split(';')[0]!;

    const admin = await tokenOf('admin');
    expect((await once(engine.url, 'POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0 }) })).status).toBe(201);
    expect((await once(engine.url, 'POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: provider.subjectOf('clerk', callback) } })).status).toBe(201);
    const draft = await once(engine.url, 'POST', '/v1/initiatives', { cookie: sponsor, body: REFERENDUM_DRAFT });
    expect(draft.status).toBe(201);
    const id = draft.body.id as string;
    expect((await once(engine.url, 'POST', `/v1/initiatives/${id}/submit`, { cookie: sponsor })).status).toBe(200);
    const clerk = await tokenOf('clerk');
    expect((await once(engine.url, 'POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } })).status).toBe(200);

    // Everyone at once, each on a connection of its own, then the first ten again.
    const tokens: string[] = [];
    for (let i = 0; i < PEOPLE + 5; i++) tokens.push(await tokenOf(`c${i}`));
    const sign = (token: string) => once(engine.url, 'POST', `/v1/initiatives/${id}/signatures`, { token, body: { district: '75111', consent: true } });
    const signed = await Promise.all(tokens.slice(0, PEOPLE).map(sign));
    expect(signed.map((r) => r.status), JSON.stringify(signed[0]!.body)).toEqual(Array(PEOPLE).fill(201));
    const again = await Promise.all(tokens.slice(0, 10).map(sign));
    expect(again.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(again.map((r) => r.body.id)).toEqual(signed.slice(0, 10).map((r) => r.body.id));

    const progress = await once(engine.url, 'GET', `/v1/initiatives/${id}/progress`);
    expect(progress.body.signatures).toBe(PEOPLE);
    // Whichever process answers /metrics, it reports what both counted.
    for (let i = 0; i < 4; i++) {
      const metrics = (await once(engine.url, 'GET', '/metrics', { accept: 'text/plain' })).body as string;
      expect(metric(metrics, 'signatures_total{outcome="accepted",reason=""}')).toBe(PEOPLE);
      expect(metric(metrics, 'signatures_total{outcome="duplicate",reason=""}')).toBe(10);
      expect(metric(metrics, 'db_pool_connections_max')).toBe(20);
      // The periodic tasks run in the primary, which answers no request: its counts are in the sum too.
      expect(metric(metrics, 'scheduled_task_runs_total{outcome="ok",task="sequence-logs"}')).toBeGreaterThan(0);
    }

    // A process killed outright: the primary starts a new one, and the two answer again.
    process.kill(first[0]!, 'SIGKILL');
    let now: number[] = [];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
      now = await answeringProcesses(engine.child.pid!);
      if (now.length === 2 && !now.includes(first[0]!) && (await once(engine.url, 'GET', '/readyz')).status === 200) break;
    }
    expect(now).toHaveLength(2);
    expect(now).not.toContain(first[0]);
    expect(engine.output.some((line) => line.includes('engine process exited; starting another'))).toBe(true);
    // What the dead process had counted stays counted: a Prometheus counter never goes backwards.
    const afterRestart = (await once(engine.url, 'GET', '/metrics', { accept: 'text/plain' })).body as string;
    expect(metric(afterRestart, 'signatures_total{outcome="accepted",reason=""}')).toBe(PEOPLE);
    expect(metric(afterRestart, 'signatures_total{outcome="duplicate",reason=""}')).toBe(10);
    const later = await Promise.all(tokens.slice(PEOPLE).map(sign));
    expect(later.map((r) => r.status)).toEqual(Array(5).fill(201));
    // Once the new process answers too (two pools again), nothing counted is lost or counted twice.
    let atLast = '';
    for (const deadline = Date.now() + 20_000; metric(atLast, 'db_pool_connections_max') !== 20 && Date.now() < deadline; await sleep(200)) {
      atLast = (await once(engine.url, 'GET', '/metrics', { accept: 'text/plain' })).body as string;
      expect(metric(atLast, 'signatures_total{outcome="accepted",reason=""}')).toBe(PEOPLE + 5);
    }
    expect(metric(atLast, 'db_pool_connections_max')).toBe(20);

    // The primary's sequencer logs every signature, whichever process took it.
    let size = 0;
    for (const deadline = Date.now() + 20_000; size < PEOPLE + 5 && Date.now() < deadline; await sleep(200)) {
      size = (await once(engine.url, 'GET', `/v1/initiatives/${id}/log`)).body.size;
    }
    expect(size).toBe(PEOPLE + 5);

    engine.kill('SIGTERM');
    expect(await engine.exited).toEqual({ code: 0, signal: null });
    for (const pid of now) expect(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => 'gone')).toBe('gone');
  });
});
