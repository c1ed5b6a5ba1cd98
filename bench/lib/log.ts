import type { Sql } from 'postgres';

/**
 * A bulk path for a large log: `size` entries already sequenced (leaf index set), with every
 * complete subtree of the RFC 9162 tree computed by SQL one level at a time, and the sequencer at
 * `size`. The engine's sequencer then continues from this frontier as from one it built itself.
 * Leaf data has the engine's shape: {"type":"sign","ref":<uuid>,"at":<ISO time>}.
 *
 * The subtrees go into log_nodes in the order the engine's sequencer writes them (each right
 * after the leaf that completes it), so a proof reads a table laid out as the engine lays it out.
 */
export async function preloadSequencedLog(sql: Sql, initiativeId: string, size: number): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe(
      `insert into log_entries (initiative_id, type, ref, data, leaf_hash, created_at, leaf_index)
       select $1::uuid, 'sign', ref, data, sha256('\\x00'::bytea || data), at, g - 1
       from (select g, ref, at, convert_to('{"type":"sign","ref":"' || ref || '","at":"' || to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"}', 'UTF8') as data
             from (select g, gen_random_uuid() as ref, date_trunc('milliseconds', now()) - make_interval(secs => $2 - g) as at from generate_series(1, $2::int) g) s) d`,
      [initiativeId, size],
    );
    // Each level from the one below it, in scratch tables that go at commit.
    await tx.unsafe(`create temp table preload_nodes (level smallint, idx bigint, hash bytea) on commit drop`);
    await tx.unsafe(`create temp table preload_level on commit drop as select leaf_index as idx, leaf_hash as hash from log_entries where initiative_id = $1`, [initiativeId]);
    await tx.unsafe(`insert into preload_nodes select 0, idx, hash from preload_level`);
    for (let level = 1; 2 ** level <= size; level++) {
      await tx.unsafe(
        `create temp table preload_next on commit drop as
         select a.idx / 2 as idx, sha256('\\x01'::bytea || a.hash || b.hash) as hash
         from preload_level a join preload_level b on b.idx = a.idx + 1
         where a.idx % 2 = 0`,
      );
      await tx.unsafe(`insert into preload_nodes select $1::smallint, idx, hash from preload_next`, [level]);
      await tx.unsafe(`drop table preload_level`);
      await tx.unsafe(`alter table preload_next rename to preload_level`);
    }
    // The sequencer writes a subtree right after its last leaf, lower levels first.
    await tx.unsafe(
      `insert into log_nodes (initiative_id, level, idx, hash)
       select $1, level, idx, hash from preload_nodes order by ((idx + 1) << level) - 1, level`,
      [initiativeId],
    );
    // The root is recomputed from the stored frontier at the next integration; this one is a placeholder.
    await tx.unsafe(
      `insert into log_sequencers (initiative_id, size, root, sequenced_at) values ($1, $2, sha256(''::bytea), now())
       on conflict (initiative_id) do update set size = excluded.size, root = excluded.root, sequenced_at = excluded.sequenced_at`,
      [initiativeId, size],
    );
  });
  await sql.unsafe('analyze log_entries; analyze log_nodes');
}
