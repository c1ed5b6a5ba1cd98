import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, signatures } from '../../src/db/schema';
import { sealPersonalData } from '../../src/features/personal-data/service';
import { runRollChecks } from '../../src/features/verification/service';
import { createTestEngine, type TestEngine } from '../support/engine';
import { closedWithSignatures, openParisInitiative, parisWithClerk, putRoll, rollCsv } from '../support/identity';
import { decideRemainingValid } from '../support/verification';
import { browserRequests } from '../web/browser-requests';

type Person = { givenNames: string; familyName: string; birthdate: string };
const person = (n: number): Person => ({ givenNames: `Prenom${String.fromCharCode(65 + n)}`, familyName: 'Registre', birthdate: '1980-01-01' });

/** Ten signers of district 75111: seven on the roll there, one on it in 75118, two not on it. */
const SIGNERS = Array.from({ length: 10 }, (_, n) => person(n));
const ROLL = rollCsv([
  ...SIGNERS.slice(0, 7).map((p) => [p.familyName, p.givenNames, p.birthdate, '75111']),
  [SIGNERS[7]!.familyName, SIGNERS[7]!.givenNames, SIGNERS[7]!.birthdate, '75118'],
]);

/** A closed initiative of Paris signed online by `signers` in 75111, the roll imported. */
async function closedWithRoll(engine: TestEngine, signers: Person[]) {
  const { initiativeId, clerk, sponsor } = await openParisInitiative(engine);
  expect((await putRoll(engine, clerk, ROLL)).status).toBe(200);
  const ids: string[] = [];
  for (const signer of signers) {
    const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(signer), body: { district: '75111', consent: true } });
    expect(res.status).toBe(201);
    ids.push(res.body.signature.id);
  }
  expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor })).status).toBe(200);
  return { initiativeId, clerk, ids };
}

const rollCheckEntries = (engine: TestEngine, initiativeId: string) =>
  engine.db.db
    .select()
    .from(auditLog)
    .where(eq(auditLog.action, 'verification.roll-check'))
    .then((rows) => rows.filter((r) => r.initiativeId === initiativeId));

describe('a full count checked against the roll by the scheduler, page by page', () => {
  let engine: TestEngine;
  let initiativeId: string;
  let clerk: string;
  const report = async () => (await engine.request('GET', `/v1/initiatives/${initiativeId}/verification?limit=100`, { token: clerk })).body;
  /** One scheduler pass of pages of 4, stopping after the first page. */
  const pass = () => runRollChecks(engine.deps, engine.clock.now(), { pageSize: 4, budgetMs: 0 });

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ initiativeId, clerk } = await closedWithRoll(engine, SIGNERS));
  });
  afterAll(() => engine.close());

  it('starting it answers at once: the check is due, nothing is checked yet, and completion is refused', async () => {
    const started = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'full' } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ method: 'full', roll: null, rollCheck: { status: 'running', checked: 0, toCheck: 10, doneAt: null, missingKey: null }, tallies: { pending: 10 } });
    expect(await rollCheckEntries(engine, initiativeId)).toEqual([]);

    const early = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: clerk });
    expect(early.status).toBe(409);
    expect(early.contentType).toBe('application/problem+json');
    expect(early.body).toMatchObject({ type: '/problems/roll-check-running', checked: 0, toCheck: 10 });
    expect(early.body.detail).toMatch(/still being checked against the electoral roll \(0 of 10\)/);
  });

  it('each pass checks a page; a clerk’s decision made between passes stands; the last page writes one audit entry with every page’s totals', async () => {
    expect(await pass()).toEqual([]);
    const first = await report();
    expect(first.rollCheck).toMatchObject({ status: 'running', checked: 4, toCheck: 10 });

    // A signer on the roll the check has not reached yet, ruled on by a clerk in the meantime.
    const onRoll = new Set(SIGNERS.slice(0, 7).map((p) => p.givenNames));
    const ahead = first.signatures.items.filter((s: { rollCheck: string | null; personalData: Person }) => s.rollCheck === null && onRoll.has(s.personalData.givenNames)).at(-1);
    const ruled = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/decisions`, {
      token: clerk,
      body: { decisions: [{ signatureId: ahead.id, decision: 'invalid', reason: 'signature illegible' }] },
    });
    expect(ruled.status).toBe(200);
    expect((await report()).rollCheck).toMatchObject({ status: 'running', checked: 4, toCheck: 9 });

    expect(await pass()).toEqual([]);
    expect((await report()).rollCheck).toMatchObject({ status: 'running', checked: 8, toCheck: 9 });
    expect(await rollCheckEntries(engine, initiativeId)).toEqual([]);
    expect(await pass()).toEqual([initiativeId]);

    const done = await report();
    expect(done.rollCheck).toMatchObject({ status: 'done', checked: 9, toCheck: 9, doneAt: engine.clock.now().toISOString() });
    expect(done.roll).toEqual({ onRoll: 6, notOnRoll: 2, otherDistrict: 1, noPersonalData: 0 });
    expect(done.tallies).toMatchObject({ valid: 6, invalid: 1, pending: 3 });
    const kept = done.signatures.items.find((s: { id: string }) => s.id === ahead.id);
    expect(kept).toMatchObject({ rollCheck: null, status: 'invalid', decision: { decision: 'invalid', reason: 'signature illegible', source: 'clerk' } });

    // Further passes find nothing due: one audit entry, with the totals of the three pages.
    await pass();
    await engine.scheduler.tick();
    const entries = await rollCheckEntries(engine, initiativeId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: 'clerk-of-paris', details: { checked: 9, onRoll: 6, notOnRoll: 2, otherDistrict: 1, noPersonalData: 0 } });
    expect(entries[0]!.details).toHaveProperty('rollImport', done.rollCheck.rollImport);
  });

  it('completion is allowed once the check is done and the clerks have decided the rest', async () => {
    const pending = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: clerk });
    expect(pending.status).toBe(409);
    expect(pending.body).toMatchObject({ type: '/problems/verification-pending', pending: 3 });
    expect(await decideRemainingValid(engine.request, initiativeId, clerk)).toBe(3);
    const done = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: clerk });
    expect(done.status).toBe(200);
    // Nine valid of a goal the draft sets far higher: declared insufficient, on the verified count.
    expect(done.body).toMatchObject({ outcome: 'insufficient', counts: { raw: 10, valid: 9 }, rollCheck: { status: 'done' } });
  });
});

describe('a check against the roll that meets personal data under a key the engine does not have', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(() => engine.close());

  it('stops and says why, in the report, on the clerk’s page, to completion and once in the log; it goes on once the data can be opened', async () => {
    const { initiativeId, clerk, ids } = await closedWithRoll(engine, SIGNERS.slice(0, 3));
    const [original] = await engine.db.db.select({ personalData: signatures.personalData }).from(signatures).where(eq(signatures.id, ids[1]!));
    const foreign = await sealPersonalData({ pii: { key: crypto.getRandomValues(new Uint8Array(32)), kid: 'pii-elsewhere' } }, SIGNERS[1]!);
    await engine.db.db.execute(sql`update signatures set personal_data = ${foreign} where id = ${ids[1]!}`);

    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    await engine.scheduler.tick();
    await engine.scheduler.tick();
    const stopped = (await engine.request('GET', `/v1/initiatives/${initiativeId}/verification?personalData=false`, { token: clerk })).body;
    expect(stopped.rollCheck).toMatchObject({ status: 'stopped', missingKey: 'pii-elsewhere', checked: 0, toCheck: 3 });
    const warnings = engine.logLines.filter((line) => line.includes('check against the roll stopped'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 'warn', initiativeId, keyId: 'pii-elsewhere' });
    // Nothing of the signer in the log line.
    expect(warnings[0]).not.toContain(SIGNERS[1]!.givenNames);

    const refused = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: clerk });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: '/problems/roll-check-running', missingKey: 'pii-elsewhere' });

    // The clerk's page lists the signatures without names, says why the check stopped, and offers no certification.
    const web = browserRequests(engine);
    const cookie = await web.sessionFor('clerk-of-paris');
    const page = await web.page(`/clerk/initiatives/${initiativeId}`, { cookie });
    expect(page.status).toBe(200);
    expect(page.text).toContain('La vérification sur la liste électorale est arrêtée\u00a0: des données personnelles sont chiffrées sous la clé «\u00a0pii-elsewhere\u00a0», qui n’est pas configurée');
    expect(page.html.match(/name="decision" value="valid"/g)).toHaveLength(3);
    expect(page.html).not.toContain('/verification/complete');
    expect((await web.page(`/clerk/initiatives/${initiativeId}`, { cookie, lang: 'en' })).text).toContain(
      'The check against the electoral roll has stopped: some personal data is encrypted under the key “pii-elsewhere”',
    );

    // The operator configures the key (here: the data is sealed again under the engine's): the next pass finishes.
    await engine.db.db.execute(sql`update signatures set personal_data = ${original!.personalData} where id = ${ids[1]!}`);
    await engine.scheduler.tick();
    const done = (await engine.request('GET', `/v1/initiatives/${initiativeId}/verification?personalData=false`, { token: clerk })).body;
    expect(done.rollCheck).toMatchObject({ status: 'done', missingKey: null, checked: 3, toCheck: 3 });
    expect(done.roll).toEqual({ onRoll: 3, notOnRoll: 0, otherDistrict: 0, noPersonalData: 0 });
  });
});

describe('the clerk’s page during a check against the roll', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(() => engine.close());

  it('says how far the check has got and to reload, offers no certification until it is over, then gives its totals', async () => {
    const { initiativeId, clerk } = await closedWithRoll(engine, SIGNERS);
    const web = browserRequests(engine);
    const cookie = await web.sessionFor('clerk-of-paris');
    expect((await web.page(`/clerk/initiatives/${initiativeId}/verification/start`, { cookie, form: { method: 'full' } })).status).toBe(303);
    await runRollChecks(engine.deps, engine.clock.now(), { pageSize: 4, budgetMs: 0 });

    const running = await web.page(`/clerk/initiatives/${initiativeId}`, { cookie });
    expect(running.text).toContain('Vérification sur la liste électorale\u00a0: 4 sur 10 signatures.');
    expect(running.text).toContain('rechargez la page');
    expect(running.html).not.toContain('/verification/complete');
    const english = await web.page(`/clerk/initiatives/${initiativeId}`, { cookie, lang: 'en' });
    expect(english.text).toContain('Checking against the electoral roll: 4 of 10 signatures.');
    expect(english.text).toContain('reload the page');

    await engine.scheduler.tick();
    const done = await web.page(`/clerk/initiatives/${initiativeId}`, { cookie, lang: 'en' });
    expect(done.text).toContain('Checked against the electoral roll: 7 on the roll in their district (valid), 2 not on the roll, 1 on the roll in another district, 0 without personal data.');
    expect(done.html).toContain('/verification/complete');
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/verification?personalData=false`, { token: clerk })).body.rollCheck.status).toBe('done');

    // In French, the districts bear the jurisdiction's own word (GLOSSARY), as everywhere else on the page.
    expect((await web.page(`/clerk/initiatives/${initiativeId}`, { cookie })).text).toContain(
      'Vérification sur la liste électorale\u00a0: signataires inscrits dans leur arrondissement (signatures valides)\u00a07, non inscrits\u00a02, inscrits dans un autre arrondissement\u00a01, sans données personnelles\u00a00.',
    );
    await engine.db.db.execute(sql`update jurisdictions set district_term = 'circonscription' where id = 'paris'`);
    expect((await web.page(`/clerk/initiatives/${initiativeId}`, { cookie })).text).toContain(
      'inscrits dans leur circonscription (signatures valides)\u00a07, non inscrits\u00a02, inscrits dans une autre circonscription\u00a01,',
    );
  });
});

describe('several full counts checked against the roll at once', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(() => engine.close());

  it('a small count is not kept waiting until a large one asked for before it is over: each pass checks a page of every count due', async () => {
    const { clerk, sponsor } = await parisWithClerk(engine);
    const family = (name: string, n: number) => Array.from({ length: n }, (_, i) => [name, `Prenom${String.fromCharCode(65 + i)}`, '1980-01-01', '75111']);
    expect((await putRoll(engine, clerk, rollCsv([...family('Grande', 10), ...family('Petite', 3)]))).status).toBe(200);
    const large = await closedWithSignatures(engine, { sponsor, clerk }, 10, 'Grande');
    const small = await closedWithSignatures(engine, { sponsor, clerk }, 3, 'Petite');
    expect((await engine.request('POST', `/v1/initiatives/${large}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    engine.clock.advance(60_000);
    expect((await engine.request('POST', `/v1/initiatives/${small}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    const rollCheckOf = async (id: string) => (await engine.request('GET', `/v1/initiatives/${id}/verification?personalData=false`, { token: clerk })).body.rollCheck;

    // One pass whose time is up after its first page (pages of 4 signatures).
    expect(await runRollChecks(engine.deps, engine.clock.now(), { pageSize: 4, budgetMs: 0 })).toEqual([small]);
    expect(await rollCheckOf(small)).toMatchObject({ status: 'done', checked: 3, toCheck: 3 });
    expect(await rollCheckOf(large)).toMatchObject({ status: 'running', checked: 4, toCheck: 10 });

    expect(await runRollChecks(engine.deps, engine.clock.now(), { pageSize: 4, budgetMs: 0 })).toEqual([]);
    expect(await runRollChecks(engine.deps, engine.clock.now(), { pageSize: 4, budgetMs: 0 })).toEqual([large]);
    expect(await rollCheckOf(large)).toMatchObject({ status: 'done', checked: 10, toCheck: 10 });
  });
});
