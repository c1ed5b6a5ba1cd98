import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logEntries, signatures } from '../../src/db/schema';
import { paperEntryTallies } from '../../src/db/schema-paper';
import { createTestEngine, holdSealing, type TestEngine } from '../support/engine';
import { openParisInitiative, putRoll, rollCsv } from '../support/identity';
import { PARISIANS } from '../support/paris';

const { elodie } = PARISIANS;

const entry = (familyName: string, givenNames: string, birthdate: string, district: string, sheet = 'F-001', collector = 'C-01', signedOn?: string) => ({
  familyName,
  givenNames,
  birthdate,
  district,
  sheet,
  collector,
  ...(signedOn ? { signedOn } : {}),
});

/** Distinct made-up people: canonical names keep letters only, so the number is spelled in letters. */
const person = (n: number) => n.toString(26).split('').map((d) => String.fromCharCode(97 + parseInt(d, 26))).join('');

describe('paper signatures keyed in by a clerk', () => {
  let engine: TestEngine;
  let clerk: string;
  let initiativeId: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, initiativeId } = await openParisInitiative(engine));
  });
  afterAll(() => engine.close());

  const keyIn = (entries: unknown[], token = clerk) => engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token, body: { entries } });
  const total = async () => (await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures as number;

  it('sign online, then again on paper: counted once', async () => {
    const online = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(elodie), body: { district: '75111', consent: true } });
    expect(online.status).toBe(201);

    const paper = await keyIn([entry('DUPONT', 'Elodie', '1990-04-12', '75111')]);
    expect(paper.status).toBe(200);
    expect(paper.body).toMatchObject({ accepted: 0, duplicates: 1, ineligible: 0 });
    expect(paper.body.results[0]).toEqual({ index: 0, status: 'duplicate', signatureId: online.body.signature.id, channel: 'online' });
    expect(await total()).toBe(1);
  });

  let firstBatch: unknown[];
  let firstResults: unknown[];

  it('each entry is accepted, a duplicate or ineligible with the rule that failed; one log entry per accepted one', async () => {
    const batch = (firstBatch = [
      entry('Benali', 'Karim', '1985-11-03', '75118'),
      entry('Petit', 'Hugo', '2012-05-05', '75111'), // 14 years old
      entry('Rossi', 'Sofia', '1978-09-30', '92012'), // outside Paris
      entry('Nguyen', 'Tom', '1999-12-01', '75101', 'F-001', 'C-01', '2027-01-10'), // before collection opened
      entry('Nguyen', 'Tom', '1999-12-01', '75101', 'F-001', 'C-01', '2027-02-01'), // in the future
      entry('Martin', 'Léa', '2001-02-28', '75120', 'F-002'),
      entry('MARTIN', 'Lea Anne', '2001-02-28', '75120', 'F-002'), // Léa twice in the batch
    ]);
    const res = await keyIn(batch);
    firstResults = res.body.results;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, duplicates: 1, ineligible: 4 });
    const [karim, young, outside, early, future, lea, leaAgain] = res.body.results;
    expect(karim).toMatchObject({ status: 'accepted', channel: 'paper', district: '75118' });
    expect(young).toMatchObject({ status: 'ineligible', rule: 'age' });
    expect(outside).toMatchObject({ status: 'ineligible', rule: 'district' });
    expect(early).toMatchObject({ status: 'ineligible', rule: 'signing-date' });
    expect(future).toMatchObject({ status: 'ineligible', rule: 'signing-date' });
    expect(leaAgain).toEqual({ index: 6, status: 'duplicate', signatureId: lea.signatureId, channel: 'paper' });
    expect(await total()).toBe(3);

    const [row] = await engine.db.db.select().from(signatures).where(eq(signatures.id, karim.signatureId));
    expect(row).toMatchObject({ channel: 'paper', sheet: 'F-001', collector: 'C-01', status: 'counted' });
    expect(row!.personalData).toMatch(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/);
    const signs = await engine.db.db.select().from(logEntries).where(and(eq(logEntries.initiativeId, initiativeId), eq(logEntries.type, 'sign')));
    expect(signs.map((e) => e.ref)).toEqual(expect.arrayContaining([karim.signatureId, lea.signatureId]));
    expect(signs).toHaveLength(3);
  });

  it('re-sending the same batch changes nothing: entries come back as duplicates of the earlier ones', async () => {
    const talliesBefore = await engine.db.db.select().from(paperEntryTallies).where(eq(paperEntryTallies.initiativeId, initiativeId));
    const signaturesBefore = await engine.db.db.select().from(signatures);
    const again = await keyIn(firstBatch);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 3, ineligible: 4 });
    // Accepted entries come back as duplicates of themselves; the rest as before.
    expect(again.body.results).toEqual(
      (firstResults as { status: string; signatureId?: string; district?: string }[]).map(({ district: _district, ...r }) =>
        r.status === 'accepted' ? { ...r, status: 'duplicate' } : r,
      ),
    );
    const third = await keyIn(firstBatch);
    expect(third.body).toEqual(again.body);
    expect(await engine.db.db.select().from(signatures)).toEqual(signaturesBefore);
    expect(await total()).toBe(3);
    const talliesAfter = await engine.db.db.select().from(paperEntryTallies).where(eq(paperEntryTallies.initiativeId, initiativeId));
    expect(talliesAfter.sort((a, b) => a.outcome.localeCompare(b.outcome))).toEqual(
      talliesBefore.sort((a, b) => a.outcome.localeCompare(b.outcome)).map((t) => ({ ...t })),
    );
  });

  it('a person keyed in on paper who then signs online gets the paper signature back', async () => {
    const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
      token: await engine.tokenFor({ givenNames: 'Karim', familyName: 'Benali', birthdate: '1985-11-03' }),
      body: { district: '75118', consent: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.signature.channel).toBe('paper');
    expect(await total()).toBe(3);
  });

  it('only a clerk of the jurisdiction keys in; malformed batches are refused whole', async () => {
    const citizen = await engine.tokenFor(elodie);
    expect((await keyIn([entry('Roux', 'Anna', '1960-01-01', '75101')], citizen)).status).toBe(403);

    const bad = await keyIn([entry('Roux', 'Anna', '1960-01-01', '75101'), { ...entry('Roux', 'Jean', '1961-02-30', '75101'), extra: 1 }]);
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.entries.1.birthdate', 'body.entries.1.extra']);

    const noLetters = await keyIn([entry('---', 'Anna', '1960-01-01', '75101')]);
    expect(noLetters.status).toBe(400);
    expect(noLetters.body.errors[0].field).toBe('body.entries.0.familyName');

    const tooMany = await keyIn(Array.from({ length: 5001 }, (_, i) => entry(person(i), 'Anna', '1960-01-01', '75101')));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0].field).toBe('body.entries');
    expect(await total()).toBe(3);
  });

  it('takes a full batch of 5,000 entries in one request (larger than the JSON body limit)', { timeout: 180_000 }, async () => {
    const batch = Array.from({ length: 5000 }, (_, i) =>
      entry(`${person(i)} de la Fontaine-Saint-Germain-des-Prés`, 'Marie-Christine Anne Sophie Éléonore', '1960-01-01', '75101', `FORMULAIRE-2027-${Math.floor(i / 20)}`, 'COLLECTEUR-ASSOCIATION-10', '2027-01-15'),
    );
    expect(JSON.stringify({ entries: batch }).length).toBeGreaterThan(1024 * 1024);
    const res = await keyIn(batch);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(5000);
    expect(await total()).toBe(5003);
  });

  it('lists collectors and sheets that stand out, birth dates out of range and sheets of many districts', async () => {
    // C-20: 10 entries, 5 under age: a rejection rate far above the initiative's.
    const suspicious = Array.from({ length: 10 }, (_, i) => entry(`${person(i)}suspect`, 'Paul', i < 5 ? '2015-01-01' : '1950-01-01', '75102', 'S-900', 'C-20'));
    // Sheet S-901: signers of four districts, one born in 1905.
    const scattered = ['75103', '75104', '75105', '75106'].map((d, i) => entry(`${person(i)}scattered`, 'Ana', i === 0 ? '1905-03-01' : '1980-01-01', d, 'S-901', 'C-21'));
    expect((await keyIn([...suspicious, ...scattered])).status).toBe(200);

    const citizen = await engine.request('GET', `/v1/initiatives/${initiativeId}/paper-signatures/anomalies`, { token: await engine.tokenFor(elodie) });
    expect(citizen.status).toBe(403);

    const res = await engine.request('GET', `/v1/initiatives/${initiativeId}/paper-signatures/anomalies`, { token: clerk });
    expect(res.status).toBe(200);
    expect(res.body.criteria).toEqual({ minimumEntries: 10, factor: 2, manyDistricts: 3, oldestPlausibleAge: 110 });
    expect(res.body.collectors.map((c: { collector: string }) => c.collector)).toEqual(['C-20']);
    expect(res.body.collectors[0]).toMatchObject({ entries: 10, ineligible: 5, rejectionRate: 0.5, reasons: { age: 5 }, standsOut: ['rejections'] });
    expect(res.body.sheets.map((s: { sheet: string }) => s.sheet)).toEqual(['S-900']);
    expect(res.body.birthdatesOutOfRange).toEqual(
      expect.arrayContaining([
        { sheet: 'S-900', collector: 'C-20', entries: 5 },
        { sheet: 'S-901', collector: 'C-21', entries: 1 },
      ]),
    );
    expect(res.body.sheetsWithManyDistricts).toEqual([{ sheet: 'S-901', districts: 4 }]);
  });

  it('after the deadline, sheets signed during collection are still keyed in until verification starts', async () => {
    engine.clock.set('2027-07-01T08:00:00Z');
    await engine.scheduler.tick();
    const late = await keyIn([
      entry('Garnier', 'Luc', '1970-05-05', '75107', 'F-300', 'C-30', '2027-06-30'),
      entry('Garnier', 'Lucie', '1971-05-05', '75107', 'F-300', 'C-30'), // today: after the deadline
    ]);
    expect(late.status).toBe(200);
    expect(late.body.results.map((r: { status: string; rule?: string }) => r.rule ?? r.status)).toEqual(['accepted', 'signing-date']);

    const started = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'full' } });
    expect(started.status).toBe(201);
    const tooLate = await keyIn([entry('Garnier', 'Paul', '1972-05-05', '75107', 'F-300', 'C-30', '2027-06-30')]);
    expect(tooLate.status).toBe(409);
    expect(tooLate.body.type).toBe('/problems/invalid-state/verifying');
  });
});

describe('spellings a clerk may key in for someone who signed online', () => {
  let engine: TestEngine;
  let clerk: string;
  let initiativeId: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, initiativeId } = await openParisInitiative(engine));
  });
  afterAll(() => engine.close());

  const total = async () => (await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures as number;
  /** Signs online, then keys in the entries: each comes back as that online signature, and the count stays. */
  const sameAsOnline = async (person: { givenNames: string; familyName: string; birthdate: string }, entries: unknown[]) => {
    const online = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(person), body: { district: '75111', consent: true } });
    expect(online.status).toBe(201);
    const before = await total();
    const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: clerk, body: { entries } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 0, duplicates: entries.length, ineligible: 0 });
    for (const result of res.body.results) expect(result).toMatchObject({ status: 'duplicate', signatureId: online.body.signature.id, channel: 'online' });
    expect(await total()).toBe(before);
  };

  it('a compound given name copied with spaces around its hyphen', async () => {
    await sameAsOnline({ givenNames: 'Jean-Pierre', familyName: 'Lefèvre', birthdate: '1975-05-05' }, [
      entry('LEFEVRE', 'Jean - Pierre', '1975-05-05', '75111'),
      entry('Lefèvre', 'Jean- Pierre Louis', '1975-05-05', '75111'),
      entry('Lefevre', 'Jean \u2013 Pierre', '1975-05-05', '75111'),
    ]);
  });

  it('a family name with its apostrophe typed as a modifier letter (ʼ, ʻ)', async () => {
    await sameAsOnline({ givenNames: 'Siobhan', familyName: "O'Brien", birthdate: '1969-03-17' }, [
      entry('O\u02bcBrien', 'Siobhan', '1969-03-17', '75111'),
      entry('O\u02bbBRIEN', 'Siobhan', '1969-03-17', '75111'),
    ]);
  });

  it('given names parted by a fullwidth, ideographic or Arabic comma', async () => {
    await sameAsOnline(
      { givenNames: 'Marie Louise', familyName: 'Haddad', birthdate: '1988-08-08' },
      ['\uff0c', '\u3001', '\u060c'].map((comma) => entry('Haddad', `Marie${comma}Louise`, '1988-08-08', '75111')),
    );
  });
});

describe('a paper batch and the start of verification at the same time', () => {
  let engine: TestEngine;
  afterAll(() => engine.close());

  it('a batch checked before the verification started but written after it is refused whole: the count stays the sampled one', async () => {
    engine = await createTestEngine();
    const { initiativeId, clerk } = await openParisInitiative(engine);
    const signer = await engine.tokenFor(elodie);
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: signer, body: { district: '75111', consent: true } })).status).toBe(201);
    engine.clock.set('2027-07-01T08:00:00Z');
    await engine.scheduler.tick();

    // The batch's personal data is sealed after its first check and before it writes: hold it there.
    const { sealingStarted, release, restore } = holdSealing(engine);
    const batch = engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
      token: clerk,
      body: { entries: [entry('Papier', 'Paul', '1970-01-01', '75111', 'F-1', 'C-1', '2027-06-20'), entry('Papier', 'Pauline', '1971-01-01', '75112', 'F-1', 'C-1', '2027-06-20')] },
    });
    await sealingStarted;
    const started = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'sample', seed: 'public draw' } });
    expect(started.status).toBe(201);
    expect(started.body.population).toBe(1);
    release();
    const refused = await batch;
    restore();

    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('/problems/invalid-state/verifying');
    const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    expect(progress.body).toMatchObject({ status: 'verifying', signatures: 1 });
    expect(await engine.db.db.select().from(signatures).where(eq(signatures.initiativeId, initiativeId))).toHaveLength(1);
  });
});

describe('a paper batch and a change of the rules it was judged on', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(() => engine.close());

  it('a minimum age raised while the batch is keyed in refuses the batch, nothing written; sent again, the new rule applies', async () => {
    const { initiativeId, clerk } = await openParisInitiative(engine);
    const young = entry('Jeune', 'Jules', '2005-03-01', '75111', 'F-9', 'C-9');
    const older = entry('Ancien', 'Albert', '1960-03-01', '75111', 'F-9', 'C-9');

    // Hold the batch after its first check, while its personal data is sealed.
    const { sealingStarted, release, restore } = holdSealing(engine);
    const batch = engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: clerk, body: { entries: [young, older] } });
    await sealingStarted;
    const raised = await engine.request('PATCH', '/v1/jurisdictions/paris', { token: clerk, body: { minimumAge: 25 } });
    expect(raised.status).toBe(200);
    release();
    const refused = await batch;
    restore();

    expect(refused.status).toBe(503);
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.detail).toMatch(/rules changed/);
    expect(await engine.db.db.select().from(signatures).where(eq(signatures.initiativeId, initiativeId))).toHaveLength(0);
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(0);

    // The clerk sends it again: judged on the rule in force, the 21-year-old is refused, the other counted.
    const again = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: clerk, body: { entries: [young, older] } });
    expect(again.status).toBe(200);
    expect(again.body.results.map((r: { status: string; rule?: string }) => r.rule ?? r.status)).toEqual(['age', 'accepted']);
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(1);
  });
});

describe('a paper batch and a new electoral roll', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(() => engine.close());

  it('a roll replaced while the batch is keyed in refuses the batch, nothing written; sent again, it is matched against the new roll', async () => {
    const { initiativeId, clerk } = await openParisInitiative(engine, { requireRoll: true });
    expect((await putRoll(engine, clerk, rollCsv([['Dupont', 'Élodie', '1990-04-12', '75111'], ['Benali', 'Karim', '1985-11-03', '75118']]))).status).toBe(200);
    const entries = [entry('Dupont', 'Élodie', '1990-04-12', '75111', 'R-1', 'C-1'), entry('Benali', 'Karim', '1985-11-03', '75118', 'R-1', 'C-1')];

    const { sealingStarted, release, restore } = holdSealing(engine);
    const batch = engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: clerk, body: { entries } });
    await sealingStarted;
    // The new roll no longer lists her.
    expect((await putRoll(engine, clerk, rollCsv([['Benali', 'Karim', '1985-11-03', '75118']]))).status).toBe(200);
    release();
    const refused = await batch;
    restore();

    expect(refused.status).toBe(503);
    expect(refused.body.detail).toMatch(/roll was replaced/);
    expect(await engine.db.db.select().from(signatures).where(eq(signatures.initiativeId, initiativeId))).toHaveLength(0);

    const again = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: clerk, body: { entries } });
    expect(again.status).toBe(200);
    expect(again.body.results.map((r: { status: string; rule?: string }) => r.rule ?? r.status)).toEqual(['roll', 'accepted']);
  });
});

describe('paper entries matched against a required roll', () => {
  let engine: TestEngine;
  afterAll(() => engine.close());

  it('the roll’s district wins over the one written on the form, even one the jurisdiction does not know (a postcode)', async () => {
    engine = await createTestEngine();
    const { initiativeId, clerk } = await openParisInitiative(engine, { requireRoll: true });
    expect((await putRoll(engine, clerk, rollCsv([['Dupont', 'Élodie', '1990-04-12', '75111'], ['Benali', 'Karim', '1985-11-03', '75118']]))).status).toBe(200);
    const keyed = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
      token: clerk,
      body: {
        entries: [
          entry('DUPONT', 'Elodie', '1990-04-12', '75011', 'R-2', 'C-2'), // the postcode of the 11th, not its code
          entry('Benali', 'Karim', '1985-11-03', '75101', 'R-2', 'C-2'),
          entry('Rossi', 'Sofia', '1978-09-30', '75011', 'R-2', 'C-2'), // not on the roll
        ],
      },
    });
    expect(keyed.status).toBe(200);
    expect(keyed.body.results).toEqual([
      expect.objectContaining({ status: 'accepted', district: '75111' }),
      expect.objectContaining({ status: 'accepted', district: '75118' }),
      expect.objectContaining({ status: 'ineligible', rule: 'roll' }),
    ]);
  });
});

describe('withdrawing a signature made on paper', () => {
  let engine: TestEngine;
  afterAll(() => engine.close());

  it('the person, signed in, withdraws it as they would an online one, while collection is open; after, the refusal names the withdrawal', async () => {
    engine = await createTestEngine();
    const { initiativeId, clerk } = await openParisInitiative(engine);
    const karim = { givenNames: 'Karim', familyName: 'Benali', birthdate: '1985-11-03' };
    const keyed = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
      token: clerk,
      body: { entries: [entry(karim.familyName, karim.givenNames, karim.birthdate, '75118'), entry('Papier', 'Paul', '1970-01-01', '75111')] },
    });
    expect(keyed.body.accepted).toBe(2);
    const token = await engine.tokenFor(karim);
    const mine = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token });
    expect(mine.body.signature.channel).toBe('paper');

    const withdrawn = await engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.status).toBe('withdrawn');
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(1);
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token })).status).toBe(404);

    engine.clock.set('2027-07-01T08:00:00Z');
    await engine.scheduler.tick();
    const paul = await engine.tokenFor({ givenNames: 'Paul', familyName: 'Papier', birthdate: '1970-01-01' });
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    const late = await engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token: paul });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ type: '/problems/invalid-state/verifying', action: 'withdraw' });
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(1);
  });

  it('a form whose signature was withdrawn does not count again when it is keyed in again; a new form of the same person does', async () => {
    const fresh = await createTestEngine();
    try {
      const { initiativeId, clerk } = await openParisInitiative(fresh);
      const karim = { givenNames: 'Karim', familyName: 'Benali', birthdate: '1985-11-03' };
      const batch = { entries: [entry(karim.familyName, karim.givenNames, karim.birthdate, '75118', 'F-010', 'C-02'), entry('Papier', 'Paul', '1970-01-01', '75111', 'F-010', 'C-02')] };
      const keyIn = (body: unknown) => fresh.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: clerk, body });
      const count = async () => (await fresh.request('GET', `/v1/initiatives/${initiativeId}/progress`, { headers: { 'cache-control': 'no-cache' } })).body.signatures;
      expect((await keyIn(batch)).body.accepted).toBe(2);
      const token = await fresh.tokenFor(karim);
      expect((await fresh.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token })).status).toBe(200);
      expect(await count()).toBe(1);

      // The clerk sends the same batch again (an answer lost on the way): the withdrawn form stays withdrawn.
      const again = await keyIn(batch);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ accepted: 0, duplicates: 1, ineligible: 1 });
      expect(again.body.results[0]).toMatchObject({ index: 0, status: 'ineligible', rule: 'withdrawn' });
      expect(again.body.results[0].detail).toMatch(/withdrawn/);
      expect(await count()).toBe(1);
      expect((await fresh.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token })).status).toBe(404);

      // Karim signs a new form, keyed in with the same sheets again (the withdrawn form first): the new one counts.
      const newForm = await keyIn({ entries: [...batch.entries, entry(karim.familyName, karim.givenNames, karim.birthdate, '75118', 'F-011', 'C-02')] });
      expect(newForm.status).toBe(200);
      expect(newForm.body.results[0]).toMatchObject({ status: 'ineligible', rule: 'withdrawn' });
      expect(newForm.body.results[2]).toMatchObject({ status: 'accepted', channel: 'paper' });
      expect(newForm.body).toMatchObject({ accepted: 1, duplicates: 1, ineligible: 1 });
      expect(await count()).toBe(2);
      // And sent again: nothing changes, the new form is Karim's signature.
      const replayed = await keyIn({ entries: [...batch.entries, entry(karim.familyName, karim.givenNames, karim.birthdate, '75118', 'F-011', 'C-02')] });
      expect(replayed.body.results[0]).toMatchObject({ status: 'ineligible', rule: 'withdrawn' });
      expect(replayed.body.results[2]).toMatchObject({ status: 'duplicate', signatureId: newForm.body.results[2].signatureId });
      expect(await count()).toBe(2);
    } finally {
      await fresh.close();
    }
  });

  it('a form keyed in while its signer had already signed does not bring them back once they withdraw: the batch sent again changes nothing', async () => {
    const fresh = await createTestEngine();
    try {
      const { initiativeId, clerk } = await openParisInitiative(fresh);
      const karim = { givenNames: 'Karim', familyName: 'Benali', birthdate: '1985-11-03' };
      const token = await fresh.tokenFor(karim);
      const count = async () => (await fresh.request('GET', `/v1/initiatives/${initiativeId}/progress`, { headers: { 'cache-control': 'no-cache' } })).body.signatures;
      const keyIn = (body: unknown) => fresh.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: clerk, body });
      // Karim signs online, and on paper at a market stall (F-020); the clerk keys in F-020 and the paper form of Anna, who signed it too.
      expect((await fresh.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75118', consent: true } })).status).toBe(201);
      const anna = await keyIn({ entries: [entry('Papier', 'Anna', '1971-01-01', '75111', 'F-021', 'C-03')] });
      expect(anna.body.accepted).toBe(1);
      const batch = {
        entries: [
          entry(karim.familyName, karim.givenNames, karim.birthdate, '75118', 'F-020', 'C-03'),
          // Anna's second form in the batch: a duplicate of her first, withdrawn with it too.
          entry('Papier', 'Anna', '1971-01-01', '75111', 'F-022', 'C-03'),
        ],
      };
      const first = await keyIn(batch);
      expect(first.body).toMatchObject({ accepted: 0, duplicates: 2 });
      expect(await count()).toBe(2);

      // Both change their minds and withdraw their signatures.
      expect((await fresh.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token })).status).toBe(200);
      const annaToken = await fresh.tokenFor({ givenNames: 'Anna', familyName: 'Papier', birthdate: '1971-01-01' });
      expect((await fresh.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token: annaToken })).status).toBe(200);
      expect(await count()).toBe(0);

      // The clerk sends the same batch again (an answer lost on the way): it counted them again, against their withdrawal.
      const again = await keyIn(batch);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ accepted: 0, ineligible: 2 });
      expect(again.body.results.map((r: { rule?: string }) => r.rule)).toEqual(['withdrawn', 'withdrawn']);
      expect(await count()).toBe(0);
      expect((await fresh.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token })).status).toBe(404);

      // A new form of Karim's, signed after his withdrawal, counts.
      const newForm = await keyIn({ entries: [entry(karim.familyName, karim.givenNames, karim.birthdate, '75118', 'F-030', 'C-03')] });
      expect(newForm.body.results[0]).toMatchObject({ status: 'accepted', channel: 'paper' });
      expect(await count()).toBe(1);
    } finally {
      await fresh.close();
    }
  });
});
