import postgres from 'postgres';
import { postgresConnection } from '../../src/db/client';

/** The local server through its Unix socket, as an operator on one machine would connect the engine. */
export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@localhost/postgres?host=/var/run/postgresql';

/** A postgres.js client for the bench's own queries, over the same connection as the engine's. */
export function benchClient(url: string, max: number) {
  const connection = postgresConnection(url);
  return postgres(connection.url, { ...connection.options, max, onnotice: () => {} });
}

/** A database of its own for each run, dropped at the end. */
export async function createBenchDatabase() {
  const name = `civic_bench_${Date.now().toString(36)}`;
  const admin = benchClient(ADMIN_URL, 1);
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const parsed = new URL(ADMIN_URL);
  parsed.pathname = `/${name}`;
  const url = parsed.toString();
  const sql = benchClient(url, 2);
  return {
    name,
    url,
    sql,
    async drop() {
      await sql.end();
      const again = benchClient(ADMIN_URL, 1);
      await again.unsafe(`drop database if exists "${name}" with (force)`);
      await again.end();
    },
  };
}

export const DISTRICTS = Array.from({ length: 20 }, (_, i) => ({
  code: `751${String(i + 1).padStart(2, '0')}`,
  name: `Paris ${i + 1}`,
  electorate: 100_000,
}));

async function call(url: string, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A jurisdiction and `count` open initiatives, created through the API like a real operator. */
export async function openInitiatives(url: string, tokens: { admin: string; clerk: string; sponsor: string }, count: number, jurisdictionId = 'bench') {
  await call(url, 'POST', '/v1/jurisdictions', tokens.admin, {
    id: jurisdictionId,
    name: 'Bench city',
    electorate: 2_000_000,
    minimumAge: 16,
    minimumAssurance: 'eidas2',
    committeeMinimum: 0,
    districts: DISTRICTS,
    rules: { agenda: { goal: { signatures: 10_000_000 }, collectionDays: 365, milestones: [{ signatures: 100_000, label: 'debate' }] } },
  }).catch((e) => {
    if (!String(e).includes('409')) throw e;
  });
  await call(url, 'POST', `/v1/jurisdictions/${jurisdictionId}/clerks`, tokens.admin, { subject: 'bench-clerk' });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const draft = await call(url, 'POST', '/v1/initiatives', tokens.sponsor, {
      jurisdictionId,
      kind: 'agenda',
      title: `Bench initiative ${i}`,
      summary: 'Load test.',
      text: 'Load test.',
    });
    const id = String(draft.id);
    await call(url, 'POST', `/v1/initiatives/${id}/submit`, tokens.sponsor);
    await call(url, 'POST', `/v1/initiatives/${id}/review`, tokens.clerk, { decision: 'open' });
    ids.push(id);
  }
  return ids;
}
