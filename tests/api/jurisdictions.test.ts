import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, jurisdictions } from '../../src/db/schema';
import { createTestEngine, type TestEngine } from '../support/engine';
import { CLERK_SUBJECT, openParisInitiative } from '../support/identity';
import { PARIS_DISTRICTS, parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';

/** SPEC: the clerk configures the jurisdiction. */
describe('a clerk changes the jurisdiction’s configuration', () => {
  let engine: TestEngine;
  let clerk: string;
  let initiativeId: string;
  const patch = (body: unknown, token = clerk, id = 'paris') => engine.request('PATCH', `/v1/jurisdictions/${id}`, { token, body });
  const sign = async (person: { givenNames: string; familyName: string; birthdate: string }, district = '75111') =>
    engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(person), body: { district, consent: true } });

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, initiativeId } = await openParisInitiative(engine));
  });
  afterAll(() => engine.close());

  it('raises the minimum age and adds a district: the next signatures follow the new settings, and the audit trail says what changed', async () => {
    expect((await sign({ givenNames: 'Zoé', familyName: 'Cadet', birthdate: '2009-06-01' })).status).toBe(201); // 17 on 2027-01-15
    const rules = parisJurisdiction().rules;
    const changed = await patch({
      minimumAge: 18,
      districts: [...PARIS_DISTRICTS, { code: '75121', name: 'Paris Centre (essai)', electorate: 0 }],
      rules: { ...rules, referendum: { ...rules.referendum, goal: { signatures: 50 } } },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id: 'paris', minimumAge: 18 });
    expect(changed.body.districts).toHaveLength(21);
    expect((await engine.request('GET', '/v1/jurisdictions/paris')).body.minimumAge).toBe(18);

    const young = await sign({ givenNames: 'Hugo', familyName: 'Cadet', birthdate: '2009-06-01' });
    expect(young.status).toBe(403);
    expect(young.body.type).toBe('/problems/ineligible/age');
    expect((await sign({ givenNames: 'Paul', familyName: 'Neuf', birthdate: '1980-01-01' }, '75121')).status).toBe(201);
    // The new district is not in the figures the initiative opened with, but its signature is listed with the rest.
    const progress = (await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`, { headers: { 'cache-control': 'no-cache' } })).body;
    expect(progress.districts.at(-1)).toEqual({ code: '75121', name: 'Paris Centre (essai)', signatures: 1, required: null, met: null });
    expect(progress.districts.reduce((sum: number, d: { signatures: number }) => sum + d.signatures, 0)).toBe(progress.signatures);
    // The open initiative keeps the rules it was opened with; new default rules are for the next ones.
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}`)).body.rules.goal).toEqual({ signatures: 5 });
    expect((await engine.request('GET', '/v1/jurisdictions/paris')).body.rules.referendum.goal).toEqual({ signatures: 50 });

    const [entry] = await engine.db.db.select().from(auditLog).where(eq(auditLog.action, 'jurisdiction.updated'));
    expect(entry).toMatchObject({
      actor: CLERK_SUBJECT,
      jurisdictionId: 'paris',
      details: {
        changed: ['districts', 'minimumAge', 'rules'],
        before: { minimumAge: 16, rules: { referendum: { goal: { signatures: 5 } } } },
        after: { minimumAge: 18, rules: { referendum: { goal: { signatures: 50 } } } },
        districts: { added: [{ code: '75121', name: 'Paris Centre (essai)', electorate: 0 }], removed: [], changed: [], reordered: false },
      },
    });
  });

  it('the audit trail keeps what a change replaced: the rules before and after in full, and each district added, removed or changed with its figures', async () => {
    const admin = await engine.adminToken();
    const districts = [
      { code: 'R1', name: 'Rennes Centre', electorate: 30_000 },
      { code: 'R2', name: 'Rennes Nord', electorate: 40_000 },
      { code: 'R3', name: 'Rennes Sud', electorate: 50_000 },
    ];
    const rules = { referendum: { goal: { ratio: 0.1 }, districts: { minCount: 2, each: { table: { R1: 3000, R2: 4000 } } }, collectionDays: 270 } };
    expect((await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ id: 'rennes', name: 'Ville de Rennes', electorate: 150_000, districts, rules }) })).status).toBe(201);
    await engine.request('POST', '/v1/jurisdictions/rennes/clerks', { token: admin, body: { subject: CLERK_SUBJECT } });
    const rulesBefore = (await engine.request('GET', '/v1/jurisdictions/rennes')).body.rules;

    const newRules = { referendum: { goal: { signatures: 12_000 }, districts: { minCount: 2, each: { table: { R1: 2500, R4: 1000 } } }, collectionDays: 180 } };
    const changed = await patch(
      {
        electorate: 160_000,
        minimumAge: 18,
        districts: [
          { code: 'R1', name: 'Rennes Centre-ville', electorate: 30_000 },
          { code: 'R2', name: 'Rennes Nord', electorate: 42_500 },
          { code: 'R4', name: 'Rennes Est', electorate: 20_000 },
        ],
        rules: newRules,
      },
      clerk,
      'rennes',
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const rulesAfter = changed.body.rules;

    // As a clerk reads it from the trail.
    const audit = await engine.request('GET', '/v1/audit?jurisdiction=rennes&action=jurisdiction.updated', { token: clerk });
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0].details).toEqual({
      changed: ['districts', 'electorate', 'minimumAge', 'rules'],
      before: { electorate: 150_000, minimumAge: 16, rules: rulesBefore },
      after: { electorate: 160_000, minimumAge: 18, rules: rulesAfter },
      districts: {
        added: [{ code: 'R4', name: 'Rennes Est', electorate: 20_000 }],
        removed: [{ code: 'R3', name: 'Rennes Sud', electorate: 50_000 }],
        changed: [
          { code: 'R1', before: { name: 'Rennes Centre' }, after: { name: 'Rennes Centre-ville' } },
          { code: 'R2', before: { electorate: 40_000 }, after: { electorate: 42_500 } },
        ],
        reordered: false,
      },
    });
    // The earlier threshold rules, district minimums included, can be read back from the trail.
    expect(rulesBefore.referendum).toMatchObject({ goal: { ratio: 0.1 }, districts: { each: { table: { R1: 3000, R2: 4000 } } }, collectionDays: 270 });
    expect(rulesAfter.referendum).toMatchObject(newRules.referendum);
  });

  it('a change of a few of thousands of districts makes a small audit entry; replacing them all records every one, old and new', async () => {
    const admin = await engine.adminToken();
    const communes = Array.from({ length: 3000 }, (_, i) => ({ code: `C${String(i).padStart(5, '0')}`, name: `Commune ${i}`, electorate: 100 + i }));
    const electorate = communes.reduce((sum, d) => sum + d.electorate, 0);
    const rules = { referendum: { goal: { signatures: 40 }, collectionDays: 270 } };
    expect((await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ id: 'bretagne', name: 'Bretagne', electorate, districts: communes, rules }) })).status).toBe(201);
    const latest = async () => (await engine.request('GET', '/v1/audit?jurisdiction=bretagne&action=jurisdiction.updated&limit=1', { token: admin })).body.items[0];

    const renamed = communes.map((d, i) => (i === 1234 ? { ...d, name: 'Commune nouvelle' } : d));
    expect((await patch({ districts: renamed }, admin, 'bretagne')).status).toBe(200);
    const small = await latest();
    expect(small.details).toEqual({
      changed: ['districts'],
      before: {},
      after: {},
      districts: { added: [], removed: [], changed: [{ code: 'C01234', before: { name: 'Commune 1234' }, after: { name: 'Commune nouvelle' } }], reordered: false },
    });
    expect(JSON.stringify(small.details).length).toBeLessThan(500);

    const replaced = communes.map((d, i) => ({ code: `N${String(i).padStart(5, '0')}`, name: `Nouvelle ${i}`, electorate: d.electorate }));
    expect((await patch({ districts: replaced }, admin, 'bretagne')).status).toBe(200);
    const { districts } = (await latest()).details;
    expect(districts.added).toEqual(replaced);
    expect(districts.removed).toEqual(renamed);
    expect(districts.changed).toEqual([]);
  });

  it('a new electorate figure is for initiatives opened from now on: one opened before keeps the goal it opened with', async () => {
    const rules = parisJurisdiction().rules;
    // 1 in 200,000 of Paris's 2,103,778 voters: 11 signatures.
    expect((await patch({ rules: { ...rules, referendum: { ...rules.referendum, goal: { ratio: 0.000005 } } } })).status).toBe(200);
    const { initiativeId: opened } = await openParisInitiative(engine, { createJurisdiction: false });
    const goal = async () => (await engine.request('GET', `/v1/initiatives/${opened}/progress`)).body.criteria.find((c: { kind: string }) => c.kind === 'goal').required;
    expect(await goal()).toBe(11);

    const grown = await patch({ electorate: 4_000_000 });
    expect(grown.status).toBe(200);
    expect(grown.body.electorate).toBe(4_000_000);
    expect(await goal()).toBe(11);
    const { initiativeId: later } = await openParisInitiative(engine, { createJurisdiction: false });
    expect((await engine.request('GET', `/v1/initiatives/${later}/progress`)).body.criteria.find((c: { kind: string }) => c.kind === 'goal').required).toBe(20);
  });

  it('refuses to remove a district once initiatives have been opened, and to require a roll that is not imported', async () => {
    const withoutOne = await patch({ districts: PARIS_DISTRICTS });
    expect(withoutOne.status).toBe(409);
    expect(withoutOne.body).toMatchObject({ type: '/problems/district-in-use' });
    expect(withoutOne.body.detail).toContain('"75121"');
    const roll = await patch({ requireRoll: true });
    expect(roll.status).toBe(409);
    expect(roll.body.type).toBe('/problems/no-roll');
    expect((await patch({ name: 'Ville de Paris (Conseil de Paris)' })).status).toBe(200);
  });

  it('checks the result as at creation, naming each field, and writes nothing', async () => {
    expect((await patch({})).status).toBe(400);
    const unknown = await patch({ id: 'lutece' });
    expect(unknown.status).toBe(400);
    const bad = await patch({
      timeZone: 'Mars/Olympus',
      rules: { referendum: { goal: { signatures: 5 }, districts: { minCount: 1, each: { table: { '99999': 3 } } }, collectionDays: 30 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.timeZone']);
    const table = await patch({ rules: { referendum: { goal: { signatures: 5 }, districts: { minCount: 1, each: { table: { '99999': 3 } } }, collectionDays: 30 } } });
    expect(table.status).toBe(400);
    expect(table.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.rules.referendum.districts.each.table.99999']);
    expect((await engine.request('GET', '/v1/jurisdictions/paris')).body.name).toBe('Ville de Paris (Conseil de Paris)');
  });

  it('refuses districts holding more registered voters than the jurisdiction, at creation and on a change, naming the field given; unknown (0) electorates count for nothing', async () => {
    const admin = await engine.adminToken();
    const bourg = (districts: { code: string; name: string; electorate: number }[], id = 'bourg') =>
      engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ id, name: 'Bourg', electorate: 100, districts, rules: { agenda: { goal: { signatures: 5 }, collectionDays: 30 } } }) });
    const twice = await bourg([
      { code: 'N', name: 'Nord', electorate: 500 },
      { code: 'S', name: 'Sud', electorate: 500 },
    ]);
    expect(twice.status).toBe(400);
    expect(twice.body.errors).toEqual([expect.objectContaining({ field: 'body.districts' })]);
    expect(twice.body.errors[0].message).toContain('1000');
    expect(twice.body.errors[0].message).toContain('(100)');
    expect((await engine.request('GET', '/v1/jurisdictions/bourg')).status).toBe(404);
    // One district's electorate not known (0): the other's 80 fit in 100; 80 and 30 known do not.
    const partial = await bourg([
      { code: 'N', name: 'Nord', electorate: 80 },
      { code: 'S', name: 'Sud', electorate: 0 },
    ]);
    expect(partial.status).toBe(201);
    const partialTooMany = await bourg(
      [
        { code: 'N', name: 'Nord', electorate: 80 },
        { code: 'S', name: 'Sud', electorate: 30 },
        { code: 'E', name: 'Est', electorate: 0 },
      ],
      'bourg-2',
    );
    expect(partialTooMany.status).toBe(400);
    expect(partialTooMany.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.districts']);
    // Exactly the whole is fine.
    expect((await bourg([{ code: 'N', name: 'Nord', electorate: 60 }, { code: 'S', name: 'Sud', electorate: 40 }], 'bourg-3')).status).toBe(201);

    const shrunk = await patch({ electorate: 50 }, admin, 'bourg');
    expect(shrunk.status).toBe(400);
    expect(shrunk.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.electorate']);
    const grown = await patch({ districts: [{ code: 'N', name: 'Nord', electorate: 80 }, { code: 'S', name: 'Sud', electorate: 21 }] }, admin, 'bourg');
    expect(grown.status).toBe(400);
    expect(grown.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.districts']);
    const after = (await engine.request('GET', '/v1/jurisdictions/bourg')).body;
    expect(after.electorate).toBe(100);
    expect(after.districts.map((d: { electorate: number }) => d.electorate)).toEqual([80, 0]);
    // Both changed together, consistently: taken.
    expect((await patch({ electorate: 200, districts: [{ code: 'N', name: 'Nord', electorate: 80 }, { code: 'S', name: 'Sud', electorate: 120 }] }, admin, 'bourg')).status).toBe(200);

    // A jurisdiction configured before the check keeps its other settings changeable: the figures are checked when a change gives them.
    await engine.db.db.update(jurisdictions).set({ electorate: 10 }).where(eq(jurisdictions.id, 'bourg'));
    expect((await patch({ name: 'Bourg-en-Bresse' }, admin, 'bourg')).status).toBe(200);
    expect((await patch({ electorate: 20 }, admin, 'bourg')).status).toBe(400);
  });

  it('is for the clerks of this jurisdiction and administrators only', async () => {
    const lyon = await engine.request('POST', '/v1/jurisdictions', { token: await engine.adminToken(), body: parisJurisdiction({ id: 'lyon', name: 'Ville de Lyon' }) });
    expect(lyon.status).toBe(201);
    expect((await patch({ name: 'Lyon' }, clerk, 'lyon')).status).toBe(403);
    expect((await patch({ name: 'Paris' }, await engine.tokenFor({ givenNames: 'Eve', familyName: 'Curieuse', birthdate: '1990-01-01' }))).status).toBe(403);
    expect((await engine.request('PATCH', '/v1/jurisdictions/paris', { body: { name: 'Paris' } })).status).toBe(401);
    expect((await patch({ name: 'Atlantide' }, clerk, 'atlantis')).status).toBe(404);
    // Nothing counts against Lyon's figures yet: an administrator may change them.
    const admin = await patch({ electorate: 2_200_000 }, await engine.adminToken(), 'lyon');
    expect(admin.status).toBe(200);
    expect(admin.body.electorate).toBe(2_200_000);
  });

  it('stops taking a kind of initiative only once none of that kind is drafted or awaits review; one rejected before keeps its page', async () => {
    const admin = await engine.adminToken();
    expect((await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ id: 'nantes', name: 'Ville de Nantes', committeeMinimum: 0 }) })).status).toBe(201);
    await engine.request('POST', '/v1/jurisdictions/nantes/clerks', { token: admin, body: { subject: CLERK_SUBJECT } });
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, jurisdictionId: 'nantes' } });
    expect(draft.status).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor })).status).toBe(200);
    const agendaOnly = { rules: { agenda: parisJurisdiction().rules.agenda } };

    const refused = await patch(agendaOnly, clerk, 'nantes');
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('/problems/kind-in-use');
    expect(Object.keys((await engine.request('GET', '/v1/jurisdictions/nantes')).body.rules).sort()).toEqual(['agenda', 'referendum']);

    const rejected = await engine.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: clerk, body: { decision: 'reject', reason: 'Hors compétence' } });
    expect(rejected.status).toBe(200);
    expect((await patch(agendaOnly, clerk, 'nantes')).status).toBe(200);
    // Its public page and progress still answer, with the goal it was judged against.
    const page = await engine.request('GET', `/v1/initiatives/${draft.body.id}`);
    expect(page.status).toBe(200);
    const progress = await engine.request('GET', `/v1/initiatives/${draft.body.id}/progress`);
    expect(progress.status).toBe(200);
    expect(progress.body.criteria[0]).toMatchObject({ required: parisJurisdiction().rules.referendum.goal.signatures });
    expect((await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, jurisdictionId: 'nantes' } })).status).toBe(400);
  });

  it('an administrator lists the clerks and revokes one: the role goes at once, for a session already open too, and the audit trail says so', async () => {
    const admin = await engine.adminToken();
    await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'leaving-clerk' } });
    const leaving = await engine.subjectToken('leaving-clerk');
    const session = await engine.request('POST', '/v1/session', { token: leaving });
    expect(session.status).toBe(201);
    const listed = await engine.request('GET', '/v1/jurisdictions/paris/clerks', { token: clerk });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((c: { subject: string }) => c.subject)).toEqual([CLERK_SUBJECT, 'leaving-clerk']);
    expect(listed.body.items[1]).toMatchObject({ grantedBy: 'admin-subject' });
    expect((await engine.request('GET', '/v1/audit?jurisdiction=paris&limit=1', { token: session.body.token })).status).toBe(200);

    expect((await engine.request('DELETE', '/v1/jurisdictions/paris/clerks/leaving-clerk', { token: clerk })).status).toBe(403);
    expect((await engine.request('DELETE', '/v1/jurisdictions/paris/clerks/leaving-clerk', { token: admin })).status).toBe(204);
    expect((await engine.request('DELETE', '/v1/jurisdictions/paris/clerks/leaving-clerk', { token: admin })).status).toBe(404);

    expect((await engine.request('GET', '/v1/audit?jurisdiction=paris&limit=1', { token: session.body.token })).status).toBe(403);
    expect((await engine.request('PATCH', '/v1/jurisdictions/paris', { token: leaving, body: { name: 'Paris' } })).status).toBe(403);
    expect((await engine.request('GET', '/v1/jurisdictions/paris/clerks', { token: admin })).body.items.map((c: { subject: string }) => c.subject)).toEqual([CLERK_SUBJECT]);
    const [entry] = await engine.db.db.select().from(auditLog).where(eq(auditLog.action, 'clerk.revoked'));
    expect(entry).toMatchObject({ actor: 'admin-subject', jurisdictionId: 'paris', details: { subject: 'leaving-clerk', grantedBy: 'admin-subject' } });
  });
});
