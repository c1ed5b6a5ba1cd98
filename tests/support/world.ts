import { createTestEngine, type TestEngine } from './engine';
import { parisJurisdiction, REFERENDUM_DRAFT } from './paris';

/** The people of the access tests: one of each kind of caller, by role. */
export const ROLES = ['anonymous', 'citizen', 'otherSponsor', 'committee', 'otherClerk', 'clerk', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const PEOPLE = {
  sponsor: { givenNames: 'Anne', familyName: 'Porteuse', birthdate: '1980-01-01', subject: 'sponsor-of-target' },
  citizen: { givenNames: 'Bruno', familyName: 'Citoyen', birthdate: '1984-02-02', subject: 'plain-citizen' },
  otherSponsor: { givenNames: 'Carla', familyName: 'Autre', birthdate: '1979-03-03', subject: 'sponsor-of-another' },
  committee: { givenNames: 'David', familyName: 'Comite', birthdate: '1990-04-04', subject: 'committee-member' },
  otherClerk: { givenNames: 'Emma', familyName: 'Lyon', birthdate: '1975-05-05', subject: 'clerk-of-lyon' },
  clerk: { givenNames: 'Fanny', familyName: 'Greffe', birthdate: '1972-06-06', subject: 'clerk-of-paris' },
  admin: { givenNames: 'Gilles', familyName: 'Admin', birthdate: '1970-07-07', subject: 'admin-subject' },
};

/**
 * A small, fixed world for access and input tests: Paris and Lyon with a clerk each, an open
 * initiative in Paris (the target) with a committee member and one signature, and a draft of
 * another sponsor. Tokens for each role; everything built through the API.
 */
export async function createWorld(options: Parameters<typeof createTestEngine>[0] = {}) {
  const engine = await createTestEngine(options);
  const token = async (who: keyof typeof PEOPLE) => engine.tokenFor(PEOPLE[who]);
  const admin = await token('admin');
  const must = async (what: string, res: Promise<{ status: number; body: any }>, ...ok: number[]) => {
    const r = await res;
    if (!ok.includes(r.status)) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await must('paris', engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 1 }) }), 201);
  await must(
    'lyon',
    engine.request('POST', '/v1/jurisdictions', {
      token: admin,
      body: parisJurisdiction({ id: 'lyon', name: 'Ville de Lyon', districts: [{ code: '69381', name: 'Lyon 1er', electorate: 20000 }], rules: { agenda: { goal: { signatures: 5 }, collectionDays: 30 } } }),
    }),
    201,
  );
  await must('clerk', engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: PEOPLE.clerk.subject } }), 201);
  await must('other clerk', engine.request('POST', '/v1/jurisdictions/lyon/clerks', { token: admin, body: { subject: PEOPLE.otherClerk.subject } }), 201);

  const tokens: Record<Role, string | undefined> = {
    anonymous: undefined,
    citizen: await token('citizen'),
    otherSponsor: await token('otherSponsor'),
    committee: await token('committee'),
    otherClerk: await token('otherClerk'),
    clerk: await token('clerk'),
    admin,
  };
  const sponsor = await token('sponsor');
  const draft = await must('draft', engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT }), 201);
  const targetId = draft.id as string;
  await must('join', engine.request('POST', `/v1/initiatives/${targetId}/committee`, { token: tokens.committee, body: { code: draft.committeeCode } }), 201);
  await must('submit', engine.request('POST', `/v1/initiatives/${targetId}/submit`, { token: sponsor }), 200);
  await must('open', engine.request('POST', `/v1/initiatives/${targetId}/review`, { token: tokens.clerk, body: { decision: 'open' } }), 200);
  const signed = await must('sign', engine.request('POST', `/v1/initiatives/${targetId}/signatures`, { token: sponsor, body: { district: '75111', consent: true } }), 201);
  await engine.scheduler.tick(); // the log has the signature sequenced
  const otherDraft = await must('other draft', engine.request('POST', '/v1/initiatives', { token: tokens.otherSponsor, body: REFERENDUM_DRAFT }), 201);

  return {
    engine,
    tokens,
    sponsor,
    people: PEOPLE,
    targetId,
    signatureId: signed.signature.id as string,
    otherDraftId: otherDraft.id as string,
    committeeCode: draft.committeeCode as string,
  };
}

export type World = Awaited<ReturnType<typeof createWorld>>;
export type { TestEngine };
