import { leafHash, logEntryData, type LogEntryType } from '../../core/merkle';
import type { Executor } from '../../db/client';
import { logEntries } from '../../db/schema';

export interface NewLogEntry {
  initiativeId: string;
  type: LogEntryType;
  ref: string;
  at: Date;
}

/** Rows per insert statement (7 bind parameters each, well under PostgreSQL's 65535). */
const CHUNK = 1000;

const rowOf = (entry: NewLogEntry) => {
  const data = logEntryData(entry);
  return { initiativeId: entry.initiativeId, type: entry.type, ref: entry.ref, data, leafHash: leafHash(data), createdAt: entry.at };
};

/**
 * Appends an entry to an initiative's log inside the caller's transaction, so the entry exists
 * exactly when the change does. The sequencer later gives it its place in the tree.
 */
export async function appendLogEntry(tx: Executor, entry: NewLogEntry): Promise<{ leafHash: Uint8Array }> {
  const row = rowOf(entry);
  await tx.insert(logEntries).values(row);
  return { leafHash: row.leafHash };
}

/** The same for many entries at once (paper batches, invalidations): one statement per thousand. */
export async function appendLogEntries(tx: Executor, entries: readonly NewLogEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += CHUNK) await tx.insert(logEntries).values(entries.slice(i, i + CHUNK).map(rowOf));
}
