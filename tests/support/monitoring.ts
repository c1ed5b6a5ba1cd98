import type { TestEngine } from './engine';
import { parisJurisdiction, REFERENDUM_DRAFT } from './paris';

/** A citizen with a name of letters only (digits are not part of a canonical name). */
export function citizenNo(n: number) {
  const letters = n.toString(26).split('').map((d) => String.fromCharCode(97 + parseInt(d, 26))).join('');
  return { givenNames: `${letters}x`, familyName: 'Watcher', birthdate: '1980-01-01' };
}

/**
 * Paris (created once per engine), its clerk, and a referendum initiative opened now with a
 * committee member, through the HTTP API. The rules: goal 5, at least 2 districts with 2 each.
 */
export async function openReferendum(engine: TestEngine, options: { closesAt?: string; sponsorName?: string } = {}) {
  const admin = await engine.adminToken();
  const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 1 }) });
  if (created.status !== 201 && created.status !== 409) throw new Error(`jurisdiction: ${created.status} ${JSON.stringify(created.body)}`);
  await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk-of-paris' } });
  const clerk = await engine.subjectToken('clerk-of-paris');
  const sponsor = await engine.tokenFor({ givenNames: options.sponsorName ?? 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
  const member = await engine.tokenFor({ givenNames: 'Marc', familyName: 'Member', birthdate: '1982-03-04' });
  const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
  if (draft.status !== 201) throw new Error(`draft: ${draft.status} ${JSON.stringify(draft.body)}`);
  const initiativeId = draft.body.id as string;
  await engine.request('POST', `/v1/initiatives/${initiativeId}/committee`, { token: member, body: { code: draft.body.committeeCode } });
  const submitted = await engine.request('POST', `/v1/initiatives/${initiativeId}/submit`, { token: sponsor });
  if (submitted.status !== 200) throw new Error(`submit: ${submitted.status} ${JSON.stringify(submitted.body)}`);
  const opened = await engine.request('POST', `/v1/initiatives/${initiativeId}/review`, {
    token: clerk,
    body: { decision: 'open', ...(options.closesAt ? { closesAt: options.closesAt } : {}) },
  });
  if (opened.status !== 200) throw new Error(`open: ${opened.status} ${JSON.stringify(opened.body)}`);
  return { initiativeId, sponsor, member, clerk, admin };
}

/** Signs as citizen number `n`; returns the signature. */
export async function signAs(engine: TestEngine, initiativeId: string, n: number, district: string) {
  const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
    token: await engine.tokenFor(citizenNo(n)),
    body: { district, consent: true },
  });
  if (res.status !== 201) throw new Error(`sign ${n}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.signature as { id: string; createdAt: string };
}

export async function withdrawAs(engine: TestEngine, initiativeId: string, n: number) {
  const res = await engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token: await engine.tokenFor(citizenNo(n)) });
  if (res.status !== 200) throw new Error(`withdraw ${n}: ${res.status} ${JSON.stringify(res.body)}`);
}
