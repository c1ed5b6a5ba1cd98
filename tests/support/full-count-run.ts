/**
 * A full count against the roll of `SIGNATURES` signatures whose sealed personal data together
 * outweighs a small heap: run by tests/api/verification-full-roll.test.ts in a process with that
 * heap. Prints the status of the start of the full count, and the roll's totals once the scheduler
 * has checked every page, as one JSON line.
 */
import { sql } from 'drizzle-orm';
import { bumpCounts } from '../../src/features/progress/service';
import { createTestEngine } from './engine';
import { parisJurisdiction, REFERENDUM_DRAFT } from './paris';

const SIGNATURES = Number(process.argv[2]);
const SEALED_BYTES = Number(process.argv[3]);

const engine = await createTestEngine();
try {
  const admin = await engine.adminToken();
  await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0 }) });
  await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk-of-paris' } });
  const clerk = await engine.subjectToken('clerk-of-paris');
  const roll = await engine.app.request('/v1/jurisdictions/paris/roll', {
    method: 'PUT',
    headers: { authorization: `Bearer ${clerk}`, 'content-type': 'text/csv' },
    body: 'family_name,given_names,birthdate,district\nDupont,Élodie,1990-04-12,75111\n',
  });
  if (roll.status !== 200) throw new Error(`roll: ${roll.status} ${await roll.text()}`);
  const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
  const id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT })).body.id as string;
  await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
  await engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } });
  // Written by SQL rather than signed one by one; the personal data is as long as a sealed one may be, and unreadable.
  await engine.db.db.execute(sql`
    insert into signatures (id, initiative_id, signer_hash, key_version, channel, assurance, district, status, created_at, personal_data)
    select gen_random_uuid(), ${id}::uuid, sha256(g::text::bytea), 't1', 'paper', 'eidas2', '75111', 'counted', ${engine.clock.now().toISOString()}::timestamptz, repeat('x', ${SEALED_BYTES}::int)
    from generate_series(1, ${SIGNATURES}::int) g`);
  await engine.db.db.transaction((tx) => bumpCounts(tx, id, [['75111', SIGNATURES]]));
  await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor });
  const started = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } });
  if (started.status !== 201) throw new Error(`start: ${started.status} ${JSON.stringify(started.body)}`);
  // The scheduler checks the signatures against the roll a page at a time, a few seconds of pages at each pass.
  let report = started.body;
  for (let pass = 0; report.rollCheck?.status === 'running' && pass < 100; pass++) {
    await engine.scheduler.tick();
    report = (await engine.request('GET', `/v1/initiatives/${id}/verification?limit=1&personalData=false`, { token: clerk })).body;
  }
  process.stdout.write(`${JSON.stringify({ status: started.status, roll: report.rollCheck?.status === 'done' ? report.roll : report })}\n`);
} finally {
  await engine.close();
}
