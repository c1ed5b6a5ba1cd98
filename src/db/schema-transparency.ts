import { bigint, pgTable, primaryKey, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { bytea } from './schema';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * One row per initiative whose log has entries: the tree's size and root. Sequencers lock it
 * FOR UPDATE, so one integrates at a time per initiative, on any number of engine processes.
 */
export const logSequencers = pgTable('log_sequencers', {
  initiativeId: uuid('initiative_id').primaryKey(),
  size: bigint('size', { mode: 'number' }).notNull(),
  root: bytea('root').notNull(),
  sequencedAt: at('sequenced_at').notNull(),
});

/**
 * The hash of every complete subtree of an initiative's tree: 2^level leaves starting at
 * index × 2^level (level 0: the leaf hashes). Written once, never changed; proofs read O(log n) rows.
 */
export const logNodes = pgTable(
  'log_nodes',
  {
    initiativeId: uuid('initiative_id').notNull(),
    level: smallint('level').notNull(),
    index: bigint('idx', { mode: 'number' }).notNull(),
    hash: bytea('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.initiativeId, t.level, t.index] })],
);

/** Signed tree heads, one per sequencing run that added entries. */
export const logTreeHeads = pgTable(
  'log_tree_heads',
  {
    initiativeId: uuid('initiative_id').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    root: bytea('root').notNull(),
    timestamp: at('timestamp').notNull(),
    /** Compact JWS (EdDSA, typ tree-head+jwt) over initiative, size, root and timestamp. */
    signature: text('signature').notNull(),
  },
  (t) => [primaryKey({ columns: [t.initiativeId, t.size] })],
);
