import { canonicalIdentity, canonicalName, InvalidIdentityError, isCalendarDate } from '../../core/identity';
import { problems } from '../../platform/problems';

/**
 * Reading a roll CSV of millions of lines: a record reader that splits plain lines without looking
 * at each character, then validation and canonicalisation written for one row at a time. Each step
 * gives the same verdicts as the general code (zod messages, `canonicalIdentity`), several times faster.
 */

export const ROLL_COLUMNS = ['family_name', 'given_names', 'birthdate', 'district'] as const;
/** Rejected lines reported in detail; the rest are only counted. */
export const REPORTED_REJECTIONS = 100;
/** A record longer than this (in characters) is rejected: a runaway quote cannot swallow the file into memory. */
export const MAX_RECORD_CHARS = 4096;

const QUOTE = 34;
const COMMA = 44;
const CR = 13;
const LF = 10;

export interface CsvRecordHandler {
  /** A record and the line it starts on (line 1 is the first line of the file). */
  record(fields: string[], line: number): void;
  /** A record that is not CSV; `code` names the fault. */
  malformed(line: number, code: string): void;
}

/** What the record reader does after a quoted record was examined. */
type QuotedOutcome = { next: number; lines: number } | 'more';

/**
 * Streaming CSV records (RFC 4180: comma separated, double quotes around fields that hold commas,
 * quotes or line breaks, `""` for a quote inside them). Lines end with LF or CRLF, or with CR alone in
 * a file whose first line does; empty lines are skipped. A malformed record is reported by the line it
 * starts on and costs only that line: reading goes on at the next one.
 */
export class CsvRecordReader {
  private tail = '';
  private line = 1;
  /** The line break of the file, fixed by its first one. */
  private newline: '\n' | '\r' | undefined;
  /** Inside an over-long line, already reported: its text is dropped up to its end. */
  private skipping = false;

  constructor(private readonly handler: CsvRecordHandler) {}

  push(text: string): void {
    this.read(this.tail + text, false);
  }

  end(): void {
    this.read(this.tail, true);
    this.tail = '';
  }

  private read(s: string, final: boolean): void {
    if (this.newline === undefined) {
      const cr = s.indexOf('\r');
      const lf = s.indexOf('\n');
      if (lf !== -1 && (cr === -1 || lf < cr)) this.newline = '\n';
      else if (cr !== -1 && cr + 1 < s.length) this.newline = s.charCodeAt(cr + 1) === LF ? '\n' : '\r';
      else if (final || s.length > MAX_RECORD_CHARS + 2) this.newline = '\n';
      else {
        this.tail = s;
        return;
      }
    }
    const nl = this.newline;
    let pos = 0;
    if (this.skipping) {
      const eol = s.indexOf(nl);
      if (eol === -1) {
        this.tail = '';
        return;
      }
      pos = eol + 1;
      this.line++;
      this.skipping = false;
    }
    // The next quote, looked for once for all the lines before it.
    let quote = -1;
    while (pos < s.length) {
      let eol = s.indexOf(nl, pos);
      if (eol === -1) {
        if (!final) break;
        eol = s.length;
      }
      const end = nl === '\n' && eol > pos && s.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
      if (quote < pos) {
        quote = s.indexOf('"', pos);
        if (quote === -1) quote = s.length;
      }
      if (quote >= end) {
        if (end - pos > MAX_RECORD_CHARS) this.handler.malformed(this.line, 'CSV_MAX_RECORD_SIZE');
        else if (end > pos) this.handler.record(s.slice(pos, end).split(','), this.line);
        pos = eol + 1;
        this.line++;
        continue;
      }
      const outcome = this.quoted(s, pos, final);
      if (outcome === 'more') break;
      pos = outcome.next;
      this.line += outcome.lines;
    }
    this.tail = pos >= s.length ? '' : s.slice(pos);
    if (this.tail.length > MAX_RECORD_CHARS + 2) {
      // A line without its end yet, already too long to be a record (a quoted record never gets here).
      this.handler.malformed(this.line, 'CSV_MAX_RECORD_SIZE');
      this.tail = '';
      this.skipping = true;
    }
  }

  /**
   * A record with a quote in its first line, read character by character within MAX_RECORD_CHARS:
   * `more` when the text so far ends inside it.
   */
  private quoted(s: string, start: number, final: boolean): QuotedOutcome {
    const nl = this.newline!;
    const nlCode = nl.charCodeAt(0);
    const w = s.slice(start, start + MAX_RECORD_CHARS + 2);
    // Running off the window: more text may come, the record is too long, or the file ends there.
    const offEnd = (): 'more' | 'long' | 'eof' => (!final && s.length < start + MAX_RECORD_CHARS + 2 ? 'more' : w.length === MAX_RECORD_CHARS + 2 ? 'long' : 'eof');
    const fields: string[] = [];
    // A malformed record costs its first line only.
    const reject = (code: string): QuotedOutcome => {
      const eol = s.indexOf(nl, start);
      if (eol === -1 && !final) {
        // Decided once the line's end is there, unless the line is already too long to wait for.
        if (s.length - start <= MAX_RECORD_CHARS + 2) return 'more';
        this.skipping = true;
      }
      this.handler.malformed(this.line, code);
      return eol === -1 ? { next: s.length, lines: 0 } : { next: eol + 1, lines: 1 };
    };
    const done = (end: number, next: number): QuotedOutcome => {
      if (end > MAX_RECORD_CHARS) return reject('CSV_MAX_RECORD_SIZE');
      this.handler.record(fields, this.line);
      let lines = 0;
      for (let i = w.indexOf(nl); i !== -1 && i < next; i = w.indexOf(nl, i + 1)) lines++;
      return { next: start + next, lines };
    };
    let i = 0;
    for (;;) {
      if (w.charCodeAt(i) === QUOTE) {
        let value = '';
        let j = i + 1;
        for (;;) {
          const close = w.indexOf('"', j);
          if (close === -1) {
            const why = offEnd();
            return why === 'more' ? 'more' : reject(why === 'long' ? 'CSV_MAX_RECORD_SIZE' : 'CSV_QUOTE_NOT_CLOSED');
          }
          value += w.slice(j, close);
          if (close + 1 < w.length && w.charCodeAt(close + 1) === QUOTE) {
            value += '"';
            j = close + 2;
            continue;
          }
          i = close + 1;
          break;
        }
        fields.push(value);
        if (i >= w.length) {
          const why = offEnd();
          if (why === 'more') return 'more';
          return why === 'long' ? reject('CSV_MAX_RECORD_SIZE') : done(i, i);
        }
        const c = w.charCodeAt(i);
        if (c === COMMA) {
          i++;
          continue;
        }
        if (c === nlCode) return done(i, i + 1);
        if (nl === '\n' && c === CR) {
          if (i + 1 >= w.length) {
            const why = offEnd();
            if (why === 'more') return 'more';
            return why === 'long' ? reject('CSV_MAX_RECORD_SIZE') : done(i, i + 1);
          }
          if (w.charCodeAt(i + 1) === LF) return done(i, i + 2);
        }
        return reject('CSV_INVALID_CLOSING_QUOTE');
      }
      // An unquoted field: up to the next comma or line end, with no quote in it.
      let k = i;
      while (k < w.length) {
        const c = w.charCodeAt(k);
        if (c === COMMA || c === nlCode) break;
        if (c === QUOTE) return reject('INVALID_OPENING_QUOTE');
        k++;
      }
      if (k >= w.length) {
        const why = offEnd();
        if (why === 'more') return 'more';
        if (why === 'long') return reject('CSV_MAX_RECORD_SIZE');
        fields.push(w.slice(i, k));
        return done(k, k);
      }
      if (w.charCodeAt(k) === COMMA) {
        fields.push(w.slice(i, k));
        i = k + 1;
        continue;
      }
      fields.push(w.slice(i, nl === '\n' && k > i && w.charCodeAt(k - 1) === CR ? k - 1 : k));
      return done(k, k + 1);
    }
  }
}

/** Canonical form of each UTF-16 unit, as `canonicalName` gives it (which maps a name one character at a time). */
const CANONICAL_UNIT: (string | undefined)[] = Array.from({ length: 0x10000 }, () => undefined);
/** Units that separate given names (`firstGivenName` splits on white space and commas). */
const SEPARATOR_UNIT: (boolean | undefined)[] = Array.from({ length: 0x10000 }, () => undefined);
const SEPARATOR = /^[\s,]$/u;

function canonicalUnit(code: number): string {
  let canonical = CANONICAL_UNIT[code];
  if (canonical === undefined) CANONICAL_UNIT[code] = canonical = canonicalName(String.fromCharCode(code));
  return canonical;
}

function isSeparator(code: number): boolean {
  let separator = SEPARATOR_UNIT[code];
  if (separator === undefined) SEPARATOR_UNIT[code] = separator = SEPARATOR.test(String.fromCharCode(code));
  return separator;
}

const isSurrogate = (code: number) => code >= 0xd800 && code <= 0xdfff;

/** `canonicalName` from a table of single characters; undefined for text outside the BMP (left to the general code). */
function tableName(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (isSurrogate(code)) return undefined;
    out += canonicalUnit(code);
  }
  return out;
}

/** `canonicalName(firstGivenName(s))` from the same tables. */
function tableFirstGivenName(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (isSurrogate(code)) return undefined;
    if (isSeparator(code)) {
      if (out !== '') return out;
    } else out += canonicalUnit(code);
  }
  return out;
}

/** `canonicalIdentity` of a row whose birthdate is already checked; throws InvalidIdentityError the same way. */
export function rollCanonical(familyName: string, givenNames: string, birthdate: string): string {
  const family = tableName(familyName);
  const given = tableFirstGivenName(givenNames);
  if (family === undefined || given === undefined) return canonicalIdentity({ familyName, givenNames, birthdate });
  if (family === '') throw new InvalidIdentityError('familyName', 'family name has no letters');
  if (given === '') throw new InvalidIdentityError('givenNames', 'given names have no letters');
  return `${family}|${given}|${birthdate}`;
}

const SHA256_K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const SHA256_IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const SHA256_W = new Int32Array(64);

/** One SHA-256 compression (FIPS 180-4) of the 64 bytes at `block[at..]` into `state`. */
function sha256Block(state: Int32Array, block: Uint8Array, at: number) {
  const w = SHA256_W;
  for (let i = 0; i < 16; i++, at += 4) w[i] = (block[at]! << 24) | (block[at + 1]! << 16) | (block[at + 2]! << 8) | block[at + 3]!;
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + SHA256_K[i]! + w[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

function writeState(state: Int32Array, out: Uint8Array, at: number) {
  for (let i = 0; i < 8; i++, at += 4) {
    const v = state[i]!;
    out[at] = v >>> 24;
    out[at + 1] = v >>> 16;
    out[at + 2] = v >>> 8;
    out[at + 3] = v;
  }
}

/**
 * `rollHash` (HMAC-SHA256, RFC 2104) for the million lines of an import, writing each digest into
 * `out` at `at`. The key's inner and outer pads are hashed once per import, so a line costs two
 * SHA-256 blocks and no allocation: about a quarter of the runtime's HMAC, whose per-call setup
 * (a keyed context per line) was half of the import's CPU. The roll test checks it against rollHash.
 */
export function rollHasher(key: Uint8Array): (canonical: string, out: Uint8Array, at: number) => void {
  if (key.length > 64) throw new Error('a roll key is at most one SHA-256 block');
  const pad = new Uint8Array(64);
  const inner = SHA256_IV.slice();
  const outer = SHA256_IV.slice();
  pad.fill(0x36);
  for (let i = 0; i < key.length; i++) pad[i]! ^= key[i]!;
  sha256Block(inner, pad, 0);
  pad.fill(0x5c);
  for (let i = 0; i < key.length; i++) pad[i]! ^= key[i]!;
  sha256Block(outer, pad, 0);
  pad.fill(0);
  const state = new Int32Array(8);
  const encoder = new TextEncoder();
  let message = new Uint8Array(1024);
  // The outer message is the 32-byte inner digest after one block of pad: 768 bits in all.
  const outerBlock = new Uint8Array(64);
  outerBlock[32] = 0x80;
  outerBlock[62] = 0x03;
  return (canonical, out, at) => {
    if (message.length < canonical.length * 3 + 72) message = new Uint8Array(canonical.length * 3 + 72);
    const n = encoder.encodeInto(canonical, message).written;
    const blocks = (n + 9 + 63) & ~63;
    message[n] = 0x80;
    message.fill(0, n + 1, blocks - 4);
    const bits = (64 + n) * 8;
    message[blocks - 4] = bits >>> 24;
    message[blocks - 3] = bits >>> 16;
    message[blocks - 2] = bits >>> 8;
    message[blocks - 1] = bits;
    state.set(inner);
    for (let block = 0; block < blocks; block += 64) sha256Block(state, message, block);
    writeState(state, outerBlock, 0);
    state.set(outer);
    sha256Block(state, outerBlock, 0);
    writeState(state, out, at);
  };
}

export interface RollRejection {
  line: number;
  reason: string;
}

export class ImportTally {
  rows = 0;
  rejected = 0;
  readonly rejections: RollRejection[] = [];

  reject(line: number, reason: string) {
    this.rejected++;
    if (this.rejections.length < REPORTED_REJECTIONS) this.rejections.push({ line, reason });
  }
}

/**
 * Receives each valid row: nothing of the person but the keyed hash. `hash` is reused for the next
 * row: a sink that keeps it copies it.
 */
export type RollEntrySink = (line: number, hash: Uint8Array, district: string) => void;

const lengthIssue = (name: string, value: string, max: number) =>
  value === '' ? `${name} is empty` : value.length > max ? `${name} is longer than ${max} characters` : undefined;

/**
 * The rows of a roll: the header names the columns (in any order), then each record is checked,
 * canonicalised and hashed. Rejections carry the line and the reason, never the person's fields.
 */
export class RollRows implements CsvRecordHandler {
  private columns: number[] | undefined;
  private readonly hashOf: (canonical: string, out: Uint8Array, at: number) => void;
  private readonly hash = new Uint8Array(32);
  /** Birthdates already found to be calendar dates (some 70,000 at most). */
  private readonly dates = new Set<string>();

  constructor(
    key: Uint8Array,
    private readonly districts: ReadonlySet<string>,
    private readonly tally: ImportTally,
    private readonly sink: RollEntrySink,
  ) {
    this.hashOf = rollHasher(key);
  }

  malformed(line: number, code: string): void {
    if (!this.columns) throw noHeader();
    this.tally.rows++;
    this.tally.reject(line, `malformed CSV (${code})`);
  }

  record(fields: string[], line: number): void {
    const columns = this.columns;
    if (!columns) {
      const names = fields.map((name) => name.trim().toLowerCase());
      const positions = ROLL_COLUMNS.map((name) => names.indexOf(name));
      if (names.length !== ROLL_COLUMNS.length || positions.some((p) => p === -1)) throw noHeader();
      this.columns = positions;
      return;
    }
    const tally = this.tally;
    tally.rows++;
    if (fields.length !== ROLL_COLUMNS.length) return tally.reject(line, `expected ${ROLL_COLUMNS.length} fields, found ${fields.length}`);
    const familyName = fields[columns[0]!]!.trim();
    const givenNames = fields[columns[1]!]!.trim();
    const birthdate = fields[columns[2]!]!.trim();
    const district = fields[columns[3]!]!.trim();
    const familyIssue = lengthIssue('family_name', familyName, 200);
    const givenIssue = lengthIssue('given_names', givenNames, 200);
    const dateIssue = this.isDate(birthdate) ? undefined : 'birthdate is not a calendar date in YYYY-MM-DD';
    const districtIssue = lengthIssue('district', district, 32);
    if (familyIssue || givenIssue || dateIssue || districtIssue) {
      return tally.reject(line, [familyIssue, givenIssue, dateIssue, districtIssue].filter((issue) => issue !== undefined).join('; '));
    }
    if (!this.districts.has(district)) return tally.reject(line, `district "${district}" is not one of the jurisdiction's`);
    let canonical: string;
    try {
      canonical = rollCanonical(familyName, givenNames, birthdate);
    } catch (error) {
      return tally.reject(line, error instanceof InvalidIdentityError ? error.message : 'not a valid identity');
    }
    this.hashOf(canonical, this.hash, 0);
    this.sink(line, this.hash, district);
  }

  private isDate(s: string): boolean {
    if (this.dates.has(s)) return true;
    if (!isCalendarDate(s)) return false;
    this.dates.add(s);
    return true;
  }
}

function noHeader() {
  return problems.validation([{ field: 'body.header', message: `The first line must name the columns ${ROLL_COLUMNS.join(',')}.` }], 'The roll has no valid header line.');
}

/**
 * The roll's bytes as text, counted against the limit; anything that is not UTF-8 is refused
 * (a leading BOM is dropped).
 */
export async function* utf8Chunks(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  const notUtf8 = () => problems.validation([{ field: 'body', message: `The CSV is not valid UTF-8 (near byte ${bytes}).` }], 'The roll must be UTF-8 text.');
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > maxBytes) throw problems.payloadTooLarge(maxBytes);
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw notUtf8();
    }
    if (text) yield text;
  }
  let rest: string;
  try {
    rest = decoder.decode();
  } catch {
    throw notUtf8();
  }
  if (rest) yield rest;
}
