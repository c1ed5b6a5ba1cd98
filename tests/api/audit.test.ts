import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { eq, gte, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditHead, auditLog } from '../../src/db/schema';
import { auditEntryDigest } from '../../src/features/audit/service';
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

  it('filters by actor and by time range, the filters together with the pages, each entry once', async () => {
    const { engine, tokens, targetId } = world;
    const all = (await engine.request('GET', '/v1/audit?limit=500', { token: tokens.admin })).body.items as { seq: number; at: string; actor: string }[];
    const later = new Date(engine.clock.now().getTime() + 3_600_000);
    engine.clock.set(later);
    const paper = { familyName: 'Papier', givenNames: 'Paul', birthdate: '1960-01-01', district: '75111', sheet: 'F-2', collector: 'C-2' };
    for (let i = 0; i < 3; i++) {
      const batch = await engine.request('POST', `/v1/initiatives/${targetId}/paper-signatures`, { token: tokens.clerk, body: { entries: [{ ...paper, givenNames: `Paul${'abc'[i]}` }] } });
      expect(batch.status, JSON.stringify(batch.body)).toBeLessThan(300);
    }
    const since = (await engine.request('GET', `/v1/audit?from=${encodeURIComponent(later.toISOString())}&limit=2`, { token: tokens.admin })).body;
    const older = (await engine.request('GET', `/v1/audit?from=${encodeURIComponent(later.toISOString())}&limit=2&before=${since.nextBefore}`, { token: tokens.admin })).body;
    const recent = [...since.items, ...older.items] as { seq: number; actor: string; action: string }[];
    expect(recent.map((e) => e.action)).toEqual(['paper.keyed', 'paper.keyed', 'paper.keyed']);
    expect(older.nextBefore).toBeNull();
    const before = (await engine.request('GET', `/v1/audit?to=${encodeURIComponent(later.toISOString())}&limit=500`, { token: tokens.admin })).body.items as { seq: number }[];
    expect(before.map((e) => e.seq)).toEqual(all.map((e) => e.seq));

    const clerkSubject = recent[0]!.actor;
    const byClerk = (await engine.request('GET', `/v1/audit?actor=${encodeURIComponent(clerkSubject)}&limit=500`, { token: tokens.admin })).body.items as { actor: string }[];
    expect(byClerk.length).toBeGreaterThanOrEqual(recent.length + 1);
    expect(new Set(byClerk.map((e) => e.actor))).toEqual(new Set([clerkSubject]));
    expect((await engine.request('GET', '/v1/audit?from=yesterday', { token: tokens.admin })).status).toBe(400);
  });

  it("verifies the administrator's JSON pages and the clerk's CSV, and names the entry altered in the database", async () => {
    const { engine, tokens } = world;
    const all = await everyPage(tokens.admin!);
    const whole = await verify('audit.json', JSON.stringify(all));
    expect(whole.output).toContain('unbroken from the first entry');
    expect(whole.code, whole.output).toBe(0);

    // An entry taken out of the whole trail: the gap is named, since an export of the whole trail has none.
    const items = all.flatMap((page) => (page as { items: { seq: number }[] }).items);
    const removed = items[Math.floor(items.length / 2)]!.seq;
    const withoutOne = await verify('without-one.json', JSON.stringify(items.filter((e) => e.seq !== removed)));
    expect(withoutOne.output).toContain(`chain: 1 gap in the sequence (entry ${removed} is not in the file)`);
    expect(withoutOne.output).toContain('in an export of the whole trail, entries were removed');
    // Said to be the whole trail (--whole), the gap fails the check, as do entries missing from the start.
    const lines: string[] = [];
    expect(await runVerifier(['audit', join(folder, 'without-one.json'), '--whole'], (line) => lines.push(line))).toBe(1);
    expect(lines.join('\n')).toContain(`FAILED: the export of the whole trail lacks entry ${removed}: they were removed from the trail`);
    const firstCut: string[] = [];
    await writeFile(join(folder, 'first-cut.json'), JSON.stringify(items.filter((e) => e.seq > 2)));
    expect(await runVerifier(['audit', join(folder, 'first-cut.json'), '--whole'], (line) => firstCut.push(line))).toBe(1);
    expect(firstCut.join('\n')).toContain('lacks entries 1–2');
    expect(await runVerifier(['audit', join(folder, 'audit.json'), '--whole'], () => {})).toBe(0);

    // Another answer saved by mistake, or a damaged file: said so (exit 2), not a failed check nor a crash.
    for (const content of ['[null]', JSON.stringify((await engine.request('GET', '/v1/initiatives')).body)]) {
      const wrong = await verify('wrong.json', content);
      expect(wrong.code, wrong.output).toBe(2);
      expect(wrong.output).toContain('ERROR: the file is not a GET /v1/audit answer');
    }

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

  it('publishes the newest entry of the trail, signed with a key of the JWKS, to anyone; it moves with each new entry', async () => {
    const { engine, tokens } = world;
    const jwks = createLocalJWKSet((await engine.request('GET', '/.well-known/jwks.json')).body);
    const head = await engine.request('GET', '/v1/audit/head');
    expect(head.status).toBe(200);
    const [newest] = (await engine.request('GET', '/v1/audit?limit=1', { token: tokens.admin })).body.items;
    expect(head.body).toMatchObject({ seq: newest.seq, hash: newest.hash, at: newest.at });
    const { payload, protectedHeader } = await jwtVerify(head.body.signature, jwks, { typ: 'audit-head+jwt', algorithms: ['EdDSA'] });
    expect(protectedHeader.typ).toBe('audit-head+jwt');
    expect(payload).toMatchObject({ seq: newest.seq, hash: newest.hash, at: newest.at, iss: engine.deps.config.publicUrl });

    // A new audited action (a clerk granted): the head is that entry.
    expect((await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: tokens.admin, body: { subject: 'clerk-for-the-head' } })).status).toBe(201);
    const next = await engine.request('GET', '/v1/audit/head');
    expect(next.body.seq).toBe(newest.seq + 1);
    const [granted] = (await engine.request('GET', '/v1/audit?limit=1', { token: tokens.admin })).body.items;
    expect(granted.prevHash).toBe(newest.hash);
    expect(next.body.hash).toBe(granted.hash);
  });
});

describe('audit trail: a signed head kept by someone outside the engine, checked against a later export', () => {
  let world: World;
  let folder: string;
  beforeAll(async () => {
    world = await createWorld();
    folder = await mkdtemp(join(tmpdir(), 'civic-audit-head-'));
  });
  afterAll(async () => {
    await world.engine.close();
    await rm(folder, { recursive: true, force: true });
  });

  const save = async (name: string, value: unknown) => {
    const file = join(folder, name);
    await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };
  const wholeTrail = async () => {
    const { engine, tokens } = world;
    return (await engine.request('GET', '/v1/audit?limit=500', { token: tokens.admin })).body;
  };
  const verifyWithHead = async (exported: unknown, head: unknown, extra: string[] = []) => {
    const lines: string[] = [];
    const jwks = await save('jwks.json', (await world.engine.request('GET', '/.well-known/jwks.json')).body);
    const code = await runVerifier(['audit', await save('audit.json', exported), '--head', await save('head.json', head), '--jwks', jwks, ...extra], (line) => lines.push(line));
    return { code, output: lines.join('\n') };
  };

  it('passes while the trail only grows, and fails once the head’s entry is rewritten or cut off, naming it', async () => {
    const { engine, tokens } = world;
    const head = (await engine.request('GET', '/v1/audit/head')).body;
    expect(head.seq).toBeGreaterThan(2);
    const kept = await verifyWithHead(await wholeTrail(), head);
    expect(kept.output).toContain(`head: entry ${head.seq} is in the file with the hash the engine signed`);
    expect(kept.code, kept.output).toBe(0);

    // The trail grows: the head is still held.
    expect((await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: tokens.admin, body: { subject: 'clerk-after-the-head' } })).status).toBe(201);
    expect((await verifyWithHead(await wholeTrail(), head)).code).toBe(0);

    // A head whose hash was changed by hand does not match its signature.
    const forged = await verifyWithHead(await wholeTrail(), { ...head, hash: 'f'.repeat(64) });
    expect(forged.code).toBe(1);
    expect(forged.output).toContain("the audit head's hash");

    // Someone with the database rewrites the head's entry and every hash after it: the chain alone still verifies, the head does not.
    const rows = await engine.db.db.select().from(auditLog).orderBy(auditLog.seq);
    let prev = rows.find((r) => r.seq === head.seq - 1)!.hash;
    for (const row of rows.filter((r) => r.seq >= head.seq)) {
      const details = row.seq === head.seq ? { ...row.details, rewritten: true } : row.details;
      const hash = auditEntryDigest(prev, { ...row, details });
      await engine.db.db.update(auditLog).set({ details, prevHash: prev, hash }).where(eq(auditLog.seq, row.seq));
      prev = hash;
    }
    await engine.db.db.update(auditHead).set({ hash: prev }).where(eq(auditHead.id, 1));
    const rewritten = await wholeTrail();
    const chainOnly: string[] = [];
    expect(await runVerifier(['audit', await save('rewritten.json', rewritten)], (line) => chainOnly.push(line))).toBe(0);
    const caught = await verifyWithHead(rewritten, head);
    expect(caught.code).toBe(1);
    expect(caught.output).toContain(`entry ${head.seq} has the hash`);
    expect(caught.output).toContain('the trail was rewritten');

    // The newest entries removed, the head's among them.
    await engine.db.db.delete(auditLog).where(gte(auditLog.seq, head.seq));
    const cut = await verifyWithHead(await wholeTrail(), head, ['--whole']);
    expect(cut.code).toBe(1);
    expect(cut.output).toContain(`before entry ${head.seq} that the engine signed`);

    // Without keys there is nothing to check the head with.
    const lines: string[] = [];
    expect(await runVerifier(['audit', await save('cut.json', await wholeTrail()), '--head', await save('head.json', head)], (line) => lines.push(line))).toBe(2);
    expect(lines.join('\n')).toContain('--head needs the keys');
  });

  it('does not accuse the engine of removing entries when a clerk’s export of one jurisdiction ends before a head taken elsewhere', async () => {
    const { engine, tokens } = world;
    // The newest entry of the whole trail is Lyon's; the clerk of Paris exports what they may read.
    expect((await engine.request('POST', '/v1/jurisdictions/lyon/clerks', { token: tokens.admin, body: { subject: 'clerk-of-lyon-for-the-head' } })).status).toBe(201);
    const head = (await engine.request('GET', '/v1/audit/head')).body;
    const parisOnly = (await engine.request('GET', '/v1/audit?limit=500', { token: tokens.clerk })).body;
    expect(parisOnly.items.length).toBeGreaterThan(0);
    expect(Math.max(...parisOnly.items.map((e: { seq: number }) => e.seq))).toBeLessThan(head.seq);

    const filtered = await verifyWithHead(parisOnly, head);
    expect(filtered.code, filtered.output).toBe(2);
    expect(filtered.output).not.toContain('FAILED');
    expect(filtered.output).toContain(`entry ${head.seq} of the head is not in the file`);
  });
});

describe('audit trail: the clerk sees every entry, on the page and in the CSV', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(() => world.engine.close());

  it('pages through more than a page and exports more than 10,000 entries, each once, while entries are added', async () => {
    const { engine, tokens, targetId } = world;
    // A long full count: one entry per decision, as the clerk's page records them one by one.
    const [head] = await engine.db.db.select().from(auditHead);
    const first = head!.seq + 1;
    const count = 10_050;
    await engine.db.db.execute(sql`
      insert into audit_log (seq, at, actor, action, jurisdiction_id, initiative_id, details, prev_hash, hash)
      select s, now(), 'clerk-of-paris', 'verification.decisions', 'paris', ${targetId}::uuid, '{"count":1}'::jsonb, '', 'h' || s
      from generate_series(${first}::bigint, ${first + count - 1}::bigint) s`);
    await engine.db.db.update(auditHead).set({ seq: first + count - 1, hash: `h${first + count - 1}` });
    const paris = (await engine.db.db.select({ seq: auditLog.seq }).from(auditLog).where(eq(auditLog.jurisdictionId, 'paris'))).map((r) => r.seq);
    expect(paris.length).toBeGreaterThan(count);

    const csv = await engine.app.request('/clerk/audit.csv', { headers: { authorization: `Bearer ${tokens.clerk}` } });
    expect(csv.status).toBe(200);
    const rows = (parse(await csv.text(), { columns: true, bom: true }) as { seq: string }[]).map((r) => Number(r.seq));
    expect(rows.length).toBe(paris.length);
    expect(new Set(rows).size).toBe(rows.length);

    // The page, older link after older link, while the clerk's work goes on.
    const seen: number[] = [];
    let path: string | null = `/clerk/audit?initiative=${targetId}`;
    for (let pages = 0; path && pages < 100; pages++) {
      const res = await engine.app.request(path, { headers: { authorization: `Bearer ${tokens.clerk}`, accept: 'text/html' } });
      expect(res.status).toBe(200);
      const html = await res.text();
      seen.push(...[...html.matchAll(/<tr><td class="num">(\d+)<\/td>/g)].map((m) => Number(m[1])));
      const older = /<a href="([^"]+)">(?:Entrées plus anciennes|Older entries)<\/a>/.exec(html);
      path = older ? older[1]!.replaceAll('&amp;', '&') : null;
      if (pages === 0) expect((await engine.request('POST', `/v1/initiatives/${targetId}/paper-signatures`, { token: tokens.clerk, body: { entries: [{ familyName: 'Papier', givenNames: 'Paule', birthdate: '1960-01-01', district: '75111', sheet: 'F-1', collector: 'C-1' }] } })).status).toBeLessThan(300);
    }
    const expected = (await engine.db.db.select({ seq: auditLog.seq }).from(auditLog).where(eq(auditLog.initiativeId, targetId))).map((r) => r.seq);
    expect(new Set(seen).size).toBe(seen.length);
    // Everything there when the clerk began reading, nothing twice; the entry added meanwhile is on a fresh first page.
    expect(seen.length).toBe(expected.length - 1);
  });
});
