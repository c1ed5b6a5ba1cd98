import { integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { bytea } from './schema';

/**
 * Outcomes of paper entries per sheet, collector and outcome (`accepted`, `duplicate`,
 * `ineligible:<rule>`, `birthdate-out-of-range`): counts only, so rejected entries leave no personal data.
 */
export const paperEntryTallies = pgTable(
  'paper_entry_tallies',
  {
    initiativeId: uuid('initiative_id').notNull(),
    sheet: text('sheet').notNull(),
    collector: text('collector').notNull(),
    outcome: text('outcome').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.initiativeId, t.sheet, t.collector, t.outcome] })],
);

/** Batches already keyed in, by a keyed digest of their content: an identical re-send leaves the tallies alone. */
export const paperBatches = pgTable(
  'paper_batches',
  {
    initiativeId: uuid('initiative_id').notNull(),
    digest: bytea('digest').notNull(),
    entries: integer('entries').notNull(),
    keyedBy: text('keyed_by').notNull(),
    keyedAt: timestamp('keyed_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.initiativeId, t.digest] })],
);

/**
 * Paper forms keyed in while their signer already had a signature (online, or on another form): the
 * signature each was a duplicate of. Once that signature is withdrawn, its signer's earlier forms
 * are withdrawn with it: keyed in again, they do not bring the person back (only a new form does).
 */
export const paperFormDuplicates = pgTable(
  'paper_form_duplicates',
  {
    initiativeId: uuid('initiative_id').notNull(),
    signerHash: bytea('signer_hash').notNull(),
    sheet: text('sheet').notNull(),
    collector: text('collector').notNull(),
    signatureId: uuid('signature_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.initiativeId, t.signerHash, t.sheet, t.collector] })],
);
