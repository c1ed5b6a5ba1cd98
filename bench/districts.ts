/**
 * `npx tsx bench/districts.ts [districts]`: a jurisdiction of France's communes (34,969, from
 * @etalab/decoupage-administratif; fewer with an argument) through the API on PGlite, in process:
 * creation, change, and what one initiative's readers, signers and clerks are sent, with times
 * and answer sizes.
 */
import { createRequire } from 'node:module';
import { createTestEngine } from '../tests/support/engine';
import { REFERENDUM_DRAFT } from '../tests/support/paris';
import { browserRequests } from '../tests/web/browser-requests';

const all = createRequire(import.meta.url)('@etalab/decoupage-administratif/data/communes.json') as { code: string; nom: string; type: string; population?: number }[];
const communes = all.filter((c) => c.type === 'commune-actuelle').slice(0, Number(process.argv[2] ?? Infinity));
const districts = communes.map((c) => ({ code: c.code, name: c.nom, electorate: Math.max(1, Math.round((c.population ?? 100) * 0.75)) }));
const electorate = districts.reduce((s, d) => s + d.electorate, 0);

const engine = await createTestEngine();
const rows: [string, string, string][] = [];
async function timed<T>(label: string, run: () => Promise<T>, size: (r: T) => number): Promise<T> {
  process.stderr.write(`${label}...\n`);
  const started = performance.now();
  const result = await run();
  const ms = performance.now() - started;
  rows.push([label, `${ms.toFixed(0)} ms`, `${(size(result) / 1024).toFixed(0)} kB`]);
  return result;
}
/** A read repeated: its median time, less at the mercy of a busy machine than one run. */
async function median<T>(label: string, run: () => Promise<T>, size: (r: T) => number, times = 9): Promise<void> {
  process.stderr.write(`${label}...\n`);
  const ms: number[] = [];
  let result: T | undefined;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    result = await run();
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  rows.push([`${label} (median of ${times})`, `${ms[Math.floor(times / 2)]!.toFixed(0)} ms`, `${(size(result!) / 1024).toFixed(0)} kB`]);
}
const bytes = (r: { body: unknown }) => (typeof r.body === 'string' ? r.body.length : JSON.stringify(r.body ?? '').length);

const admin = await engine.adminToken();
const body = {
  id: 'france', name: 'République française', electorate, minimumAge: 18, minimumAssurance: 'eidas2', districtTerm: 'circonscription', districts,
  rules: { referendum: { goal: { signatures: 40 }, districts: { minCount: 10, each: { signatures: 1 } }, collectionDays: 270 } },
};
const created = await timed(`POST /v1/jurisdictions (${(JSON.stringify(body).length / 1024 / 1024).toFixed(2)} MB body)`, () => engine.request('POST', '/v1/jurisdictions', { token: admin, body }), () => 0);
if (created.status !== 201) {
  console.log(created.status, JSON.stringify(created.body).slice(0, 400));
  process.exit(1);
}
await engine.request('POST', '/v1/jurisdictions/france/clerks', { token: admin, body: { subject: 'clerk' } });
const clerk = await engine.subjectToken('clerk');
const web = browserRequests(engine);
const clerkCookie = await web.sessionFor('clerk');
const renamed = districts.map((d, i) => (i === 0 ? { ...d, name: `${d.name} (renamed)` } : d));
const patched = await timed('PATCH /v1/jurisdictions/france (districts)', () => engine.request('PATCH', '/v1/jurisdictions/france', { token: clerk, body: { districts: renamed } }), () => 0);
if (patched.status !== 200) console.log('PATCH', patched.status, JSON.stringify(patched.body).slice(0, 400));
await timed('GET /v1/jurisdictions/france', () => engine.request('GET', '/v1/jurisdictions/france'), bytes);

const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
const id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, jurisdictionId: 'france' } })).body.id as string;
await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
const opened = await timed('POST review: open (freezes the electorate figures)', () => engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } }), () => 0);
if (opened.status !== 200) console.log('open', opened.status, opened.body);

const SIGNERS = 40;
const started = performance.now();
for (let i = 0; i < SIGNERS; i++) {
  const token = await engine.tokenFor({ givenNames: `Prenom${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`, familyName: 'Signataire', birthdate: '1980-01-01' });
  const res = await engine.request('POST', `/v1/initiatives/${id}/signatures`, { token, body: { district: districts[(i * 877) % districts.length]!.code, consent: true } });
  if (res.status !== 201) console.log('sign', res.status, res.body);
}
rows.push([`POST signatures (mean of ${SIGNERS})`, `${((performance.now() - started) / SIGNERS).toFixed(1)} ms`, '']);
const entries = Array.from({ length: 500 }, (_, i) => ({ familyName: 'Papier', givenNames: `Nom${i.toString(36)}`.replace(/\d/g, (d) => 'abcdefghij'[Number(d)]!), birthdate: '1970-02-02', district: districts[(i * 131) % districts.length]!.code, sheet: `S${i % 20}`, collector: 'C-1' }));
const paper = await timed('POST paper-signatures (500 entries)', () => engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, { token: clerk, body: { entries } }), () => 0);
if (paper.status !== 200) console.log('paper', paper.status, JSON.stringify(paper.body).slice(0, 400));

await timed('GET /v1/initiatives/{id}/progress', () => engine.request('GET', `/v1/initiatives/${id}/progress`), bytes);
await timed('GET /v1/initiatives/{id}/progress (visitor, cached)', () => engine.request('GET', `/v1/initiatives/${id}/progress`, { asVisitor: true }), bytes);
await timed('GET /v1/initiatives/{id}', () => engine.request('GET', `/v1/initiatives/${id}`), bytes);
await timed('GET /initiatives/{id} (page)', async () => ({ body: await (await engine.app.request(`/initiatives/${id}`)).text() }), bytes);
await timed('GET /v1/initiatives/{id}/dashboard', () => engine.request('GET', `/v1/initiatives/${id}/dashboard`, { token: sponsor }), bytes);

await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor });
const start = await timed('POST verification (full)', () => engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } }), bytes);
if (start.status >= 300) console.log('verification', start.status, JSON.stringify(start.body).slice(0, 300));
const pending = await engine.request('GET', `/v1/initiatives/${id}/verification?filter=pending&personalData=false&limit=1000`, { token: clerk });
const ids = (pending.body.signatures?.items ?? []).map((s: { id: string }) => s.id);
await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, { token: clerk, body: { decisions: ids.map((signatureId: string) => ({ signatureId, decision: 'valid' })) } });
await median('GET /v1/initiatives/{id}/verification', () => engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false&limit=20`, { token: clerk }), bytes);
await median('GET /clerk/initiatives/{id} (clerk page, verification)', async () => { const p = await web.page(`/clerk/initiatives/${id}`, { cookie: clerkCookie }); if (p.status !== 200) console.log('clerk page', p.status); return { body: p.html }; }, bytes);
await timed('GET /v1/initiatives/{id}/verification/districts (CSV)', async () => { const r = await engine.app.request(`/v1/initiatives/${id}/verification/districts`, { headers: { authorization: `Bearer ${clerk}` } }); return { body: r.status === 200 ? await r.text() : '' }; }, bytes);
await timed('GET districts.csv', async () => ({ body: (await web.page(`/clerk/initiatives/${id}/districts.csv`, { cookie: clerkCookie })).html }), bytes);
const done = await timed('POST verification/complete (certifies)', () => engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk }), bytes);
if (done.status >= 300) console.log('complete', done.status, JSON.stringify(done.body).slice(0, 300));

const certificate = JSON.stringify(done.body).match(/"certificate":"([^"]+)"/)?.[1];
if (certificate) rows.push(['  its certificate (JWS)', '', `${(certificate.length / 1024).toFixed(0)} kB`]);
await engine.scheduler.tick();
const items = await timed('GET /v1/referendum-items', () => engine.request('GET', '/v1/referendum-items'), bytes);
const item = items.body.items?.[0];
if (item) {
  rows.push(['  certificate (JWS)', '', `${((item.certificate as string).length / 1024).toFixed(0)} kB`]);
  await timed('GET /results/{item} (page)', async () => ({ body: await (await engine.app.request(`/results/${item.id}`)).text() }), bytes);
}
const roll = ['family_name,given_names,birthdate,district', ...districts.map((d, i) => `Inscrit,Num${i.toString(36).replace(/\d/g, (x) => 'abcdefghij'[Number(x)]!)},1970-01-01,${d.code}`)].join('\n') + '\n';
const rollRes = await timed(`PUT roll (${districts.length} rows, one per district)`, () => engine.request('PUT', '/v1/jurisdictions/france/roll', { token: clerk, rawBody: roll, headers: { 'content-type': 'text/csv' } }), () => 0);
if (rollRes.status >= 300) console.log('roll', rollRes.status, JSON.stringify(rollRes.body).slice(0, 300));

await engine.close();
console.log(`${districts.length} districts`);
for (const r of rows) console.log(r.join(' | '));
