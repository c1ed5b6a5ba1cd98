/**
 * The standalone verifier of the transparency logs (SPEC §6) and of exports of the audit trail:
 * anyone can run it against an engine without trusting it. It uses the shared pure code of the
 * tree and of the audit chain's hashing, jose, fetch and a CSV reader, nothing else of the server.
 *
 *   npm run verify -- receipt <jws | file> --server <url>
 *   npm run verify -- log <initiative id> --server <url> [--save <file>] [--attempts <n>]
 *   npm run verify -- consistency <tree-head-1.json> <tree-head-2.json> --server <url>
 *   npm run verify -- audit <audit.json | audit.csv>
 *
 * Add --jwks <file> to check signatures against saved keys instead of the server's; --help prints the usage.
 * Exit status: 0 verified, 1 verification failed, 2 usage or network error, 3 not yet due (retry).
 */
import { realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { auditEntryHash, type AuditChainEntry } from './core/audit-chain';
import { appendLeaves, EMPTY_ROOT, foldSubtrees, fromBase64, inclusionProofRanges, leafHash, toBase64, verifyConsistency, verifyInclusion, type Subtree } from './core/merkle';

export const EXIT = { verified: 0, failed: 1, usage: 2, retry: 3 } as const;

/** A check that did not hold: the server's answers contradict what it signed. */
class VerificationFailure extends Error {}
/** The verifier could not do its work: bad arguments, unreachable server. */
class UsageError extends Error {}
/** Nothing wrong yet: the merge delay has not passed. */
class NotYetDue extends Error {}

interface TreeHead {
  initiativeId: string;
  size: number;
  root: string;
  timestamp: string;
  signature: string;
}

interface Options {
  server: string;
  jwksFile?: string;
  /** A saved GET /v1/audit/head, checked against the audit export. */
  head?: string;
  /** The audit export is of the whole trail (no filter): a gap is entries removed, not left out. */
  whole?: boolean;
  save?: string;
  attempts: number;
  waitMs: number;
}

type Out = (line: string) => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function parseArgs(args: string[]): { command: string; positional: string[]; options: Options } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--whole') {
      flags.set('whole', 'yes');
    } else if (arg.startsWith('--')) {
      const value = args[i + 1];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      flags.set(arg.slice(2), value);
      i++;
    } else {
      positional.push(arg);
    }
  }
  const [command, ...rest] = positional;
  const server = flags.get('server') ?? '';
  if (!command) throw new UsageError('missing command');
  // The audit trail is checked from a file alone: nothing is asked of the server.
  if (command !== 'audit' && !/^https?:\/\//.test(server)) throw new UsageError('--server <url> is required (http:// or https://)');
  // …but a signed head needs the engine's keys: saved, or from the server.
  if (command === 'audit' && flags.has('head') && !flags.has('jwks') && !/^https?:\/\//.test(server)) throw new UsageError('--head needs the keys: --jwks <file> or --server <url>');
  const attempts = Number(flags.get('attempts') ?? 3);
  const waitMs = Number(flags.get('wait-ms') ?? 1000);
  if (!Number.isInteger(attempts) || attempts < 1) throw new UsageError('--attempts must be a positive integer');
  if (!Number.isInteger(waitMs) || waitMs < 0) throw new UsageError('--wait-ms must be a non-negative integer');
  for (const name of flags.keys()) if (!['server', 'jwks', 'save', 'attempts', 'wait-ms', 'head', 'whole'].includes(name)) throw new UsageError(`unknown option --${name}`);
  return { command, positional: rest, options: { server: server.replace(/\/+$/, ''), jwksFile: flags.get('jwks'), head: flags.get('head'), whole: flags.has('whole'), save: flags.get('save'), attempts, waitMs } };
}

/** GETs JSON; a problem document becomes an error that quotes it. */
async function getJson(options: Options, path: string): Promise<{ status: number; body: any }> {
  let response: Response;
  try {
    // What the engine holds now, not a page a cache kept for a second.
    response = await fetch(`${options.server}${path}`, { headers: { accept: 'application/json', 'cache-control': 'no-cache' } });
  } catch (error) {
    throw new UsageError(`cannot reach ${options.server}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = await response.text();
  // A server down, overloaded or behind a failing proxy has said nothing about its log yet: retry later.
  if (response.status >= 500 || response.status === 429) throw new UsageError(`${path} answered HTTP ${response.status}: the server is unavailable; try again later`);
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new VerificationFailure(`${path} did not answer JSON (HTTP ${response.status})`);
  }
  return { status: response.status, body };
}

async function getOk(options: Options, path: string): Promise<any> {
  const { status, body } = await getJson(options, path);
  if (status !== 200) throw new VerificationFailure(`${path} answered HTTP ${status}: ${body?.detail ?? body?.title ?? 'no detail'}`);
  return body;
}

async function readKeyFile(file: string): Promise<JSONWebKeySet> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new UsageError(`cannot read the keys from ${file}: ${error.message}`);
  });
  try {
    return JSON.parse(text) as JSONWebKeySet;
  } catch {
    throw new UsageError(`cannot read the keys from ${file}: it is not JSON (a key set saved from /.well-known/jwks.json)`);
  }
}

async function loadKeys(options: Options) {
  const jwks: JSONWebKeySet = options.jwksFile ? await readKeyFile(options.jwksFile) : await getOk(options, '/.well-known/jwks.json');
  if (!Array.isArray(jwks?.keys)) throw new VerificationFailure('the key set has no keys');
  try {
    return createLocalJWKSet(jwks);
  } catch (error) {
    throw new VerificationFailure(`the key set is malformed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

type KeySet = Awaited<ReturnType<typeof loadKeys>>;

/** jose's reason, or for a key the set lacks, which key: a retired key taken off the JWKS names itself. */
export function whyNotVerified(jws: string, error: unknown): string {
  if ((error as { code?: string })?.code === 'ERR_JWKS_NO_MATCHING_KEY') {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(jws).kid;
    } catch {
      kid = undefined;
    }
    if (typeof kid === 'string') return `its key "${kid}" is not in the key set (a retired key taken off /.well-known/jwks.json, or another signer's)`;
  }
  return error instanceof Error ? error.message : String(error);
}

async function verifyJws(keys: KeySet, jws: string, typ: string, what: string): Promise<JWTPayload & Record<string, unknown>> {
  try {
    const { payload } = await jwtVerify(jws, keys, { algorithms: ['EdDSA'], typ });
    return payload as JWTPayload & Record<string, unknown>;
  } catch (error) {
    throw new VerificationFailure(`the ${what}'s signature does not verify: ${whyNotVerified(jws, error)}`);
  }
}

function decodeHash(value: unknown, what: string): Uint8Array {
  const bytes = typeof value === 'string' ? fromBase64(value) : undefined;
  if (!bytes || bytes.length !== 32) throw new VerificationFailure(`${what} is not a base64 SHA-256 hash`);
  return bytes;
}

/** Checks a tree head's signature and that the signed payload says what the document says. */
async function verifyTreeHead(keys: KeySet, head: TreeHead, initiativeId?: string): Promise<{ issuer: string | undefined }> {
  if (typeof head?.signature !== 'string') throw new VerificationFailure('the tree head has no signature');
  const payload = await verifyJws(keys, head.signature, 'tree-head+jwt', 'tree head');
  // A head as a certificate carries it has no initiativeId beside its signature, which names it.
  if (head.initiativeId === undefined && typeof payload.initiative === 'string') head.initiativeId = payload.initiative;
  const signed = { initiativeId: payload.initiative, size: payload.size, root: payload.root, timestamp: payload.timestamp };
  for (const field of ['initiativeId', 'size', 'root', 'timestamp'] as const) {
    if (signed[field] !== head[field]) throw new VerificationFailure(`the tree head's ${field} (${String(head[field])}) is not what was signed (${String(signed[field])})`);
  }
  if (initiativeId !== undefined && head.initiativeId !== initiativeId) throw new VerificationFailure(`the tree head is for initiative ${head.initiativeId}, not ${initiativeId}`);
  if (!Number.isSafeInteger(head.size) || head.size < 0) throw new VerificationFailure('the tree head has no valid size');
  const root = decodeHash(head.root, "the tree head's root");
  if (head.size === 0 && toBase64(root) !== toBase64(EMPTY_ROOT)) throw new VerificationFailure(`the tree head of size 0 has a root that is not the empty tree's (${head.root}, not ${toBase64(EMPTY_ROOT)})`);
  return { issuer: payload.iss };
}

async function fetchTreeHead(options: Options, keys: KeySet, initiativeId: string): Promise<TreeHead> {
  const head = (await getOk(options, `/v1/initiatives/${encodeURIComponent(initiativeId)}/log`)) as TreeHead;
  await verifyTreeHead(keys, head, initiativeId);
  return head;
}

interface LogEntry {
  type: 'sign' | 'withdraw' | 'invalidate';
  ref: string;
  at: string;
}

function parseEntry(data: Uint8Array, index: number): LogEntry {
  let entry: any;
  try {
    entry = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    throw new VerificationFailure(`entry ${index} is not UTF-8 JSON`);
  }
  const keys = entry && typeof entry === 'object' ? Object.keys(entry).join(',') : '';
  if (keys !== 'type,ref,at' || !['sign', 'withdraw', 'invalidate'].includes(entry.type) || typeof entry.ref !== 'string' || typeof entry.at !== 'string') {
    throw new VerificationFailure(`entry ${index} is not a log entry ({"type","ref","at"})`);
  }
  return entry as LogEntry;
}

/**
 * Reads entries [from, to) page by page, checking each page is the range asked for, in order, and
 * hands each page to `onPage` without keeping it: a log of millions is never held whole. `onPage`
 * returns true to stop early.
 */
async function readEntries(options: Options, initiativeId: string, from: number, to: number, onPage: (entries: Uint8Array[], first: number) => boolean | void): Promise<void> {
  let next = from;
  while (next < to) {
    const page = await getOk(options, `/v1/initiatives/${encodeURIComponent(initiativeId)}/log/entries?start=${next}&end=${to}`);
    if (!Array.isArray(page?.entries) || page.entries.length === 0) throw new VerificationFailure(`the log gave no entries from ${next}`);
    const first = next;
    const entries: Uint8Array[] = [];
    for (const item of page.entries) {
      if (item?.index !== next) throw new VerificationFailure(`expected entry ${next}, got ${String(item?.index)}`);
      const data = typeof item.data === 'string' ? fromBase64(item.data) : undefined;
      if (!data) throw new VerificationFailure(`entry ${next} is not base64`);
      entries.push(data);
      next++;
    }
    if (onPage(entries, first) === true) return;
  }
}

/**
 * Replays a log entry by entry: sign counts one, withdraw and invalidate take a counted signature
 * out; the root comes from the frontier of complete subtrees. What it keeps is a flag per signature.
 */
export class LogReplay {
  size = 0;
  count = 0;
  readonly tally = { sign: 0, withdraw: 0, invalidate: 0 };
  /** The first entry that does not replay: reported once the root is known to match (a root that does not is the first thing wrong). */
  fault: VerificationFailure | undefined;
  private frontier: Subtree[] = [];
  /** Every signature signed so far: true while it counts. */
  private readonly counted = new Map<string, boolean>();

  add(entries: readonly Uint8Array[]): void {
    entries.forEach((data, i) => {
      if (this.fault) return;
      try {
        this.replay(parseEntry(data, this.size + i), this.size + i);
      } catch (error) {
        if (!(error instanceof VerificationFailure)) throw error;
        this.fault = error;
      }
    });
    this.frontier = appendLeaves(this.frontier, this.size, entries.map(leafHash)).frontier;
    this.size += entries.length;
  }

  private replay(entry: LogEntry, index: number): void {
    this.tally[entry.type]++;
    const counts = this.counted.get(entry.ref);
    if (entry.type === 'sign') {
      if (counts !== undefined) throw new VerificationFailure(`entry ${index} signs ${entry.ref} a second time`);
      this.counted.set(entry.ref, true);
      this.count++;
    } else {
      if (counts !== true) throw new VerificationFailure(`entry ${index} (${entry.type}) refers to ${entry.ref}, which is not a counted signature`);
      this.counted.set(entry.ref, false);
      this.count--;
    }
  }

  root(): Uint8Array {
    return foldSubtrees(this.frontier.map((s) => s.hash));
  }
}

async function verifyReceipt(options: Options, receiptArg: string, out: Out): Promise<void> {
  // A file first: a name such as receipt.2027-01-15.jws has the dots of a JWS too.
  const fromFile = await readFile(receiptArg, 'utf8').catch(() => undefined);
  const jws = fromFile !== undefined ? fromFile.trim() : /^[\w-]+\.[\w-]+\.[\w-]+$/.test(receiptArg.trim()) ? receiptArg.trim() : '';
  if (!jws) throw new UsageError('the receipt is neither a compact JWS nor a readable file');
  const keys = await loadKeys(options);
  const receipt = await verifyJws(keys, jws, 'receipt+jwt', 'receipt');
  const initiativeId = String(receipt.initiative ?? '');
  const signatureId = String(receipt.signature ?? '');
  const leaf = decodeHash(receipt.leaf, "the receipt's leaf");
  if (!initiativeId || !signatureId) throw new VerificationFailure('the receipt names no initiative or signature');
  out(`receipt: signature ${signatureId} on initiative ${initiativeId}, signed at ${String(receipt.signedAt)} by ${String(receipt.iss)}`);

  const head = await fetchTreeHead(options, keys, initiativeId);
  out(`tree head: size ${head.size}, root ${head.root}, ${head.timestamp} — signature verified`);

  const inclusion = await getJson(options, `/v1/initiatives/${encodeURIComponent(initiativeId)}/log/inclusion?ref=${encodeURIComponent(signatureId)}&size=${head.size}`);
  const notYetIn = inclusion.status === 404 && inclusion.body?.type === '/problems/log-entry-pending';
  const outsideHead = inclusion.status === 400 && head.size > 0;
  if (head.size === 0 || notYetIn || outsideHead) {
    const due = Date.parse(String(receipt.signedAt)) + Number(receipt.mmd ?? 0) * 1000;
    if (Number.isFinite(due) && Date.now() <= due + 1000) throw new NotYetDue(`the signature is not in the log yet; the merge delay runs until ${new Date(due).toISOString()}: retry then`);
    throw new VerificationFailure(`the signature is not in the log although its merge delay (${String(receipt.mmd)} s) has passed: the promise is broken`);
  }
  if (inclusion.status !== 200) throw new VerificationFailure(`the log has no inclusion proof for ${signatureId}: HTTP ${inclusion.status} ${inclusion.body?.detail ?? ''}`);
  const { index, size, proof } = (inclusion.body ?? {}) as { index: number; size: number; proof: string[] };
  if (size !== head.size || !Array.isArray(proof)) throw new VerificationFailure('the inclusion proof is not for the signed tree head');
  const proofHashes = proof.map((p, i) => decodeHash(p, `proof element ${i}`));
  // The receipt's leaf, not the server's word for it, goes into the proof.
  if (!verifyInclusion(index, size, leaf, proofHashes, decodeHash(head.root, 'root'))) {
    throw new VerificationFailure(`the inclusion proof of leaf ${index} does not lead to the signed root`);
  }
  let data: Uint8Array | undefined;
  await readEntries(options, initiativeId, index, index + 1, ([entry]) => void (data = entry));
  if (toBase64(leafHash(data!)) !== toBase64(leaf)) throw new VerificationFailure(`entry ${index} does not hash to the receipt's leaf`);
  const entry = parseEntry(data!, index);
  if (entry.type !== 'sign' || entry.ref !== signatureId) throw new VerificationFailure(`entry ${index} is not the signing of ${signatureId}`);
  out(`included: leaf ${index} of ${size}, inclusion proof verified against the signed root`);
  await reportLaterEntry(options, initiativeId, signatureId, head, index, proofHashes, out);
}

/**
 * Whether the entries after the signature's withdraw or invalidate it: the receipt may check and the
 * signature no longer count. The later entries are proven against the signed tree head by the
 * signature's own inclusion proof (its subtrees to the right), one found also by its own.
 */
async function reportLaterEntry(options: Options, initiativeId: string, signatureId: string, head: TreeHead, index: number, signatureProof: Uint8Array[], out: Out): Promise<void> {
  // The proof's subtrees right of the leaf hold exactly the later entries, in order: a server leaving out or
  // rewriting one (a withdrawal, an invalidation) cannot make them hash to what the signed root took.
  // Each is hashed from its frontier as its entries arrive, so none of them is kept.
  const right = inclusionProofRanges(index, head.size)
    .map((range, i) => ({ range, hash: signatureProof[i]! }))
    .filter(({ range }) => range[0] > index)
    .sort((a, b) => a.range[0] - b.range[0]);
  let subtree = 0;
  let frontier: Subtree[] = [];
  let found: { index: number; data: Uint8Array } | undefined;
  // An entry that is not a log entry is reported once the subtrees are known to be the signed ones.
  let fault: VerificationFailure | undefined;
  await readEntries(options, initiativeId, index + 1, head.size, (entries, first) => {
    entries.forEach((data, i) => {
      const at = first + i;
      try {
        if (!found && !fault && parseEntry(data, at).ref === signatureId) found = { index: at, data };
      } catch (error) {
        if (!(error instanceof VerificationFailure)) throw error;
        fault = error;
      }
      const { range, hash } = right[subtree]!;
      frontier = appendLeaves(frontier, at - range[0], [leafHash(data)]).frontier;
      if (at + 1 < range[1]) return;
      if (toBase64(foldSubtrees(frontier.map((s) => s.hash))) !== toBase64(hash)) {
        throw new VerificationFailure(`the entries after leaf ${index} (${range[0]} to ${range[1] - 1}) are not those of the signed tree head: what became of the signature cannot be told`);
      }
      subtree++;
      frontier = [];
    });
  });
  if (fault) throw fault;
  if (!found) {
    out('counted: no later entry of the log withdraws or invalidates it');
    return;
  }
  const laterIndex = found.index;
  const entry = parseEntry(found.data, laterIndex);
  if (entry.type === 'sign') throw new VerificationFailure(`entry ${laterIndex} signs ${signatureId} a second time`);
  const proof = await getOk(options, `/v1/initiatives/${encodeURIComponent(initiativeId)}/log/inclusion?index=${laterIndex}&size=${head.size}`);
  const hashes = Array.isArray(proof?.proof) ? proof.proof.map((p: unknown, i: number) => decodeHash(p, `proof element ${i}`)) : undefined;
  if (!hashes || !verifyInclusion(laterIndex, head.size, leafHash(found.data), hashes, decodeHash(head.root, 'root'))) {
    throw new VerificationFailure(`the inclusion proof of entry ${laterIndex} (${entry.type} of ${signatureId}) does not lead to the signed root`);
  }
  const [state, verb] = entry.type === 'withdraw' ? ['withdrawn', 'withdraws'] : ['invalidated', 'invalidates'];
  out(`${state}: entry ${laterIndex} of the log ${verb} this signature (its inclusion proof verified): it no longer counts`);
}

async function verifyLog(options: Options, initiativeId: string, out: Out): Promise<void> {
  const keys = await loadKeys(options);
  let head = await fetchTreeHead(options, keys, initiativeId);
  out(`tree head: size ${head.size}, root ${head.root}, ${head.timestamp} — signature verified`);
  const replay = new LogReplay();
  await readEntries(options, initiativeId, 0, head.size, (entries) => replay.add(entries));
  for (let attempt = 1; ; attempt++) {
    const root = toBase64(replay.root());
    if (root !== head.root) throw new VerificationFailure(`the ${replay.size} entries hash to root ${root}, not the signed ${head.root}`);
    if (replay.fault) throw replay.fault;
    const { tally, count } = replay;
    const progress = await getOk(options, `/v1/initiatives/${encodeURIComponent(initiativeId)}/progress`);
    const published = progress?.signatures;
    out(`entries: ${replay.size} recomputed to the signed root; ${tally.sign} sign − ${tally.withdraw} withdraw − ${tally.invalidate} invalidate = ${count}`);
    if (published === count) {
      out(`count: ${count}, the same as the published count`);
      break;
    }
    if (attempt >= options.attempts) throw new VerificationFailure(`the log counts ${count} signatures but the initiative publishes ${String(published)}`);
    out(`the published count is ${String(published)}; waiting for the log to catch up…`);
    await sleep(options.waitMs);
    const next = await fetchTreeHead(options, keys, initiativeId);
    if (next.size < head.size) throw new VerificationFailure(`the log shrank from ${head.size} to ${next.size} entries`);
    await readEntries(options, initiativeId, head.size, next.size, (entries) => replay.add(entries));
    head = next;
  }
  if (options.save) {
    await writeFile(options.save, `${JSON.stringify(head, null, 2)}\n`);
    out(`tree head saved to ${options.save}`);
  }
}

/**
 * A signed tree head saved by `log --save` or from `GET /log`, or the one a certificate carries in
 * `log`: the certificate as a compact JWS, as a referendum item, or its payload. The head is
 * checked by its own signature afterwards, whatever holds it.
 */
async function readTreeHead(file: string): Promise<TreeHead> {
  let held: any;
  try {
    const text = (await readFile(file, 'utf8')).trim();
    held = /^[\w-]+\.[\w-]+\.[\w-]+$/.test(text) ? decodeJwt(text) : JSON.parse(text);
    if (typeof held?.certificate === 'string') held = decodeJwt(held.certificate);
  } catch {
    throw new UsageError(`cannot read a tree head from ${file}`);
  }
  const head = held && typeof held.log === 'object' && typeof held.signature !== 'string' ? held.log : held;
  if (typeof head?.signature !== 'string') throw new UsageError(`${file} holds no signed tree head (nor a certificate with one)`);
  return head as TreeHead;
}

async function verifyTwoHeads(options: Options, files: string[], out: Out): Promise<void> {
  const heads = await Promise.all(files.map(readTreeHead));
  const keys = await loadKeys(options);
  for (const head of heads) await verifyTreeHead(keys, head);
  const [a, b] = heads[0]!.size <= heads[1]!.size ? [heads[0]!, heads[1]!] : [heads[1]!, heads[0]!];
  if (a.initiativeId !== b.initiativeId) throw new VerificationFailure('the two tree heads are of different initiatives');
  out(`tree heads: sizes ${a.size} and ${b.size} of initiative ${a.initiativeId} — signatures verified`);
  let proof: Uint8Array[] = [];
  if (a.size > 0 && a.size < b.size) {
    const body = await getOk(options, `/v1/initiatives/${encodeURIComponent(a.initiativeId)}/log/consistency?from=${a.size}&to=${b.size}`);
    if (!Array.isArray(body?.proof)) throw new VerificationFailure('the consistency proof is missing');
    proof = body.proof.map((p: unknown, i: number) => decodeHash(p, `proof element ${i}`));
  }
  if (!verifyConsistency(a.size, b.size, decodeHash(a.root, 'root'), decodeHash(b.root, 'root'), proof)) {
    throw new VerificationFailure(`the tree of ${b.size} entries does not extend the tree of ${a.size}: the log was rewritten or forked`);
  }
  out(`consistent: the tree of ${b.size} entries extends the tree of ${a.size}`);
}

/** An audit trail entry as `GET /v1/audit` and `/clerk/audit.csv` give it: what its hash covers, the hash before it and its own. */
interface AuditRow extends AuditChainEntry {
  prevHash: string;
  hash: string;
}

/** The audit entries of a saved `GET /v1/audit` answer (one page, or an array of pages or of entries) or of the clerks' CSV export. */
function readAuditExport(text: string): AuditRow[] {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let body: unknown;
    try {
      body = JSON.parse(trimmed);
    } catch {
      throw new UsageError('the file is neither JSON nor the CSV export of the audit trail');
    }
    const pages = Array.isArray(body) ? body : [body];
    const rows = pages.flatMap((page: any) => (Array.isArray(page?.items) ? page.items : [page]));
    // Another answer saved by mistake (initiatives, signatures...): not an audit trail whose check failed.
    if (rows.some((row: any) => typeof row !== 'object' || row === null || typeof row.hash !== 'string' || !('seq' in row))) {
      throw new UsageError('the file is not a GET /v1/audit answer: it holds items without a seq and a hash');
    }
    return rows as AuditRow[];
  }
  let records: Record<string, string>[];
  try {
    records = parseCsv(trimmed, { columns: true, skip_empty_lines: true });
  } catch (error) {
    throw new UsageError(`the CSV cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  // The export puts a quote before a cell that a spreadsheet would run as a formula: it is not part of the entry.
  const cell = (value: string | undefined) => (value !== undefined && /^'[=+\-@\t\r]/.test(value) ? value.slice(1) : (value ?? ''));
  return records.map((r) => {
    if (r.prev_hash === undefined || r.hash === undefined) throw new UsageError('the CSV has no prev_hash and hash columns: export it again');
    let details: unknown;
    try {
      details = JSON.parse(cell(r.details));
    } catch {
      throw new VerificationFailure(`entry ${r.seq}: its details are not JSON`);
    }
    return {
      seq: Number(r.seq),
      at: cell(r.at),
      actor: cell(r.actor),
      action: cell(r.action),
      jurisdictionId: cell(r.jurisdiction) || null,
      initiativeId: cell(r.initiative) || null,
      details,
      prevHash: cell(r.prev_hash),
      hash: cell(r.hash),
    };
  });
}

/** Recomputes every entry's hash from its content and the hash before it, and checks each link between consecutive entries. */
async function verifyAudit(options: Options, file: string, out: Out): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UsageError(`cannot read ${file}`);
  });
  const rows = readAuditExport(text).sort((a, b) => a.seq - b.seq);
  if (rows.length === 0) throw new VerificationFailure('the export holds no audit entries');
  const gaps: string[] = [];
  rows.forEach((row, i) => {
    if (!Number.isSafeInteger(row.seq) || row.seq < 1) throw new VerificationFailure(`an entry has no valid sequence number (${String(row.seq)})`);
    const before = rows[i - 1];
    if (before?.seq === row.seq) throw new VerificationFailure(`entry ${row.seq} appears twice`);
    if (row.seq === 1 && row.prevHash !== '') throw new VerificationFailure('entry 1 does not start the chain (its previous hash is not empty)');
    if (before && before.seq === row.seq - 1) {
      if (row.prevHash !== before.hash) throw new VerificationFailure(`entry ${row.seq} does not follow entry ${before.seq}: its previous hash ${row.prevHash} is not ${before.hash}`);
    } else if (before) {
      gaps.push(row.seq - before.seq === 2 ? `${before.seq + 1}` : `${before.seq + 1}–${row.seq - 1}`);
    }
    const recomputed = auditEntryHash(row.prevHash, row);
    if (recomputed !== row.hash) throw new VerificationFailure(`entry ${row.seq} (${row.action}, ${row.at}) was altered: its content hashes to ${recomputed}, not ${row.hash}`);
  });
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  if (options.whole && (first.seq !== 1 || gaps.length > 0)) {
    const missing = [...(first.seq > 1 ? [first.seq === 2 ? '1' : `1–${first.seq - 1}`] : []), ...gaps];
    throw new VerificationFailure(`the export of the whole trail lacks ${missing.length === 1 && !missing[0]!.includes('–') ? 'entry' : 'entries'} ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more gaps` : ''}: they were removed from the trail`);
  }
  out(`audit: ${rows.length} entries, ${first.seq} to ${last.seq}; every hash recomputed from the entry and the hash before it`);
  if (gaps.length === 0) out(first.seq === 1 ? 'chain: unbroken from the first entry of the trail' : `chain: unbroken from entry ${first.seq} (its previous hash: ${first.prevHash})`);
  else {
    const missing = `${gaps.length === 1 && !gaps[0]!.includes('–') ? 'entry' : 'entries'} ${gaps.slice(0, 5).join(', ')}${gaps.length > 5 ? ` and ${gaps.length - 5} more gaps` : ''}`;
    out(`chain: ${gaps.length} gap${gaps.length === 1 ? '' : 's'} in the sequence (${missing} ${gaps.length === 1 && !gaps[0]!.includes('–') ? 'is' : 'are'} not in the file): each entry is checked, the links across a gap are not`);
    out('  as in a filtered export (one initiative, a clerk\'s jurisdictions); in an export of the whole trail, entries were removed');
  }
  if (options.head) await verifyAuditHead(options, options.head, rows, out);
}

/**
 * A head of the trail the engine signed (GET /v1/audit/head, kept by whoever asked for it) against
 * an export: the export must hold the head's entry with the hash the engine signed, or the trail
 * was rewritten since, or cut short.
 */
async function verifyAuditHead(options: Options, file: string, rows: AuditRow[], out: Out): Promise<void> {
  let head: { seq?: unknown; hash?: unknown; at?: unknown; signature?: unknown };
  try {
    head = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read the audit head ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof head?.signature !== 'string') throw new UsageError(`${file} is not a GET /v1/audit/head answer (no signature)`);
  const payload = await verifyJws(await loadKeys(options), head.signature, 'audit-head+jwt', 'audit head');
  for (const field of ['seq', 'hash', 'at'] as const) {
    if (JSON.stringify(head[field]) !== JSON.stringify(payload[field])) {
      throw new VerificationFailure(`the audit head's ${field} (${JSON.stringify(head[field])}) is not what its signature says (${JSON.stringify(payload[field])})`);
    }
  }
  const seq = payload.seq;
  const hash = payload.hash;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || typeof hash !== 'string') throw new VerificationFailure('the audit head signs no valid entry');
  const signedOn = typeof payload.iat === 'number' ? new Date(payload.iat * 1000).toISOString() : 'an unknown date';
  if (seq === 0) {
    out(`head: signed on ${signedOn} when the trail was empty; nothing in the file can contradict it`);
    return;
  }
  const entry = rows.find((row) => row.seq === seq);
  const last = rows[rows.length - 1]!;
  if (entry) {
    if (entry.hash !== hash) throw new VerificationFailure(`entry ${seq} has the hash ${entry.hash} in the file, but the engine signed ${hash} for it on ${signedOn}: the trail was rewritten since`);
    out(`head: entry ${seq} is in the file with the hash the engine signed on ${signedOn}`);
    return;
  }
  // Only an export of the whole trail must reach the head: a filtered one (a clerk's jurisdictions) may well end before it.
  if (seq > last.seq && options.whole) {
    throw new VerificationFailure(`the file ends at entry ${last.seq}, before entry ${seq} that the engine signed on ${signedOn}: an export made since must hold it, so entries were removed from the end (or the export is older than the head)`);
  }
  throw new UsageError(
    `entry ${seq} of the head is not in the file (${seq > last.seq ? `which ends at entry ${last.seq}` : 'a filtered export'}): check the head against an export that holds it, such as the whole trail (--whole)`,
  );
}

const USAGE = `usage:
  verify receipt <jws | file> --server <url>
  verify log <initiative id> --server <url> [--save <tree-head.json>] [--attempts <n>] [--wait-ms <ms>]
  verify consistency <tree-head-1.json> <tree-head-2.json> --server <url>
  verify audit <audit.json | audit.csv> [--whole] [--head <audit-head.json> (--jwks <file> | --server <url>)]
                                             (a saved GET /v1/audit answer, or the clerks' CSV export;
                                              --whole: the export has no filter, so a gap is a removal;
                                              --head: a saved GET /v1/audit/head the export must hold)
options: --jwks <file> checks signatures with saved keys instead of the server's; --help prints this
exit status: 0 verified, 1 a check failed, 2 usage or network error, 3 not in the log yet (retry)`;

/** Runs one command; returns the exit status. */
export async function runVerifier(args: string[], out: Out = (line) => process.stdout.write(`${line}\n`)): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    out(USAGE);
    return EXIT.verified;
  }
  try {
    const { command, positional, options } = parseArgs(args);
    if (command === 'receipt' && positional.length === 1) await verifyReceipt(options, positional[0]!, out);
    else if (command === 'log' && positional.length === 1) await verifyLog(options, positional[0]!, out);
    else if (command === 'consistency' && positional.length === 2) await verifyTwoHeads(options, positional, out);
    else if (command === 'audit' && positional.length === 1) await verifyAudit(options, positional[0]!, out);
    else throw new UsageError(`unknown command or wrong arguments: ${command}`);
    out('VERIFIED');
    return EXIT.verified;
  } catch (error) {
    if (error instanceof VerificationFailure) {
      out(`FAILED: ${error.message}`);
      return EXIT.failed;
    }
    if (error instanceof NotYetDue) {
      out(`NOT YET: ${error.message}`);
      return EXIT.retry;
    }
    out(`ERROR: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof UsageError) out(USAGE);
    return EXIT.usage;
  }
}

// As a URL, with the real path: a checkout in a folder whose name has a space or an accent, or reached by a link.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  runVerifier(process.argv.slice(2)).then((code) => process.exit(code));
}
