import { bytesToHex } from '@noble/hashes/utils.js';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollEntries, rollImports } from '../../src/db/schema-roll';
import { rollHashFor, rollLookup } from '../../src/features/roll/service';
import { createTestEngine, type TestEngine } from '../support/engine';
import { openParisInitiative, putRoll, rollCsv } from '../support/identity';

const letters = (n: number) => n.toString(26).split('').map((d) => String.fromCharCode(97 + parseInt(d, 26))).join('');
const people = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ familyName: `${prefix}${letters(i)}`, givenNames: 'Camille', birthdate: '1980-01-01' }));

describe('electoral roll on PostgreSQL: COPY and atomic replacement', () => {
  let engine: TestEngine;
  let clerk: string;
  const before = people('avant', 20_000);
  const after = people('apres', 20_000);

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk } = await openParisInitiative(engine, { requireRoll: true }));
  });
  afterAll(() => engine.close());

  it('loads through COPY on the postgres.js client', async () => {
    expect(engine.deps.db.kind).toBe('postgres');
    expect(engine.deps.db.postgres).toBeDefined();
    const csv = rollCsv([
      ...before.map((p) => [p.familyName, p.givenNames, p.birthdate, '75101']),
      [before[0]!.familyName.toUpperCase(), 'camille', '1980-01-01', '75102'], // a duplicate: the first line wins
      ['Tab\tName', 'X', '1980-01-01', '75101'],
      ['Sans', 'Date', '', '75101'],
    ]);
    const res = await putRoll(engine, clerk, csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ imported: 20_001, duplicates: 1, rejected: 1 });
    expect(res.body.rejections).toEqual([{ line: 20_004, reason: expect.stringMatching(/birthdate/) }]);
    const first = rollHashFor(engine.deps.keys, 'paris', before[0]!);
    expect((await rollLookup(engine.db.db, 'paris', [first])).get(bytesToHex(first))).toBe('75101');
  });

  it('readers see the old roll or the new one, never a mix, while a new roll is imported', async () => {
    const sampleBefore = before.filter((_, i) => i % 400 === 0).map((p) => rollHashFor(engine.deps.keys, 'paris', p));
    const sampleAfter = after.filter((_, i) => i % 400 === 0).map((p) => rollHashFor(engine.deps.keys, 'paris', p));
    const sample = [...sampleBefore, ...sampleAfter];
    const seen = { old: 0, new: 0, mixed: 0 };
    let importing = true;
    const readers = Array.from({ length: 3 }, async () => {
      while (importing) {
        const found = await rollLookup(engine.db.db, 'paris', sample);
        const olds = sampleBefore.filter((h) => found.has(bytesToHex(h))).length;
        const news = sampleAfter.filter((h) => found.has(bytesToHex(h))).length;
        if (olds === sampleBefore.length && news === 0) seen.old++;
        else if (news === sampleAfter.length && olds === 0) seen.new++;
        else seen.mixed++;
      }
    });
    const res = await putRoll(engine, clerk, rollCsv(after.map((p) => [p.familyName, p.givenNames, p.birthdate, '75102'])));
    const found = await rollLookup(engine.db.db, 'paris', sample);
    importing = false;
    await Promise.all(readers);
    expect(res.status).toBe(200);
    expect(res.body.imported).toBe(20_000);
    expect(seen.mixed).toBe(0);
    expect(seen.old).toBeGreaterThan(0);
    expect([...found.values()]).toEqual(sampleAfter.map(() => '75102'));
    // The replaced roll's entries are deleted.
    expect(await engine.db.db.$count(rollEntries)).toBe(20_000);
  });

  it('an import that fails midway leaves the roll in force untouched and its rows removed', async () => {
    const csv = new TextEncoder().encode(rollCsv(before.slice(0, 5000).map((p) => [p.familyName, p.givenNames, p.birthdate, '75103'])));
    const broken = new Uint8Array([...csv, 0xff, 0xfe, 0x0a]);
    const res = await putRoll(engine, clerk, broken);
    expect(res.status).toBe(400);
    const current = await engine.db.db.select().from(rollImports).where(eq(rollImports.status, 'current'));
    expect(current).toHaveLength(1);
    expect(current[0]!.imported).toBe(20_000);
    expect(await engine.db.db.$count(rollEntries)).toBe(20_000);
    const someone = rollHashFor(engine.deps.keys, 'paris', after[1]!);
    expect((await rollLookup(engine.db.db, 'paris', [someone])).get(bytesToHex(someone))).toBe('75102');
  });

  it('a second import while one is loading is refused with 409', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const head = new TextEncoder().encode('family_name,given_names,birthdate,district\nLent,Paul,1970-01-01,75104\n');
    const slow = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(head);
        await gate;
        controller.close();
      },
    });
    const first = engine.app.request('/v1/jurisdictions/paris/roll', {
      method: 'PUT',
      headers: { authorization: `Bearer ${clerk}`, 'content-type': 'text/csv' },
      body: slow,
      duplex: 'half',
    } as RequestInit);
    // Wait until the first import is registered as loading.
    while ((await engine.db.db.select().from(rollImports).where(eq(rollImports.status, 'loading'))).length === 0) await new Promise((r) => setTimeout(r, 20));
    const second = await putRoll(engine, clerk, rollCsv([['Autre', 'Anne', '1970-01-01', '75104']]));
    expect(second.status).toBe(409);
    expect(second.body.type).toBe('/problems/roll-import-running');
    release();
    const done = await first;
    expect(done.status).toBe(200);
    expect((await done.json()).imported).toBe(1);
  });
});

describe('electoral roll against a district removed during its import', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(() => engine.close());

  it('a district is never both gone from the jurisdiction and in the roll in force: the import that raced its removal is refused', async () => {
    const admin = await engine.adminToken();
    const districts = [
      { code: 'nord', name: 'Nord', electorate: 1000 },
      { code: 'sud', name: 'Sud', electorate: 1000 },
    ];
    const created = await engine.request('POST', '/v1/jurisdictions', {
      token: admin,
      body: { id: 'bourg', name: 'Bourg', electorate: 2000, minimumAge: 16, minimumAssurance: 'eidas2', districts, rules: { agenda: { goal: { signatures: 3 }, collectionDays: 30 } } },
    });
    expect(created.status).toBe(201);
    await engine.request('POST', '/v1/jurisdictions/bourg/clerks', { token: admin, body: { subject: 'clerk-of-bourg' } });
    const clerk = await engine.subjectToken('clerk-of-bourg');

    // The upload sends its lines, then waits: the COPY into the import's own table is done, nothing is in force yet.
    const lines = rollCsv(people('bourg', 2_000).map((p, i) => [p.familyName, p.givenNames, p.birthdate, i % 2 ? 'sud' : 'nord']));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode(lines));
        await held;
        controller.close();
      },
    });
    const upload = engine.app.request('/v1/jurisdictions/bourg/roll', {
      method: 'PUT',
      headers: { authorization: `Bearer ${clerk}`, 'content-type': 'text/csv; charset=utf-8' },
      body,
      duplex: 'half',
    } as RequestInit);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const removed = await engine.request('PATCH', '/v1/jurisdictions/bourg', { token: clerk, body: { districts: [districts[0]] } });
    release();
    const imported = await upload;
    const answer = JSON.parse(await imported.text());

    const current = await engine.db.db.select({ id: rollImports.id }).from(rollImports).where(eq(rollImports.status, 'current'));
    if (removed.status === 200) {
      expect(imported.status, JSON.stringify(answer)).toBe(409);
      expect(answer.type).toBe('/problems/roll-district-removed');
      expect(current.filter((c) => c.id === answer.importId)).toEqual([]);
      expect((await engine.request('GET', '/v1/jurisdictions/bourg/roll', { token: clerk })).status).toBe(404);
    } else {
      expect(removed.body.type).toBe('/problems/district-in-use');
      expect(imported.status).toBe(200);
    }
  });
});
