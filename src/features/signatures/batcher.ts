import { inArray, ne } from 'drizzle-orm';
import type { Database, DatabaseHandle, Transaction } from '../../db/client';
import { initiatives, signatures } from '../../db/schema';
import { bumpCounts } from '../progress/service';
import { appendLogEntries } from '../transparency/entries';

export type NewSignature = typeof signatures.$inferInsert & { id: string; initiativeId: string; signerHash: Uint8Array; district: string; createdAt: Date };
type SignatureRow = typeof signatures.$inferSelect;
type LockedInitiative = typeof initiatives.$inferSelect;

/** Per signature: the row when inserted, undefined when the person had signed already, or the error that refused it. */
type Outcome = { row: SignatureRow | undefined } | { error: unknown };

interface Pending {
  values: NewSignature;
  /** Throws when the initiative, read again under lock, no longer takes this signature. */
  stillCollecting: (initiative: LockedInitiative) => void;
  resolve: (row: SignatureRow | undefined) => void;
  reject: (error: unknown) => void;
}

/** Signatures per transaction at most (10 bind parameters each, far under PostgreSQL's 65535). */
const MAX_BATCH = 256;

const later: (fn: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? (fn) => void globalThis.setImmediate(fn) : (fn) => void setTimeout(fn, 0);

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * Group commit for signatures: requests that arrive while earlier transactions are running are
 * written together in one transaction (one multi-row insert, one counter upsert, one log insert).
 * Idle, a signature goes alone at once; under load the waiting queue becomes the next batch.
 */
export class SignatureBatcher {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly db: Database,
    private readonly maxInFlight: number,
  ) {}

  /** Resolves after commit: the inserted row, or undefined when an active signature by this person exists. */
  submit(values: NewSignature, stillCollecting: (initiative: LockedInitiative) => void): Promise<SignatureRow | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ values, stillCollecting, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the current I/O callbacks, so requests parsed in the same turn join one batch.
    later(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain() {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.schedule();
      });
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.transaction((tx) => writeBatch(tx, batch));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      // The batch failed as a whole (a deadlock, a row the database refused): each alone, so a failure stays its own.
      for (const pending of batch) await this.run([pending]);
      return;
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if ('error' in outcome) pending.reject(outcome.error);
      else pending.resolve(outcome.row);
    });
  }
}

async function writeBatch(tx: Transaction, batch: Pending[]): Promise<Outcome[]> {
  // One shared lock per initiative per batch: a close (an UPDATE of the row) waits for this commit,
  // and a close committed before it is seen here, so nothing is accepted after the close.
  const ids = [...new Set(batch.map((p) => p.values.initiativeId))].sort();
  const locked = await tx.select().from(initiatives).where(inArray(initiatives.id, ids)).orderBy(initiatives.id).for('share');
  const byId = new Map(locked.map((i) => [i.id, i]));

  const outcomes: Outcome[] = new Array(batch.length);
  const firstOf = new Map<string, number>();
  const toInsert: NewSignature[] = [];
  batch.forEach((pending, i) => {
    try {
      const initiative = byId.get(pending.values.initiativeId);
      if (!initiative) throw new Error(`initiative ${pending.values.initiativeId} vanished while signing`);
      pending.stillCollecting(initiative);
    } catch (error) {
      outcomes[i] = { error };
      return;
    }
    const key = `${pending.values.initiativeId}:${hex(pending.values.signerHash)}`;
    // The same person twice in one batch: one insert, the other sees it as signed before.
    if (firstOf.has(key)) {
      outcomes[i] = { row: undefined };
      return;
    }
    firstOf.set(key, i);
    toInsert.push(pending.values);
  });
  if (toInsert.length === 0) return outcomes;

  // Rows in index order, so concurrent batches meet the unique index in the same order.
  toInsert.sort((a, b) => {
    const ka = `${a.initiativeId}:${hex(a.signerHash)}`;
    const kb = `${b.initiativeId}:${hex(b.signerHash)}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const rows = await tx
    .insert(signatures)
    .values(toInsert)
    .onConflictDoNothing({ target: [signatures.initiativeId, signatures.signerHash], where: ne(signatures.status, 'withdrawn') })
    .returning();
  if (rows.length > 0) {
    await bumpCounts(
      tx,
      rows.map((r) => ({ initiativeId: r.initiativeId, district: r.district, delta: 1 })),
    );
    await appendLogEntries(
      tx,
      rows.map((r) => ({ initiativeId: r.initiativeId, type: 'sign' as const, ref: r.id, at: r.createdAt })),
    );
  }
  const inserted = new Map(rows.map((r) => [r.id, r]));
  batch.forEach((pending, i) => {
    if (outcomes[i] === undefined) outcomes[i] = { row: inserted.get(pending.values.id) };
  });
  return outcomes;
}

const batchers = new WeakMap<DatabaseHandle, SignatureBatcher>();

/**
 * One batcher per database handle. Transactions in flight at once: a few on PostgreSQL (the rest
 * of the pool serves reads), one on PGlite (a single connection).
 */
export function signatureBatcher(handle: DatabaseHandle): SignatureBatcher {
  let batcher = batchers.get(handle);
  if (!batcher) {
    batcher = new SignatureBatcher(handle.db, handle.kind === 'pglite' ? 1 : Math.max(1, Math.floor(handle.poolUse().max / 3)));
    batchers.set(handle, batcher);
  }
  return batcher;
}
