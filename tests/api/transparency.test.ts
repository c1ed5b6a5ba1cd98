import { serve, type ServerType } from '@hono/node-server';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consistencyProof, fromBase64, inclusionProof, leafHash, logEntryData, toBase64, treeRoot, verifyConsistency, verifyInclusion } from '../../src/core/merkle';
import { logEntries } from '../../src/db/schema';
import { logTreeHeads } from '../../src/db/schema-transparency';
import { bumpCounts } from '../../src/features/progress/service';
import { appendLogEntries } from '../../src/features/transparency/entries';
import { sequenceLogs } from '../../src/features/transparency/service';
import { signWithEngineKey } from '../../src/platform/keys';
import { runVerifier } from '../../src/verify';
import { main as verifyCertificateCli } from '../../src/verify-certificate';
import { createTestEngine, PUBLIC_URL, type TestEngine } from '../support/engine';
import { decideRemainingValid } from '../support/verification';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';

const HOUR = 3_600_000;
/** The story's clock starts hours in the past: tokens minted then must still be valid now. */
const DAY_SECONDS = 86_400;
const b64 = (s: string) => fromBase64(s)!;
const decode = (data: string) => JSON.parse(new TextDecoder().decode(b64(data)));

/** Distinct letters-only given names (digits are not part of a canonical name). */
const nameOf = (n: number) => `Citoyen${String.fromCharCode(97 + (n % 26))}${String.fromCharCode(97 + Math.floor(n / 26))}`;

/**
 * The public log of one initiative through its life: receipts at signing, the sequencer,
 * a withdrawal and a clerk's invalidation, proofs, the certificate's tree head — and the
 * standalone verifier run against the engine on a loopback port.
 */
describe('transparency log and receipts', () => {
  let engine: TestEngine;
  let server: ServerType;
  let url: string;
  let dir: string;
  let clerk: string;
  let sponsor: string;
  let initiativeId: string;
  const startedAt = new Date(Date.now() - 3 * HOUR);
  const signed: { signatureId: string; receipt: string; district: string; token: string }[] = [];
  const heads: any[] = [];

  const sign = async (n: number, district: string) => {
    const token = await engine.tokenFor({ givenNames: nameOf(n), familyName: 'Registre', birthdate: '1980-05-17', expiresInSeconds: DAY_SECONDS });
    const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district, consent: true } });
    expect(res.status).toBe(201);
    const entry = { signatureId: res.body.signature.id as string, receipt: res.body.receipt as string, district, token };
    signed.push(entry);
    return entry;
  };
  const head = async () => (await engine.request('GET', `/v1/initiatives/${initiativeId}/log`)).body;
  const verify = async (...args: string[]) => {
    const lines: string[] = [];
    const code = await runVerifier([...args, '--server', url], (line) => lines.push(line));
    return { code, output: lines.join('\n') };
  };

  beforeAll(async () => {
    engine = await createTestEngine({ start: startedAt, config: { logMergeDelayMs: HOUR } });
    const admin = await engine.devProvider.mintRaw({ sub: 'admin-subject', acr: 'eidas2' }, engine.clock.now(), DAY_SECONDS);
    await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0 }) });
    await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk-of-paris' } });
    clerk = await engine.devProvider.mintRaw({ sub: 'clerk-of-paris', acr: 'eidas2' }, engine.clock.now(), DAY_SECONDS);
    sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01', expiresInSeconds: DAY_SECONDS });
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    initiativeId = draft.body.id;
    await engine.request('POST', `/v1/initiatives/${initiativeId}/submit`, { token: sponsor });
    const opened = await engine.request('POST', `/v1/initiatives/${initiativeId}/review`, { token: clerk, body: { decision: 'open' } });
    expect(opened.status).toBe(200);

    server = serve({ fetch: engine.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    dir = await mkdtemp(join(tmpdir(), 'civic-log-'));
  });
  afterAll(async () => {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an unknown initiative or a draft has no public log; an open one starts with a signed empty head', async () => {
    const unknown = await engine.request('GET', '/v1/initiatives/7b0c1f1e-3a6e-4a57-9d39-6f0a3b2c1d00/log');
    expect(unknown.status).toBe(404);
    expect(unknown.contentType).toContain('application/problem+json');
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    expect((await engine.request('GET', `/v1/initiatives/${draft.body.id}/log`)).status).toBe(404);
    expect((await engine.request('GET', '/v1/initiatives/not-a-uuid/log')).status).toBe(400);

    const empty = await head();
    expect(empty).toMatchObject({ initiativeId, size: 0, root: toBase64(treeRoot([])) });
    const jwks = createLocalJWKSet((await engine.request('GET', '/.well-known/jwks.json')).body);
    const { payload, protectedHeader } = await jwtVerify(empty.signature, jwks, { algorithms: ['EdDSA'], typ: 'tree-head+jwt' });
    expect(protectedHeader.typ).toBe('tree-head+jwt');
    expect(payload).toMatchObject({ initiative: initiativeId, size: 0, root: empty.root, timestamp: empty.timestamp, iss: PUBLIC_URL });

    const openapi = await engine.request('GET', '/openapi.json');
    for (const path of ['', '/entries', '/inclusion', '/consistency']) expect(openapi.body.paths).toHaveProperty([`/v1/initiatives/{id}/log${path}`, 'get']);
  });

  it('every signature answers at once with a receipt, before the sequencer has run', async () => {
    for (let n = 0; n < 8; n++) await sign(n, n % 2 === 0 ? '75111' : '75118');
    const jwks = createLocalJWKSet((await engine.request('GET', '/.well-known/jwks.json')).body);
    for (const { signatureId, receipt } of signed) {
      const { payload, protectedHeader } = await jwtVerify(receipt, jwks, { algorithms: ['EdDSA'], typ: 'receipt+jwt' });
      expect(protectedHeader.typ).toBe('receipt+jwt');
      expect(payload).toMatchObject({ initiative: initiativeId, signature: signatureId, iss: PUBLIC_URL, mmd: 3600, signedAt: startedAt.toISOString() });
      const data = new TextEncoder().encode(JSON.stringify({ type: 'sign', ref: signatureId, at: startedAt.toISOString() }));
      expect(payload.leaf).toBe(toBase64(leafHash(data)));
    }
    expect((await head()).size).toBe(0);
    const pending = await engine.request('GET', `/v1/initiatives/${initiativeId}/log/inclusion?ref=${signed[0]!.signatureId}`);
    expect(pending.status).toBe(404);
    expect(pending.body.type).toBe('/problems/log-entry-pending');
    expect(pending.headers.get('retry-after')).toBe('3600');
    // The signature has no log index yet, neither in the answer to signing nor when its signer asks.
    const mineBefore = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: signed[0]!.token });
    expect(mineBefore.body.signature.logIndex).toBeNull();
  });

  it('the scheduler integrates pending entries and signs a new tree head', async () => {
    await engine.scheduler.tick();
    const sth = await head();
    expect(sth.size).toBe(8);
    heads.push(sth);
    const entries = await engine.request('GET', `/v1/initiatives/${initiativeId}/log/entries?start=0`);
    expect(entries.status).toBe(200);
    // From the first entry when no start is given.
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/log/entries`)).body).toEqual(entries.body);
    expect(entries.body).toMatchObject({ start: 0, end: 8, size: 8 });
    expect(entries.body.entries.map((e: { index: number }) => e.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(entries.body.entries.map((e: { data: string }) => decode(e.data))).toEqual(signed.map((s) => ({ type: 'sign', ref: s.signatureId, at: startedAt.toISOString() })));
    expect(toBase64(treeRoot(entries.body.entries.map((e: { data: string }) => leafHash(b64(e.data)))))).toBe(sth.root);

    // Nothing pending: another run changes nothing and signs nothing new.
    await engine.scheduler.tick();
    expect(await head()).toEqual(sth);
    // A reader polling from where it stopped gets an empty page, not an error; past the end is one.
    const caughtUp = await engine.request('GET', `/v1/initiatives/${initiativeId}/log/entries?start=8`);
    expect(caughtUp.status).toBe(200);
    expect(caughtUp.body).toEqual({ start: 8, end: 8, size: 8, entries: [] });
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/log/entries?start=9`)).status).toBe(400);
  });

  it('a withdrawal is an entry too; the new head is consistent with the old one', async () => {
    engine.clock.advance(60_000);
    const withdrawn = await engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token: signed[0]!.token });
    expect(withdrawn.status).toBe(200);
    await engine.scheduler.tick();
    const sth = await head();
    expect(sth.size).toBe(9);
    expect(Date.parse(sth.timestamp)).toBeGreaterThan(Date.parse(heads[0].timestamp));
    heads.push(sth);
    const [last] = (await engine.request('GET', `/v1/initiatives/${initiativeId}/log/entries?start=8&end=9`)).body.entries;
    expect(decode(last.data)).toMatchObject({ type: 'withdraw', ref: signed[0]!.signatureId });

    const consistency = await engine.request('GET', `/v1/initiatives/${initiativeId}/log/consistency?from=8&to=9`);
    expect(consistency.status).toBe(200);
    expect(verifyConsistency(8, 9, b64(heads[0].root), b64(sth.root), consistency.body.proof.map(b64))).toBe(true);
    expect(verifyConsistency(8, 9, b64(heads[0].root), b64(heads[0].root), consistency.body.proof.map(b64))).toBe(false);
  });

  it('every receipt has an inclusion proof, by signature id or by index, against any later size', async () => {
    let indexed = 0;
    for (const { signatureId, receipt, token } of signed) {
      const leaf = b64(decodeJwt(receipt).leaf as string);
      const byRef = await engine.request('GET', `/v1/initiatives/${initiativeId}/log/inclusion?ref=${signatureId}`);
      expect(byRef.status).toBe(200);
      // Its signer reads the same index on their signature.
      const mine = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token });
      // (one of them withdrew: their signature is no longer theirs to read)
      if (mine.status === 200) {
        expect(mine.body.signature.logIndex).toBe(byRef.body.index);
        indexed++;
      }
      expect(byRef.body.size).toBe(9);
      expect(byRef.body.leaf).toBe(toBase64(leaf));
      expect(verifyInclusion(byRef.body.index, 9, leaf, byRef.body.proof.map(b64), b64(heads[1].root))).toBe(true);
      const atEight = await engine.request('GET', `/v1/initiatives/${initiativeId}/log/inclusion?index=${byRef.body.index}&size=8`);
      expect(verifyInclusion(byRef.body.index, 8, leaf, atEight.body.proof.map(b64), b64(heads[0].root))).toBe(true);
    }
    expect(indexed).toBe(signed.length - 1);
  });

  it('a proof for a given size may be cached for good; the latest tree head and anything "up to now" only for a moment', async () => {
    const base = `/v1/initiatives/${initiativeId}/log`;
    const cacheOf = async (path: string) => {
      const res = await engine.request('GET', path);
      expect(res.status, path).toBe(200);
      return res.headers.get('cache-control');
    };
    // The answer to these never changes: the log never rewrites what a tree of that size holds.
    for (const path of [`${base}/inclusion?index=2&size=8`, `${base}/inclusion?ref=${signed[2]!.signatureId}&size=9`, `${base}/consistency?from=8&to=9`, `${base}/consistency?from=0&to=9`]) {
      expect(await cacheOf(path), path).toBe('public, max-age=31536000, immutable');
    }
    // These follow the log as it grows.
    for (const path of [base, `${base}/inclusion?index=2`, `${base}/inclusion?ref=${signed[2]!.signatureId}`, `${base}/consistency?from=8`, `${base}/entries?start=0&end=9`, `${base}/entries`]) {
      expect(await cacheOf(path), path).toBe('public, max-age=1');
    }
    // A refusal (a size the log has not reached yet, an entry still pending) is never kept.
    for (const path of [`${base}/inclusion?index=0&size=10`, `${base}/consistency?from=1&to=10`]) {
      const res = await engine.request('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.headers.get('cache-control') ?? '', path).not.toContain('max-age');
    }
  });

  it('bad ranges are 400 problems naming the parameter', async () => {
    const base = `/v1/initiatives/${initiativeId}/log`;
    const cases: [string, string][] = [
      [`${base}/entries?start=10`, 'query.start'],
      [`${base}/entries?start=3&end=3`, 'query.end'],
      [`${base}/entries?start=0&end=10`, 'query.end'],
      [`${base}/entries?start=-1`, 'query.start'],
      [`${base}/entries?start=abc`, 'query.start'],
      [`${base}/inclusion?index=9`, 'query.index'],
      [`${base}/inclusion?index=0&size=10`, 'query.size'],
      [`${base}/inclusion?index=0&size=0`, 'query.size'],
      [`${base}/inclusion?index=1&ref=${signed[1]!.signatureId}`, 'query.index'],
      [`${base}/inclusion`, 'query.index'],
      [`${base}/inclusion?ref=nope`, 'query.ref'],
      [`${base}/consistency?from=5&to=4`, 'query.from'],
      [`${base}/consistency?from=1&to=10`, 'query.to'],
      [`${base}/consistency?from=1.5`, 'query.from'],
    ];
    for (const [path, field] of cases) {
      const res = await engine.request('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.contentType, path).toContain('application/problem+json');
      expect(res.body.errors.map((e: { field: string }) => e.field), path).toContain(field);
    }
    // Without `to`, the proof is to the log's size, and the refusal says so rather than naming a `to` never given.
    const beyond = await engine.request('GET', `${base}/consistency?from=10`);
    expect(beyond.status).toBe(400);
    expect(beyond.body.errors[0].message).toBe("from must not exceed the log's size (9).");
    const unknownRef = await engine.request('GET', `${base}/inclusion?ref=7b0c1f1e-3a6e-4a57-9d39-6f0a3b2c1d00`);
    expect(unknownRef.status).toBe(404);
    const big = await engine.request('GET', `${base}/entries?start=0&end=9`);
    expect(big.body.entries).toHaveLength(9);
    // A monitor is told what is wrong with a number written in digits: too small, or too large (once).
    const empty = await engine.request('GET', `${base}/inclusion?index=0&size=0`);
    expect(empty.body.errors).toEqual([{ field: 'query.size', message: 'At least 1.' }]);
    const huge = await engine.request('GET', `${base}/consistency?from=99999999999999999999`);
    expect(huge.body.errors).toEqual([{ field: 'query.from', message: 'At most 9007199254740991.' }]);
  });

  it('the verifier checks every receipt, the whole log and two saved tree heads against the engine', async () => {
    for (const { receipt } of signed) {
      const result = await verify('receipt', receipt);
      expect(result.code, result.output).toBe(0);
      expect(result.output).toContain('inclusion proof verified');
    }
    // A receipt kept in a file whose name has dots, as a JWS has: read from the file, not taken for a JWS.
    await writeFile(join(dir, 'receipt.2027-01-15.jws'), `${signed[0]!.receipt}\n`);
    const fromFile = await promisify(execFile)(join(process.cwd(), 'node_modules/.bin/tsx'), [join(process.cwd(), 'src/verify.ts'), 'receipt', 'receipt.2027-01-15.jws', '--server', url], { cwd: dir });
    expect(fromFile.stdout).toContain('inclusion proof verified');
    const saved = join(dir, 'head-now.json');
    const log = await verify('log', initiativeId, '--save', saved);
    expect(log.code, log.output).toBe(0);
    expect(log.output).toContain('8 sign − 1 withdraw − 0 invalidate = 7');
    await writeFile(join(dir, 'head-8.json'), JSON.stringify(heads[0]));
    const consistency = await verify('consistency', join(dir, 'head-8.json'), saved);
    expect(consistency.code, consistency.output).toBe(0);
    expect(consistency.output).toContain('extends the tree of 8');

    // The npm script runs the same verifier as a separate program.
    const run = await promisify(execFile)('npm', ['run', '--silent', 'verify', '--', 'log', initiativeId, '--server', url], { cwd: process.cwd() });
    expect(run.stdout).toContain('VERIFIED');
  });

  it('a receipt whose entry is still pending is "not yet" within the merge delay and a broken promise after it', async () => {
    engine.clock.set(new Date());
    const fresh = await sign(20, '75111');
    engine.clock.set(new Date(startedAt.getTime() + 2 * 60_000));
    const overdue = await sign(21, '75118');
    const notYet = await verify('receipt', fresh.receipt);
    expect(notYet.code, notYet.output).toBe(3);
    expect(notYet.output).toContain('NOT YET');
    const broken = await verify('receipt', overdue.receipt);
    expect(broken.code, broken.output).toBe(1);
    expect(broken.output).toContain('promise is broken');

    await engine.scheduler.tick();
    for (const receipt of [fresh.receipt, overdue.receipt]) expect((await verify('receipt', receipt)).code).toBe(0);
    heads.push(await head());
    expect(heads[2].size).toBe(11);
  });

  it('the verifier fails on a tampered entry, a forged tree head, a wrong count or a forked log', async () => {
    const db = engine.db.db;
    const target = signed[3]!;
    const [entry] = await db.select().from(logEntries).where(and(eq(logEntries.initiativeId, initiativeId), eq(logEntries.ref, target.signatureId)));
    const original = entry!.data;

    // An entry rewritten in the database: the entries no longer hash to the signed root.
    await db.update(logEntries).set({ data: new TextEncoder().encode(new TextDecoder().decode(original).replace('"sign"', '"withdraw"')) }).where(eq(logEntries.id, entry!.id));
    const tamperedLog = await verify('log', initiativeId);
    expect(tamperedLog.code, tamperedLog.output).toBe(1);
    expect(tamperedLog.output).toMatch(/FAILED: the 11 entries hash to root .*, not the signed/);
    const tamperedReceipt = await verify('receipt', target.receipt);
    expect(tamperedReceipt.code, tamperedReceipt.output).toBe(1);
    expect(tamperedReceipt.output).toContain("does not hash to the receipt's leaf");
    await db.update(logEntries).set({ data: original }).where(eq(logEntries.id, entry!.id));
    expect((await verify('log', initiativeId)).code).toBe(0);

    // A tree head whose root was changed after signing.
    const [latest] = await db.select().from(logTreeHeads).where(and(eq(logTreeHeads.initiativeId, initiativeId), eq(logTreeHeads.size, 11)));
    await db.update(logTreeHeads).set({ root: leafHash(latest!.root) }).where(and(eq(logTreeHeads.initiativeId, initiativeId), eq(logTreeHeads.size, 11)));
    const forgedHead = await verify('log', initiativeId);
    expect(forgedHead.code, forgedHead.output).toBe(1);
    expect(forgedHead.output).toContain("the tree head's root");
    expect((await verify('receipt', target.receipt)).code).toBe(1);
    await db.update(logTreeHeads).set({ root: latest!.root }).where(and(eq(logTreeHeads.initiativeId, initiativeId), eq(logTreeHeads.size, 11)));

    // A tree head signed by someone else's key.
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const impostor = { ...heads[2], signature: await new SignJWT({ initiative: initiativeId, size: 11, root: heads[2].root, timestamp: heads[2].timestamp }).setProtectedHeader({ alg: 'EdDSA', typ: 'tree-head+jwt', kid: engine.deps.keys.signing.kid }).sign(privateKey) };
    await writeFile(join(dir, 'impostor.json'), JSON.stringify(impostor));
    const byImpostor = await verify('consistency', join(dir, 'head-8.json'), join(dir, 'impostor.json'));
    expect(byImpostor.code, byImpostor.output).toBe(1);
    expect(byImpostor.output).toContain('signature does not verify');

    // The engine's own key over another history (a fork): signed, but not consistent.
    const forkRoot = toBase64(treeRoot([leafHash(new TextEncoder().encode('another history'))]));
    const forked = { ...heads[1], root: forkRoot, signature: await signWithEngineKey(engine.deps.keys, 'tree-head+jwt', { initiative: initiativeId, size: 9, root: forkRoot, timestamp: heads[1].timestamp }, { issuer: PUBLIC_URL, now: engine.clock.now() }) };
    await writeFile(join(dir, 'forked.json'), JSON.stringify(forked));
    await writeFile(join(dir, 'head-11.json'), JSON.stringify(heads[2]));
    const fork = await verify('consistency', join(dir, 'forked.json'), join(dir, 'head-11.json'));
    expect(fork.code, fork.output).toBe(1);
    expect(fork.output).toContain('rewritten or forked');
    expect((await verify('consistency', join(dir, 'head-8.json'), join(dir, 'head-11.json'))).code).toBe(0);

    // The engine's own key over an "empty" tree with a root that is not the empty tree's: no tree of 0 entries has it.
    const bogusEmpty = { ...heads[0], size: 0, root: forkRoot, signature: await signWithEngineKey(engine.deps.keys, 'tree-head+jwt', { initiative: initiativeId, size: 0, root: forkRoot, timestamp: heads[0].timestamp }, { issuer: PUBLIC_URL, now: engine.clock.now() }) };
    await writeFile(join(dir, 'bogus-empty.json'), JSON.stringify(bogusEmpty));
    const empty = await verify('consistency', join(dir, 'bogus-empty.json'), join(dir, 'head-11.json'));
    expect(empty.code, empty.output).toBe(1);
    expect(empty.output).toContain("the tree head of size 0 has a root that is not the empty tree's");

    // A published count the log does not support.
    await db.transaction((tx) => bumpCounts(tx, initiativeId, [['75111', 1]]));
    const wrongCount = await verify('log', initiativeId, '--attempts', '1');
    expect(wrongCount.code, wrongCount.output).toBe(1);
    expect(wrongCount.output).toContain('the log counts 9 signatures but the initiative publishes 10');
    await db.transaction((tx) => bumpCounts(tx, initiativeId, [['75111', -1]]));
    expect((await verify('log', initiativeId)).code).toBe(0);
  });

  it("after a clerk's invalidation the count is sign − withdraw − invalidate, and the certificate carries the tree head at close", async () => {
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor })).status).toBe(200);
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    const invalid = signed[5]!;
    const decided = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/decisions`, {
      token: clerk,
      body: { decisions: [{ signatureId: invalid.signatureId, decision: 'invalid', reason: 'not a resident' }] },
    });
    expect(decided.status).toBe(200);

    await engine.scheduler.tick();
    const entries = (await engine.request('GET', `/v1/initiatives/${initiativeId}/log/entries?start=0`)).body.entries.map((e: { data: string }) => decode(e.data));
    const tally = { sign: 0, withdraw: 0, invalidate: 0 } as Record<string, number>;
    for (const e of entries) tally[e.type]!++;
    expect(tally).toEqual({ sign: 10, withdraw: 1, invalidate: 1 });
    expect(entries.at(-1)).toMatchObject({ type: 'invalidate', ref: invalid.signatureId });
    const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    expect(progress.body.signatures).toBe(tally.sign! - tally.withdraw! - tally.invalidate!);
    const log = await verify('log', initiativeId);
    expect(log.code, log.output).toBe(0);
    expect(log.output).toContain('10 sign − 1 withdraw − 1 invalidate = 8');

    // The other eight are checked and found valid: a valid decision writes nothing to the log.
    expect(await decideRemainingValid(engine.request, initiativeId, clerk)).toBe(8);
    const done = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: clerk });
    expect(done.status).toBe(200);
    expect(done.body.outcome).toBe('certified');
    const items = await engine.request('GET', '/v1/referendum-items');
    const item = items.body.items.find((i: { initiativeId: string }) => i.initiativeId === initiativeId);
    const certificate = decodeJwt(item.certificate) as { log: { size: number; root: string; timestamp: string; signature: string } };
    const final = await head();
    expect(final.size).toBe(12);
    expect(certificate.log).toEqual({ size: final.size, root: final.root, timestamp: final.timestamp, signature: final.signature });
    await writeFile(join(dir, 'head-final.json'), JSON.stringify(final));
    const consistent = await verify('consistency', join(dir, 'head-8.json'), join(dir, 'head-final.json'));
    expect(consistent.code, consistent.output).toBe(0);
    // The head as the certificate carries it (its signature names the initiative) is checked the same way.
    await writeFile(join(dir, 'certificate-head.json'), JSON.stringify(certificate.log));
    const fromCertificate = await verify('consistency', join(dir, 'head-8.json'), join(dir, 'certificate-head.json'));
    expect(fromCertificate.code, fromCertificate.output).toBe(0);
    expect(fromCertificate.output).toContain('extends the tree of 8');
    // Or the certificate itself, as the referendum item gives it or as a bare JWS: its log member is taken.
    await writeFile(join(dir, 'item.json'), JSON.stringify(item));
    await writeFile(join(dir, 'certificate.jws'), `${item.certificate}\n`);
    for (const file of ['item.json', 'certificate.jws']) {
      const result = await verify('consistency', join(dir, 'head-8.json'), join(dir, file));
      expect(result.code, result.output).toBe(0);
      expect(result.output).toContain('extends the tree of 8');
    }
    await writeFile(join(dir, 'not-a-head.json'), JSON.stringify({ size: 3 }));
    const notAHead = await verify('consistency', join(dir, 'head-8.json'), join(dir, 'not-a-head.json'));
    expect(notAHead.code, notAHead.output).toBe(2);
    expect(notAHead.output).toContain(`${join(dir, 'not-a-head.json')} holds no signed tree head`);
  });

  it('the verifier tells a signer whose receipt checks that the log has since withdrawn or invalidated the signature', async () => {
    const withdrawn = await verify('receipt', signed[0]!.receipt);
    expect(withdrawn.code, withdrawn.output).toBe(0);
    expect(withdrawn.output).toContain('inclusion proof verified');
    expect(withdrawn.output).toMatch(/withdrawn: entry \d+ of the log withdraws this signature \(its inclusion proof verified\): it no longer counts/);
    const invalidated = await verify('receipt', signed[5]!.receipt);
    expect(invalidated.code, invalidated.output).toBe(0);
    expect(invalidated.output).toMatch(/invalidated: entry 11 of the log invalidates this signature \(its inclusion proof verified\): it no longer counts/);
    const counted = await verify('receipt', signed[1]!.receipt);
    expect(counted.code, counted.output).toBe(0);
    expect(counted.output).toContain('counted: no later entry of the log withdraws or invalidates it');
    expect(counted.output).not.toContain('no longer counts');
  });

  it('the verifier does not tell a signer that their signature counts on the word of a server that hides its invalidation', async () => {
    const invalidation = await engine.request('GET', `/v1/initiatives/${initiativeId}/log/entries?start=11&end=12`);
    expect(decode(invalidation.body.entries[0].data)).toMatchObject({ type: 'invalidate', ref: signed[5]!.signatureId });
    // The entries it serves name another signature where the log invalidates this one; heads and proofs are the log's own.
    const hiding = serve({
      fetch: async (request: Request) => {
        const response = await engine.app.fetch(request);
        if (!new URL(request.url).pathname.endsWith('/log/entries')) return response;
        const body = await response.json();
        for (const item of body.entries ?? []) {
          const text = new TextDecoder().decode(b64(item.data));
          if (text.includes(signed[5]!.signatureId) && text.includes('"invalidate"')) item.data = toBase64(new TextEncoder().encode(text.replace(signed[5]!.signatureId, signed[1]!.signatureId)));
        }
        return Response.json(body);
      },
      port: 0,
      hostname: '127.0.0.1',
    });
    await new Promise<void>((resolve) => hiding.once('listening', () => resolve()));
    const address = hiding.address();
    const lines: string[] = [];
    const code = await runVerifier(['receipt', signed[5]!.receipt, '--server', `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`], (line) => lines.push(line));
    await new Promise<void>((resolve) => hiding.close(() => resolve()));
    expect(code, lines.join('\n')).toBe(1);
    expect(lines.join('\n')).not.toContain('counted');
    expect(lines.join('\n')).toContain('FAILED: the entries after leaf');
  });

  it('verify-certificate says it could not read the keys (exit 2), not that the certificate is forged, when the key server is down or the key file missing', async () => {
    const item = (await engine.request('GET', '/v1/referendum-items')).body.items.find((i: { initiativeId: string }) => i.initiativeId === initiativeId);
    const itemFile = join(dir, 'item.json');
    await writeFile(itemFile, JSON.stringify(item));
    const check = async (...args: string[]) => {
      const lines: string[] = [];
      const code = await verifyCertificateCli(args, (line) => lines.push(line), (line) => lines.push(line));
      return { code, output: lines.join('\n') };
    };
    const genuine = await check(itemFile, '--jwks', `${url}/.well-known/jwks.json`);
    expect(genuine.code, genuine.output).toBe(0);

    const down = createServer((_, res) => res.writeHead(503, { 'content-type': 'text/html' }).end('<html>Service Unavailable</html>'));
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', () => resolve()));
    const address = down.address();
    const downUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/.well-known/jwks.json`;
    const unavailable = await check(itemFile, '--jwks', downUrl);
    await new Promise<void>((resolve) => down.close(() => resolve()));
    expect(unavailable.code, unavailable.output).toBe(2);
    expect(unavailable.output).toBe(`cannot read the keys from ${downUrl}: answered HTTP 503: the certificate was not checked`);

    const unreachable = await check(itemFile, '--jwks', downUrl);
    expect(unreachable.code, unreachable.output).toBe(2);
    expect(unreachable.output).toMatch(/^cannot read the keys from http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json: fetch failed: the certificate was not checked$/);

    const missing = await check(itemFile, '--jwks', join(dir, 'no-such-jwks.json'));
    expect(missing.code, missing.output).toBe(2);
    expect(missing.output).toContain(`cannot read the keys from ${join(dir, 'no-such-jwks.json')}: ENOENT`);
    expect(missing.output).not.toContain('NOT valid');

    // Keys that lack the certificate's (a retired key taken off the JWKS): not valid, naming the key.
    await writeFile(join(dir, 'other-keys.json'), JSON.stringify({ keys: [{ ...(await exportJWK((await generateKeyPair('EdDSA', { crv: 'Ed25519' })).publicKey)), kid: 'other' }] }));
    const otherKeys = await check(itemFile, '--jwks', join(dir, 'other-keys.json'));
    expect(otherKeys.code, otherKeys.output).toBe(1);
    expect(otherKeys.output).toContain(`Certificate NOT valid: its key "${decodeProtectedHeader(item.certificate).kid}" is not in the key set`);
  });

  it('verify-certificate without --jwks checks a certificate read from a URL only if that server issued it, and says whose keys a file was checked against', async () => {
    const item = (await engine.request('GET', '/v1/referendum-items')).body.items.find((i: { initiativeId: string }) => i.initiativeId === initiativeId);
    // A forger signs a certificate with a count of their own, naming their own server as its issuer.
    const forger = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forgerKeys = JSON.stringify({ keys: [{ ...(await exportJWK(forger.publicKey)), kid: 'forger', alg: 'EdDSA' }] });
    let forgedItem = '';
    const serveFrom = (body: () => string) => {
      const server = createServer((request, res) => {
        if (request.url === '/.well-known/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(forgerKeys);
        else res.writeHead(200, { 'content-type': 'application/json' }).end(body());
      });
      return new Promise<{ server: typeof server; origin: string }>((resolve) =>
        server.listen(0, '127.0.0.1', () => {
          const address = server.address();
          resolve({ server, origin: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` });
        }),
      );
    };
    const forgerServer = await serveFrom(() => forgedItem);
    const mirror = await serveFrom(() => forgedItem);
    const claims = decodeJwt(item.certificate);
    const forgedCounts = { ...(claims.counts as object), valid: (claims.counts as { valid: number }).valid + 100_000 };
    const certificate = await new SignJWT({ ...claims, counts: forgedCounts })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'certificate+jwt', kid: 'forger' })
      .setIssuer(forgerServer.origin)
      .sign(forger.privateKey);
    forgedItem = JSON.stringify({ ...item, validSignatures: forgedCounts.valid, certificate });
    const check = async (...args: string[]) => {
      const lines: string[] = [];
      const code = await verifyCertificateCli(args, (line) => lines.push(line), (line) => lines.push(line));
      return { code, output: lines.join('\n') };
    };
    try {
      // Read from a server that is not the issuer it names: not checked against whatever keys that issuer serves (a mirror may hold genuine ones).
      const fromMirror = await check(`${mirror.origin}/v1/referendum-items/${item.id}`);
      expect(fromMirror.code, fromMirror.output).toBe(2);
      expect(fromMirror.output).toBe(
        `it names ${forgerServer.origin} as its issuer, but was read from ${mirror.origin}: give the keys of the authority that issued it with --jwks: the certificate was not checked`,
      );
      // From a file, the signature holds under the keys it names: valid, and the output says whose keys those are.
      const file = join(dir, 'forged-item.json');
      await writeFile(file, forgedItem);
      const fromFile = await check(file);
      expect(fromFile.code, fromFile.output).toBe(0);
      expect(fromFile.output).toContain(`The keys are those of the issuer the certificate names (${forgerServer.origin}): make sure that is the authority's own address, or give its keys with --jwks.`);
      // Against the authority's keys, the same file is refused.
      const against = await check(file, '--jwks', `${url}/.well-known/jwks.json`);
      expect(against.code, against.output).toBe(1);
      expect(against.output).not.toContain('make sure');
    } finally {
      await Promise.all([forgerServer, mirror].map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
    }
  });

  it('a --jwks file that is missing or not a key set is named, exit 2', async () => {
    await writeFile(join(dir, 'truncated-jwks.json'), '{"keys":[');
    for (const [file, reason] of [
      ['no-such-keys.json', 'ENOENT'],
      ['truncated-jwks.json', 'not JSON'],
    ] as const) {
      const result = await verify('receipt', signed[1]!.receipt, '--jwks', join(dir, file));
      expect(result.code, result.output).toBe(2);
      expect(result.output).toContain(`ERROR: cannot read the keys from ${join(dir, file)}: `);
      expect(result.output).toContain(reason);
    }
  });

  it('a server answering malformed JSON where a proof or the keys should be fails the check (exit 1), without a crash', async () => {
    const lying = (path: string, body: string) =>
      serve({
        fetch: (request: Request) => (new URL(request.url).pathname.endsWith(path) ? new Response(body, { headers: { 'content-type': 'application/json' } }) : engine.app.fetch(request)),
        port: 0,
        hostname: '127.0.0.1',
      });
    for (const [path, body, reason] of [
      ['/log/inclusion', 'null', 'the inclusion proof is not for the signed tree head'],
      ['/.well-known/jwks.json', '{"keys":[1]}', 'the key set is malformed'],
    ] as const) {
      const liar = lying(path, body);
      await new Promise<void>((resolve) => liar.once('listening', () => resolve()));
      const address = liar.address();
      const lines: string[] = [];
      const code = await runVerifier(['receipt', signed[1]!.receipt, '--server', `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`], (line) => lines.push(line));
      await new Promise<void>((resolve) => liar.close(() => resolve()));
      expect(code, lines.join('\n')).toBe(1);
      expect(lines.join('\n')).toContain(`FAILED: ${reason}`);
    }
  });

  it('--help prints how to use each verifier and exits 0', async () => {
    for (const args of [['--help'], ['-h'], ['log', '--help']]) {
      const lines: string[] = [];
      const code = await runVerifier(args, (line) => lines.push(line));
      expect(code, lines.join('\n')).toBe(0);
      expect(lines.join('\n')).toMatch(/^usage:\n  verify receipt <jws \| file> --server <url>/);
      expect(lines.join('\n')).not.toContain('ERROR');
    }
    for (const args of [['--help'], ['-h']]) {
      const out: string[] = [];
      const err: string[] = [];
      expect(await verifyCertificateCli(args, (line) => out.push(line), (line) => err.push(line))).toBe(0);
      expect(out.join('\n')).toContain('usage: npm run verify-certificate -- <file or URL> [--jwks <URL or file>]');
      expect(err).toEqual([]);
    }
  });

  it('a server that is down or overloaded is a network error for the verifier (exit 2), not a failed check', async () => {
    for (const [status, type, body] of [
      [502, 'text/html', '<html><body>Bad Gateway</body></html>'],
      [503, 'application/problem+json', JSON.stringify({ type: '/problems/unavailable', title: 'Service unavailable', status: 503, detail: 'The database does not answer.' })],
    ] as const) {
      const down = createServer((_, res) => res.writeHead(status, { 'content-type': type }).end(body));
      await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', () => resolve()));
      const address = down.address();
      const lines: string[] = [];
      const code = await runVerifier(['log', initiativeId, '--server', `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`], (line) => lines.push(line));
      await new Promise<void>((resolve) => down.close(() => resolve()));
      expect(code, lines.join('\n')).toBe(2);
      expect(lines.join('\n')).toContain(`HTTP ${status}`);
      expect(lines.join('\n')).not.toContain('FAILED');
    }
  });

  it("the log's web page gives a command that verifies the log, and names what its public count takes away", async () => {
    const page = await engine.app.request(`/initiatives/${initiativeId}/transparency`, { headers: { 'accept-language': 'en' } });
    const html = await page.text();
    const command = /<pre><code>([^<]*)<\/code><\/pre>/.exec(html)![1]!;
    expect(command.startsWith('npm run verify -- ')).toBe(true);
    // Run as printed, against this engine (the page names its public address, here a loopback port).
    const args = command.slice('npm run verify -- '.length).replaceAll(PUBLIC_URL, url).split(/\s+/);
    const lines: string[] = [];
    const code = await runVerifier(args, (line) => lines.push(line));
    expect(code, lines.join('\n')).toBe(0);
    expect(lines.join('\n')).toContain('10 sign − 1 withdraw − 1 invalidate = 8');
    // The count shown is sign − withdraw − invalidate, and the page says so.
    expect(html).toContain('Public count (signatures minus withdrawals and invalidations): <strong>8</strong>');
    const fr = await (await engine.app.request(`/initiatives/${initiativeId}/transparency`)).text();
    expect(fr).toContain('Compte public (signatures moins retraits et invalidations)\u00a0: <strong>8</strong>');
  });
});

/**
 * A log of a few thousand entries, grown in three sequencer runs: proofs read a window of leaves
 * around the entry, stored subtrees and, for the upper levels, subtrees kept from earlier reads.
 * Every proof the API gives, at every size and asked twice, is the one computed from the leaves.
 */
describe('proofs on a log of thousands of entries', () => {
  let engine: TestEngine;
  let initiativeId: string;
  const sizes = [1500, 3037, 5137];
  const leaves: Uint8Array[] = [];
  const roots: string[] = [];

  beforeAll(async () => {
    engine = await createTestEngine({ config: { logMergeDelayMs: HOUR } });
    const admin = await engine.adminToken();
    await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0 }) });
    await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk-of-paris' } });
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    initiativeId = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT })).body.id;
    await engine.request('POST', `/v1/initiatives/${initiativeId}/submit`, { token: sponsor });
    await engine.request('POST', `/v1/initiatives/${initiativeId}/review`, { token: await engine.subjectToken('clerk-of-paris'), body: { decision: 'open' } });
    for (const size of sizes) {
      const entries = Array.from({ length: size - leaves.length }, () => ({ initiativeId, type: 'sign' as const, ref: crypto.randomUUID(), at: engine.clock.now() }));
      await engine.db.db.transaction((tx) => appendLogEntries(tx, entries));
      leaves.push(...entries.map((e) => leafHash(logEntryData(e))));
      engine.clock.advance(1000);
      await engine.scheduler.tick();
      const head = (await engine.request('GET', `/v1/initiatives/${initiativeId}/log`)).body;
      expect(head.size).toBe(size);
      expect(head.root).toBe(toBase64(treeRoot(leaves)));
      roots.push(head.root);
    }
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('inclusion proofs at every size verify and equal those computed from the leaves, asked once or again', async () => {
    for (const [s, size] of sizes.entries()) {
      const indexes = [0, 1, 15, 16, 17, 1023, 1024, 1499, 2047, 2048, 3036, size - 17, size - 16, size - 2, size - 1].filter((i) => i >= 0 && i < size);
      for (let round = 0; round < 2; round++) {
        for (const index of indexes) {
          const res = await engine.request('GET', `/v1/initiatives/${initiativeId}/log/inclusion?index=${index}&size=${size}`);
          expect(res.status).toBe(200);
          expect(res.body.leaf).toBe(toBase64(leaves[index]!));
          expect(res.body.proof, `index ${index} in ${size}`).toEqual(inclusionProof(leaves, index, size).map(toBase64));
          expect(verifyInclusion(index, size, leaves[index]!, res.body.proof.map(b64), b64(roots[s]!))).toBe(true);
        }
      }
    }
    // Without a size: the proof is against the latest tree.
    const latest = await engine.request('GET', `/v1/initiatives/${initiativeId}/log/inclusion?index=4242`);
    expect(latest.body).toMatchObject({ index: 4242, size: 5137, proof: inclusionProof(leaves, 4242, 5137).map(toBase64) });
  });

  it('consistency proofs between the sizes equal those computed from the leaves', async () => {
    for (const [from, to] of [[1500, 3037], [1500, 5137], [3037, 5137], [1024, 5137], [4096, 5137], [17, 3037]] as const) {
      const res = await engine.request('GET', `/v1/initiatives/${initiativeId}/log/consistency?from=${from}&to=${to}`);
      expect(res.body.proof, `${from} → ${to}`).toEqual(consistencyProof(leaves, from, to).map(toBase64));
    }
    const [a, b] = [roots[0]!, roots[2]!];
    const res = await engine.request('GET', `/v1/initiatives/${initiativeId}/log/consistency?from=1500`);
    expect(res.body.to).toBe(5137);
    expect(verifyConsistency(1500, 5137, b64(a), b64(b), res.body.proof.map(b64))).toBe(true);
  });

  it('a tree head is never dated before an entry it holds, even one written after the sequencer run began', async () => {
    // The sequencer reads the clock when its run begins; a signature may be written a moment after, before the pending entries are read.
    const runBegan = engine.clock.now();
    const written = new Date(runBegan.getTime() + 5_000);
    const entry = { initiativeId, type: 'sign' as const, ref: crypto.randomUUID(), at: written };
    await engine.db.db.transaction((tx) => appendLogEntries(tx, [entry]));
    await sequenceLogs(engine.deps, runBegan);
    const head = (await engine.request('GET', `/v1/initiatives/${initiativeId}/log`)).body;
    expect(head.size).toBe(5138);
    expect(Date.parse(head.timestamp), `head at ${head.timestamp}, its last entry at ${written.toISOString()}`).toBeGreaterThanOrEqual(written.getTime());
    // The next run, on time again, does not go back either.
    await engine.db.db.transaction((tx) => appendLogEntries(tx, [{ initiativeId, type: 'sign', ref: crypto.randomUUID(), at: runBegan }]));
    await sequenceLogs(engine.deps, runBegan);
    const next = (await engine.request('GET', `/v1/initiatives/${initiativeId}/log`)).body;
    expect(next.size).toBe(5139);
    expect(Date.parse(next.timestamp)).toBeGreaterThanOrEqual(Date.parse(head.timestamp));
  });
});
