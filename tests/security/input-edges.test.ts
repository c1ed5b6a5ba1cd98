import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toProblem } from '../../src/platform/error-problem';
import { PARISIANS, parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { createWorld, type World } from '../support/world';

/**
 * Odd input a client may send by mistake, where the fuzz suite only asks for "no 5xx": each is a
 * 4xx problem that says what is wrong (a 400 names the field at fault), and changes nothing.
 */
describe('odd input is refused by name', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld({ deps: { progressStream: { mode: 'snapshot' } } });
  });
  afterAll(() => world.engine.close());

  const refusedNaming = (res: { status: number; contentType: string | null; body: any }, field: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.type).toBe('/problems/validation');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  };

  it('refuses a page cursor the API did not write, whatever date or id it holds', async () => {
    const cursor = (at: unknown, id: unknown = '0192f0c4-6f7d-7a51-9c35-2b1f6c0c7e11') => Buffer.from(JSON.stringify([at, id])).toString('base64url');
    const forged = [
      cursor('+010000-01-01T00:00:00.000Z'), // a year PostgreSQL reads as a time zone displacement
      cursor('0000-01-01T00:00:00.000Z'), // no year 0 in PostgreSQL
      cursor('2027-01-15T10:00:00Z'), // a date, but not as the API writes it
      cursor(0), // a number, not a date
      cursor('2027-01-15T10:00:00.000Z', '-'.repeat(36)), // 36 characters, not a UUID
    ];
    for (const path of ['/v1/initiatives', '/v1/referendum-items']) {
      for (const c of forged) refusedNaming(await world.engine.request('GET', `${path}?cursor=${c}`), 'query.cursor');
    }
    // A cursor the API did write still pages (the other sponsor sees their draft and the open target).
    const token = world.tokens.otherSponsor;
    const first = await world.engine.request('GET', '/v1/initiatives?limit=1', { token });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const next = await world.engine.request('GET', `/v1/initiatives?limit=1&cursor=${first.body.nextCursor}`, { token });
    expect(next.status).toBe(200);
    expect(next.body.items[0].id).not.toBe(first.body.items[0].id);
  });

  it('refuses times PostgreSQL cannot take, by field, and leaves the initiative as it was', async () => {
    const { engine } = world;
    const sponsor = world.tokens.otherSponsor;
    const draft = await engine.request('GET', `/v1/initiatives/${world.otherDraftId}`, { token: sponsor });
    expect((await engine.request('POST', `/v1/initiatives/${world.otherDraftId}/committee`, { token: world.tokens.citizen, body: { code: draft.body.committeeCode } })).status).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${world.otherDraftId}/submit`, { token: sponsor })).status).toBe(200);
    const review = (body: object) => engine.request('POST', `/v1/initiatives/${world.otherDraftId}/review`, { token: world.tokens.clerk, body: { decision: 'open', ...body } });
    // 23:59:59 at UTC−14 is in year 10000 (it was a 500).
    refusedNaming(await review({ closesAt: '9999-12-31T23:59:59-14:00' }), 'body.closesAt');
    refusedNaming(await review({ opensAt: '0000-06-01T00:00:00Z', closesAt: '2027-06-30T22:00:00Z' }), 'body.opensAt');
    expect((await engine.request('GET', `/v1/initiatives/${world.otherDraftId}`)).body.status).toBe('submitted');
    expect((await review({ closesAt: '2027-06-30T22:00:00Z' })).status).toBe(200);

    const history = (query: string) => engine.request('GET', `/v1/initiatives/${world.targetId}/progress/history?${query}`);
    refusedNaming(await history('from=9999-12-30T00:00:00Z&to=9999-12-31T23:00:00Z'), 'query.from'); // was a 500
    refusedNaming(await history('from=0000-01-01T00:00:00Z&to=0000-01-02T00:00:00Z'), 'query.to');
    // Whatever time still reaches the database out of its range is the request's fault, not the server's.
    expect(toProblem(Object.assign(new Error('time zone displacement out of range'), { code: '22009' })).status).toBe(400);
  });

  it('refuses a cursor of the signatures under verification that the list did not give, sample or full count', async () => {
    const { engine } = world;
    const { clerk, citizen } = world.tokens;
    const sponsor = await engine.tokenFor(PARISIANS.sofia);
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    const id = draft.body.id as string;
    await engine.request('POST', `/v1/initiatives/${id}/committee`, { token: citizen, body: { code: draft.body.committeeCode } });
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    await engine.request('POST', `/v1/initiatives/${id}/review`, { token: clerk, body: { decision: 'open' } });
    for (const person of [PARISIANS.elodie, PARISIANS.karim, PARISIANS.lea]) {
      expect((await engine.request('POST', `/v1/initiatives/${id}/signatures`, { token: await engine.tokenFor(person), body: { district: '75111', consent: true } })).status).toBe(201);
    }
    await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor });
    const page = (cursor: string) => engine.request('GET', `/v1/initiatives/${id}/verification?limit=1&personalData=false&cursor=${cursor}`, { token: clerk });

    expect((await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'sample', sampleSize: 3 } })).status).toBe(201);
    // A position past the integer column (was a 400 naming no field), a negative one, one written otherwise.
    for (const cursor of ['1e10', '3000000000', '-1', '0x1']) refusedNaming(await page(cursor), 'query.cursor');
    const sampled = await engine.request('GET', `/v1/initiatives/${id}/verification?limit=1&personalData=false`, { token: clerk });
    expect((await page(sampled.body.signatures.nextCursor)).body.signatures.items).toHaveLength(1);

    expect((await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    // The sample's position is no cursor of the full count, nor is an id that is no UUID (were 400s naming no field).
    for (const cursor of ['1', 'zz', '-'.repeat(36)]) refusedNaming(await page(cursor), 'query.cursor');
    const full = await engine.request('GET', `/v1/initiatives/${id}/verification?limit=1&personalData=false`, { token: clerk });
    expect((await page(full.body.signatures.nextCursor)).body.signatures.items).toHaveLength(1);
  });

  it('names the field holding a NUL or an unpaired surrogate, which PostgreSQL cannot store, and writes nothing', async () => {
    const { engine, targetId } = world;
    const { admin, clerk, citizen } = world.tokens;
    const json = { 'content-type': 'application/json' };
    const cases: [string, Promise<{ status: number; contentType: string | null; body: any }>][] = [
      ['body.title', engine.request('POST', '/v1/initiatives', { token: citizen, body: { ...REFERENDUM_DRAFT, title: 'Des rues\u0000 aux écoles' } })],
      // JSON may escape half a surrogate pair; it was stored as U+FFFD without a word.
      ['body.title', engine.request('POST', '/v1/initiatives', { token: citizen, rawBody: JSON.stringify(REFERENDUM_DRAFT).replace('Des rues', 'Des \\ud83d rues'), headers: json })],
      ['body.summary', engine.request('PATCH', `/v1/initiatives/${world.otherDraftId}`, { token: world.tokens.otherSponsor, body: { summary: '\u0000' } })],
      ['body.districts.1.name', engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ id: 'nul', districts: [{ code: 'a', name: 'A', electorate: 1 }, { code: 'b', name: 'B\u0000', electorate: 1 }] }) })],
      ['body.rules.agenda.milestones.0.label', engine.request('PATCH', '/v1/jurisdictions/paris', { token: admin, body: { rules: { agenda: { goal: { signatures: 9 }, collectionDays: 30, milestones: [{ signatures: 3, label: 'palier\u0000' }] } } } })],
      ['body.subject', engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk\u0000' } })],
      ['param.subject', engine.request('DELETE', '/v1/jurisdictions/paris/clerks/clerk%00', { token: admin })],
      ['param.id', engine.request('GET', '/v1/jurisdictions/par%00is')],
      ['query.q', engine.request('GET', '/v1/initiatives?q=rues%00')],
      ['query.action', engine.request('GET', '/v1/audit?action=x%00', { token: admin })],
      ['body.reason', engine.request('POST', `/v1/initiatives/${world.otherDraftId}/withdraw`, { token: world.tokens.otherSponsor, body: { reason: 'non\u0000' } })],
    ];
    for (const [field, res] of cases) {
      const r = await res;
      refusedNaming(r, field);
      expect(r.body.errors.find((e: { field: string }) => e.field === field).code).toBe('invalid-character');
    }

    // A paper batch with one such entry is refused whole, naming it: the good entry before it is not counted.
    const before = (await engine.request('GET', `/v1/initiatives/${targetId}/progress`)).body.signatures;
    const entry = { familyName: 'Papier', givenNames: 'Paul', birthdate: '1960-01-01', district: '75111', sheet: 'F-1', collector: 'C-1', signedOn: '2027-01-15' };
    const batch = await engine.request('POST', `/v1/initiatives/${targetId}/paper-signatures`, { token: clerk, body: { entries: [entry, { ...entry, givenNames: 'Pia', sheet: 'F\u00001' }] } });
    refusedNaming(batch, 'body.entries.1.sheet');
    expect(batch.body.errors).toHaveLength(1);
    expect((await engine.request('GET', `/v1/initiatives/${targetId}/progress`)).body.signatures).toBe(before);
    // Characters outside the Basic Multilingual Plane, written as a surrogate pair, are text like any other.
    const emoji = await engine.request('POST', '/v1/initiatives', { token: citizen, rawBody: JSON.stringify(REFERENDUM_DRAFT).replace('Des rues', 'Des \\ud83d\\udeb8 rues'), headers: json });
    expect(emoji.status).toBe(201);
    expect(emoji.body.title).toBe('Des \u{1F6B8} rues aux écoles');
  });

  it('answers a method a path of the API does not take with 405 and the methods it does, not 404', async () => {
    const { engine, targetId } = world;
    const cases: [string, string, string[]][] = [
      ['DELETE', `/v1/initiatives/${targetId}`, ['GET', 'PATCH', 'HEAD']],
      ['PUT', `/v1/initiatives/${targetId}`, ['GET', 'PATCH', 'HEAD']],
      ['GET', `/v1/initiatives/${targetId}/signatures`, ['POST']],
      ['POST', '/v1/jurisdictions/paris/roll', ['PUT', 'GET', 'HEAD']],
      ['PATCH', '/v1/referendum-items', ['GET', 'HEAD']],
    ];
    for (const [method, path, allowed] of cases) {
      const res = await engine.request(method, path, { token: world.tokens.admin, ...(method === 'GET' ? {} : { body: {} }) });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.type).toBe('/problems/method-not-allowed');
      expect(res.headers.get('allow')?.split(', ').sort()).toEqual([...allowed].sort());
      expect(res.body.allowed.sort()).toEqual([...allowed].sort());
    }
    // A path that is not there at all, or only with a trailing slash, is still not found.
    expect((await engine.request('PUT', '/v1/nowhere', { body: {} })).status).toBe(404);
    expect((await engine.request('DELETE', `/v1/initiatives/${targetId}/`)).status).toBe(404);
  });

  it('reads positions in the log only from digits: an empty or otherwise written number is refused by name', async () => {
    const log = (what: string) => world.engine.request('GET', `/v1/initiatives/${world.targetId}/log/${what}`);
    // `index=` was the proof of entry 0, `end=` an empty page: what the client left empty was read as 0.
    for (const [what, field] of [
      ['inclusion?index=', 'query.index'],
      ['inclusion?index=%20', 'query.index'],
      ['inclusion?index=0x0', 'query.index'],
      ['inclusion?index=0&size=1e0', 'query.size'],
      ['entries?start=0&end=', 'query.end'],
      ['entries?start=-0', 'query.start'],
      ['consistency?from=0.0&to=1', 'query.from'],
    ]) refusedNaming(await log(what!), field!);
    expect((await log('inclusion?index=0&size=1')).status).toBe(200);
    expect((await log('entries?start=0&end=1')).body.entries).toHaveLength(1);
  });

  it('refuses words that show less than they hold: too few visible characters, a bidirectional control, a control character', async () => {
    const { engine } = world;
    const sponsor = world.tokens.citizen;
    const created = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const before = (await engine.request('GET', `/v1/initiatives/${id}`, { token: sponsor })).body;
    const cases: [string, Record<string, unknown>, string][] = [
      ['body.title', { title: '\u200b\u200b\u200b' }, 'too-few-visible'],
      ['body.title', { title: 'ab\u200d\u2060' }, 'too-few-visible'],
      // Fillers, blanks and marks on nothing show nothing either.
      ['body.title', { title: '\u3164\u3164\u3164' }, 'too-few-visible'],
      ['body.title', { title: '\u2800\u2800\u2800' }, 'too-few-visible'],
      ['body.title', { title: 'a\u034f\ufe0f\u0301\u0301' }, 'too-few-visible'],
      ['body.title', { title: 'Des rues \u202Eevil\u202C aux écoles' }, 'bidi-control'],
      ['body.title', { title: 'Des rues \u2067aux\u2069 écoles' }, 'bidi-control'],
      ['body.title', { title: 'Des rues\naux écoles' }, 'control-character'],
      ['body.question', { question: '\u00ad\u00ad\u00ad\u00ad ?' }, 'too-few-visible'],
      ['body.question', { question: 'Approuvez-vous \u202Dceci\u202C ?' }, 'bidi-control'],
      ['body.summary', { summary: '\ufeff\u200b \u180e' }, 'too-few-visible'],
      ['body.summary', { summary: 'Un résumé \u202Atout\u202C court.' }, 'bidi-control'],
      ['body.text', { text: '\u200b\n\u200c' }, 'too-few-visible'],
      ['body.text', { text: 'Article \u2066unique\u2069.' }, 'bidi-control'],
      ['body.text', { text: 'Article\u0007 unique.' }, 'control-character'],
    ];
    for (const [field, body, code] of cases) {
      const res = await engine.request('PATCH', `/v1/initiatives/${id}`, { token: sponsor, body });
      refusedNaming(res, field);
      const error = res.body.errors.find((e: { field: string }) => e.field === field);
      expect(error.code, JSON.stringify(body)).toBe(code);
      expect(error.message).toMatch(code === 'bidi-control' ? /bidirectional control character/ : code === 'too-few-visible' ? /visible character/ : /control character/);
    }
    // Created the same way: nothing is written.
    refusedNaming(await engine.request('POST', '/v1/initiatives', { token: world.tokens.citizen, body: { ...REFERENDUM_DRAFT, title: '\u200b\u200b\u200b' } }), 'body.title');
    expect((await engine.request('GET', `/v1/initiatives/${id}`, { token: sponsor })).body).toEqual(before);
    // A reason shown on the initiative's page, the sponsor's or the clerk's, is held to the same.
    refusedNaming(await engine.request('POST', `/v1/initiatives/${id}/withdraw`, { token: sponsor, body: { reason: '\u202Eetirer' } }), 'body.reason');
    expect((await engine.request('GET', `/v1/initiatives/${id}`, { token: sponsor })).body.status).toBe('draft');
    // The reason of an insufficient result too, shown on the initiative's page.
    refusedNaming(await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: world.tokens.clerk, body: { reason: '\u200b\u3164' } }), 'body.reason');

    // Line breaks and tabs in a text of several lines, and what shows though it joins (emoji, accents, a soft hyphen inside a word) are words.
    const kept = await engine.request('PATCH', `/v1/initiatives/${id}`, {
      token: sponsor,
      body: { title: 'Re\u0301\u0301n', summary: 'Ligne une.\r\nLigne\tdeux.', text: 'Article unique.\n\nFer\u00admeture des rues.' },
    });
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    expect(kept.body.summary).toBe('Ligne une.\r\nLigne\tdeux.');
    // Three letters, whatever the marks on them; an emoji family is words too.
    expect(kept.body.title).toBe('Re\u0301\u0301n');
    expect((await engine.request('PATCH', `/v1/initiatives/${id}`, { token: sponsor, body: { title: 'Des rues 👩\u200d👩\u200d👧 aux écoles' } })).status).toBe(200);
  });
});
