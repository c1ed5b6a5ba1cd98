import { leafHash, logEntryData } from '../../core/merkle';
import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../../db/client';
import { groupCommitPerHandle, type GroupCommit } from '../../db/group-commit';
import { runPrepared } from '../../db/query';
import type { signatures } from '../../db/schema';
import { randomSlot } from '../progress/service';

export type NewSignature = {
  id: string;
  initiativeId: string;
  signerHash: Uint8Array;
  keyVersion: string;
  assurance: string;
  district: string;
  createdAt: Date;
  personalData: string;
};
type SignatureRow = typeof signatures.$inferSelect;

/** The row versions the signature was checked against (see SigningContext). */
export interface Expected {
  initiativeVersion: string;
  jurisdictionVersion: string;
}

/** What a signer is shown of a signature: its view and its receipt. */
export type ActiveSignature = Pick<SignatureRow, 'id' | 'initiativeId' | 'status' | 'channel' | 'district' | 'createdAt' | 'withdrawnAt'>;

/**
 * What became of a signature: inserted; `duplicate` when an active signature by the same person
 * exists (that signature, or undefined when this statement could not see it yet); `stale` when the
 * initiative or its jurisdiction changed since the rows it was checked against were read (nothing
 * was written: check again on fresh rows).
 */
export type BatchOutcome = { inserted: SignatureRow } | { duplicate: ActiveSignature | undefined } | { stale: true };

/** A signature to write, with the row versions it was checked against. */
export interface BatchedSignature {
  values: NewSignature;
  expected: Expected;
}

/** Signatures per statement at most (one JSON parameter of about 1 kB each). */
const MAX_BATCH = 512;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * One statement, so one round trip and one commit for the whole batch:
 * - the initiatives' rows are locked FOR SHARE: a close (an UPDATE of the row) waits for this
 *   commit, and one committed before is seen here;
 * - a signature goes in only if its initiative's and jurisdiction's row versions are still the ones
 *   it was checked against: a close, a reopening or a change of rules since then makes it `stale`;
 * - rows go in index order, so concurrent batches meet the unique index in the same order (no
 *   deadlock); the unique index decides who signed first;
 * - the counters (one random slot, summed per district) and the log entries come from what was
 *   actually inserted.
 */
const writeBatchStatement = (batchJson: string, slot: number) => sql`
  with batch as materialized (
    select * from jsonb_to_recordset(${batchJson}::jsonb) as b(
      id uuid, initiative_id uuid, signer_hash text, key_version text, assurance text, district text,
      created_at timestamptz, personal_data text, log_data text, leaf_hash text,
      initiative_version text, jurisdiction_version text)
  ),
  locked as materialized (
    select i.id, i.xmin::text as initiative_version, j.xmin::text as jurisdiction_version
    from initiatives i join jurisdictions j on j.id = i.jurisdiction_id
    where i.id in (select initiative_id from batch)
    order by i.id
    for share of i
  ),
  accepted as materialized (
    select b.* from batch b
    join locked l on l.id = b.initiative_id
      and l.initiative_version = b.initiative_version
      and l.jurisdiction_version = b.jurisdiction_version
  ),
  inserted as (
    insert into signatures (id, initiative_id, signer_hash, key_version, channel, assurance, district, status, created_at, personal_data)
    select id, initiative_id, decode(signer_hash, 'hex'), key_version, 'online', assurance, district, 'counted', created_at, personal_data
    from accepted
    order by initiative_id, decode(signer_hash, 'hex')
    on conflict (initiative_id, signer_hash) where status <> 'withdrawn' do nothing
    returning id, initiative_id, district
  ),
  counted as (
    insert into signature_counts (initiative_id, district, slot, count)
    select initiative_id, district, ${slot}::smallint, count(*) from inserted
    group by initiative_id, district
    order by initiative_id, district
    on conflict (initiative_id, district, slot) do update set count = signature_counts.count + excluded.count
  ),
  logged as (
    insert into log_entries (initiative_id, type, ref, data, leaf_hash, created_at)
    select a.initiative_id, 'sign', a.id, decode(a.log_data, 'hex'), decode(a.leaf_hash, 'hex'), a.created_at
    from accepted a join inserted n on n.id = a.id
    order by a.created_at, a.id
  )
  select b.id::text as id, n.id is not null as inserted, a.id is not null as current,
         e.id::text as existing_id, e.status as existing_status, e.channel as existing_channel,
         e.district as existing_district, (extract(epoch from e.created_at) * 1000)::float8 as existing_created_at
  from batch b
  left join accepted a on a.id = b.id
  left join inserted n on n.id = b.id
  -- A duplicate: the person's signature as this statement sees it (one committed by a transaction
  -- this statement waited for is not visible here: then the caller reads it).
  left join lateral (
    select s.id, s.status, s.channel, s.district, s.created_at from signatures s
    where n.id is null and a.id is not null
      and s.initiative_id = b.initiative_id and s.signer_hash = decode(b.signer_hash, 'hex') and s.status <> 'withdrawn'
    limit 1
  ) e on true`;

async function writeBatch(handle: DatabaseHandle, batch: BatchedSignature[]): Promise<BatchOutcome[]> {
  const rows = batch.map(({ values: v, expected: e }) => {
    const data = logEntryData({ type: 'sign', ref: v.id, at: v.createdAt });
    return {
      id: v.id,
      initiative_id: v.initiativeId,
      signer_hash: hex(v.signerHash),
      key_version: v.keyVersion,
      assurance: v.assurance,
      district: v.district,
      created_at: v.createdAt.toISOString(),
      personal_data: v.personalData,
      log_data: hex(data),
      leaf_hash: hex(leafHash(data)),
      initiative_version: e.initiativeVersion,
      jurisdiction_version: e.jurisdictionVersion,
    };
  });
  const result = await runPrepared<{
    id: string;
    inserted: boolean;
    current: boolean;
    existing_id: string | null;
    existing_status: SignatureRow['status'];
    existing_channel: SignatureRow['channel'];
    existing_district: string;
    existing_created_at: number;
  }>(handle, writeBatchStatement(JSON.stringify(rows), randomSlot()));
  const byId = new Map(result.map((r) => [r.id, r]));
  return batch.map(({ values: v }) => {
    const r = byId.get(v.id);
    if (!r || !r.current) return { stale: true };
    if (!r.inserted) {
      if (r.existing_id === null) return { duplicate: undefined };
      const existing: ActiveSignature = {
        id: r.existing_id,
        initiativeId: v.initiativeId,
        status: r.existing_status,
        channel: r.existing_channel,
        district: r.existing_district,
        createdAt: new Date(Number(r.existing_created_at)),
        withdrawnAt: null,
      };
      return { duplicate: existing };
    }
    return {
      inserted: {
        id: v.id,
        initiativeId: v.initiativeId,
        signerHash: v.signerHash,
        keyVersion: v.keyVersion,
        channel: 'online',
        assurance: v.assurance,
        district: v.district,
        status: 'counted',
        createdAt: v.createdAt,
        withdrawnAt: null,
        personalData: v.personalData,
        sheet: null,
        collector: null,
      },
    };
  });
}

/** Group commit for signatures: one statement for the signatures that arrive together (see GroupCommit). */
export type SignatureBatcher = GroupCommit<BatchedSignature, BatchOutcome>;

/** One batcher per database handle. */
export const signatureBatcher: (handle: DatabaseHandle) => SignatureBatcher = groupCommitPerHandle(writeBatch, MAX_BATCH);
