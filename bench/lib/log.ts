import type { Sql } from 'postgres';

/**
 * A bulk path for a large log: `size` entries already sequenced (leaf index set), with every
 * complete subtree of the RFC 9162 tree computed by SQL one level at a time, and the sequencer at
 * `size`. The engine's sequencer then continues from this frontier as from one it built itself.
 * Leaf data has the engine's shape: {"type":"sign","ref":<uuid>,"at":<ISO time>}.
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
    await tx.unsafe(`insert into log_nodes (initiative_id, level, idx, hash) select initiative_id, 0, leaf_index, leaf_hash from log_entries where initiative_id = $1`, [initiativeId]);
    for (let level = 1; 2 ** level <= size; level++) {
      await tx.unsafe(
        `insert into log_nodes (initiative_id, level, idx, hash)
         select a.initiative_id, $2::smallint, a.idx / 2, sha256('\\x01'::bytea || a.hash || b.hash)
         from log_nodes a join log_nodes b on b.initiative_id = a.initiative_id and b.level = a.level and b.idx = a.idx + 1
         where a.initiative_id = $1 and a.level = $2::smallint - 1 and a.idx % 2 = 0`,
        [initiativeId, level],
      );
    }
    // The root is recomputed from the stored frontier at the next integration; this one is a placeholder.
    await tx.unsafe(
      `insert into log_sequencers (initiative_id, size, root, sequenced_at) values ($1, $2, sha256(''::bytea), now())
       on conflict (initiative_id) do update set size = excluded.size, root = excluded.root, sequenced_at = excluded.sequenced_at`,
      [initiativeId, size],
    );
  });
  await sql.unsafe('analyze log_entries; analyze log_nodes');
}
