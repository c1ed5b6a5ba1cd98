import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/db/schema';
import { runVerifier } from '../../src/verify';
import { REFERENDUM_DRAFT } from '../support/paris';
import { createWorld, type World } from '../support/world';

/** A clerk's free text with everything a CSV and a hash must carry as typed. */
const REASON = '=HYPERLINK("https://evil.example"), dit « non » ;\nligne 2 — é';

describe('audit trail: recomputed from its exports by someone outside the engine', () => {
  let world: World;
  let folder: string;
  beforeAll(async () => {
    world = await createWorld();
    folder = await mkdtemp(join(tmpdir(), 'civic-audit-'));
    const { engine, tokens } = world;
    const sponsor = await engine.tokenFor({ givenNames: 'Hélène', familyName: 'Refusée', birthdate: '1981-08-08', subject: 'sponsor-rejected' });
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/committee`, { token: tokens.committee, body: { code: draft.body.committeeCode } })).status).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor })).status).toBe(200);
    const rejected = await engine.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: tokens.clerk, body: { decision: 'reject', reason: REASON } });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
  });
  afterAll(async () => {
    await world.engine.close();
    await rm(folder, { recursive: true, force: true });
  });

  const verify = async (name: string, content: string) => {
    const file = join(folder, name);
    await writeFile(file, content);
    const lines: string[] = [];
    const code = await runVerifier(['audit', file], (line) => lines.push(line));
    return { code, output: lines.join('\n') };
  };
  const everyPage = async (token: string, query = '') => {
    const pages: unknown[] = [];
    for (let before: number | null = null; ; ) {
      const page: { status: number; body: { nextBefore: number | null } } = await world.engine.request('GET', `/v1/audit?limit=3${query}${before ? `&before=${before}` : ''}`, { token });
      expect(page.status).toBe(200);
      pages.push(page.body);
      before = page.body.nextBefore;
      if (before === null) return pages;
    }
  };

  it("verifies the administrator's JSON pages and the clerk's CSV, and names the entry altered in the database", async () => {
    const { engine, tokens } = world;
    const all = await everyPage(tokens.admin!);
    const whole = await verify('audit.json', JSON.stringify(all));
    expect(whole.output).toContain('unbroken from the first entry');
    expect(whole.code, whole.output).toBe(0);

    // The clerk sees Paris only: gaps where Lyon's entries are, each entry still recomputed.
    const csv = await engine.app.request('/clerk/audit.csv', { headers: { authorization: `Bearer ${tokens.clerk}` } });
    const text = await csv.text();
    expect(text).toContain('prev_hash');
    const fromCsv = await verify('audit.csv', text);
    expect(fromCsv.code, fromCsv.output).toBe(0);
    expect(fromCsv.output).toContain('gap');

    // Someone with access to the database softens the clerk's reason.
    const entries = await engine.db.db.select().from(auditLog).orderBy(auditLog.seq);
    const seq = entries.find((e) => JSON.stringify(e.details).includes('evil.example'))!.seq;
    await engine.db.db.execute(sql`update audit_log set details = jsonb_set(details, '{reason}', '"Dossier incomplet."') where seq = ${seq}`);
    const altered = await verify('altered.json', JSON.stringify(await everyPage(tokens.admin!)));
    expect(altered.code).toBe(1);
    expect(altered.output).toContain(`entry ${seq} `);
    const alteredCsv = await engine.app.request('/clerk/audit.csv', { headers: { authorization: `Bearer ${tokens.clerk}` } });
    expect((await verify('altered.csv', await alteredCsv.text())).code).toBe(1);
  });
});
