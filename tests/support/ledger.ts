import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../src/db/client';
import { logEntries, signatureCounts, signatures } from '../../src/db/schema';

/** Everything that says how many signatures an initiative has, read straight from the tables. */
export async function ledgerOf(db: Executor, initiativeId: string) {
  const rows = await db
    .select({ id: signatures.id, status: signatures.status, signerHash: signatures.signerHash })
    .from(signatures)
    .where(eq(signatures.initiativeId, initiativeId));
  const [counter] = await db
    .select({ n: sql<string>`coalesce(sum(${signatureCounts.count}), 0)` })
    .from(signatureCounts)
    .where(eq(signatureCounts.initiativeId, initiativeId));
  const entries = await db
    .select({ type: logEntries.type, ref: logEntries.ref })
    .from(logEntries)
    .where(and(eq(logEntries.initiativeId, initiativeId)));
  const counted = rows.filter((r) => r.status === 'counted');
  const activeHashes = rows.filter((r) => r.status !== 'withdrawn').map((r) => Buffer.from(r.signerHash).toString('hex'));
  return {
    ids: new Set(rows.map((r) => r.id)),
    rows: rows.length,
    counted: counted.length,
    withdrawn: rows.filter((r) => r.status === 'withdrawn').length,
    counter: Number(counter?.n ?? 0),
    signEntries: entries.filter((e) => e.type === 'sign').length,
    withdrawEntries: entries.filter((e) => e.type === 'withdraw').length,
    /** Signer hashes appearing more than once among signatures that are not withdrawn. */
    duplicates: activeHashes.length - new Set(activeHashes).size,
    signEntryRefs: new Set(entries.filter((e) => e.type === 'sign').map((e) => e.ref)),
  };
}

/** The invariants a crash or an outage must never break; returns a list of broken ones (empty when sound). */
export function brokenInvariants(l: Awaited<ReturnType<typeof ledgerOf>>): string[] {
  const broken: string[] = [];
  if (l.counter !== l.counted) broken.push(`counter ${l.counter} ≠ counted rows ${l.counted}`);
  if (l.signEntries !== l.rows) broken.push(`sign log entries ${l.signEntries} ≠ signature rows ${l.rows}`);
  if (l.withdrawEntries !== l.withdrawn) broken.push(`withdraw log entries ${l.withdrawEntries} ≠ withdrawn rows ${l.withdrawn}`);
  if (l.duplicates !== 0) broken.push(`${l.duplicates} signers counted twice`);
  for (const id of l.ids) if (!l.signEntryRefs.has(id)) broken.push(`signature ${id} has no log entry`);
  return broken;
}
