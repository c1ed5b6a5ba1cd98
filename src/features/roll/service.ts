import { bytesToHex } from '@noble/hashes/utils.js';
import { parse } from 'csv-parse';
import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import { createHmac } from 'node:crypto';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { canonicalIdentity, InvalidIdentityError, isCalendarDate, jurisdictionKeyInfo, rollHash } from '../../core/identity';
import type { Database, DatabaseHandle, Executor } from '../../db/client';
import { rollEntries, rollImports } from '../../db/schema-roll';
import type { AppDeps } from '../../platform/http';
import type { EngineKeys } from '../../platform/keys';
import { Problem, problems } from '../../platform/problems';
import { appendAudit } from '../audit/service';
import type { Identity } from '../auth/verifier';
import { getJurisdiction } from '../jurisdictions/service';

export const ROLL_COLUMNS = ['family_name', 'given_names', 'birthdate', 'district'] as const;
/** Rejected lines reported in detail; the rest are only counted. */
export const REPORTED_REJECTIONS = 100;
const INSERT_BATCH = 1000;
const COPY_CHUNK_BYTES = 256 * 1024;
/** An import still `loading` after this long is taken for dead (its process crashed) and may be replaced. */
const STALE_IMPORT_MS = 60 * 60 * 1000;

const RollRow = z.object({
  family_name: z.string().trim().min(1, 'family_name is empty').max(200, 'family_name is longer than 200 characters'),
  given_names: z.string().trim().min(1, 'given_names is empty').max(200, 'given_names is longer than 200 characters'),
  birthdate: z.string().trim().refine(isCalendarDate, 'birthdate is not a calendar date in YYYY-MM-DD'),
  district: z.string().trim().min(1, 'district is empty').max(32, 'district is longer than 32 characters'),
});

/** The roll hash of a person in a jurisdiction, under the given pepper version (default: the current one). */
export function rollHashFor(keys: Pick<EngineKeys, 'keyring'>, jurisdictionId: string, identity: Identity, version = keys.keyring.currentVersion): Uint8Array {
  return rollHash(keys.keyring.keyFor(version, jurisdictionKeyInfo(jurisdictionId)), canonicalIdentity(identity));
}

/** The import readers use now, if any. */
export async function currentRoll(db: Executor, jurisdictionId: string) {
  const [row] = await db
    .select()
    .from(rollImports)
    .where(and(eq(rollImports.jurisdictionId, jurisdictionId), eq(rollImports.status, 'current')));
  return row;
}

export async function hasRoll(db: Executor, jurisdictionId: string): Promise<boolean> {
  return (await currentRoll(db, jurisdictionId)) !== undefined;
}

/**
 * Districts of the given roll hashes on the jurisdiction's current roll, keyed by hex hash.
 * One statement, so it sees the roll before or after a replacement, never a mix.
 */
export async function rollLookup(db: Executor, jurisdictionId: string, hashes: Uint8Array[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (hashes.length === 0) return found;
  const rows = await db
    .select({ rollHash: rollEntries.rollHash, district: rollEntries.district })
    .from(rollEntries)
    .innerJoin(rollImports, eq(rollImports.id, rollEntries.importId))
    .where(and(eq(rollImports.jurisdictionId, jurisdictionId), eq(rollImports.status, 'current'), inArray(rollEntries.rollHash, hashes)));
  for (const row of rows) found.set(bytesToHex(row.rollHash), row.district);
  return found;
}

/** The roll's verdict on one person: their district, `missing`, or `no-roll` when none is imported. */
export async function rollCheck(deps: Pick<AppDeps, 'keys'>, db: Executor, jurisdictionId: string, identity: Identity): Promise<{ district: string } | { missing: 'no-roll' | 'not-on-roll' }> {
  const roll = await currentRoll(db, jurisdictionId);
  if (!roll) return { missing: 'no-roll' };
  const hash = rollHashFor(deps.keys, jurisdictionId, identity, roll.keyVersion);
  const district = (await rollLookup(db, jurisdictionId, [hash])).get(bytesToHex(hash));
  return district === undefined ? { missing: 'not-on-roll' } : { district };
}

export function rollIneligible(missing: 'no-roll' | 'not-on-roll'): Problem {
  return problems.ineligible(
    'roll',
    missing === 'no-roll'
      ? 'This jurisdiction requires signers to be on its electoral roll, and no roll has been imported yet.'
      : 'No match on the electoral roll of this jurisdiction for this identity.',
  );
}

export interface RollRejection {
  line: number;
  reason: string;
}

export interface RollImportReport {
  importId: string;
  jurisdictionId: string;
  keyVersion: string;
  imported: number;
  duplicates: number;
  rejected: number;
  rejections: RollRejection[];
  completedAt: string;
}

/** A roll entry ready to store: nothing of the person but the keyed hash. */
interface RollEntry {
  line: number;
  hash: Uint8Array;
  district: string;
}

class ImportTally {
  rows = 0;
  rejected = 0;
  readonly rejections: RollRejection[] = [];

  reject(line: number, reason: string) {
    this.rejected++;
    if (this.rejections.length < REPORTED_REJECTIONS) this.rejections.push({ line, reason });
  }
}

/** Counts bytes against the limit and refuses anything that is not UTF-8 (a leading BOM is dropped). */
function utf8Text(maxBytes: number): Transform {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  const fail = (callback: TransformCallback) =>
    callback(problems.validation([{ field: 'body', message: `The CSV is not valid UTF-8 (near byte ${bytes}).` }], 'The roll must be UTF-8 text.'));
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes > maxBytes) return callback(problems.payloadTooLarge(maxBytes));
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        return fail(callback);
      }
      callback(null, text || undefined);
    },
    flush(callback) {
      try {
        const rest = decoder.decode();
        callback(null, rest || undefined);
      } catch {
        fail(callback);
      }
    },
  });
}

/**
 * `rollHash` for the million lines of a roll import, on the runtime's native HMAC-SHA256 (several
 * times faster than the portable one). The roll test checks both give the same hash.
 */
export function rollHasher(key: Uint8Array): (canonical: string) => Uint8Array {
  return (canonical) => {
    const digest = createHmac('sha256', key).update(canonical, 'utf8').digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  };
}

/** Reads the header, validates and canonicalises each row, and emits only hashes and districts. */
function rollRows(key: Uint8Array, districts: Set<string>, tally: ImportTally): Transform {
  const hashOf = rollHasher(key);
  let columns: number[] | undefined;
  return new Transform({
    objectMode: true,
    transform({ record, info }: { record: string[]; info: { lines: number } }, _encoding, callback) {
      if (!columns) {
        const names = record.map((name) => name.trim().toLowerCase());
        const positions = ROLL_COLUMNS.map((name) => names.indexOf(name));
        if (names.length !== ROLL_COLUMNS.length || positions.some((p) => p === -1)) {
          return callback(
            problems.validation(
              [{ field: 'body.header', message: `The first line must name the columns ${ROLL_COLUMNS.join(',')}.` }],
              'The roll has no valid header line.',
            ),
          );
        }
        columns = positions;
        return callback();
      }
      tally.rows++;
      const line = info.lines;
      if (record.length !== ROLL_COLUMNS.length) {
        tally.reject(line, `expected ${ROLL_COLUMNS.length} fields, found ${record.length}`);
        return callback();
      }
      const parsed = RollRow.safeParse(Object.fromEntries(ROLL_COLUMNS.map((name, i) => [name, record[columns![i]!]])));
      if (!parsed.success) {
        tally.reject(line, parsed.error.issues.map((issue) => issue.message).join('; '));
        return callback();
      }
      const row = parsed.data;
      if (!districts.has(row.district)) {
        tally.reject(line, `district "${row.district}" is not one of the jurisdiction's`);
        return callback();
      }
      let canonical: string;
      try {
        canonical = canonicalIdentity({ familyName: row.family_name, givenNames: row.given_names, birthdate: row.birthdate });
      } catch (error) {
        tally.reject(line, error instanceof InvalidIdentityError ? error.message : 'not a valid identity');
        return callback();
      }
      const entry: RollEntry = { line, hash: hashOf(canonical), district: row.district };
      callback(null, entry);
    },
  });
}

function csvParser(tally: ImportTally) {
  const parser = parse({
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    // A runaway quote cannot swallow the rest of the file into memory.
    max_record_size: 4096,
  });
  parser.on('skip', (error: Error & { code?: string; lines?: number }) => {
    tally.rows++;
    tally.reject(error.lines ?? 0, `malformed CSV (${error.code ?? 'parse error'})`);
  });
  return parser;
}

function copyField(s: string): string {
  return s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
}

/** Roll entries as COPY text lines, in chunks large enough to keep the protocol overhead low. */
function copyText(): Transform {
  let buffer = '';
  return new Transform({
    writableObjectMode: true,
    transform(entry: RollEntry, _encoding, callback) {
      buffer += `\\\\x${Buffer.from(entry.hash).toString('hex')}\t${copyField(entry.district)}\t${entry.line}\n`;
      if (buffer.length < COPY_CHUNK_BYTES) return callback();
      const chunk = buffer;
      buffer = '';
      callback(null, chunk);
    },
    flush(callback) {
      callback(null, buffer || undefined);
    },
  });
}

/** PostgreSQL: COPY into a temporary table, then into the roll, first line winning among duplicates. */
async function loadWithCopy(client: NonNullable<DatabaseHandle['postgres']>, importId: string, source: Readable[], tally: ImportTally) {
  return client.begin(async (tx) => {
    await tx`create temp table roll_load (roll_hash bytea not null, district text not null, line integer not null) on commit drop`;
    const writable = await tx`copy roll_load (roll_hash, district, line) from stdin`.writable();
    await pipeline([...source, copyText(), writable]);
    const [staged] = await tx<{ n: number }[]>`select count(*)::int as n from roll_load`;
    const inserted = await tx`
      insert into roll_entries (import_id, roll_hash, district)
      select ${importId}::uuid, roll_hash, district from roll_load order by line
      on conflict do nothing`;
    const stored = inserted.count;
    if (staged!.n + tally.rejected !== tally.rows) throw new Error('roll rows lost between parsing and COPY');
    return { imported: stored, duplicates: staged!.n - stored };
  });
}

/** PGlite (no COPY FROM STDIN through the driver): multi-row inserts in batches. */
async function loadWithInserts(db: Database, importId: string, source: Readable[]) {
  let imported = 0;
  let duplicates = 0;
  let batch: RollEntry[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    const stored = await db
      .insert(rollEntries)
      .values(rows.map((r) => ({ importId, rollHash: r.hash, district: r.district })))
      .onConflictDoNothing()
      .returning({ district: rollEntries.district });
    imported += stored.length;
    duplicates += rows.length - stored.length;
  };
  const sink = new Writable({
    objectMode: true,
    write(entry: RollEntry, _encoding, callback) {
      batch.push(entry);
      if (batch.length < INSERT_BATCH) return callback();
      flush().then(() => callback(), callback);
    },
    final(callback) {
      flush().then(() => callback(), callback);
    },
  });
  await pipeline([...source, sink]);
  return { imported, duplicates };
}

async function beginImport(db: Database, jurisdictionId: string, actor: string, keyVersion: string, now: Date): Promise<string> {
  // A `loading` import whose process died would block the jurisdiction forever: take it for failed.
  await db
    .update(rollImports)
    .set({ status: 'failed', completedAt: now })
    .where(and(eq(rollImports.jurisdictionId, jurisdictionId), eq(rollImports.status, 'loading'), lt(rollImports.startedAt, new Date(now.getTime() - STALE_IMPORT_MS))));
  const id = crypto.randomUUID();
  const inserted = await db
    .insert(rollImports)
    .values({ id, jurisdictionId, keyVersion, status: 'loading', importedBy: actor, startedAt: now })
    .onConflictDoNothing()
    .returning({ id: rollImports.id });
  if (inserted.length === 0) {
    throw problems.conflict('roll-import-running', 'Roll import in progress', `Another import of the roll of "${jurisdictionId}" is running; retry when it has finished.`);
  }
  return id;
}

/** Removes the entries of imports that are no longer current (replaced, failed). */
async function dropOldEntries(db: Database, jurisdictionId: string) {
  await db.delete(rollEntries).where(
    inArray(
      rollEntries.importId,
      db
        .select({ id: rollImports.id })
        .from(rollImports)
        .where(and(eq(rollImports.jurisdictionId, jurisdictionId), inArray(rollImports.status, ['replaced', 'failed']))),
    ),
  );
}

/**
 * Replaces a jurisdiction's electoral roll from a CSV stream. Rows are loaded under a new import
 * that readers do not see; one transaction then makes it current, so lookups see the old roll or the new one.
 */
export async function importRoll(
  deps: Pick<AppDeps, 'db' | 'keys' | 'clock'>,
  jurisdictionId: string,
  actor: string,
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<RollImportReport> {
  const db = deps.db.db;
  const jurisdiction = await getJurisdiction(db, jurisdictionId);
  const keyVersion = deps.keys.keyring.currentVersion;
  const key = deps.keys.keyring.keyFor(keyVersion, jurisdictionKeyInfo(jurisdictionId));
  const tally = new ImportTally();
  const source = [
    Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>),
    utf8Text(maxBytes),
    csvParser(tally),
    rollRows(key, new Set(jurisdiction.districts.map((d) => d.code)), tally),
  ];
  const importId = await beginImport(db, jurisdictionId, actor, keyVersion, deps.clock());
  try {
    const loaded = deps.db.postgres ? await loadWithCopy(deps.db.postgres, importId, source, tally) : await loadWithInserts(db, importId, source);
    if (loaded.imported === 0) {
      throw new Problem({
        status: 400,
        code: 'roll-empty',
        title: 'Empty electoral roll',
        detail: 'No line of the CSV is a valid roll entry; the current roll is kept.',
        extra: { rejected: tally.rejected, rejections: tally.rejections },
      });
    }
    const now = deps.clock();
    await db.transaction(async (tx) => {
      await tx
        .update(rollImports)
        .set({ status: 'replaced' })
        .where(and(eq(rollImports.jurisdictionId, jurisdictionId), eq(rollImports.status, 'current')));
      await tx
        .update(rollImports)
        .set({ status: 'current', completedAt: now, imported: loaded.imported, duplicates: loaded.duplicates, rejected: tally.rejected })
        .where(eq(rollImports.id, importId));
      await appendAudit(tx, {
        actor,
        action: 'roll.imported',
        at: now,
        jurisdictionId,
        details: { importId, keyVersion, imported: loaded.imported, duplicates: loaded.duplicates, rejected: tally.rejected },
      });
    });
    await dropOldEntries(db, jurisdictionId);
    return {
      importId,
      jurisdictionId,
      keyVersion,
      imported: loaded.imported,
      duplicates: loaded.duplicates,
      rejected: tally.rejected,
      rejections: tally.rejections,
      completedAt: now.toISOString(),
    };
  } catch (error) {
    for (const stream of source) stream.destroy();
    await db.update(rollImports).set({ status: 'failed', completedAt: deps.clock() }).where(eq(rollImports.id, importId));
    await dropOldEntries(db, jurisdictionId);
    throw error;
  }
}

/** The current roll's summary (no entries). */
export async function rollSummary(db: Database, jurisdictionId: string) {
  await getJurisdiction(db, jurisdictionId);
  const [row] = await db
    .select()
    .from(rollImports)
    .where(and(eq(rollImports.jurisdictionId, jurisdictionId), eq(rollImports.status, 'current')))
    .orderBy(desc(rollImports.startedAt))
    .limit(1);
  if (!row) throw problems.notFound('Electoral roll', jurisdictionId);
  return {
    importId: row.id,
    jurisdictionId,
    keyVersion: row.keyVersion,
    imported: row.imported ?? 0,
    duplicates: row.duplicates ?? 0,
    rejected: row.rejected ?? 0,
    importedBy: row.importedBy,
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}
