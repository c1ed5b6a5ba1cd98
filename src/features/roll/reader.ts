import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { parse, type CsvError, type Parser } from 'csv-parse';
import { finished } from 'node:stream/promises';
import { canonicalIdentity, canonicalName, givenNameBreak, InvalidIdentityError, isCalendarDate } from '../../core/identity';
import { problems } from '../../platform/problems';

/**
 * Reading a roll CSV of millions of lines: csv-parse splits the records, then validation and
 * canonicalisation written for one row at a time give the same verdicts as the general code
 * (zod messages, `canonicalIdentity`), several times faster.
 */

export const ROLL_COLUMNS = ['family_name', 'given_names', 'birthdate', 'district'] as const;
/** Rejected lines reported in detail; the rest are only counted. */
export const REPORTED_REJECTIONS = 100;
/** A record longer than this (in characters) stops the import: a runaway quote cannot swallow the file into memory. */
export const MAX_RECORD_CHARS = 4096;

export interface CsvRecordHandler {
  /** A record and the line it starts on (line 1 is the first line of the file). */
  record(fields: string[], line: number): void;
  /** A record that is not CSV, by the line it starts on; `reason` names the fault. */
  malformed(line: number, reason: string): void;
}

/** Line breaks in a record's fields, as csv-parse counts them (each CR and each LF), and the CRLF pairs among them. */
function lineBreaks(fields: string[]): { breaks: number; pairs: number } {
  let breaks = 0;
  let pairs = 0;
  for (const field of fields) {
    if (field.indexOf('\n') === -1 && field.indexOf('\r') === -1) continue;
    for (let i = 0; i < field.length; i++) {
      const c = field.charCodeAt(i);
      if (c === 10) {
        breaks++;
        if (i > 0 && field.charCodeAt(i - 1) === 13) pairs++;
      } else if (c === 13) breaks++;
    }
  }
  return { breaks, pairs };
}

/**
 * The records of a roll CSV, read by csv-parse: RFC 4180 quoting, a leading BOM dropped, LF, CRLF or CR
 * line ends (mixed too), empty lines skipped. A malformed record is reported by the line it starts on
 * and costs that record: csv-parse goes on after its end, which for a quote left open is wherever the
 * quoted field seems to close. A record longer than MAX_RECORD_CHARS stops the import with a 400
 * naming its line: after that fault csv-parse drops the rest of the chunk it was reading, so going on
 * would lose valid lines without a word.
 */
export class RollCsvReader {
  private readonly parser: Parser;
  /** csv-parse counts a CRLF inside a quoted field as two lines: its over-count so far. */
  private overcount = 0;
  /** Where the record after the last one read starts, before empty lines (undefined after a malformed record). */
  private nextStart: number | undefined = 1;
  private emptyLines = 0;
  /** A malformed record already reported (its start, and the line and code of its first fault): csv-parse may find more faults in it. */
  private skipping: { start: number; at: number; code: string } | undefined;
  /** What the handler threw for a record: the import stops with it. */
  private failure: unknown;

  constructor(private readonly handler: CsvRecordHandler) {
    this.parser = parse({
      bom: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      max_record_size: MAX_RECORD_CHARS,
      on_skip: (error) => this.skip(error),
    });
    // A record is handed over as csv-parse reaches its end (no reader is waiting, the 'data' event
    // comes within the write), so its `info` is where the record ends. csv-parse's `on_record` and
    // `info` options give the same, at the cost of a copy of `info` per record: most of its time.
    this.parser.on('data', (fields: string[]) => this.record(fields));
    // Failures reach the caller through the write and end callbacks.
    this.parser.on('error', () => {});
  }

  private record(fields: string[]): void {
    if (this.failure !== undefined) return;
    this.skipping = undefined;
    const { lines, empty_lines } = this.parser.info;
    const { breaks, pairs } = lineBreaks(fields);
    this.overcount += pairs;
    const end = lines - this.overcount;
    this.nextStart = end + 1;
    this.emptyLines = empty_lines;
    try {
      this.handler.record(fields, end - (breaks - pairs));
    } catch (error) {
      // Not thrown into csv-parse's stream, which is inside a write: the write's promise rejects with it.
      this.failure = error;
    }
  }

  private skip(error: CsvError | undefined): undefined {
    const context = error as (CsvError & { lines?: number; empty_lines?: number }) | undefined;
    const code = error?.code ?? 'CSV_ERROR';
    const at = (context?.lines ?? 0) - this.overcount;
    if (code === 'CSV_MAX_RECORD_SIZE') throw tooLong(this.skipping?.start ?? this.startOf(context, at));
    // csv-parse reports each fault it meets; a record is rejected once. A fault on the same line, or
    // after a quote that did not close its field (the field, and so the record, goes on), is taken for
    // the same record.
    if (this.skipping && (at === this.skipping.at || this.skipping.code === 'CSV_INVALID_CLOSING_QUOTE')) return undefined;
    const line = this.startOf(context, at);
    this.skipping = { start: line, at, code };
    this.nextStart = undefined;
    this.handler.malformed(line, at === line ? `malformed CSV (${code})` : `malformed CSV (${code}, found on line ${at})`);
    return undefined;
  }

  private startOf(context: { empty_lines?: number } | undefined, at: number): number {
    return this.nextStart === undefined ? at : this.nextStart + (context?.empty_lines ?? this.emptyLines) - this.emptyLines;
  }

  push(chunk: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) =>
      this.parser.write(chunk, (error) => {
        const failure = this.failure ?? error;
        if (failure) reject(failure);
        else resolve();
      }),
    );
  }

  async end(): Promise<void> {
    this.parser.end();
    await finished(this.parser, { readable: false });
    if (this.failure !== undefined) throw this.failure;
  }
}

function tooLong(line: number) {
  return problems.validation(
    [{ field: 'body', message: `The record on line ${line} is longer than ${MAX_RECORD_CHARS} characters (a quote left open?).` }],
    'The roll is not CSV that can be read.',
  );
}

/** Canonical form of each UTF-16 unit, as `canonicalName` gives it (which maps a name one character at a time). */
const CANONICAL_UNIT: (string | undefined)[] = Array.from({ length: 0x10000 }, () => undefined);
/** What each unit does between given names (`givenNameBreak`): OTHER, SPACE, COMMA or HYPHEN; -1 until looked up. */
const BREAK_UNIT = new Int8Array(0x10000).fill(-1);
const OTHER = 0;
const SPACE = 1;
const COMMA = 2;
const HYPHEN = 3;
const BREAKS = { space: SPACE, comma: COMMA, hyphen: HYPHEN } as const;

function canonicalUnit(code: number): string {
  let canonical = CANONICAL_UNIT[code];
  if (canonical === undefined) CANONICAL_UNIT[code] = canonical = canonicalName(String.fromCharCode(code));
  return canonical;
}

function breakOf(code: number): number {
  let kind = BREAK_UNIT[code]!;
  if (kind === -1) {
    const found = givenNameBreak(String.fromCharCode(code));
    BREAK_UNIT[code] = kind = found === undefined ? OTHER : BREAKS[found];
  }
  return kind;
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
  // White space since the last other character: it parts names unless a hyphen comes next.
  let spaced = false;
  // The last character other than white space is a hyphen: the white space after it parts nothing.
  let afterHyphen = false;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (isSurrogate(code)) return undefined;
    const kind = breakOf(code);
    if (kind === SPACE) {
      if (!afterHyphen) spaced = true;
      continue;
    }
    if ((kind === COMMA || (spaced && kind !== HYPHEN)) && out !== '') return out;
    spaced = false;
    afterHyphen = kind === HYPHEN;
    out += canonicalUnit(code);
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

/**
 * `rollHash` (HMAC-SHA256 from @noble/hashes) for the million lines of an import, writing each digest
 * into `out` (32 bytes). The keyed HMAC is made once per import and copied for each line, so the
 * key's inner and outer pads are hashed once, not once a line; the copy, the line's bytes and the
 * digest reuse the same memory from line to line. The roll test checks it against rollHash.
 */
export function rollHasher(key: Uint8Array): (canonical: string, out: Uint8Array) => void {
  const keyed = hmac.create(sha256, key);
  const line = keyed.clone();
  const encoder = new TextEncoder();
  let bytes = new Uint8Array(1024);
  return (canonical, out) => {
    if (bytes.length < canonical.length * 3) bytes = new Uint8Array(canonical.length * 3);
    const n = encoder.encodeInto(canonical, bytes).written;
    keyed._cloneInto(line);
    line.update(bytes.subarray(0, n));
    line.digestInto(out);
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
  /** The header's number of columns: each line has as many. */
  private width = 0;
  private readonly hashOf: (canonical: string, out: Uint8Array) => void;
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

  malformed(line: number, reason: string): void {
    if (!this.columns) throw noHeader();
    this.tally.rows++;
    this.tally.reject(line, reason);
  }

  record(fields: string[], line: number): void {
    const columns = this.columns;
    if (!columns) {
      // Columns in any order; others (an export's address, place of birth...) are allowed and never read.
      const names = fields.map((name) => name.trim().toLowerCase());
      const missing = ROLL_COLUMNS.filter((name) => !names.includes(name));
      const twice = ROLL_COLUMNS.filter((name) => names.indexOf(name) !== names.lastIndexOf(name));
      if (missing.length || twice.length) throw noHeader(missing, twice);
      this.columns = ROLL_COLUMNS.map((name) => names.indexOf(name));
      this.width = names.length;
      return;
    }
    const tally = this.tally;
    tally.rows++;
    if (fields.length !== this.width) return tally.reject(line, `expected ${this.width} fields, as the header names, found ${fields.length}`);
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
    this.hashOf(canonical, this.hash);
    this.sink(line, this.hash, district);
  }

  private isDate(s: string): boolean {
    if (this.dates.has(s)) return true;
    if (!isCalendarDate(s)) return false;
    this.dates.add(s);
    return true;
  }
}

/** The header's fault, named: the columns it lacks, or names twice. */
function noHeader(missing: readonly string[] = ROLL_COLUMNS, twice: readonly string[] = []) {
  const fault = [missing.length ? `it has no column ${missing.join(', ')}` : '', twice.length ? `it names ${twice.join(', ')} more than once` : ''].filter(Boolean).join('; ');
  return problems.validation(
    [{ field: 'body.header', message: `The first line must name the columns ${ROLL_COLUMNS.join(',')} (in any order; other columns are ignored): ${fault}.` }],
    'The roll has no valid header line.',
  );
}

/**
 * The roll's bytes, counted against the limit, each chunk passed on once it is known to continue
 * valid UTF-8: anything else is refused.
 */
export async function* utf8Chunks(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  const notUtf8 = () => problems.validation([{ field: 'body', message: `The CSV is not valid UTF-8 (near byte ${bytes}).` }], 'The roll must be UTF-8 text.');
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > maxBytes) throw problems.payloadTooLarge(maxBytes);
    try {
      decoder.decode(chunk, { stream: true });
    } catch {
      throw notUtf8();
    }
    yield chunk;
  }
  try {
    decoder.decode();
  } catch {
    throw notUtf8();
  }
}
