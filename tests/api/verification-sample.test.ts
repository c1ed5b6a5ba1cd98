import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { eq, sql } from 'drizzle-orm';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHash, logEntryData } from '../../src/core/merkle';
import { drawSample } from '../../src/core/sampling';
import { logEntries, signatures } from '../../src/db/schema';
import { verifyAuditChain } from '../../src/features/audit/service';
import { sealPersonalData } from '../../src/features/personal-data/service';
import { bumpCounts } from '../../src/features/progress/service';
import { signerHashFor } from '../../src/features/signatures/service';
import { main as verifyCertificateCli } from '../../src/verify-certificate';
import { createTestEngine, type TestEngine } from '../support/engine';
import { PARIS_DISTRICTS, parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';

/**
 * Random-sample verification, the story of the issue: petitions of 3,000 paper and online
 * signatures, 8 % of them invalid and 150 people who signed twice under two spellings; a sample of
 * 500 ruled on by a clerk who reads the decrypted names; one projection in each band.
 *
 * Petition A goes wholly through the API (online signing and paper batches). Petitions B and C put
 * their 3,000 rows in the database directly, with their log entries and counters (deterministic
 * ids, so their fixed-seed samples and projections are the same on every run, and it is quicker);
 * their verification then runs through the API.
 */

const CODES = PARIS_DISTRICTS.map((d) => d.code);
const FAMILY = ['Martin', 'Bernard', 'Thomas', 'Petit', 'Robert', 'Richard', 'Durand', 'Dubois', 'Moreau', 'Laurent', 'Simon', 'Michel', 'Lefebvre', 'Leroy', 'Roux', 'David', 'Bertrand', 'Morel', 'Fournier', 'Girard'];
const GIVEN = ['Camille', 'Louis', 'Emma', 'Hugo', 'Chloé', 'Lucas', 'Léa', 'Nathan', 'Manon', 'Jules', 'Inès', 'Gabriel', 'Sarah', 'Arthur', 'Zoé'];
const COMPOUND = ['Anne-Sophie', 'Jean-Marc', 'Marie-Claire', 'Pierre-Louis', 'Marie-Hélène', 'Jean-Baptiste'];

interface Person {
  givenNames: string;
  familyName: string;
  birthdate: string;
  district: string;
}

type Truth = 'valid' | 'duplicate-pair' | 'not-registered' | 'other-district';

interface Entry {
  person: Person;
  /** What the clerk will find: which is why this entry exists. */
  truth: Truth;
  channel: 'online' | 'paper';
  /** The district written on the signature (differs from the register's for 'other-district'). */
  declared: string;
  /** For the second signature of a person: the spelling written on paper. */
  givenAsWritten: string;
  sheet: string | null;
  collector: string | null;
}

const birthdateOf = (i: number) => new Date(Date.UTC(1950, 0, 1) + i * 6 * 86_400_000).toISOString().slice(0, 10);

/**
 * 3,000 signatures: 2,460 people once, 150 people twice (online as "Anne-Sophie", on paper as
 * "Anne Sophie": two signer hashes, one person), 200 people not on the register, 40 who declared
 * another district than the register's. Valid after a full count: 2,460 + 150 = 2,610.
 */
function petition(tag: string): { entries: Entry[]; register: Map<string, Person>; expectedValid: number } {
  const entries: Entry[] = [];
  const register = new Map<string, Person>();
  let i = 0;
  const person = (given: string): Person => {
    const p = { givenNames: given, familyName: `${FAMILY[i % FAMILY.length]}${tag}`, birthdate: birthdateOf(i), district: CODES[i % CODES.length]! };
    i++;
    return p;
  };
  const paperRefs = (n: number) => ({ sheet: `F-${tag}-${String(Math.floor(n / 10)).padStart(4, '0')}`, collector: `C-${(n % 12) + 1}` });
  let paper = 0;
  const add = (p: Person, truth: Truth, channel: 'online' | 'paper', declared = p.district, givenAsWritten = p.givenNames) => {
    const refs = channel === 'paper' ? paperRefs(paper++) : { sheet: null, collector: null };
    entries.push({ person: p, truth, channel, declared, givenAsWritten, ...refs });
  };
  for (let k = 0; k < 2460; k++) {
    const p = person(GIVEN[k % GIVEN.length]!);
    register.set(keyOf(p), p);
    add(p, 'valid', k % 10 === 0 ? 'online' : 'paper');
  }
  for (let k = 0; k < 150; k++) {
    const p = person(COMPOUND[k % COMPOUND.length]!);
    register.set(keyOf(p), p);
    add(p, 'duplicate-pair', 'online');
    add(p, 'duplicate-pair', 'paper', p.district, p.givenNames.replace('-', ' '));
  }
  for (let k = 0; k < 200; k++) add(person(GIVEN[k % GIVEN.length]!), 'not-registered', k % 4 ? 'paper' : 'online');
  for (let k = 0; k < 40; k++) {
    const p = person(GIVEN[k % GIVEN.length]!);
    register.set(keyOf(p), p);
    add(p, 'other-district', 'paper', CODES[(CODES.indexOf(p.district) + 7) % CODES.length]!);
  }
  return { entries, register, expectedValid: 2610 };
}

/** How a clerk finds a person on the register: family name and birth date (unique in these petitions). */
const keyOf = (p: { familyName: string; birthdate: string }) => `${p.familyName}|${p.birthdate}`;

type Decision = { signatureId: string; decision: 'valid' | 'invalid' | 'duplicate'; reason?: string; duplicateOf?: string };

/**
 * The clerk's ruling on the sample, per the regulation: a signer not on the register, or registered
 * elsewhere, is invalid; a signer met earlier in the sample makes this signature a duplicate of that one.
 */
function ruleOnSample(items: { id: string; district: string; personalData: Person | null }[], register: Map<string, Person>): Decision[] {
  const seen = new Map<string, string>();
  return items.map((item) => {
    const pd = item.personalData!;
    const entry = register.get(keyOf(pd));
    if (!entry) return { signatureId: item.id, decision: 'invalid', reason: 'not on the electoral roll' };
    if (entry.district !== item.district) return { signatureId: item.id, decision: 'invalid', reason: 'registered in another district' };
    const earlier = seen.get(keyOf(pd));
    if (earlier) return { signatureId: item.id, decision: 'duplicate', duplicateOf: earlier };
    seen.set(keyOf(pd), item.id);
    return { signatureId: item.id, decision: 'valid' };
  });
}

describe('random-sample verification of 3,000 signatures', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  const petitions = { A: petition('a'), B: petition('b'), C: petition('c') };
  const ids = { A: '', B: '', C: '' };
  const signatureIds = { A: [] as string[], B: [] as string[], C: [] as string[] };
  let server: ServerType;
  let baseUrl: string;
  let workDir: string;

  /** Goals: A certifies comfortably; B's projection lands between 95 % and 110 %; C's below 95 %. */
  const GOALS = { A: 1900, B: 2500, C: 3000 };

  beforeAll(async () => {
    engine = await createTestEngine();
    clerk = await engine.subjectToken('clerk-of-the-three');
    sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    const admin = await engine.adminToken();
    for (const key of ['A', 'B', 'C'] as const) {
      const jurisdictionId = `paris-${key.toLowerCase()}`;
      const created = await engine.request('POST', '/v1/jurisdictions', {
        token: admin,
        body: parisJurisdiction({
          id: jurisdictionId,
          committeeMinimum: 0,
          rules: {
            referendum: { goal: { signatures: GOALS[key] }, districts: { minCount: 10, each: { signatures: 60 } }, collectionDays: 270 },
          },
        }),
      });
      expect(created.status).toBe(201);
      expect((await engine.request('POST', `/v1/jurisdictions/${jurisdictionId}/clerks`, { token: admin, body: { subject: 'clerk-of-the-three' } })).status).toBe(201);
      const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, jurisdictionId } });
      expect(draft.status).toBe(201);
      ids[key] = draft.body.id;
      expect((await engine.request('POST', `/v1/initiatives/${ids[key]}/submit`, { token: sponsor })).status).toBe(200);
      expect((await engine.request('POST', `/v1/initiatives/${ids[key]}/review`, { token: clerk, body: { decision: 'open', closesAt: '2027-06-30T22:00:00Z' } })).status).toBe(200);
    }
    server = serve({ fetch: engine.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    workDir = await mkdtemp(join(tmpdir(), 'verification-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (workDir) await rm(workDir, { recursive: true, force: true });
    await engine?.close();
  });

  it('petition A: 3,000 signatures through the API, online and on paper (two spellings of one person count twice)', async () => {
    const { entries } = petitions.A;
    for (const entry of entries.filter((e) => e.channel === 'online')) {
      const res = await engine.request('POST', `/v1/initiatives/${ids.A}/signatures`, {
        token: await engine.tokenFor({ ...entry.person, givenNames: entry.givenAsWritten }),
        body: { district: entry.declared, consent: true },
      });
      expect(res.status).toBe(201);
      signatureIds.A.push(res.body.signature.id);
    }
    const paper = entries.filter((e) => e.channel === 'paper');
    for (let start = 0; start < paper.length; start += 1000) {
      const batch = paper.slice(start, start + 1000).map((e) => ({
        familyName: e.person.familyName,
        givenNames: e.givenAsWritten,
        birthdate: e.person.birthdate,
        district: e.declared,
        sheet: e.sheet!,
        collector: e.collector!,
      }));
      const res = await engine.request('POST', `/v1/initiatives/${ids.A}/paper-signatures`, { token: clerk, body: { entries: batch } });
      expect(res.status).toBe(200);
      expect(res.body.accepted).toBe(batch.length);
      signatureIds.A.push(...res.body.results.map((r: { signatureId: string }) => r.signatureId));
    }
    const progress = await engine.request('GET', `/v1/initiatives/${ids.A}/progress`);
    expect(progress.body.signatures).toBe(3000);
  }, 180_000);

  it('petitions B and C: 3,000 rows each, counted and logged like any signature', async () => {
    for (const key of ['B', 'C'] as const) {
      const initiative = { id: ids[key], pepperVersion: 't1' };
      const rows = await Promise.all(
        petitions[key].entries.map(async (e, n) => ({
          id: `${key === 'B' ? 'bbbbbbbb' : 'cccccccc'}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
          initiativeId: ids[key],
          signerHash: signerHashFor(engine.deps, initiative, { ...e.person, givenNames: e.givenAsWritten }),
          keyVersion: 't1',
          channel: e.channel,
          assurance: e.channel === 'paper' ? 'paper' : 'eidas2',
          district: e.declared,
          status: 'counted' as const,
          createdAt: engine.clock.now(),
          personalData: await sealPersonalData(engine.deps.keys, { ...e.person, givenNames: e.givenAsWritten }),
          // One collector's reference that a spreadsheet would take for a formula.
          sheet: e.sheet,
          collector: e.collector === 'C-3' ? '=HYPERLINK("http://x.example","C-3")' : e.collector,
        })),
      );
      await engine.db.db.transaction(async (tx) => {
        for (let start = 0; start < rows.length; start += 500) await tx.insert(signatures).values(rows.slice(start, start + 500));
        const perDistrict = new Map<string, number>();
        for (const row of rows) perDistrict.set(row.district, (perDistrict.get(row.district) ?? 0) + 1);
        await bumpCounts(tx, ids[key], perDistrict);
        const entries = rows.map((row) => {
          const data = logEntryData({ type: 'sign', ref: row.id, at: row.createdAt });
          return { initiativeId: ids[key], type: 'sign' as const, ref: row.id, data, leafHash: leafHash(data), createdAt: row.createdAt };
        });
        for (let start = 0; start < entries.length; start += 500) await tx.insert(logEntries).values(entries.slice(start, start + 500));
      });
      signatureIds[key] = rows.map((r) => r.id);
      const progress = await engine.request('GET', `/v1/initiatives/${ids[key]}/progress`);
      expect(progress.body.signatures).toBe(3000);
    }
  }, 120_000);

  it('collection closes; only a clerk may start a verification, and a bad request is a problem', async () => {
    engine.clock.advance(30 * 86_400_000);
    for (const key of ['A', 'B', 'C'] as const) {
      expect((await engine.request('POST', `/v1/initiatives/${ids[key]}/close`, { token: sponsor })).status).toBe(200);
    }
    const bySponsor = await engine.request('POST', `/v1/initiatives/${ids.A}/verification`, { token: sponsor, body: { method: 'sample' } });
    expect(bySponsor.status).toBe(403);
    const bad = await engine.request('POST', `/v1/initiatives/${ids.A}/verification`, { token: clerk, body: { method: 'sample', sampleSize: 0, colour: 'red' } });
    expect(bad.status).toBe(400);
    expect(bad.contentType).toContain('application/problem+json');
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.colour', 'body.sampleSize']);
    // Below the method's minimum for 3,000 signatures (the greater of 500 and 3 %: 500), refused before anything is drawn.
    for (const sampleSize of [1, 499]) {
      const tooSmall = await engine.request('POST', `/v1/initiatives/${ids.A}/verification`, { token: clerk, body: { method: 'sample', sampleSize } });
      expect(tooSmall.status).toBe(400);
      expect(tooSmall.contentType).toContain('application/problem+json');
      expect(tooSmall.body).toMatchObject({ type: '/problems/validation', detail: `A sample of ${sampleSize} is below the minimum of 500 for 3000 signatures.`, minimumSampleSize: 500, population: 3000 });
      expect(tooSmall.body.errors).toEqual([
        { field: 'body.sampleSize', code: 'sample-too-small', message: 'At least 500 for 3000 signatures (the greater of 500 and 3 % of them, or every one when fewer).' },
      ]);
    }
    expect((await engine.request('GET', `/v1/initiatives/${ids.A}`)).body.status).toBe('closed');
    const seedOnFull = await engine.request('POST', `/v1/initiatives/${ids.A}/verification`, { token: clerk, body: { method: 'full', seed: 'x' } });
    expect(seedOnFull.status).toBe(400);
    const notStarted = await engine.request('GET', `/v1/initiatives/${ids.A}/verification`, { token: clerk });
    expect(notStarted.status).toBe(404);
  });

  let sampleA: { id: string; position: number; district: string; channel: string; personalData: Person | null }[] = [];
  let decisionsA: Decision[] = [];

  it('A: a sample of 500 with a generated seed, reproducible from the seed and the signature ids', async () => {
    const started = await engine.request('POST', `/v1/initiatives/${ids.A}/verification`, { token: clerk, body: { method: 'sample' } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ status: 'verifying', method: 'sample', sampleSize: 500, population: 3000 });
    expect(started.body.seed).toMatch(/^[0-9a-f]{32}$/);
    expect(started.body.signatures.items[0].personalData).toBeNull();

    const again = await engine.request('POST', `/v1/initiatives/${ids.A}/verification`, { token: clerk, body: { method: 'sample' } });
    expect(again.status).toBe(409);

    const res = await engine.request('GET', `/v1/initiatives/${ids.A}/verification?limit=2000`, { token: clerk });
    expect(res.status).toBe(200);
    sampleA = res.body.signatures.items;
    expect(sampleA).toHaveLength(500);
    expect(res.body.signatures.nextCursor).toBeNull();
    expect(new Set(sampleA.map((s) => s.id)).size).toBe(500);
    expect(sampleA.map((s) => s.position)).toEqual([...Array(500).keys()]);
    expect(sampleA.map((s) => s.id)).toEqual(drawSample(started.body.seed, signatureIds.A, 500));
    expect(new Set(sampleA.map((s) => s.channel))).toEqual(new Set(['online', 'paper']));
    // The clerk reads the signers' names, decrypted for them alone.
    expect(sampleA.every((s) => s.personalData !== null)).toBe(true);
    expect(res.body.tallies).toMatchObject({ decided: 0, pending: 500, valid: 0, invalid: 0, duplicates: 0 });

    const audit = await engine.request('GET', `/v1/audit?initiative=${ids.A}&action=initiative.startVerification`, { token: clerk });
    expect(audit.body.items[0].details).toMatchObject({ method: 'sample', seed: started.body.seed, sampleSize: 500, population: 3000 });
    const reads = await engine.request('GET', `/v1/audit?initiative=${ids.A}&action=personal-data.read`, { token: clerk });
    expect(reads.body.items[0].details.signatures).toHaveLength(500);
  });

  it('A: clerk decisions in batches; repeating a batch changes nothing; only sampled signatures', async () => {
    decisionsA = ruleOnSample(sampleA, petitions.A.register);
    const notSampled = signatureIds.A.find((id) => !sampleA.some((s) => s.id === id))!;
    const outside = await engine.request('POST', `/v1/initiatives/${ids.A}/verification/decisions`, {
      token: clerk,
      body: { decisions: [decisionsA[0], { signatureId: notSampled, decision: 'valid' }] },
    });
    expect(outside.status).toBe(400);
    expect(outside.body.errors).toEqual([{ field: 'body.decisions.1.signatureId', code: 'not-in-sample', message: 'This signature is not in the sample.' }]);
    const noReason = await engine.request('POST', `/v1/initiatives/${ids.A}/verification/decisions`, {
      token: clerk,
      body: { decisions: [{ signatureId: sampleA[0]!.id, decision: 'invalid' }] },
    });
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors[0].field).toBe('body.decisions.0.reason');
    // A reason for invalidity beside "valid" would put two verdicts in the record.
    const validWithReason = await engine.request('POST', `/v1/initiatives/${ids.A}/verification/decisions`, {
      token: clerk,
      body: { decisions: [{ signatureId: sampleA[0]!.id, decision: 'valid', reason: 'illisible' }] },
    });
    expect(validWithReason.status).toBe(400);
    expect(validWithReason.body.errors).toEqual([{ field: 'body.decisions.0.reason', code: 'reason-on-valid', message: 'A valid signature has no reason for invalidity.' }]);
    const bySponsor = await engine.request('POST', `/v1/initiatives/${ids.A}/verification/decisions`, { token: sponsor, body: { decisions: decisionsA.slice(0, 1) } });
    expect(bySponsor.status).toBe(403);

    const first = await engine.request('POST', `/v1/initiatives/${ids.A}/verification/decisions`, { token: clerk, body: { decisions: decisionsA.slice(0, 250) } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ recorded: 250, changed: 0, unchanged: 0 });
    const repeat = await engine.request('POST', `/v1/initiatives/${ids.A}/verification/decisions`, { token: clerk, body: { decisions: decisionsA.slice(0, 250) } });
    expect(repeat.body).toMatchObject({ recorded: 0, changed: 0, unchanged: 250 });

    const early = await engine.request('POST', `/v1/initiatives/${ids.A}/verification/complete`, { token: clerk });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ type: '/problems/verification-pending', pending: 250 });

    const second = await engine.request('POST', `/v1/initiatives/${ids.A}/verification/decisions`, { token: clerk, body: { decisions: decisionsA.slice(250) } });
    expect(second.body.recorded).toBe(250);

    const invalidated = decisionsA.filter((d) => d.decision !== 'valid').length;
    const reversal = decisionsA.find((d) => d.decision === 'invalid')!;
    const undo = await engine.request('POST', `/v1/initiatives/${ids.A}/verification/decisions`, { token: clerk, body: { decisions: [{ signatureId: reversal.signatureId, decision: 'valid' }] } });
    expect(undo.status).toBe(409);
    expect(undo.body.type).toBe('/problems/decision-final');

    // Invalid and duplicate signatures leave the public count and the log says so.
    const progress = await engine.request('GET', `/v1/initiatives/${ids.A}/progress`);
    expect(progress.body.signatures).toBe(3000 - invalidated);
    const [logged] = await engine.db.db
      .select({ n: sql<string>`count(*)` })
      .from(logEntries)
      .where(sql`${logEntries.initiativeId} = ${ids.A} and ${logEntries.type} = 'invalidate'`);
    expect(Number(logged!.n)).toBe(invalidated);
    const audit = await engine.request('GET', `/v1/audit?initiative=${ids.A}&action=verification.decisions`, { token: clerk });
    expect(audit.body.items).toHaveLength(2);
    expect(audit.body.items.every((e: { actor: string }) => e.actor === 'clerk-of-the-three')).toBe(true);
    expect(audit.body.items.flatMap((e: { details: { decisions: unknown[] } }) => e.details.decisions)).toHaveLength(500);
  });

  /** The projection the regulation gives for a clerk's decisions: N·V/n − D·(N/n)(N/n − 1). */
  const expectedProjection = (decisions: Decision[], population = 3000, size = 500) => {
    const valid = decisions.filter((d) => d.decision === 'valid').length;
    const duplicates = decisions.filter((d) => d.decision === 'duplicate').length;
    const scale = population / size;
    return { valid, duplicates, projectedValid: scale * valid - duplicates * scale * (scale - 1) };
  };

  it('A: tallies and a projection of at least 110 % of the goal: certifiable', async () => {
    const res = await engine.request('GET', `/v1/initiatives/${ids.A}/verification?personalData=false`, { token: clerk });
    const expected = expectedProjection(decisionsA);
    const invalid = decisionsA.filter((d) => d.decision === 'invalid');
    expect(res.body.tallies).toMatchObject({ decided: 500, pending: 0, valid: expected.valid, invalid: invalid.length, duplicates: expected.duplicates });
    const reasons = Object.fromEntries(res.body.tallies.invalidByReason.map((r: { reason: string; count: number }) => [r.reason, r.count]));
    expect(reasons).toEqual(
      Object.fromEntries(['not on the electoral roll', 'registered in another district'].map((r) => [r, invalid.filter((d) => d.reason === r).length]).filter(([, n]) => n)),
    );
    expect(res.body.projection).toMatchObject({ population: 3000, sampleSize: 500, scale: 6, duplicateWeight: 30, band: 'certifiable' });
    expect(res.body.projection.projectedValid).toBeCloseTo(expected.projectedValid, 9);
    expect(res.body.projection.projectedValid).toBeGreaterThanOrEqual(1.1 * GOALS.A);
    expect(res.body.counts.valid).toBe(Math.floor(expected.projectedValid));
    // District rules are evaluated on the projected counts: each district's share of the sample at the sample's scale,
    // capped at the signatures filed in the district.
    const rawOf = new Map<string, number>(res.body.counts.districts.map((d: { code: string; raw: number }) => [d.code, d.raw]));
    for (const d of res.body.projection.districts as { code: string; projected: number }[]) {
      const mine = decisionsA.filter((_, i) => sampleA[i]!.district === d.code);
      const formula = 6 * mine.filter((x) => x.decision === 'valid').length - 30 * mine.filter((x) => x.decision === 'duplicate').length;
      expect(d.projected, d.code).toBeCloseTo(Math.min(rawOf.get(d.code)!, Math.max(0, formula)), 6);
    }
    for (const d of res.body.counts.districts as { code: string; raw: number; valid: number }[]) expect(d.valid, d.code).toBeLessThanOrEqual(d.raw);
    expect(res.body.criteria.find((c: { kind: string }) => c.kind === 'districts')).toMatchObject({ required: 10, met: true });
  });

  it('A: the clerk exports the verification as CSV, streamed', async () => {
    const res = await engine.request('GET', `/v1/initiatives/${ids.A}/verification/export`, { token: clerk });
    expect(res.status).toBe(200);
    expect(res.contentType).toContain('text/csv');
    const lines = (res.body as string).trimEnd().split('\r\n');
    expect(lines[0]).toBe('signature_id,channel,district,sheet,collector,decision,reason,clerk,time,duplicate_of');
    expect(lines).toHaveLength(501);
    const first = lines[1]!.split(',');
    expect(first[0]).toBe(sampleA[0]!.id);
    expect(first[5]).toBe(decisionsA[0]!.decision);
    expect(first[7]).toBe('clerk-of-the-three');
    // Each duplicate with the signature it duplicates, as the clerk named it.
    const duplicate = decisionsA.find((d) => d.decision === 'duplicate')!;
    expect(lines.find((l) => l.startsWith(duplicate.signatureId))!.split(',')).toEqual(expect.arrayContaining(['duplicate', duplicate.duplicateOf]));
    expect(lines.find((l) => l.startsWith(duplicate.signatureId))!.split(',')[9]).toBe(duplicate.duplicateOf);
    const forbidden = await engine.request('GET', `/v1/initiatives/${ids.A}/verification/export`, { token: sponsor });
    expect(forbidden.status).toBe(403);
    expect(forbidden.contentType).toContain('application/problem+json');
  });

  it('A: certified on the sample; the certificate carries method, seed, raw and projected counts and verifies', async () => {
    const done = await engine.request('POST', `/v1/initiatives/${ids.A}/verification/complete`, { token: clerk });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'certified', outcome: 'certified', method: 'sample' });
    const item = await engine.request('GET', `/v1/referendum-items/${done.body.referendumItemId}`);
    expect(item.body).toMatchObject({ method: 'sample', validSignatures: Math.floor(expectedProjection(decisionsA).projectedValid) });

    const jwks = await engine.request('GET', '/.well-known/jwks.json');
    const { payload } = await jwtVerify(item.body.certificate, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'], typ: 'certificate+jwt' });
    expect(payload).toMatchObject({
      method: 'sample',
      seed: done.body.seed,
      // Valid: projected; verified: the sampled signatures found valid one by one (not the 3,000 less those struck out).
      counts: { raw: 3000, valid: item.body.validSignatures, verified: expectedProjection(decisionsA).valid },
      sample: { population: 3000, size: 500, valid: expectedProjection(decisionsA).valid, band: 'certifiable', scale: 6, duplicateWeight: 30 },
    });
    // The transparency log at close: 3,000 signatures and one invalidation per signature struck out in the sample.
    expect(payload.log).toMatchObject({ size: 3000 + decisionsA.filter((d) => d.decision !== 'valid').length });
    expect((payload.log as { root: string }).root).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const districts = (payload.counts as { districts: { code: string; raw: number; valid: number; required: number }[] }).districts;
    expect(districts).toHaveLength(20);
    expect(districts.reduce((sum, d) => sum + d.raw, 0)).toBe(3000);
    expect(districts.every((d) => d.required === 60)).toBe(true);

    const late = await engine.request('POST', `/v1/initiatives/${ids.A}/verification/decisions`, { token: clerk, body: { decisions: decisionsA.slice(0, 1) } });
    expect(late.status).toBe(409);
  });

  it('A: `verify-certificate` checks the certificate against the JWKS, from a URL or a file', async () => {
    const item = (await engine.request('GET', '/v1/referendum-items?jurisdiction=paris-a')).body.items[0];
    const out: string[] = [];
    const err: string[] = [];
    const ok = await verifyCertificateCli([`${baseUrl}/v1/referendum-items/${item.id}`, '--jwks', `${baseUrl}/.well-known/jwks.json`], (l) => out.push(l), (l) => err.push(l));
    expect(err).toEqual([]);
    expect(ok).toBe(0);
    expect(out[0]).toMatch(/^Certificate valid/);
    expect(JSON.parse(out.slice(1).join('\n'))).toMatchObject({ referendumItem: item.id, method: 'sample' });

    const file = join(workDir, 'certificate.jws');
    const [header, body, signature] = item.certificate.split('.');
    const forged = JSON.parse(Buffer.from(body, 'base64url').toString());
    forged.counts.valid += 1000;
    await writeFile(file, `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}\n`);
    const bad = await verifyCertificateCli([file, '--jwks', `${baseUrl}/.well-known/jwks.json`], () => {}, (l) => err.push(l));
    expect(bad).toBe(1);
    expect(err.at(-1)).toMatch(/NOT valid/);
    expect(await verifyCertificateCli([], () => {}, () => {})).toBe(2);
  });

  let sampleB: { id: string; district: string; personalData: Person | null }[] = [];
  let onRollB = 0;
  let decisionsB: Decision[] = [];

  it('B: a fixed seed, a projection between 95 % and 110 %: the engine refuses to certify on the sample', async () => {
    const seed = 'tirage public du 3 juillet 2027 : 4 1 7 9 2';
    const started = await engine.request('POST', `/v1/initiatives/${ids.B}/verification`, { token: clerk, body: { method: 'sample', seed } });
    expect(started.status).toBe(201);
    expect(started.body.seed).toBe(seed);
    const res = await engine.request('GET', `/v1/initiatives/${ids.B}/verification?limit=2000`, { token: clerk });
    sampleB = res.body.signatures.items;
    expect(sampleB.map((s) => s.id)).toEqual(drawSample(seed, signatureIds.B, 500));
    const decisions = ruleOnSample(sampleB, petitions.B.register);
    decisionsB = decisions;
    expect((await engine.request('POST', `/v1/initiatives/${ids.B}/verification/decisions`, { token: clerk, body: { decisions } })).status).toBe(200);

    const after = await engine.request('GET', `/v1/initiatives/${ids.B}/verification?personalData=false`, { token: clerk });
    const expected = expectedProjection(decisions);
    expect(expected.duplicates).toBeGreaterThan(0);
    expect(after.body.projection.projectedValid).toBeCloseTo(expected.projectedValid, 9);
    expect(after.body.projection.band).toBe('full-count');
    expect(after.body.projection.criteria[0]).toMatchObject({ kind: 'goal', required: 2500, band: 'full-count' });

    const refused = await engine.request('POST', `/v1/initiatives/${ids.B}/verification/complete`, { token: clerk });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toBe('/problems/full-count-required');
    expect(refused.body.detail).toMatch(/full count/);
    expect((await engine.request('GET', `/v1/initiatives/${ids.B}`)).body.status).toBe('verifying');
  });

  it('B: a full count against the imported roll leaves only the unmatched signatures to the clerk, then certifies', async () => {
    const roll = ['family_name,given_names,birthdate,district', ...[...petitions.B.register.values()].map((p) => `${p.familyName},${p.givenNames},${p.birthdate},${p.district}`)].join('\n');
    const imported = await engine.request('PUT', '/v1/jurisdictions/paris-b/roll', { token: clerk, rawBody: roll, headers: { 'content-type': 'text/csv' } });
    expect(imported.status).toBe(200);

    const started = await engine.request('POST', `/v1/initiatives/${ids.B}/verification`, { token: clerk, body: { method: 'full' } });
    expect(started.status).toBe(201);
    expect(started.body.method).toBe('full');
    // The check against the roll is the scheduler's: due when the start answers, done at its next pass.
    expect(started.body.rollCheck).toMatchObject({ status: 'running', checked: 0 });
    await engine.scheduler.tick();
    const full = await engine.request('GET', `/v1/initiatives/${ids.B}/verification?limit=1&personalData=false`, { token: clerk });
    expect(full.body.rollCheck).toMatchObject({ status: 'done', checked: started.body.rollCheck.toCheck, toCheck: started.body.rollCheck.toCheck });
    const struck = new Set(decisionsB.filter((d) => d.decision !== 'valid').map((d) => d.signatureId));
    const entries = petitions.B.entries;
    const stillCounted = (truth: Truth, channel?: string) => entries.filter((e, n) => e.truth === truth && (!channel || e.channel === channel) && !struck.has(signatureIds.B[n]!)).length;
    // Signatures the sample struck out are not checked again; those it found valid are. Paper spellings "Anne Sophie" miss the roll's "Anne-Sophie".
    expect(full.body.roll).toEqual({
      onRoll: stillCounted('valid') + stillCounted('duplicate-pair', 'online'),
      notOnRoll: stillCounted('not-registered') + stillCounted('duplicate-pair', 'paper'),
      otherDistrict: stillCounted('other-district'),
      noPersonalData: 0,
    });
    expect(full.body.tallies.pending).toBe(full.body.roll.notOnRoll + full.body.roll.otherDistrict);
    onRollB = full.body.roll.onRoll;

    // The clerk rules on what the roll could not settle, page by page, knowing whom the sample already struck out.
    const signaturesOf = new Map<string, string[]>();
    entries.forEach((e, n) => signaturesOf.set(keyOf(e.person), [...(signaturesOf.get(keyOf(e.person)) ?? []), signatureIds.B[n]!]));
    const ruledOut = new Set(decisionsB.filter((d) => d.decision !== 'valid').map((d) => d.signatureId));
    let cursor: string | null = null;
    let ruled = 0;
    do {
      const page: { body: { signatures: { items: { id: string; district: string; rollCheck: string; personalData: Person }[]; nextCursor: string | null } } } = await engine.request(
        'GET',
        `/v1/initiatives/${ids.B}/verification?filter=pending&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
        { token: clerk },
      );
      const decisions: Decision[] = page.body.signatures.items.map((s): Decision => {
        const person = petitions.B.register.get(keyOf(s.personalData));
        if (!person) return { signatureId: s.id, decision: 'invalid', reason: 'not on the electoral roll' };
        if (s.rollCheck === 'other-district') return { signatureId: s.id, decision: 'invalid', reason: 'registered in another district' };
        // On the register under another spelling: a duplicate if the person's other signature still counts.
        const twin = (signaturesOf.get(keyOf(person)) ?? []).find((id) => id !== s.id && !ruledOut.has(id));
        return twin ? { signatureId: s.id, decision: 'duplicate', duplicateOf: twin } : { signatureId: s.id, decision: 'valid' };
      });
      for (const d of decisions) if (d.decision !== 'valid') ruledOut.add(d.signatureId);
      if (decisions.length) expect((await engine.request('POST', `/v1/initiatives/${ids.B}/verification/decisions`, { token: clerk, body: { decisions } })).status).toBe(200);
      ruled += decisions.length;
      cursor = page.body.signatures.nextCursor;
    } while (cursor);
    expect(ruled).toBe(full.body.tallies.pending);

    const done = await engine.request('POST', `/v1/initiatives/${ids.B}/verification/complete`, { token: clerk });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ outcome: 'certified', method: 'full', counts: { raw: 3000, valid: petitions.B.expectedValid } });
    const item = await engine.request('GET', `/v1/referendum-items/${done.body.referendumItemId}`);
    const jwks = await engine.request('GET', '/.well-known/jwks.json');
    const { payload } = await jwtVerify(item.body.certificate, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'] });
    expect(payload).toMatchObject({ method: 'full', counts: { raw: 3000, valid: 2610 }, sample: null });
    expect((await engine.request('GET', `/v1/initiatives/${ids.B}/progress`)).body.signatures).toBe(2610);
  });

  it('B: the full export lists all 3,000 signatures and defuses formula-like cells', async () => {
    const res = await engine.request('GET', `/v1/initiatives/${ids.B}/verification/export`, { token: clerk });
    const lines = (res.body as string).trimEnd().split('\r\n');
    expect(lines).toHaveLength(3001);
    expect(lines.some((l) => l.includes(`,"'=HYPERLINK(""http://x.example"",""C-3"")",`))).toBe(true);
    expect(lines.some((l) => /,=/.test(l))).toBe(false);
    expect(lines.filter((l) => l.includes(',valid,on the electoral roll,'))).toHaveLength(onRollB);
  });

  it('C: a projection below 95 % of the goal: declared insufficient, with the reason', async () => {
    const seed = 'tirage public du 4 juillet 2027';
    expect((await engine.request('POST', `/v1/initiatives/${ids.C}/verification`, { token: clerk, body: { method: 'sample', seed } })).status).toBe(201);
    const res = await engine.request('GET', `/v1/initiatives/${ids.C}/verification?limit=2000`, { token: clerk });
    const decisions = ruleOnSample(res.body.signatures.items, petitions.C.register);
    expect((await engine.request('POST', `/v1/initiatives/${ids.C}/verification/decisions`, { token: clerk, body: { decisions } })).status).toBe(200);
    const expected = expectedProjection(decisions);
    const done = await engine.request('POST', `/v1/initiatives/${ids.C}/verification/complete`, { token: clerk });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'insufficient', outcome: 'insufficient', referendumItemId: null });
    expect(done.body.projection.band).toBe('insufficient');
    expect(done.body.projection.projectedValid).toBeCloseTo(expected.projectedValid, 9);
    expect(expected.projectedValid).toBeLessThan(0.95 * GOALS.C);
    expect(done.body.reason).toMatch(/% of the 3000 required \(insufficient\)/);
    const initiative = await engine.request('GET', `/v1/initiatives/${ids.C}`);
    expect(initiative.body.status).toBe('insufficient');
  });

  it('every verification step is an audit entry of the unbroken chain, with events for the outcomes', async () => {
    expect((await verifyAuditChain(engine.db.db)).ok).toBe(true);
    const actions = (await engine.request('GET', '/v1/audit?limit=500', { token: clerk })).body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['verification.decisions', 'verification.full-count', 'verification.roll-check', 'verification.exported', 'initiative.certify', 'initiative.declareInsufficient']),
    );
    const rows = await engine.db.db.select({ status: signatures.status }).from(signatures).where(eq(signatures.initiativeId, ids.B));
    expect(rows.filter((r) => r.status === 'invalid')).toHaveLength(390);
  });
});
