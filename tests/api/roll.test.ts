import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollEntries, rollImports } from '../../src/db/schema-roll';
import { rollCheck } from '../../src/features/roll/service';
import { createTestEngine, type TestEngine } from '../support/engine';
import { openParisInitiative, putRoll, rollCsv } from '../support/identity';
import { PARISIANS } from '../support/paris';

const { elodie, karim, sofia } = PARISIANS;

describe('the electoral roll of a jurisdiction that requires one', () => {
  let engine: TestEngine;
  let clerk: string;
  let initiativeId: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, initiativeId } = await openParisInitiative(engine, { requireRoll: true }));
  });
  afterAll(() => engine.close());

  const sign = async (person: typeof elodie, district: string) =>
    engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(person), body: { district, consent: true } });

  it('refuses signing while no roll is imported', async () => {
    const res = await sign(elodie, '75111');
    expect(res.status).toBe(403);
    expect(res.body.type).toBe('/problems/ineligible/roll');
  });

  it('only a clerk of the jurisdiction imports, as text/csv with the expected header', async () => {
    const csv = rollCsv([['Dupont', 'Élodie', '1990-04-12', '75111']]);
    expect((await putRoll(engine, await engine.tokenFor(karim), csv)).status).toBe(403);
    const wrongType = await putRoll(engine, clerk, csv, { contentType: 'application/json' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.contentType).toContain('application/problem+json');
    const noHeader = await putRoll(engine, clerk, 'Dupont,Élodie,1990-04-12,75111\n');
    expect(noHeader.status).toBe(400);
    expect(noHeader.body.errors[0].field).toBe('body.header');
    expect(await engine.db.db.select().from(rollImports).then((rows) => rows.filter((r) => r.status === 'current'))).toHaveLength(0);
  });

  it('imports a roll (BOM, CRLF, quoted fields), reporting rejected lines and duplicates', async () => {
    const csv =
      '\uFEFFfamily_name,given_names,birthdate,district\r\n' +
      'Dupont,"Élodie, Marie",1990-04-12,75111\r\n' + // line 2
      'BENALI,Karim,1985-11-03,75118\r\n' + // line 3
      'Martin,Léa,2001-02-30,75118\r\n' + // line 4: no such day
      'Rossi,Sofia,1978-09-30,92012\r\n' + // line 5: not a Paris district
      'Nguyen,Tom,1999-12-01\r\n' + // line 6: a field missing
      '---,Paul,1960-01-01,75101\r\n' + // line 7: no letters
      'dupont,ELODIE,1990-04-12,75120\r\n'; // line 8: Élodie again
    const res = await putRoll(engine, clerk, csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ jurisdictionId: 'paris', imported: 2, duplicates: 1, rejected: 4, keyVersion: 't1' });
    expect(res.body.rejections.map((r: { line: number }) => r.line)).toEqual([4, 5, 6, 7]);
    expect(res.body.rejections[0].reason).toMatch(/birthdate/);
    expect(res.body.rejections[1].reason).toMatch(/district "92012"/);
    expect(res.body.rejections[2].reason).toMatch(/expected 4 fields, as the header names, found 3/);

    const summary = await engine.request('GET', '/v1/jurisdictions/paris/roll', { token: clerk });
    expect(summary.body).toMatchObject({ imported: 2, duplicates: 1, rejected: 4, importedBy: 'clerk-of-paris' });
  });

  it('signing needs a roll match, and the roll district wins over the declared one', async () => {
    const onRoll = await sign(elodie, '75101');
    expect(onRoll.status).toBe(201);
    expect(onRoll.body.signature.district).toBe('75111');

    const notOnRoll = await sign(sofia, '75120');
    expect(notOnRoll.status).toBe(403);
    expect(notOnRoll.body.type).toBe('/problems/ineligible/roll');
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(1);
  });

  it('a new import replaces the roll whole; the old entries are gone', async () => {
    const res = await putRoll(engine, clerk, rollCsv([['Rossi', 'Sofia', '1978-09-30', '75120'], ['Dupont', 'Élodie', '1990-04-12', '75111']]));
    expect(res.status).toBe(200);
    expect(res.body.imported).toBe(2);
    expect(await engine.db.db.select().from(rollEntries)).toHaveLength(2);

    expect((await sign(sofia, '75120')).status).toBe(201);
    const karimNow = await sign(karim, '75118');
    expect(karimNow.status).toBe(403);
    expect(karimNow.body.type).toBe('/problems/ineligible/roll');
  });

  it('a roll without a single valid line, or not in UTF-8, is refused and the roll in force stays', async () => {
    const empty = await putRoll(engine, clerk, rollCsv([['Nobody', 'Here', 'not-a-date', '75101']]));
    expect(empty.status).toBe(400);
    expect(empty.body.type).toBe('/problems/roll-empty');
    expect(empty.body.rejections).toEqual([{ line: 2, reason: expect.stringMatching(/birthdate/) }]);

    const latin1 = new Uint8Array([...new TextEncoder().encode(rollCsv([['Dupont', 'Elodie', '1990-04-12', '75111']])), 0x44, 0xe9, 0x0a]);
    const notUtf8 = await putRoll(engine, clerk, latin1);
    expect(notUtf8.status).toBe(400);
    expect(notUtf8.body.detail).toMatch(/UTF-8/);

    const summary = await engine.request('GET', '/v1/jurisdictions/paris/roll', { token: clerk });
    expect(summary.body.imported).toBe(2);
    expect(await engine.db.db.select().from(rollEntries)).toHaveLength(2);
    expect((await sign(sofia, '75120')).status).toBe(200);
  });

  it('reports the first 100 rejected lines and counts the rest', async () => {
    const rows = Array.from({ length: 150 }, (_, i) => [`Nom${'x'.repeat(i % 3)}`, 'Prénom', '1990-13-01', '75101']);
    rows.push(['Dupont', 'Élodie', '1990-04-12', '75111']);
    const res = await putRoll(engine, clerk, rollCsv(rows));
    expect(res.status).toBe(200);
    expect(res.body.rejected).toBe(150);
    expect(res.body.rejections).toHaveLength(100);
    expect(res.body.rejections[99].line).toBe(101);
  });

  it('has its own body limit, above the JSON one, and refuses beyond it with 413', async () => {
    // Over 1 MB, mostly of lines outside Paris (refused before any hashing), so the test stays quick.
    const big = rollCsv([...Array.from({ length: 40_000 }, () => ['Nom', 'Prénom', '1990-01-01', '99999']), ['Dupont', 'Élodie', '1990-04-12', '75111']]);
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const fits = await putRoll(engine, clerk, big);
    expect(fits.status).toBe(200);
    expect(fits.body).toMatchObject({ imported: 1, rejected: 40_000 });

    engine.deps.config.rollMaxBytes = 100_000;
    try {
      const tooLarge = await putRoll(engine, clerk, big);
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body.type).toBe('/problems/payload-too-large');
    } finally {
      delete engine.deps.config.rollMaxBytes;
    }
    expect((await engine.request('GET', '/v1/jurisdictions/paris/roll', { token: clerk })).body.imported).toBe(1);
  });

  it('a record with a broken quote is rejected by its first line, and reading goes on after it', async () => {
    const csv =
      'family_name,given_names,birthdate,district\n' +
      'Dupont,"Élodie\nMarie",1990-04-12,75111\n' + // lines 2-3: a quoted field may hold a line break
      'Ben"ali,Karim,1985-11-03,75118\n' + // line 4: a quote inside a field
      'Rossi,Sofia,1978-09-30,75120\n' + // line 5
      'Benali,Karim,1985-11-03,75118\n' + // line 6
      '"Moreau,Anne,1960-06-06,75101\n' + // line 7: this quote runs on to the next quote, line 8's,
      'Petit,"Jean",1970-01-01,75101\n' + // line 8: where the fault shows; the record ends with this line
      'Moreau,Anne,1960-06-06,75101\n' + // line 9: read again
      'Martin,"Léa'; // line 10: a quote still open at the end of the file
    const res = await putRoll(engine, clerk, csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ imported: 4, duplicates: 0, rejected: 3 });
    expect(res.body.rejections).toEqual([
      { line: 4, reason: 'malformed CSV (INVALID_OPENING_QUOTE)' },
      { line: 7, reason: 'malformed CSV (CSV_INVALID_CLOSING_QUOTE, found on line 8)' },
      { line: 10, reason: 'malformed CSV (CSV_QUOTE_NOT_CLOSED)' },
    ]);
    for (const person of [elodie, karim, sofia]) expect(await rollCheck({ keys: engine.deps.keys }, engine.db.db, 'paris', person)).toHaveProperty('district');
  });

  it('a record longer than 4096 characters (a runaway quote) stops the import with its line, and the roll in force stays', async () => {
    const csv = rollCsv([['Rossi', 'Sofia', '1978-09-30', '75120'], [`"${'x'.repeat(5000)}`, 'Paul', '1960-01-01', '75101'], ['Benali', 'Karim', '1985-11-03', '75118']]);
    const res = await putRoll(engine, clerk, csv);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'body', message: expect.stringMatching(/line 3 is longer than 4096 characters/) }]);
    expect((await engine.request('GET', '/v1/jurisdictions/paris/roll', { token: clerk })).body.imported).toBe(4);
  });

  it('numbers lines as an editor shows them: a CRLF inside a quoted field, LF and CRLF mixed, an empty line', async () => {
    const csv =
      'family_name,given_names,birthdate,district\r\n' +
      'Dupont,"Élodie\r\nMarie",1990-04-12,75111\r\n' + // lines 2-3
      '\r\n' + // line 4
      'Martin,Léa,2001-02-30,75118\n' + // line 5: no such day
      'Rossi,Sofia,1978-09-30,75120\r\n' + // line 6
      'Nguyen,Tom,1999-12-01\r\n'; // line 7: a field missing
    const res = await putRoll(engine, clerk, csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ imported: 2, rejected: 2 });
    expect(res.body.rejections.map((r: { line: number }) => r.line)).toEqual([5, 7]);
  });
});

describe('a new roll whose predecessor’s entries cannot be deleted at once', () => {
  let engine: TestEngine;
  afterAll(() => engine.close());

  it('is in force all the same, and the old entries go on the next run of the scheduler', async () => {
    engine = await createTestEngine();
    const { clerk, initiativeId } = await openParisInitiative(engine, { requireRoll: true });
    const first = await putRoll(engine, clerk, rollCsv([['Dupont', 'Élodie', '1990-04-12', '75111']]));
    expect(first.status).toBe(200);
    // The database cannot delete them now (a fault of its own, injected by a trigger; or the engine stops right then).
    await engine.db.db.execute(
      sql.raw(`create function refuse_roll_deletion() returns trigger language plpgsql as $$ begin raise exception 'deletion refused'; end $$`),
    );
    await engine.db.db.execute(sql.raw('create trigger refuse_roll_deletion before delete on roll_entries for each row execute function refuse_roll_deletion()'));

    const second = await putRoll(engine, clerk, rollCsv([['Benali', 'Karim', '1985-11-03', '75118']]));
    expect(second.status).toBe(200);
    expect(second.body.imported).toBe(1);
    const summary = await engine.request('GET', '/v1/jurisdictions/paris/roll', { token: clerk });
    expect(summary.body.importId).toBe(second.body.importId);
    const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(karim), body: { district: '75118', consent: true } });
    expect(signed.status).toBe(201);
    expect(engine.logLines.some((line) => line.includes('entries of a replaced electoral roll could not be deleted yet') && line.includes('deletion refused'))).toBe(true);

    await engine.db.db.execute(sql.raw('drop trigger refuse_roll_deletion on roll_entries'));
    await engine.scheduler.tick();
    const left = await engine.db.db.select({ importId: rollEntries.importId }).from(rollEntries);
    expect(left).toEqual([{ importId: second.body.importId }]);
  });
});

describe('roll hashes', () => {
  it('the import and the signing check compute the same keyed hash', async () => {
    const { rollHashFor } = await import('../../src/features/roll/service');
    const { rollHasher } = await import('../../src/features/roll/reader');
    const { canonicalIdentity, deriveKey, jurisdictionKeyInfo, HashKeyring, rollHash } = await import('../../src/core/identity');
    const pepper = crypto.getRandomValues(new Uint8Array(32));
    const keys = { keyring: new HashKeyring('v1', { v1: pepper }) };
    const hashOf = rollHasher(deriveKey(pepper, jurisdictionKeyInfo('paris')));
    const hash = new Uint8Array(32);
    for (const person of [elodie, karim, sofia]) {
      hashOf(canonicalIdentity(person), hash);
      expect(hash).toEqual(rollHashFor(keys, 'paris', person));
    }
    // Another key gives another hash: the comparison above would see a difference.
    rollHasher(crypto.getRandomValues(new Uint8Array(32)))(canonicalIdentity(elodie), hash);
    expect(hash).not.toEqual(rollHashFor(keys, 'paris', elodie));
    // Texts of every length over one to five blocks, in one to four UTF-8 bytes a character.
    const key = crypto.getRandomValues(new Uint8Array(32));
    const hashWith = rollHasher(key);
    for (let length = 0; length < 300; length++) {
      const text = 'Aé€𝔄|'.repeat(length).slice(0, length);
      hashWith(text, hash);
      expect(hash, `length ${length}`).toEqual(rollHash(key, text));
    }
  });

  it('the import reads a name as the signing check does, whatever its characters', async () => {
    const { rollCanonical } = await import('../../src/features/roll/reader');
    const { canonicalIdentity } = await import('../../src/core/identity');
    const outcome = (f: () => string) => {
      try {
        return f();
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    };
    const same = (familyName: string, givenNames: string) =>
      expect(outcome(() => rollCanonical(familyName, givenNames, '1990-04-12')), JSON.stringify([familyName, givenNames])).toBe(
        outcome(() => canonicalIdentity({ familyName, givenNames, birthdate: '1990-04-12' })),
      );
    // Every character of the Basic Multilingual Plane, alone and around separators.
    for (let code = 0; code < 0x10000; code++) {
      const c = String.fromCharCode(code);
      same(`a${c}b`, `${c} x`);
      same(c, `x${c}y`);
    }
    // Strings of accents, ligatures, combining marks, odd spaces and characters outside the BMP.
    const pieces = ['é', 'e\u0301', 'ß', 'ﬁ', 'Æ', 'ø', 'Ⅻ', '\u0345', 'ᾳ', 'İ', 'ı', '\u00a0', '\u3000', ',', '-', ' ', "'", '1', '𝔄', '😀', 'Ǆ', 'Ꭰ', 'ꭰ', 'ŉ', '\u2010', '\u2013', '\t', '\u02bc', '\u02bb', '\uff0c', '\u3001', '\u060c'];
    let seed = 7;
    const pick = () => pieces[(seed = (seed * 48271) % 0x7fffffff) % pieces.length]!;
    for (let i = 0; i < 5000; i++) same(Array.from({ length: 1 + (i % 5) }, pick).join(''), Array.from({ length: 1 + (i % 7) }, pick).join(''));
  });
});

describe('the header of a roll export', () => {
  let engine: TestEngine;
  let clerk: string;
  let initiativeId: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, initiativeId } = await openParisInitiative(engine, { requireRoll: true }));
  });
  afterAll(() => engine.close());

  it('may hold other columns than the four read, in any order: they are ignored, and a line must have as many fields as the header', async () => {
    const csv =
      'district,address,family_name,given_names,place_of_birth,birthdate\n' +
      '75111,"12 rue Oberkampf",Dupont,Élodie,Lyon,1990-04-12\n' + // line 2
      '75118,"3 rue Ordener",Benali,Karim,1985-11-03\n'; // line 3: a field missing
    const res = await putRoll(engine, clerk, csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ imported: 1, rejected: 1 });
    expect(res.body.rejections).toEqual([{ line: 3, reason: 'expected 6 fields, as the header names, found 5' }]);
    const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(elodie), body: { district: '75111', consent: true } });
    expect(signed.status).toBe(201);
  });

  it('names the columns a header lacks, or names twice', async () => {
    const lacking = await putRoll(engine, clerk, 'nom,given_names,birthdate,district\nDupont,Élodie,1990-04-12,75111\n');
    expect(lacking.status).toBe(400);
    expect(lacking.body.errors[0]).toMatchObject({ field: 'body.header' });
    expect(lacking.body.errors[0].message).toContain('it has no column family_name.');
    const twice = await putRoll(engine, clerk, 'family_name,given_names,birthdate,district,district\nDupont,Élodie,1990-04-12,75111,75112\n');
    expect(twice.status).toBe(400);
    expect(twice.body.errors[0].message).toContain('it names district more than once.');
  });
});
