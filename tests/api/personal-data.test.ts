import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, initiatives, signatures } from '../../src/db/schema';
import { DEFAULT_RETENTION, openPersonalData, purgePersonalData, sealPersonalData } from '../../src/features/personal-data/service';
import { ConfigError, loadConfig } from '../../src/platform/config';
import { generateKeyMaterial, loadEngineKeys, type KeyMaterial } from '../../src/platform/keys';
import { createTestEngine, holdSealing, type TestEngine } from '../support/engine';
import { CLERK_SUBJECT, closedWithSignatures, openParisInitiative, parisWithClerk, putRoll, rollCsv } from '../support/identity';
import { PARISIANS } from '../support/paris';
import { browserRequests } from '../web/browser-requests';

const people = {
  ...PARISIANS,
  // Keyed in on paper only.
  marguerite: { givenNames: 'Marguerite', familyName: 'Yourcenar', birthdate: '1953-06-08' },
  // Refused on paper (under age): must leave nothing behind either.
  hugo: { givenNames: 'Hugo', familyName: 'Petitjean', birthdate: '2012-05-05' },
};
const DAY = 86_400_000;

/** Rows of a raw query: PGlite answers { rows }, postgres.js an array. */
const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: T[] }).rows);

const districtOf: Record<string, string> = { Dupont: '75111', Benali: '75118', Martin: '75118', 'de La Fontaine': '75111', Rossi: '75120' };
const rollOf = (list: (typeof people)[keyof typeof people][]) =>
  rollCsv(list.map((p) => [p.familyName, p.givenNames, p.birthdate, districtOf[p.familyName] ?? '75101']));

describe('personal data: sealed at signing, read by clerks only (audited), destroyed on schedule', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  let initiativeId: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, sponsor, initiativeId } = await openParisInitiative(engine, { requireRoll: true }));
  });
  afterAll(() => engine.close());

  it('seals with JWE dir + A256GCM under the key id, and opens back', async () => {
    const jwe = await sealPersonalData(engine.deps.keys, people.elodie);
    const header = JSON.parse(Buffer.from(jwe.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'dir', enc: 'A256GCM', kid: engine.deps.keys.pii.kid });
    expect(jwe).not.toContain('Dupont');
    expect(await openPersonalData(engine.deps.keys, jwe)).toEqual(people.elodie);
    const otherKeys = await loadEngineKeys(await generateKeyMaterial('t1'));
    await expect(openPersonalData(otherKeys, jwe)).rejects.toThrow();
  });

  let signatureIds: Record<string, string> = {};

  it('a full story: roll, online and paper signatures, certification', async () => {
    const roll = await putRoll(engine, clerk, rollOf(Object.values(people)));
    expect(roll.status).toBe(200);
    for (const [who, district] of [['elodie', '75111'], ['karim', '75118'], ['lea', '75118'], ['jean', '75111'], ['sofia', '75120']] as const) {
      const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(people[who]), body: { district, consent: true } });
      expect(res.status, who).toBe(201);
      signatureIds[who] = res.body.signature.id;
    }
    const paper = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
      token: clerk,
      body: {
        entries: [
          { ...people.marguerite, district: '75101', sheet: 'F-1', collector: 'C-1' },
          { ...people.hugo, district: '75101', sheet: 'F-1', collector: 'C-1' },
          { ...people.elodie, district: '75111', sheet: 'F-1', collector: 'C-1' },
        ],
      },
    });
    expect(paper.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'ineligible', 'duplicate']);
    signatureIds.marguerite = paper.body.results[0].signatureId;
    await engine.request('GET', `/v1/initiatives/${initiativeId}/paper-signatures/anomalies`, { token: clerk });

    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor })).status).toBe(200);
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    // The scheduler checks the signatures against the roll.
    await engine.scheduler.tick();
    const done = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: clerk });
    expect(done.status).toBe(200);
    expect(done.body.outcome ?? done.body.status).toMatch(/certified/);
    await engine.scheduler.tick();
  });

  it('a clerk of the jurisdiction reads a signer’s personal data; each read is audited with the clerk’s subject', async () => {
    const path = `/v1/initiatives/${initiativeId}/signatures/${signatureIds.marguerite}/personal-data`;
    const citizen = await engine.request('GET', path, { token: await engine.tokenFor(people.karim) });
    expect(citizen.status).toBe(403);
    const other = await engine.request('GET', path, { token: await engine.subjectToken('clerk-of-lyon') });
    expect(other.status).toBe(403);

    const res = await engine.request('GET', path, { token: clerk });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ signatureId: signatureIds.marguerite, ...people.marguerite });
    expect(res.headers.get('cache-control')).toBe('no-store');

    const reads = await engine.db.db.select().from(auditLog).where(eq(auditLog.action, 'personal-data.read'));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ actor: 'clerk-of-paris', initiativeId, details: { signatures: [signatureIds.marguerite], destroyed: 0 } });
  });

  it('no name or birth date of the test identities is in clear in any text, bytea or jsonb column, nor in the logs', async () => {
    const columns = await engine.db.db.execute(sql`
      select table_name, column_name, data_type from information_schema.columns
      where table_schema = 'public' and data_type in ('text', 'bytea', 'jsonb', 'character varying', 'json')`);
    const rows = rowsOf<{ table_name: string; column_name: string; data_type: string }>(columns);
    expect(rows.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(expect.arrayContaining(['signatures.personal_data', 'roll_entries.roll_hash', 'audit_log.details', 'log_entries.data']));

    const needles: string[] = [];
    for (const p of Object.values(people)) {
      needles.push(p.familyName, p.givenNames.split(' ')[0]!, p.birthdate, p.birthdate.split('-').reverse().join('/'));
      needles.push(p.familyName.toUpperCase().normalize('NFKD').replace(/\p{M}/gu, '').replace(/[^A-Z]/g, ''));
    }
    const found: string[] = [];
    for (const column of rows) {
      const value = column.data_type === 'bytea' ? sql`encode(${sql.identifier(column.column_name)}, 'escape')` : sql`${sql.identifier(column.column_name)}::text`;
      const result = await engine.db.db.execute(sql`select ${value} as v from ${sql.identifier(column.table_name)}`);
      for (const { v } of rowsOf<{ v: string | null }>(result)) {
        if (!v) continue;
        const folded = v.toLowerCase();
        for (const needle of needles) if (folded.includes(needle.toLowerCase())) found.push(`${column.table_name}.${column.column_name}: ${needle}`);
      }
    }
    expect(found).toEqual([]);
    const logs = engine.logLines.join('\n').toLowerCase();
    expect(needles.filter((n) => logs.includes(n.toLowerCase()))).toEqual([]);
  });

  it('is destroyed 3 months after certification: gone from the table, not just flagged', async () => {
    const held = async () =>
      (await engine.db.db.select({ id: signatures.id, personalData: signatures.personalData, sheet: signatures.sheet }).from(signatures).where(eq(signatures.initiativeId, initiativeId)));
    expect((await held()).every((s) => s.personalData !== null)).toBe(true);

    engine.clock.advance(85 * DAY);
    await engine.scheduler.tick();
    expect((await held()).filter((s) => s.personalData !== null)).toHaveLength(6);

    engine.clock.advance(10 * DAY);
    await engine.scheduler.tick();
    const after = await held();
    expect(after).toHaveLength(6);
    expect(after.filter((s) => s.personalData !== null)).toEqual([]);
    const [count] = await engine.db.db.select({ n: sql<number>`count(*)::int` }).from(signatures).where(and(eq(signatures.initiativeId, initiativeId), sql`personal_data is not null`));
    expect(count!.n).toBe(0);
    // The paper form's references are not the signer's data: they stay for the fraud analysis.
    expect(after.find((s) => s.id === signatureIds.marguerite)!.sheet).toBe('F-1');

    const destroyed = await engine.db.db.select().from(auditLog).where(eq(auditLog.action, 'personal-data.destroyed'));
    expect(destroyed).toHaveLength(1);
    expect(destroyed[0]!.details).toMatchObject({ signatures: 6, status: 'certified' });

    const read = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/${signatureIds.elodie}/personal-data`, { token: clerk });
    expect(read.status).toBe(409);
    expect(read.body.type).toBe('/problems/personal-data-destroyed');
  });

  it('is destroyed 1 month after the sponsor withdraws the initiative; the periods are configurable', async () => {
    const second = await openParisInitiative(engine, { createJurisdiction: false });
    const signed = await engine.request('POST', `/v1/initiatives/${second.initiativeId}/signatures`, { token: await engine.tokenFor(people.karim), body: { district: '75118', consent: true } });
    expect(signed.status).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${second.initiativeId}/withdraw`, { token: second.sponsor, body: { reason: 'fusion' } })).status).toBe(200);

    const personalData = async () => (await engine.db.db.select().from(signatures).where(eq(signatures.initiativeId, second.initiativeId)))[0]!.personalData;
    engine.deps.config.retention = { afterResultMonths: 3, afterWithdrawalMonths: 2 };
    engine.clock.advance(40 * DAY);
    await engine.scheduler.tick();
    expect(await personalData()).not.toBeNull();

    engine.deps.config.retention = undefined;
    await engine.scheduler.tick();
    expect(await personalData()).toBeNull();
  });
});

describe('a closed initiative that nobody verifies', () => {
  let engine: TestEngine;
  let clerk: string;
  // One online and one paper signature: below its goal (5 signatures, 2 in each of 2 districts).
  let below: string;
  // Five signatures in three districts: its goal is reached, the clerks have to verify it.
  let met: string;
  let elodieBelow: string;

  const personalData = async (initiativeId: string) =>
    (await engine.db.db.select({ p: signatures.personalData }).from(signatures).where(eq(signatures.initiativeId, initiativeId))).map((s) => s.p);
  const destructions = (initiativeId: string) =>
    engine.db.db.select().from(auditLog).where(and(eq(auditLog.initiativeId, initiativeId), eq(auditLog.action, 'personal-data.destroyed')));
  const sign = async (initiativeId: string, who: keyof typeof PARISIANS, district: string) => {
    const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(people[who]), body: { district, consent: true } });
    expect(res.status, who).toBe(201);
    return res.body.signature.id as string;
  };
  const keyIn = (initiativeId: string, entries: Record<string, string>[]) =>
    engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: clerk, body: { entries } });

  beforeAll(async () => {
    engine = await createTestEngine();
    let sponsor: string;
    ({ clerk, sponsor, initiativeId: below } = await openParisInitiative(engine));
    ({ initiativeId: met } = await openParisInitiative(engine, { createJurisdiction: false }));
    elodieBelow = await sign(below, 'elodie', '75111');
    expect((await keyIn(below, [{ ...people.marguerite, district: '75101', sheet: 'F-1', collector: 'C-1' }])).body.accepted).toBe(1);
    for (const [who, district] of [['elodie', '75111'], ['jean', '75111'], ['karim', '75118'], ['lea', '75118'], ['sofia', '75120']] as const) await sign(met, who, district);
    for (const id of [below, met]) expect((await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor })).status).toBe(200);
    await engine.scheduler.tick();
  });
  afterAll(() => engine.close());

  it('below its goal, loses its signers’ personal data 3 months after its close (audited, still closed); one that met its goal keeps it for verification', async () => {
    engine.clock.advance(85 * DAY);
    await engine.scheduler.tick();
    expect(await personalData(below)).toHaveLength(2);
    expect((await personalData(below)).every((p) => p !== null)).toBe(true);
    expect((await engine.request('GET', `/v1/initiatives/${below}/signatures/${elodieBelow}/personal-data`, { token: clerk })).status).toBe(200);

    engine.clock.advance(10 * DAY);
    await engine.scheduler.tick();
    expect(await personalData(below)).toEqual([null, null]);
    const destroyed = await destructions(below);
    expect(destroyed).toHaveLength(1);
    expect(destroyed[0]).toMatchObject({ actor: 'system:scheduler', jurisdictionId: 'paris', details: { signatures: 2, status: 'closed' } });
    const read = await engine.request('GET', `/v1/initiatives/${below}/signatures/${elodieBelow}/personal-data`, { token: clerk });
    expect(read.status).toBe(409);
    expect(read.body.type).toBe('/problems/personal-data-destroyed');
    // No result is declared on the clerks' behalf.
    expect((await engine.request('GET', `/v1/initiatives/${below}`)).body.status).toBe('closed');

    expect(await personalData(met)).toHaveLength(5);
    expect((await personalData(met)).every((p) => p !== null)).toBe(true);
    expect(await destructions(met)).toEqual([]);
  });

  it('takes no more paper signatures once they are destroyed (409, in the clerk’s words, nothing written); one that met its goal still does', async () => {
    const lea = { ...people.lea, district: '75118', sheet: 'F-2', collector: 'C-2', signedOn: '2027-01-15' };
    const refused = await keyIn(below, [lea]);
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('/problems/personal-data-destroyed');
    expect(await personalData(below)).toEqual([null, null]);
    expect((await engine.request('GET', `/v1/initiatives/${below}/progress`)).body.signatures).toBe(2);

    const web = browserRequests(engine);
    const cookie = await web.sessionFor(CLERK_SUBJECT);
    const form = { csv: 'Martin,Léa,2001-02-28,75118,F-2,C-2,2027-01-15' };
    const fr = await web.page(`/clerk/initiatives/${below}/paper`, { cookie, form });
    expect(fr.status).toBe(409);
    expect(fr.text).toContain('Les données personnelles des signataires de cette initiative ont été effacées selon les règles de conservation\u00a0: aucune signature sur formulaire papier ne peut plus être saisie.');
    const en = await web.page(`/clerk/initiatives/${below}/paper`, { cookie, form, lang: 'en' });
    expect(en.text).toContain("The personal data of this initiative's signers was erased under the retention rules: paper signatures can no longer be entered.");
    expect(await personalData(below)).toEqual([null, null]);

    const taken = await keyIn(met, [{ ...people.marguerite, district: '75101', sheet: 'F-3', collector: 'C-3', signedOn: '2027-01-15' }]);
    expect(taken.status).toBe(200);
    expect(taken.body.accepted).toBe(1);
  });

  it('cannot be verified once they are destroyed (409, nothing written); the clerk’s page says so in place of the forms; one that met its goal still can be', async () => {
    for (const method of ['sample', 'full']) {
      const refused = await engine.request('POST', `/v1/initiatives/${below}/verification`, { token: clerk, body: { method } });
      expect(refused.status).toBe(409);
      expect(refused.body.type).toBe('/problems/personal-data-destroyed');
    }
    expect((await engine.request('GET', `/v1/initiatives/${below}`)).body.status).toBe('closed');
    const started = await engine.db.db.select().from(auditLog).where(and(eq(auditLog.initiativeId, below), eq(auditLog.action, 'initiative.startVerification')));
    expect(started).toEqual([]);

    const web = browserRequests(engine);
    const cookie = await web.sessionFor(CLERK_SUBJECT);
    const page = await web.page(`/clerk/initiatives/${below}`, { cookie });
    expect(page.text).toContain('Les données personnelles des signataires de cette initiative ont été effacées selon les règles de conservation\u00a0: il ne reste rien à vérifier.');
    expect(page.text).toContain('aucune signature sur formulaire papier ne peut plus être saisie.');
    expect(page.html).not.toContain('/verification/start');
    expect(page.html).not.toContain(`/clerk/initiatives/${below}/paper`);
    const en = await web.page(`/clerk/initiatives/${below}`, { cookie, lang: 'en' });
    expect(en.text).toContain("The personal data of this initiative's signers was erased under the retention rules: there is nothing left to verify.");
    // A form sent from a page loaded before the destruction is answered in the same words.
    const late = await web.page(`/clerk/initiatives/${below}/verification/start`, { cookie, form: { method: 'sample' } });
    expect(late.status).toBe(409);
    expect(late.text).toContain('il ne reste rien à vérifier.');

    const kept = await web.page(`/clerk/initiatives/${met}`, { cookie });
    expect(kept.html).toContain(`/clerk/initiatives/${met}/verification/start`);
    expect(kept.html).toContain(`/clerk/initiatives/${met}/paper`);
  });

  it('a goal reached by paper keyed in after the close counts before the scheduler records it', async () => {
    const { initiativeId: reached, sponsor } = await openParisInitiative(engine, { createJurisdiction: false });
    const { initiativeId: short } = await openParisInitiative(engine, { createJurisdiction: false });
    for (const [who, district] of [['elodie', '75111'], ['karim', '75118'], ['sofia', '75120']] as const) await sign(reached, who, district);
    await sign(short, 'jean', '75111');
    for (const id of [reached, short]) expect((await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor })).status).toBe(200);
    // The day the collection closed: forms signed on it may still be keyed in.
    const closedOn = engine.clock.now().toISOString().slice(0, 10);
    await engine.scheduler.tick();

    engine.clock.advance(80 * DAY);
    const late = await keyIn(reached, [
      { ...people.jean, district: '75111', sheet: 'F-4', collector: 'C-4', signedOn: closedOn },
      { ...people.lea, district: '75118', sheet: 'F-4', collector: 'C-4', signedOn: closedOn },
    ]);
    expect(late.body.accepted).toBe(2);

    // The purge alone, before the scheduler has looked at the closed initiatives' crossings again.
    engine.clock.advance(15 * DAY);
    expect(await purgePersonalData(engine.db.db, engine.clock.now())).toBe(1);
    expect(await personalData(short)).toEqual([null]);
    expect(await personalData(reached)).toHaveLength(5);
    expect((await personalData(reached)).every((p) => p !== null)).toBe(true);
    expect(await destructions(reached)).toEqual([]);
  });

});

describe('an initiative that reached its goal and fell below it again before its close', () => {
  let engine: TestEngine;
  afterAll(() => engine.close());

  it('loses its signers’ personal data 3 months after its close, as any closed below its goal', async () => {
    engine = await createTestEngine();
    const { initiativeId, sponsor } = await openParisInitiative(engine);
    const tokens: Record<string, string> = {};
    for (const [who, district] of [['elodie', '75111'], ['jean', '75111'], ['karim', '75118'], ['lea', '75118'], ['sofia', '75120']] as const) {
      tokens[who] = await engine.tokenFor(people[who]);
      expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: tokens[who], body: { district, consent: true } })).status).toBe(201);
    }
    await engine.scheduler.tick();
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.goalMet).toBe(true);
    // One signer withdraws while collection is open: the goal is no longer met, and the initiative closes so.
    expect((await engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token: tokens.lea })).status).toBe(200);
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor })).status).toBe(200);
    await engine.scheduler.tick();
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body).toMatchObject({ status: 'closed', signatures: 4, goalMet: false });

    const held = async () => (await engine.db.db.select({ p: signatures.personalData }).from(signatures).where(eq(signatures.initiativeId, initiativeId))).filter((s) => s.p !== null);
    engine.clock.advance(85 * DAY);
    await engine.scheduler.tick();
    expect(await held()).toHaveLength(4);

    engine.clock.advance(10 * DAY);
    await engine.scheduler.tick();
    expect(await held()).toEqual([]);
    const destroyed = await engine.db.db.select().from(auditLog).where(and(eq(auditLog.initiativeId, initiativeId), eq(auditLog.action, 'personal-data.destroyed')));
    expect(destroyed.map((e) => e.details)).toEqual([{ signatures: 4, status: 'closed' }]);
  });
});

describe('retention periods in calendar months, at the end of a month', () => {
  let engine: TestEngine;
  afterAll(() => engine.close());

  it('are kept until the same day of the month, or the last day of a shorter month, never a few days less', async () => {
    engine = await createTestEngine({ start: new Date('2027-03-02T10:00:00Z') });
    const first = await openParisInitiative(engine);
    const second = await openParisInitiative(engine, { createJurisdiction: false });
    for (const [id, who] of [[first.initiativeId, people.jean], [second.initiativeId, people.karim]] as const) {
      const signed = await engine.request('POST', `/v1/initiatives/${id}/signatures`, { token: await engine.tokenFor(who), body: { district: '75111', consent: true } });
      expect(signed.status).toBe(201);
    }
    const personalData = async (id: string) => (await engine.db.db.select({ p: signatures.personalData }).from(signatures).where(eq(signatures.initiativeId, id)))[0]!.p;
    // Withdrawn on 2 March: kept one month, until 2 April.
    expect((await engine.request('POST', `/v1/initiatives/${first.initiativeId}/withdraw`, { token: first.sponsor, body: { reason: 'fusion' } })).status).toBe(200);
    // Closed below its goal on 3 March: kept three months, until 3 June.
    engine.clock.set('2027-03-03T10:00:00Z');
    expect((await engine.request('POST', `/v1/initiatives/${second.initiativeId}/close`, { token: second.sponsor })).status).toBe(200);

    engine.clock.set('2027-03-31T10:00:00Z');
    await engine.scheduler.tick();
    expect(await personalData(first.initiativeId)).not.toBeNull();
    engine.clock.set('2027-04-02T10:00:00Z');
    await engine.scheduler.tick();
    expect(await personalData(first.initiativeId)).toBeNull();

    engine.clock.set('2027-05-31T10:00:00Z');
    await engine.scheduler.tick();
    expect(await personalData(second.initiativeId)).not.toBeNull();
    expect((await engine.request('GET', `/v1/initiatives/${second.initiativeId}`)).body.status).toBe('closed');
    engine.clock.set('2027-06-03T10:00:00Z');
    await engine.scheduler.tick();
    expect(await personalData(second.initiativeId)).toBeNull();
  });
});

describe('a paper batch racing the retention purge', () => {
  let engine: TestEngine;
  afterAll(() => engine.close());

  it('a batch already past its first checks when the purge comes is refused at its write, leaving nothing', async () => {
    engine = await createTestEngine();
    const { initiativeId: raced, clerk, sponsor } = await openParisInitiative(engine);
    const jean = await engine.request('POST', `/v1/initiatives/${raced}/signatures`, { token: await engine.tokenFor(people.jean), body: { district: '75111', consent: true } });
    expect(jean.status).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${raced}/close`, { token: sponsor })).status).toBe(200);
    const closedOn = engine.clock.now().toISOString().slice(0, 10);
    await engine.scheduler.tick();
    engine.clock.advance(95 * DAY);
    const personalData = async () => (await engine.db.db.select({ p: signatures.personalData }).from(signatures).where(eq(signatures.initiativeId, raced))).map((s) => s.p);

    const { sealingStarted, release, restore } = holdSealing(engine);
    try {
      const batch = engine.request('POST', `/v1/initiatives/${raced}/paper-signatures`, {
        token: clerk,
        body: { entries: [{ ...people.marguerite, district: '75101', sheet: 'F-5', collector: 'C-5', signedOn: closedOn }] },
      });
      await sealingStarted;
      expect(await purgePersonalData(engine.db.db, engine.clock.now())).toBe(1);
      expect(await personalData()).toEqual([null]);
      release();
      const refused = await batch;
      expect(refused.status).toBe(409);
      expect(refused.body.type).toBe('/problems/personal-data-destroyed');
    } finally {
      restore();
    }
    expect(await personalData()).toEqual([null]);
    expect((await engine.request('GET', `/v1/initiatives/${raced}/progress`)).body.signatures).toBe(1);
  });
});

describe('the purge of a large initiative, a page of signatures per transaction', () => {
  let engine: TestEngine;
  afterAll(() => engine.close());

  it('goes on over several passes; from its first page the data counts as destroyed; it is recorded once, at the end, with every signature', async () => {
    engine = await createTestEngine();
    const { clerk, sponsor } = await parisWithClerk(engine, { rules: { referendum: { goal: { signatures: 10 }, collectionDays: 30 } } });
    const id = await closedWithSignatures(engine, { sponsor, clerk }, 5, 'Pagee');
    const closedOn = engine.clock.now().toISOString().slice(0, 10);
    engine.clock.advance(95 * DAY);
    const held = async () =>
      (await engine.db.db.select({ id: signatures.id, p: signatures.personalData }).from(signatures).where(eq(signatures.initiativeId, id))).filter((s) => s.p !== null);
    const destructions = async () =>
      (await engine.db.db.select().from(auditLog).where(and(eq(auditLog.initiativeId, id), eq(auditLog.action, 'personal-data.destroyed')))).map((e) => e.details);
    // Each pass of the scheduler with no time to spare: one page of two signatures.
    const pass = () => purgePersonalData(engine.db.db, engine.clock.now(), DEFAULT_RETENTION, { pageSize: 2, budgetMs: 0 });

    expect(await pass()).toBe(2);
    const left = await held();
    expect(left).toHaveLength(3);
    expect(await destructions()).toEqual([]);
    // What the pages have not reached yet is already out of reach: no read, no paper, no verification.
    const read = await engine.request('GET', `/v1/initiatives/${id}/signatures/${left[0]!.id}/personal-data`, { token: clerk });
    expect(read.status).toBe(409);
    expect(read.body.type).toBe('/problems/personal-data-destroyed');
    const paper = await engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, {
      token: clerk,
      body: { entries: [{ ...people.marguerite, district: '75101', sheet: 'F-9', collector: 'C-9', signedOn: closedOn }] },
    });
    expect(paper.status).toBe(409);
    expect(paper.body.type).toBe('/problems/personal-data-destroyed');
    const verification = await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } });
    expect(verification.status).toBe(409);
    expect(verification.body.type).toBe('/problems/personal-data-destroyed');

    expect(await pass()).toBe(2);
    expect(await held()).toHaveLength(1);
    expect(await destructions()).toEqual([]);
    expect(await pass()).toBe(1);
    expect(await held()).toEqual([]);
    expect(await destructions()).toEqual([{ signatures: 5, status: 'closed' }]);
    expect(await pass()).toBe(0);
    expect(await destructions()).toHaveLength(1);
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures).toBe(5);
  });
});

describe('a purge that fails for one initiative', () => {
  let engine: TestEngine;
  afterAll(() => engine.close());

  it('destroys the others’ personal data, reports the failure and tries the failed one again on the next run', async () => {
    engine = await createTestEngine();
    const first = await openParisInitiative(engine);
    const second = await openParisInitiative(engine, { createJurisdiction: false });
    for (const [{ initiativeId, sponsor }, who] of [[first, people.jean], [second, people.karim]] as const) {
      const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(who), body: { district: '75111', consent: true } });
      expect(signed.status).toBe(201);
      expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/withdraw`, { token: sponsor, body: { reason: 'fusion' } })).status).toBe(200);
      // The first one withdrawn is the longest overdue: the purge comes to it first.
      engine.clock.advance(60_000);
    }
    const personalData = async (initiativeId: string) => (await engine.db.db.select().from(signatures).where(eq(signatures.initiativeId, initiativeId)))[0]!.personalData;
    // The database refuses to erase the first initiative's data (a fault of its own, injected by a trigger).
    await engine.db.db.execute(
      sql.raw(`create function refuse_erasure() returns trigger language plpgsql as $$
        begin
          if new.initiative_id = '${first.initiativeId}' and new.personal_data is null then raise exception 'erasure refused'; end if;
          return new;
        end $$`),
    );
    await engine.db.db.execute(sql.raw('create trigger refuse_erasure before update on signatures for each row execute function refuse_erasure()'));

    engine.clock.advance(32 * DAY);
    await engine.scheduler.tick();
    expect(await personalData(second.initiativeId)).toBeNull();
    expect(await personalData(first.initiativeId)).not.toBeNull();
    expect(engine.logLines.some((line) => line.includes('scheduled task failed') && line.includes('erasure refused'))).toBe(true);

    await engine.db.db.execute(sql.raw('drop trigger refuse_erasure on signatures'));
    await engine.scheduler.tick();
    expect(await personalData(first.initiativeId)).toBeNull();
  });
});

describe('pepper rotation', () => {
  let engine: TestEngine;
  let material: KeyMaterial;

  beforeAll(async () => {
    engine = await createTestEngine({ pepperVersion: 'v1' });
    material = engine.keyMaterial;
  });
  afterAll(() => engine.close());

  it('an initiative started under v1 still deduplicates (and matches the roll) after the current version becomes v2', async () => {
    const { initiativeId, clerk } = await openParisInitiative(engine, { requireRoll: true });
    expect((await putRoll(engine, clerk, rollOf([people.elodie, people.karim]))).body.keyVersion).toBe('v1');
    const first = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(people.elodie), body: { district: '75111', consent: true } });
    expect(first.status).toBe(201);

    // The operator sets IDENTITY_PEPPER to a new secret, IDENTITY_PEPPER_VERSION=v2 and IDENTITY_PEPPERS_PREVIOUS={"v1": <old>}.
    const env = {
      IDENTITY_PEPPER: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64'),
      IDENTITY_PEPPER_VERSION: 'v2',
      IDENTITY_PEPPERS_PREVIOUS: JSON.stringify({ v1: Buffer.from(material.pepper.secret).toString('base64') }),
    };
    const config = loadConfig(env);
    engine.deps.keys = await loadEngineKeys({ ...material, pepper: config.pepper!, previousPeppers: config.previousPeppers });
    expect(engine.deps.keys.keyring.currentVersion).toBe('v2');

    const again = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
      token: await engine.tokenFor({ ...people.elodie, givenNames: 'ELODIE' }),
      body: { district: '75111', consent: true },
    });
    expect(again.status).toBe(200);
    expect(again.body.signature.id).toBe(first.body.signature.id);
    const paper = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
      token: clerk,
      body: { entries: [{ ...people.elodie, district: '75111', sheet: 'F-1', collector: 'C-1' }, { ...people.karim, district: '75111', sheet: 'F-1', collector: 'C-1' }] },
    });
    expect(paper.body.results.map((r: { status: string }) => r.status)).toEqual(['duplicate', 'accepted']);
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(2);

    // A new initiative uses the new version; the next roll import too.
    const next = await openParisInitiative(engine, { createJurisdiction: false });
    const [row] = await engine.db.db.select().from(initiatives).where(eq(initiatives.id, next.initiativeId));
    expect(row!.pepperVersion).toBe('v2');
    expect((await putRoll(engine, clerk, rollOf([people.elodie]))).body.keyVersion).toBe('v2');
    expect((await engine.request('POST', `/v1/initiatives/${next.initiativeId}/signatures`, { token: await engine.tokenFor(people.elodie), body: { district: '75111', consent: true } })).status).toBe(201);
  });

  it('refuses a malformed IDENTITY_PEPPERS_PREVIOUS, naming the variable', () => {
    const pepper = Buffer.alloc(32, 1).toString('base64');
    expect(() => loadConfig({ IDENTITY_PEPPERS_PREVIOUS: 'not json' })).toThrow(ConfigError);
    expect(() => loadConfig({ IDENTITY_PEPPERS_PREVIOUS: '{"v1": "c2hvcnQ="}' })).toThrow(/IDENTITY_PEPPERS_PREVIOUS: pepper "v1"/);
    expect(() => loadConfig({ IDENTITY_PEPPER: pepper, IDENTITY_PEPPER_VERSION: 'v1', IDENTITY_PEPPERS_PREVIOUS: JSON.stringify({ v1: pepper }) })).toThrow(/current version/);
    expect(loadConfig({ IDENTITY_PEPPERS_PREVIOUS: JSON.stringify({ v0: pepper }) }).previousPeppers.v0).toHaveLength(32);
  });
});

describe('withdrawal', () => {
  let engine: TestEngine;
  afterAll(() => engine.close());

  it('a citizen who withdraws takes their personal data with them; signing again seals it anew', async () => {
    engine = await createTestEngine();
    const { initiativeId } = await openParisInitiative(engine);
    const token = await engine.tokenFor(people.elodie);
    const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75111', consent: true } });
    expect(signed.status).toBe(201);
    const held = async (id: string) => (await engine.db.db.select({ p: signatures.personalData }).from(signatures).where(eq(signatures.id, id)))[0]!.p;
    expect(await held(signed.body.signature.id)).not.toBeNull();

    expect((await engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token })).status).toBe(200);
    expect(await held(signed.body.signature.id)).toBeNull();

    // A clerk who asks for it is told why it is gone: not the retention schedule, the signer.
    const clerk = await engine.subjectToken(CLERK_SUBJECT);
    const read = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/${signed.body.signature.id}/personal-data`, { token: clerk });
    expect(read.status).toBe(409);
    expect(read.body.type).toBe('/problems/personal-data-destroyed');
    expect(read.body.detail).toBe('The signer withdrew this signature, and its personal data was destroyed with it.');

    const again = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75111', consent: true } });
    expect(again.status).toBe(201);
    expect(await openPersonalData(engine.deps.keys, (await held(again.body.signature.id))!)).toEqual(people.elodie);
  });
});
