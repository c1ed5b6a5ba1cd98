import postgres from 'postgres';
import { createApp } from '../../src/app';
import { openPostgres, type DatabaseHandle } from '../../src/db/client';
import { createDevIdentityProvider } from '../../src/features/auth/dev-provider';
import type { AppDeps } from '../../src/platform/http';
import { generateKeyMaterial, loadEngineKeys } from '../../src/platform/keys';
import { createLogger } from '../../src/platform/logger';
import { createMetrics } from '../../src/platform/metrics';
import { DISTRICTS } from './setup';

/**
 * A PostgreSQL database for a bench that runs the engine in its own process (BENCH_ADMIN_URL's
 * server; BENCH_DATABASE_NAME, or one of its own), created afresh; `end` drops it unless BENCH_KEEP is set.
 */
export async function inProcessDatabase() {
  const adminUrl = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = process.env.BENCH_DATABASE_NAME ?? `civic_bench_${Date.now().toString(36)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.unsafe(`create database "${name}"`);
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  const db = await openPostgres(url, { max: 4 });
  return {
    url,
    db,
    sql: db.postgres!,
    async end() {
      await db.close();
      if (!process.env.BENCH_KEEP) await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

/**
 * The engine in this process on that database, its clock stopped at `now`, with the tokens of the
 * bench's administrator, clerk (`bench-clerk`, not yet granted) and sponsor, and `call`, a request to
 * its API that gives the JSON answer and throws on any status from 300 up.
 */
export async function inProcessEngine(db: DatabaseHandle, now: Date) {
  const devProvider = await createDevIdentityProvider({ issuer: 'http://engine.bench/dev/oidc' });
  const deps: AppDeps = {
    db,
    keys: await loadEngineKeys(await generateKeyMaterial('b1')),
    clock: () => now,
    identity: devProvider.verifier,
    devProvider,
    config: { publicUrl: 'http://engine.bench', adminSubjects: ['bench-admin'], sessionTtlSeconds: 3600, production: false },
    logger: createLogger('error', () => {}),
    metrics: createMetrics(),
  };
  const app = createApp(deps);
  const call = async (method: string, path: string, token: string, body?: unknown, contentType = 'application/json') => {
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const adminToken = await devProvider.mintRaw({ sub: 'bench-admin', acr: 'eidas2' }, now);
  return {
    deps,
    call,
    /** The jurisdiction `bench` (the bench's districts) with these referendum rules, `bench-clerk` its clerk. */
    async createCity(referendum: Record<string, unknown>) {
      await call('POST', '/v1/jurisdictions', adminToken, {
        id: 'bench',
        name: 'Bench city',
        electorate: 50_000_000,
        minimumAge: 16,
        minimumAssurance: 'eidas2',
        committeeMinimum: 0,
        districts: DISTRICTS,
        rules: { referendum },
      });
      await call('POST', '/v1/jurisdictions/bench/clerks', adminToken, { subject: 'bench-clerk' });
    },
    adminToken,
    clerkToken: await devProvider.mintRaw({ sub: 'bench-clerk', acr: 'eidas2' }, now),
    sponsor: await devProvider.mintIdToken({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' }, now),
  };
}
