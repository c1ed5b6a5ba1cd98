import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from '../support/world';

/** What a spreadsheet would run as a formula if a cell started with it. */
const FORMULA = /^[=+\-@\t\r]/;
const INJECTIONS = ["=cmd|' /C calc'!A0", '+HYPERLINK("https://evil.example")', '@SUM(1+1)', '-2+3'];

/** CSV in and out: hostile files are refused or neutralised, and no export emits a cell a spreadsheet would execute. */
describe('CSV: imports and exports', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(() => world.engine.close());

  const csvOf = async (path: string) => {
    const res = await world.engine.app.request(path, { headers: { authorization: `Bearer ${world.tokens.clerk}` } });
    expect(res.status, path).toBe(200);
    expect(res.headers.get('content-type'), path).toContain('text/csv');
    const text = await res.text();
    return { text, cells: (parse(text, { relax_column_count: true }) as string[][]).flat() };
  };

  it('exports paper references, reasons and audit details with formula cells defused', async () => {
    const { engine, targetId, tokens } = world;
    const entries = INJECTIONS.map((injection, i) => ({
      familyName: 'Papier',
      givenNames: `Pierre${'abcd'[i]}`,
      birthdate: '1960-01-01',
      district: '75111',
      sheet: injection.slice(0, 64),
      collector: injection.slice(0, 64),
    }));
    const batch = await engine.request('POST', `/v1/initiatives/${targetId}/paper-signatures`, { token: tokens.clerk, body: { entries } });
    expect(batch.status, JSON.stringify(batch.body)).toBeLessThan(300);
    expect((await engine.request('POST', `/v1/initiatives/${targetId}/close`, { token: world.sponsor })).status).toBe(200);
    expect((await engine.request('POST', `/v1/initiatives/${targetId}/verification`, { token: tokens.clerk, body: { method: 'full' } })).status).toBe(201);
    const exported = await engine.request('GET', `/v1/initiatives/${targetId}/verification/export`, { token: tokens.clerk });
    const ids = [...exported.body.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)].map((m) => m[0]);
    const decisions = [...new Set(ids)].slice(0, 2).map((signatureId, i) => ({ signatureId, decision: 'invalid', reason: INJECTIONS[i]! }));
    expect((await engine.request('POST', `/v1/initiatives/${targetId}/verification/decisions`, { token: tokens.clerk, body: { decisions } })).status).toBeLessThan(300);

    for (const path of [`/v1/initiatives/${targetId}/verification/export`, '/clerk/audit.csv', `/clerk/initiatives/${targetId}/districts.csv`]) {
      const { cells } = await csvOf(path);
      expect(cells.filter((cell) => FORMULA.test(cell)), path).toEqual([]);
    }
    // The hostile values are there, defused, not dropped.
    const { cells } = await csvOf(`/v1/initiatives/${targetId}/verification/export`);
    for (const injection of INJECTIONS) expect(cells, injection).toContain(`'${injection}`);
  });

  it('starts every export with a UTF-8 byte order mark, so that Excel shows accented names as typed', async () => {
    const { engine, targetId, tokens } = world;
    const paths = [`/clerk/initiatives/${targetId}/districts.csv`, '/clerk/audit.csv', `/v1/initiatives/${targetId}/verification/export`];
    const started = await engine.request('POST', `/v1/initiatives/${targetId}/verification`, { token: tokens.clerk, body: { method: 'full' } });
    expect([201, 409]).toContain(started.status);
    for (const path of paths) {
      const res = await engine.app.request(path, { headers: { authorization: `Bearer ${tokens.clerk}` } });
      expect(res.status, path).toBe(200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect([...bytes.slice(0, 3)], path).toEqual([0xef, 0xbb, 0xbf]);
      // One mark, at the start only: the header follows at once.
      expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.slice(3, 4)), path).toMatch(/^[a-z]$/);
    }
  });

  it('reads a roll with a BOM, reports malformed lines, and refuses bytes that are not UTF-8', async () => {
    const upload = (body: BodyInit) =>
      world.engine.app.request('/v1/jurisdictions/paris/roll', {
        method: 'PUT',
        headers: { authorization: `Bearer ${world.tokens.clerk}`, 'content-type': 'text/csv' },
        body,
      });
    const roll = [
      '\uFEFFfamily_name,given_names,birthdate,district',
      'Dupont,Élodie Marie,1990-04-12,75111',
      '"Martin, dit ""Le Grand""",Léa,2001-02-28,75118',
      "=cmd|' /C calc'!A0,Mallory,1990-01-01,75111",
      'Sans,Date,,75111',
      'Trop,De,1990-01-01,75111,colonnes,en,plus',
      '"non fermé,Jean,1980-01-01,75111',
    ].join('\r\n');
    const res = await upload(roll);
    const text = await res.text();
    expect(res.status, text).toBeLessThan(500);
    if (res.status === 200) {
      const summary = JSON.parse(text) as { imported: number; rejected: number; rejections: { line: number; reason: string }[] };
      expect(JSON.stringify(summary)).not.toMatch(/cmd\|/);
      expect(summary.imported).toBeGreaterThanOrEqual(2);
      expect(summary.rejected).toBeGreaterThanOrEqual(2);
    } else {
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }

    const latin1 = Uint8Array.from([...Buffer.from('family_name,given_names,birthdate,district\r\n'), ...Buffer.from('Dupr\xe9,Ren\xe9,1950-05-05,75111\r\n', 'latin1')]);
    const refused = await upload(latin1);
    const refusedText = await refused.text();
    expect(refused.status, refusedText).toBeLessThan(500);
    if (refused.status === 200) expect(JSON.parse(refusedText).imported).toBe(0);
    else expect(refused.headers.get('content-type')).toContain('application/problem+json');
  });
});
