import { expect } from 'vitest';
import type { TestEngine } from './engine';
import { parisJurisdiction, REFERENDUM_DRAFT } from './paris';

export const CLERK_SUBJECT = 'clerk-of-paris';

/** Paris with the given settings (no committee needed by default), its clerk, and a sponsor's token. */
export async function parisWithClerk(engine: TestEngine, settings: Parameters<typeof parisJurisdiction>[0] = {}) {
  const admin = await engine.adminToken();
  expect((await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0, ...settings }) })).status).toBe(201);
  await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: CLERK_SUBJECT } });
  return {
    clerk: await engine.subjectToken(CLERK_SUBJECT),
    sponsor: await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' }),
  };
}

/** Paris (optionally with a required roll), its clerk, and a referendum initiative open for signatures. */
export async function openParisInitiative(engine: TestEngine, options: { requireRoll?: boolean; createJurisdiction?: boolean } = {}) {
  const admin = await engine.adminToken();
  if (options.createJurisdiction !== false) {
    const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ requireRoll: options.requireRoll ?? false }) });
    expect(created.status).toBe(201);
    await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: CLERK_SUBJECT } });
  }
  const clerk = await engine.subjectToken(CLERK_SUBJECT);
  const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
  const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
  expect(draft.status).toBe(201);
  const initiativeId: string = draft.body.id;
  for (const member of [
    { givenNames: 'Membre', familyName: 'Un', birthdate: '1970-03-03' },
    { givenNames: 'Membre', familyName: 'Deux', birthdate: '1971-04-04' },
  ]) {
    await engine.request('POST', `/v1/initiatives/${initiativeId}/committee`, { token: await engine.tokenFor(member), body: { code: draft.body.committeeCode } });
  }
  expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/submit`, { token: sponsor })).status).toBe(200);
  const opened = await engine.request('POST', `/v1/initiatives/${initiativeId}/review`, { token: clerk, body: { decision: 'open', closesAt: '2027-06-30T22:00:00Z' } });
  expect(opened.status).toBe(200);
  return { initiativeId, clerk, sponsor };
}

/** Uploads a roll CSV as a stream (no Content-Length), the way a large file would travel. */
export async function putRoll(engine: TestEngine, token: string, csv: string | Uint8Array, options: { jurisdiction?: string; contentType?: string } = {}) {
  const bytes = typeof csv === 'string' ? new TextEncoder().encode(csv) : csv;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.subarray(i, i + 1000));
      controller.close();
    },
  });
  const res = await engine.app.request(`/v1/jurisdictions/${options.jurisdiction ?? 'paris'}/roll`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': options.contentType ?? 'text/csv; charset=utf-8' },
    body,
    duplex: 'half',
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
}

export const rollCsv = (rows: string[][]) => ['family_name,given_names,birthdate,district', ...rows.map((r) => r.join(','))].join('\n') + '\n';

/** An initiative of Paris (a referendum unless `draft` says otherwise), opened, signed online by `n` people of the family `family` (district 75111), then closed by its sponsor. */
export async function closedWithSignatures(
  engine: TestEngine,
  roles: { sponsor: string; clerk: string },
  n: number,
  family: string,
  draft: Record<string, unknown> = REFERENDUM_DRAFT,
): Promise<string> {
  const id = (await engine.request('POST', '/v1/initiatives', { token: roles.sponsor, body: draft })).body.id as string;
  await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: roles.sponsor });
  expect((await engine.request('POST', `/v1/initiatives/${id}/review`, { token: roles.clerk, body: { decision: 'open' } })).status).toBe(200);
  for (let i = 0; i < n; i++) {
    const token = await engine.tokenFor({ givenNames: `Prenom${String.fromCharCode(65 + i)}`, familyName: family, birthdate: '1980-01-01' });
    expect((await engine.request('POST', `/v1/initiatives/${id}/signatures`, { token, body: { district: '75111', consent: true } })).status).toBe(201);
  }
  expect((await engine.request('POST', `/v1/initiatives/${id}/close`, { token: roles.sponsor })).status).toBe(200);
  return id;
}
