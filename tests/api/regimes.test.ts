import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../src/db/schema';
import { main as verifyCertificateCli } from '../../src/verify-certificate';
import { createTestEngine, PUBLIC_URL, type TestEngine } from '../support/engine';
import { parisWithClerk } from '../support/identity';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { decideRemainingValid } from '../support/verification';

/** The member states' minimums of the European Citizens' Initiative (Regulation (EU) 2019/788, Annex I, 2020 figures). */
const ECI_MINIMUMS: Record<string, number> = {
  AT: 13395, BE: 15840, BG: 12015, CY: 4320, CZ: 15840, DE: 69120, DK: 10035, EE: 5040, ES: 42120,
  FI: 10035, FR: 58320, GR: 15840, HR: 8640, HU: 15840, IE: 9360, IT: 54720, LT: 7920, LU: 4320,
  LV: 6480, MT: 4320, NL: 20880, PL: 37440, PT: 15840, RO: 23040, SE: 15120, SI: 5760, SK: 10080,
};

/** 88 counties, as Ohio has: a county's figure is the vote cast there for governor (its reference for ratios), 4,329,028 of the state's 4,429,582 in all. */
const COUNTIES = Array.from({ length: 88 }, (_, i) => ({ code: `C${String(i + 1).padStart(2, '0')}`, name: `County ${i + 1}`, electorate: 10_000 + i * 901 }));

/**
 * The real regimes SPEC names, each configured through the API (configuration, not code), and the
 * criteria an initiative opened under them shows: required figures as the law computes them.
 */
const REGIMES = {
  paris: {
    name: 'Ville de Paris',
    electorate: 1_360_000,
    minimumAge: 16,
    kind: 'agenda',
    rules: { agenda: { goal: { signatures: 5000 }, collectionDays: 365 } },
  },
  'france-rip': {
    name: 'République française',
    electorate: 48_700_001,
    minimumAge: 18,
    kind: 'referendum',
    rules: { referendum: { goal: { ratio: 0.1 }, collectionDays: 273 } },
  },
  eci: {
    name: 'Union européenne',
    electorate: 365_000_000,
    minimumAge: 16,
    kind: 'agenda',
    districts: Object.keys(ECI_MINIMUMS).map((code) => ({ code, name: code, electorate: 1_000_000 })),
    rules: { agenda: { goal: { signatures: 1_000_000 }, districts: { minCount: 7, each: { table: ECI_MINIMUMS } }, collectionDays: 365 } },
  },
  suisse: {
    name: 'Confédération suisse',
    electorate: 5_560_000,
    minimumAge: 18,
    kind: 'referendum',
    rules: { referendum: { goal: { signatures: 100_000 }, collectionDays: 548 } },
  },
  ohio: {
    name: 'State of Ohio',
    electorate: 4_429_582,
    minimumAge: 18,
    kind: 'referendum',
    districts: COUNTIES,
    // A constitutional amendment: 10 % of the last vote for governor, and 5 % of it in each of 44 of the 88 counties.
    rules: { referendum: { goal: { ratio: 0.1 }, districts: { minCount: 44, each: { ratio: 0.05 } }, collectionDays: 365 } },
  },
  uk: {
    name: 'UK Parliament petitions',
    electorate: 48_000_000,
    minimumAge: 0,
    kind: 'agenda',
    rules: {
      agenda: {
        goal: { signatures: 100_000 },
        collectionDays: 182,
        milestones: [
          { signatures: 10_000, label: 'government response' },
          { signatures: 100_000, label: 'considered for debate' },
        ],
      },
    },
  },
} as const;

describe('the real regimes of SPEC, as configuration', () => {
  let engine: TestEngine;
  let admin: string;
  let sponsor: string;
  const clerk = () => engine.subjectToken('clerk-of-regimes');
  const progressOf = async (id: string) => (await engine.request('GET', `/v1/initiatives/${id}/progress`)).body;

  /** A jurisdiction from the admin, its clerk, and an initiative of the given kind opened there. */
  async function openUnder(id: string, regime: (typeof REGIMES)[keyof typeof REGIMES]): Promise<string> {
    const { kind, ...settings } = regime;
    const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: { id, minimumAssurance: 'eidas1', districts: [], ...settings } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await engine.request('POST', `/v1/jurisdictions/${id}/clerks`, { token: admin, body: { subject: 'clerk-of-regimes' } });
    const draft = await engine.request('POST', '/v1/initiatives', {
      token: sponsor,
      body: { jurisdictionId: id, kind, title: `Une initiative (${id})`, summary: 'Résumé.', text: 'Texte.', ...(kind === 'referendum' ? { question: 'Approuvez-vous ?' } : {}) },
    });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor })).status).toBe(200);
    const opened = await engine.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: await clerk(), body: { decision: 'open' } });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    return draft.body.id;
  }

  beforeAll(async () => {
    engine = await createTestEngine();
    admin = await engine.adminToken();
    sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
  });
  afterAll(() => engine.close());

  it('Paris: 5,000 signatures put the petition on the Council’s agenda; a year to collect them', async () => {
    const id = await openUnder('paris', REGIMES.paris);
    const progress = await progressOf(id);
    expect(progress).toMatchObject({ signatures: 0, goalMet: false, criteria: [{ kind: 'goal', required: 5000, current: 0, met: false }], districts: [], milestones: [] });
    expect(Date.parse(progress.closesAt) - engine.clock.now().getTime()).toBe(365 * 86_400_000);
  });

  it('the French shared-initiative referendum: a tenth of the registered voters, rounded up', async () => {
    const progress = await progressOf(await openUnder('france-rip', REGIMES['france-rip']));
    expect(progress.criteria).toEqual([{ kind: 'goal', required: 4_870_001, current: 0, met: false }]);
  });

  it('the European Citizens’ Initiative: a million, and 7 member states each at its own minimum from the table', async () => {
    const progress = await progressOf(await openUnder('eci', REGIMES.eci));
    expect(progress.criteria).toEqual([
      { kind: 'goal', required: 1_000_000, current: 0, met: false },
      { kind: 'districts', required: 7, current: 0, met: false },
    ]);
    expect(progress.districts).toHaveLength(27);
    expect(progress.districts.find((d: { code: string }) => d.code === 'DE')).toEqual({ code: 'DE', name: 'DE', signatures: 0, required: 69120, met: false });
    expect(progress.districts.find((d: { code: string }) => d.code === 'MT')).toEqual({ code: 'MT', name: 'MT', signatures: 0, required: 4320, met: false });
  });

  it('a Swiss popular initiative: 100,000 signatures in 18 months', async () => {
    const progress = await progressOf(await openUnder('suisse', REGIMES.suisse));
    expect(progress.criteria).toEqual([{ kind: 'goal', required: 100_000, current: 0, met: false }]);
    // 548 calendar days of the jurisdiction, to the local hour it opened: opened in winter, it closes in summer time, an hour sooner in UTC.
    expect(Date.parse(progress.closesAt) - engine.clock.now().getTime()).toBe(548 * 86_400_000 - 3_600_000);
  });

  it('a US state initiative with a distribution rule: 5 % of the vote in each of 44 of 88 counties, rounded up county by county', async () => {
    const progress = await progressOf(await openUnder('ohio', REGIMES.ohio));
    expect(progress.criteria).toEqual([
      { kind: 'goal', required: 442_959, current: 0, met: false },
      { kind: 'districts', required: 44, current: 0, met: false },
    ]);
    // County 2: 10,901 voters, 5 % is 545.05: 546 signatures.
    expect(progress.districts[1]).toMatchObject({ code: 'C02', required: 546, met: false });
    expect(progress.districts.every((d: { required: number | null }) => d.required !== null)).toBe(true);
  });

  it('the UK petitions ladder: a response at 10,000 and a debate at 100,000, as milestones', async () => {
    const progress = await progressOf(await openUnder('uk', REGIMES.uk));
    expect(progress.criteria).toEqual([{ kind: 'goal', required: 100_000, current: 0, met: false }]);
    expect(progress.milestones).toEqual([
      { signatures: 10_000, label: 'government response', reached: false, reachedAt: null },
      { signatures: 100_000, label: 'considered for debate', reached: false, reachedAt: null },
    ]);
  });
});

describe('a district rule that can never be met, or met by nobody, is refused when the jurisdiction is configured', () => {
  let engine: TestEngine;
  let admin: string;
  const districts = [
    { code: 'A', name: 'Nord', electorate: 1000 },
    { code: 'B', name: 'Sud', electorate: 2000 },
    { code: 'C', name: 'Est', electorate: 3000 },
  ];
  const create = (id: string, body: Record<string, unknown>) =>
    engine.request('POST', '/v1/jurisdictions', {
      token: admin,
      body: { id, name: 'Région', electorate: 6000, minimumAge: 18, minimumAssurance: 'eidas1', districts, ...body },
    });
  const fields = (res: { body: { errors?: { field: string }[] } }) => res.body.errors?.map((e) => e.field);

  beforeAll(async () => {
    engine = await createTestEngine();
    admin = await engine.adminToken();
  });
  afterAll(() => engine.close());

  it('a table naming a district the jurisdiction does not have, or minCount above its number of districts', async () => {
    const unknown = await create('r-unknown', { rules: { agenda: { goal: { signatures: 10 }, districts: { each: { table: { A: 1, Z: 1 } } }, collectionDays: 30 } } });
    expect(unknown.status).toBe(400);
    expect(fields(unknown)).toEqual(['body.rules.agenda.districts.each.table.Z']);
    const tooMany = await create('r-too-many', { rules: { agenda: { goal: { signatures: 10 }, districts: { minCount: 4, each: { signatures: 1 } }, collectionDays: 30 } } });
    expect(tooMany.status).toBe(400);
    expect(fields(tooMany)).toEqual(['body.rules.agenda.districts.minCount']);
  });

  it('minCount above the number of districts the table gives a minimum: the districts left out of it can never count', async () => {
    const res = await create('r-table', { rules: { agenda: { goal: { signatures: 10 }, districts: { minCount: 3, each: { table: { A: 1, B: 1 } } }, collectionDays: 30 } } });
    expect(res.status).toBe(400);
    expect(fields(res)).toEqual(['body.rules.agenda.districts.minCount']);
    expect(res.body.errors[0].message).toContain('2');
    // Within the table's districts it is accepted, and a district left out of the table has no minimum of its own.
    expect((await create('r-table-ok', { rules: { agenda: { goal: { signatures: 10 }, districts: { minCount: 2, each: { table: { A: 1, B: 1 } } }, collectionDays: 30 } } })).status).toBe(201);
  });

  it('an empty table: a district rule with no minimum anywhere', async () => {
    const res = await create('r-empty', { rules: { referendum: { goal: { signatures: 10 }, districts: { each: { table: {} } }, collectionDays: 30 } } });
    expect(res.status).toBe(400);
    expect(fields(res)).toEqual(['body.rules.referendum.districts.each.table']);
  });

  it('a ratio minimum in a district with no registered voters: ceil(5 % × 0) is no signature, a district met by nobody', async () => {
    const ratio = { referendum: { goal: { signatures: 10 }, districts: { minCount: 2, each: { ratio: 0.05 } }, collectionDays: 30 } };
    const empty = [...districts, { code: 'D', name: 'Nouveau quartier', electorate: 0 }];
    const res = await create('r-ratio', { districts: empty, rules: ratio });
    expect(res.status).toBe(400);
    expect(fields(res)).toEqual(['body.districts.3.electorate']);
    expect(res.body.errors[0].message).toContain('"D"');
    // A count (or a table) is a minimum of its own, whatever the district's figure.
    expect((await create('r-count', { districts: empty, rules: { referendum: { ...ratio.referendum, districts: { minCount: 2, each: { signatures: 3 } } } } })).status).toBe(201);

    // Adding such a district later is refused as well, and the jurisdiction stays as it was.
    expect((await create('r-later', { rules: ratio })).status).toBe(201);
    const later = await engine.request('PATCH', '/v1/jurisdictions/r-later', { token: admin, body: { districts: empty } });
    expect(later.status).toBe(400);
    expect(fields(later)).toEqual(['body.districts.3.electorate']);
    expect((await engine.request('GET', '/v1/jurisdictions/r-later')).body.districts).toHaveLength(3);
  });

  it('no electorate for a ratio goal: a jurisdiction needs its registered voters', async () => {
    const zero = await create('r-zero', { electorate: 0, rules: { agenda: { goal: { ratio: 0.1 }, collectionDays: 30 } } });
    expect(zero.status).toBe(400);
    expect(fields(zero)).toEqual(['body.electorate']);
    const none = await engine.request('POST', '/v1/jurisdictions', {
      token: admin,
      body: { id: 'r-none', name: 'Région', minimumAge: 18, minimumAssurance: 'eidas1', rules: { agenda: { goal: { ratio: 0.1 }, collectionDays: 30 } } },
    });
    expect(none.status).toBe(400);
    expect(fields(none)).toEqual(['body.electorate']);
  });
});

/**
 * Certification turns an initiative into its official item (SPEC §1, §5): a council agenda item for
 * an `agenda` petition, a referendum question for a `referendum` initiative, each with a certificate.
 */
describe('from certified initiative to official item', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  let people = 0;
  const rules = {
    agenda: { goal: { signatures: 2 }, collectionDays: 60 },
    referendum: parisJurisdiction().rules.referendum,
  };
  const jwks = async () => createLocalJWKSet((await engine.request('GET', '/.well-known/jwks.json')).body);

  /** Opens a draft, signs it in these districts, closes it; returns the initiative and its signatures by district. */
  async function collected(body: Record<string, unknown>, districts: string[]) {
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    const id: string = draft.body.id;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    expect((await engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } })).status).toBe(200);
    const signatures: { id: string; district: string }[] = [];
    for (const district of districts) {
      const token = await engine.tokenFor({ givenNames: `Signataire${String.fromCharCode(65 + (people % 26))}${String.fromCharCode(65 + Math.floor(people / 26))}`, familyName: 'Officiel', birthdate: '1975-05-05' });
      people++;
      const signed = await engine.request('POST', `/v1/initiatives/${id}/signatures`, { token, body: { district, consent: true } });
      expect(signed.status).toBe(201);
      signatures.push({ id: signed.body.signature.id, district });
    }
    engine.clock.advance(3_600_000);
    expect((await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor })).status).toBe(200);
    return { id, signatures };
  }

  /** A full count: these signatures struck out, every other one valid; then completion. */
  async function fullCount(id: string, invalid: string[] = []) {
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    if (invalid.length) {
      const struck = await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, {
        token: clerk,
        body: { decisions: invalid.map((signatureId) => ({ signatureId, decision: 'invalid', reason: 'not a resident' })) },
      });
      expect(struck.status).toBe(200);
    }
    await decideRemainingValid(engine.request, id, clerk);
    const done = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: clerk });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    return done.body;
  }

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, sponsor } = await parisWithClerk(engine, { rules }));
  });
  afterAll(() => engine.close());

  it('an agenda petition has no ballot question, and is certified into a council agenda item under its title', async () => {
    const agenda = { ...REFERENDUM_DRAFT, kind: 'agenda', title: 'Un banc par rue', question: undefined };
    const withQuestion = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...agenda, question: 'Approuvez-vous les bancs ?' } });
    expect(withQuestion.status).toBe(400);
    expect(withQuestion.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.question']);
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: agenda });
    const edited = await engine.request('PATCH', `/v1/initiatives/${draft.body.id}`, { token: sponsor, body: { question: 'Approuvez-vous les bancs ?' } });
    expect(edited.status).toBe(400);
    expect(edited.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.question']);

    const { id } = await collected(agenda, ['75111', '75118']);
    const done = await fullCount(id);
    expect(done).toMatchObject({ outcome: 'certified', status: 'certified' });
    const item = (await engine.request('GET', `/v1/referendum-items/${done.referendumItemId}`)).body;
    expect(item).toMatchObject({ initiativeId: id, jurisdictionId: 'paris', kind: 'agenda', title: 'Un banc par rue', question: null, validSignatures: 2, method: 'full' });
    const { payload } = await jwtVerify(item.certificate, await jwks(), { algorithms: ['EdDSA'], typ: 'certificate+jwt' });
    const { opensAt, closesAt } = (await engine.request('GET', `/v1/initiatives/${id}`)).body;
    expect(payload.initiative).toEqual({ id, kind: 'agenda', title: 'Un banc par rue', question: null, opensAt, closesAt });
    const page = await engine.request('GET', `/results/${item.id}`);
    expect(page.body).toContain('inscription à l’ordre du jour du conseil');
    expect(page.body).not.toContain('class="question"');
  });
  it('a referendum initiative becomes a referendum question; its certificate holds what SPEC §5 lists', async () => {
    const { id } = await collected(REFERENDUM_DRAFT, ['75111', '75111', '75118', '75118', '75120']);
    const { rules: frozen, opensAt, closesAt } = (await engine.request('GET', `/v1/initiatives/${id}`)).body;
    // Opened, then closed by its sponsor an hour later: the period the certificate states.
    expect(Date.parse(closesAt) - Date.parse(opensAt)).toBe(3_600_000);
    const done = await fullCount(id);
    expect(done).toMatchObject({ outcome: 'certified', goalMet: true });
    const item = (await engine.request('GET', `/v1/referendum-items/${done.referendumItemId}`)).body;
    expect(item).toMatchObject({ kind: 'referendum', title: REFERENDUM_DRAFT.title, question: REFERENDUM_DRAFT.question, validSignatures: 5, method: 'full' });
    expect((await engine.request('GET', '/v1/referendum-items?jurisdiction=paris')).body.items.map((i: { id: string }) => i.id)).toContain(item.id);

    const { payload } = await jwtVerify(item.certificate, await jwks(), { algorithms: ['EdDSA'], typ: 'certificate+jwt', issuer: PUBLIC_URL });
    const log = (await engine.request('GET', `/v1/initiatives/${id}/log`)).body;
    expect(payload).toMatchObject({
      referendumItem: item.id,
      initiative: { id, kind: 'referendum', title: REFERENDUM_DRAFT.title, question: REFERENDUM_DRAFT.question, opensAt, closesAt },
      jurisdiction: { id: 'paris', name: 'Ville de Paris', electorate: parisJurisdiction().electorate },
      rules: frozen,
      counts: { raw: 5, valid: 5, verified: 5 },
      criteria: [
        { kind: 'goal', required: 5, current: 5, met: true },
        { kind: 'districts', required: 2, current: 2, met: true },
      ],
      method: 'full',
      seed: null,
      sample: null,
      log: { size: 5, root: log.root },
      certifiedAt: item.certifiedAt,
    });
    const districts = (payload.counts as { districts: { code: string }[] }).districts;
    expect(districts).toHaveLength(20);
    expect(districts.filter((d) => ['75111', '75118', '75120'].includes(d.code))).toEqual([
      { code: '75111', raw: 2, valid: 2, required: 2, met: true },
      { code: '75118', raw: 2, valid: 2, required: 2, met: true },
      { code: '75120', raw: 1, valid: 1, required: 2, met: false },
    ]);
    expect(item.districts).toEqual(districts);
  });

  it('`npm run verify-certificate` checks a referendum item against its certificate: a count changed in the item is caught', async () => {
    const item = (await engine.request('GET', '/v1/referendum-items?jurisdiction=paris')).body.items.find((i: { kind: string }) => i.kind === 'referendum');
    const dir = await mkdtemp(join(tmpdir(), 'certificate-'));
    const keys = join(dir, 'jwks.json');
    await writeFile(keys, JSON.stringify((await engine.request('GET', '/.well-known/jwks.json')).body));
    const run = async (published: unknown) => {
      const file = join(dir, 'item.json');
      await writeFile(file, JSON.stringify(published));
      const out: string[] = [];
      const err: string[] = [];
      const code = await verifyCertificateCli([file, '--jwks', keys], (l) => out.push(l), (l) => err.push(l));
      return { code, out, err };
    };
    const genuine = await run(item);
    expect(genuine.err).toEqual([]);
    expect(genuine.code).toBe(0);
    const { opensAt, closesAt } = (await engine.request('GET', `/v1/initiatives/${item.initiativeId}`)).body;
    // It prints what the certificate states, the collection period among it.
    expect(JSON.parse(genuine.out.slice(1).join('\n'))).toMatchObject({ referendumItem: item.id, counts: { valid: 5 }, initiative: { opensAt, closesAt } });

    const inflated = await run({ ...item, validSignatures: 50_000, question: 'Approuvez-vous autre chose ?' });
    expect(inflated.code).toBe(1);
    expect(inflated.out).toEqual([]);
    expect(inflated.err.join('\n')).toMatch(/does NOT match/);
    expect(inflated.err.join('\n')).toContain('validSignatures is 50000 in the item but 5 in the certificate');
    expect(inflated.err.join('\n')).toContain('question is');
    const moved = structuredClone(item);
    moved.districts[10].valid = 40;
    expect((await run(moved)).err.at(-1)).toContain("districts differ from the certificate's");
    // The bare certificate has nothing else to agree with.
    await writeFile(join(dir, 'certificate.jws'), item.certificate);
    expect(await verifyCertificateCli([join(dir, 'certificate.jws'), '--jwks', keys], () => {}, () => {})).toBe(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('district rules are judged again on the verified count: a district whose signatures were struck out falls short, and the initiative is insufficient', async () => {
    const { id, signatures } = await collected(REFERENDUM_DRAFT, ['75111', '75111', '75111', '75118', '75118', '75120']);
    // During collection: 6 of 5, and two arrondissements at their minimum of 2.
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body).toMatchObject({
      goalMet: true,
      criteria: [
        { kind: 'goal', required: 5, current: 6, met: true },
        { kind: 'districts', required: 2, current: 2, met: true },
      ],
    });
    const struck = signatures.find((s) => s.district === '75118')!.id;
    const done = await fullCount(id, [struck]);
    expect(done).toMatchObject({
      outcome: 'insufficient',
      status: 'insufficient',
      goalMet: false,
      referendumItemId: null,
      reason: 'districts meeting their minimum: 1 of 2 required',
      criteria: [
        { kind: 'goal', required: 5, current: 5, met: true },
        { kind: 'districts', required: 2, current: 1, met: false },
      ],
    });
    expect(done.counts.districts.find((d: { code: string }) => d.code === '75118')).toEqual({ code: '75118', raw: 2, valid: 1, required: 2, met: false });
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.districts.find((d: { code: string }) => d.code === '75118')).toMatchObject({ signatures: 1, required: 2, met: false });
  });

  it('the jurisdiction’s later change of default rules stays away from an initiative already open: goal, districts, milestones and closeWhenMet were frozen at opening', async () => {
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    const id: string = draft.body.id;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    await engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } });
    const changed = await engine.request('PATCH', '/v1/jurisdictions/paris', {
      token: clerk,
      body: { rules: { ...rules, referendum: { goal: { signatures: 3 }, collectionDays: 10, closeWhenMet: true, milestones: [{ signatures: 1, label: 'premier soutien' }] } } },
    });
    expect(changed.status).toBe(200);
    const before = await engine.request('GET', `/v1/initiatives/${id}`);
    expect(before.body.rules).toEqual({ ...parisJurisdiction().rules.referendum, closeWhenMet: false });

    for (let i = 0; i < 4; i++) {
      const token = await engine.tokenFor({ givenNames: `Fige${String.fromCharCode(65 + i)}`, familyName: 'Regle', birthdate: '1966-06-06' });
      expect((await engine.request('POST', `/v1/initiatives/${id}/signatures`, { token, body: { district: '75111', consent: true } })).status).toBe(201);
    }
    await engine.scheduler.tick();
    const progress = (await engine.request('GET', `/v1/initiatives/${id}/progress`)).body;
    expect(progress).toMatchObject({
      status: 'open',
      goalMet: false,
      criteria: [
        { kind: 'goal', required: 5, current: 4, met: false },
        { kind: 'districts', required: 2, current: 1, met: false },
      ],
      milestones: [{ signatures: 3, label: 'premier palier', reached: true }],
    });
    const events = (await engine.db.db.select().from(outbox).where(eq(outbox.initiativeId, id))).map((e) => e.type).filter((t) => t.endsWith('_reached'));
    expect(events).toEqual(['initiative.milestone_reached']);

    engine.clock.advance(3_600_000);
    expect((await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor })).status).toBe(200);
    const done = await fullCount(id);
    expect(done).toMatchObject({ outcome: 'insufficient', reason: 'valid signatures: 4 of 5 required; districts meeting their minimum: 1 of 2 required' });
  });
});
