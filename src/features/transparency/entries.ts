import { leafHash, logEntryData, type LogEntryType } from '../../core/merkle';
import type { Executor } from '../../db/client';
import { logEntries } from '../../db/schema';

/**
 * Appends an entry to an initiative's log inside the caller's transaction, so the entry exists
 * exactly when the change does. The sequencer later gives it its place in the tree.
 */
export async function appendLogEntry(
  tx: Executor,
  entry: { initiativeId: string; type: LogEntryType; ref: string; at: Date },
): Promise<{ leafHash: Uint8Array }> {
  const data = logEntryData(entry);
  const hash = leafHash(data);
  await tx.insert(logEntries).values({ initiativeId: entry.initiativeId, type: entry.type, ref: entry.ref, data, leafHash: hash, createdAt: entry.at });
  return { leafHash: hash };
}
