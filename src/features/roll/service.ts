import { bytesToHex } from '@noble/hashes/utils.js';
import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { canonicalIdentity, jurisdictionKeyInfo, rollHash } from '../../core/identity';
import type { Database, DatabaseHandle, Executor } from '../../db/client';
import { jurisdictions } from '../../db/schema';
import { rollEntries, rollImports } from '../../db/schema-roll';
import type { AppDeps } from '../../platform/http';
import type { EngineKeys } from '../../platform/keys';
import { Problem, problems } from '../../platform/problems';
import { appendAudit } from '../audit/service';
import type { Identity } from '../auth/verifier';
import { getJurisdiction } from '../jurisdictions/service';
import { ImportTally, RollCsvReader, RollRows, utf8Chunks, type RollEntrySink, type RollRejection } from './reader';

export { MAX_RECORD_CHARS, REPORTED_REJECTIONS, ROLL_COLUMNS, type RollRejection } from './reader';

const INSERT_BATCH = 1000;
const COPY_CHUNK_BYTES = 256 * 1024;
/** An import still `loading` after this long is taken for dead (its process crashed) and may be replaced. */
const STALE_IMPORT_MS = 60 * 60 * 1000;

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

/**
 * The import in force, held FOR SHARE until the transaction ends: an import replacing it waits, so
 * every lookup of the transaction is in this one roll, hashed under its key version.
 */
export async function heldCurrentRoll(db: Executor, jurisdictionId: string) {
  for (;;) {
    const roll = await currentRoll(db, jurisdictionId);
    if (!roll) return undefined;
    const [held] = await db.select({ id: rollImports.id }).from(rollImports).where(and(eq(rollImports.id, roll.id), eq(rollImports.status, 'current'))).for('share');
    if (held) return roll;
    // Replaced between the two reads: the next read finds the roll that replaced it.
  }
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

/**
 * The roll's verdict on one person: their district, `missing`, or `no-roll` when none is imported.
 * The person is hashed under the pepper of the roll read first; a roll that came into force before the
 * lookup may be under another pepper, so a miss counts only if that roll is still the one in force.
 * No lock on the signing path: a miss reads the roll in force once more.
 */
export async function rollCheck(deps: Pick<AppDeps, 'keys'>, db: Executor, jurisdictionId: string, identity: Identity): Promise<{ district: string } | { missing: 'no-roll' | 'not-on-roll' }> {
  let roll = await currentRoll(db, jurisdictionId);
  for (;;) {
    if (!roll) return { missing: 'no-roll' };
    const hash = rollHashFor(deps.keys, jurisdictionId, identity, roll.keyVersion);
    const district = (await rollLookup(db, jurisdictionId, [hash])).get(bytesToHex(hash));
    if (district !== undefined) return { district };
    const now = await currentRoll(db, jurisdictionId);
    if (now?.id === roll.id) return { missing: 'not-on-roll' };
    roll = now;
  }
}

export function rollIneligible(missing: 'no-roll' | 'not-on-roll'): Problem {
  return problems.ineligible(
    'roll',
    missing === 'no-roll'
      ? 'This jurisdiction requires signers to be on its electoral roll, and no roll has been imported yet.'
      : 'No match on the electoral roll of this jurisdiction for this identity.',
  );
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

/** The chunks of a request body; cancelling the stream if the import stops before its end. */
async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      yield next.value;
    }
    done = true;
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Feeds the body to the CSV reader, yielding after each chunk so the caller can pass on what its sink gathered. */
async function* readRoll(body: AsyncIterable<Uint8Array>, maxBytes: number, rows: RollRows): AsyncGenerator<void> {
  const reader = new RollCsvReader(rows);
  for await (const chunk of utf8Chunks(body, maxBytes)) {
    await reader.push(chunk);
    yield;
  }
  await reader.end();
  yield;
}

/** The binary COPY header: signature, flags, header extension length. */
const COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const COPY_TRAILER = Buffer.from([0xff, 0xff]);

/**
 * Roll entries as binary COPY tuples (roll_hash bytea, district text, line int4), written straight into
 * chunks large enough to keep the protocol overhead low: no text form of the hash to make or parse.
 */
class CopyEncoder {
  private chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
  private used = 0;
  private readonly ready: Buffer[] = [COPY_HEADER];
  private readonly districtBytes = new Map<string, Buffer>();
  rows = 0;

  readonly add = (line: number, hash: Uint8Array, district: string) => {
    let name = this.districtBytes.get(district);
    if (!name) this.districtBytes.set(district, (name = Buffer.from(district, 'utf8')));
    const size = 2 + 4 + hash.length + 4 + name.length + 4 + 4;
    if (this.used + size > this.chunk.length) this.flush();
    const b = this.chunk;
    let at = this.used;
    at = b.writeInt16BE(3, at);
    at = b.writeInt32BE(hash.length, at);
    b.set(hash, at);
    at += hash.length;
    at = b.writeInt32BE(name.length, at);
    at += name.copy(b, at);
    at = b.writeInt32BE(4, at);
    this.used = b.writeInt32BE(line, at);
    this.rows++;
  };

  /** The chunks completed so far. */
  *take(): Generator<Buffer> {
    while (this.ready.length > 0) yield this.ready.shift()!;
  }

  end() {
    this.flush();
    this.ready.push(COPY_TRAILER);
  }

  private flush() {
    if (this.used === 0) return;
    this.ready.push(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    this.used = 0;
  }
}

/**
 * PostgreSQL: COPY into an unlogged table of this transaction (no WAL, no index, gone if the
 * transaction is), then one INSERT sorted by hash into the roll, first line winning among duplicates:
 * the primary key's index then grows at its right end instead of taking each row at a random place.
 */
async function loadWithCopy(client: NonNullable<DatabaseHandle['postgres']>, importId: string, body: AsyncIterable<Uint8Array>, maxBytes: number, rows: (sink: RollEntrySink) => RollRows, tally: ImportTally) {
  const encoder = new CopyEncoder();
  const reader = rows(encoder.add);
  async function* copyData() {
    for await (const _ of readRoll(body, maxBytes, reader)) yield* encoder.take();
    encoder.end();
    yield* encoder.take();
  }
  const staging = `roll_load_${importId.replaceAll('-', '')}`;
  return client.begin(async (tx) => {
    await tx`create unlogged table ${tx(staging)} (roll_hash bytea not null, district text not null, line integer not null)`;
    const writable = await tx`copy ${tx(staging)} (roll_hash, district, line) from stdin with (format binary)`.writable();
    await pipeline(Readable.from(copyData(), { objectMode: false }), writable);
    const [staged] = await tx<{ n: number }[]>`select count(*)::int as n from ${tx(staging)}`;
    if (staged!.n !== encoder.rows || staged!.n + tally.rejected !== tally.rows) throw new Error('roll rows lost between parsing and COPY');
    const inserted = await tx`
      insert into roll_entries (import_id, roll_hash, district)
      select distinct on (roll_hash) ${importId}::uuid, roll_hash, district from ${tx(staging)} order by roll_hash, line`;
    await tx`drop table ${tx(staging)}`;
    return { imported: inserted.count, duplicates: staged!.n - inserted.count };
  });
}

/** PGlite (no COPY FROM STDIN through the driver): multi-row inserts in batches, the first line winning among duplicates. */
async function loadWithInserts(db: Database, importId: string, body: AsyncIterable<Uint8Array>, maxBytes: number, rows: (sink: RollEntrySink) => RollRows) {
  let imported = 0;
  let duplicates = 0;
  let batch: { importId: string; rollHash: Uint8Array; district: string }[] = [];
  const flush = async () => {
    const pending = batch;
    batch = [];
    // A chunk of the body may hold many batches: each statement stays within the parameter limit.
    for (let from = 0; from < pending.length; from += INSERT_BATCH) {
      const values = pending.slice(from, from + INSERT_BATCH);
      const stored = await db.insert(rollEntries).values(values).onConflictDoNothing().returning({ district: rollEntries.district });
      imported += stored.length;
      duplicates += values.length - stored.length;
    }
  };
  const reader = rows((_line, hash, district) => batch.push({ importId, rollHash: hash.slice(), district }));
  for await (const _ of readRoll(body, maxBytes, reader)) if (batch.length >= INSERT_BATCH) await flush();
  await flush();
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

/**
 * Removes the entries of imports that are no longer current (replaced, failed): of one jurisdiction
 * after its import, of all of them as a scheduled task (what an engine stopped or refused in between left).
 */
export async function dropOldEntries(db: Database, jurisdictionId?: string) {
  await db.delete(rollEntries).where(
    inArray(
      rollEntries.importId,
      db
        .select({ id: rollImports.id })
        .from(rollImports)
        .where(and(jurisdictionId === undefined ? undefined : eq(rollImports.jurisdictionId, jurisdictionId), inArray(rollImports.status, ['replaced', 'failed']))),
    ),
  );
}

/**
 * Replaces a jurisdiction's electoral roll from a CSV stream. Rows are loaded under a new import
 * that readers do not see; one transaction then makes it current, so lookups see the old roll or the new one.
 */
export async function importRoll(
  deps: Pick<AppDeps, 'db' | 'keys' | 'clock' | 'logger'>,
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
  const districts = new Set(jurisdiction.districts.map((d) => d.code));
  const rows = (sink: RollEntrySink) => new RollRows(key, districts, tally, sink);
  const source = chunksOf(body);
  const importId = await beginImport(db, jurisdictionId, actor, keyVersion, deps.clock());
  let report: RollImportReport;
  try {
    const loaded = deps.db.postgres
      ? await loadWithCopy(deps.db.postgres, importId, source, maxBytes, rows, tally)
      : await loadWithInserts(db, importId, source, maxBytes, rows);
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
      // The jurisdiction is held until this roll is in force: a district removed during the import
      // (PATCH, which checks the rolls under FOR UPDATE) is seen here, or waits for this commit.
      const [held] = await tx.select({ districts: jurisdictions.districts }).from(jurisdictions).where(eq(jurisdictions.id, jurisdictionId)).for('share');
      // A set: comparing each district with every other took 7 s for France's 35,000 communes.
      const still = new Set(held!.districts.map((d) => d.code));
      const gone = [...districts].filter((code) => !still.has(code));
      if (gone.length > 0) {
        const [stray] = await tx.select({ district: rollEntries.district }).from(rollEntries).where(and(eq(rollEntries.importId, importId), inArray(rollEntries.district, gone))).limit(1);
        if (stray) {
          throw problems.conflict(
            'roll-district-removed',
            'District removed during the import',
            `District "${stray.district}" was removed from the jurisdiction while this roll was imported; the current roll is kept. Import it again.`,
          );
        }
      }
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
    report = {
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
    // Stops the upload whether or not reading had begun.
    await source.return(undefined);
    await body.cancel().catch(() => {});
    await db.update(rollImports).set({ status: 'failed', completedAt: deps.clock() }).where(eq(rollImports.id, importId));
    await dropOldEntries(db, jurisdictionId);
    throw error;
  }
  // The new roll is in force: the old entries that cannot be deleted now are left to the scheduled task.
  await dropOldEntries(db, jurisdictionId).catch((error: unknown) =>
    deps.logger.warn('entries of a replaced electoral roll could not be deleted yet', { jurisdictionId, error: error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message.split('\nparams:')[0]) : String(error) }),
  );
  return report;
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
