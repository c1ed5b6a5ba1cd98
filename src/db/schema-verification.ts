import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** The signatures drawn for a random-sample verification, in draw order. */
export const verificationSamples = pgTable(
  'verification_samples',
  {
    initiativeId: uuid('initiative_id').notNull(),
    signatureId: uuid('signature_id').notNull(),
    position: integer('position').notNull(),
  },
  (t) => [primaryKey({ columns: [t.initiativeId, t.signatureId] }), uniqueIndex('verification_samples_position').on(t.initiativeId, t.position)],
);

/**
 * One ruling per verified signature: a clerk's, or the automatic check against the roll.
 * The primary key makes a decision recorded once; a repeated batch changes nothing.
 */
export const verificationDecisions = pgTable(
  'verification_decisions',
  {
    initiativeId: uuid('initiative_id').notNull(),
    signatureId: uuid('signature_id').notNull(),
    decision: text('decision', { enum: ['valid', 'invalid', 'duplicate'] }).notNull(),
    reason: text('reason'),
    source: text('source', { enum: ['clerk', 'roll'] }).notNull(),
    /** The subject of the clerk who decided (for the roll: the clerk who started the count). */
    clerk: text('clerk').notNull(),
    decidedAt: at('decided_at').notNull(),
    /** A duplicate's partner: the signature of the same signer that stays judged on its merits (null for any other ruling). */
    duplicateOf: uuid('duplicate_of'),
  },
  (t) => [
    primaryKey({ columns: [t.initiativeId, t.signatureId] }),
    index('verification_decisions_decided').on(t.initiativeId, t.decidedAt),
    // Whether a signature is some duplicate's partner, looked up on each ruling.
    index('verification_decisions_duplicate_of').on(t.initiativeId, t.duplicateOf).where(sql`${t.duplicateOf} is not null`),
  ],
);

/** Why the automatic roll check left a signature to the clerks (full count with an imported roll). */
export const verificationRollChecks = pgTable(
  'verification_roll_checks',
  {
    initiativeId: uuid('initiative_id').notNull(),
    signatureId: uuid('signature_id').notNull(),
    result: text('result', { enum: ['on-roll', 'not-on-roll', 'other-district', 'no-personal-data'] }).notNull(),
    /** The district the roll gives, when it differs from the declared one. */
    rollDistrict: text('roll_district'),
  },
  (t) => [primaryKey({ columns: [t.initiativeId, t.signatureId] })],
);

/**
 * A verification's signatures counted by district, ruling and result against the roll ('' for
 * none), so that a clerk's view reads a few rows rather than counting millions. Built from the
 * rows when a verification starts, then moved in the transaction of each decision, each page of the
 * roll check and a full count replacing a sample (its valid decisions back to undecided), which all
 * hold the verification's row: every change is counted once, whichever engine makes it. Completion
 * counts the rows themselves.
 */
export const verificationTallies = pgTable(
  'verification_tallies',
  {
    initiativeId: uuid('initiative_id').notNull(),
    district: text('district').notNull(),
    decision: text('decision', { enum: ['', 'valid', 'invalid', 'duplicate'] }).notNull(),
    reason: text('reason').notNull(),
    rollResult: text('roll_result', { enum: ['', 'on-roll', 'not-on-roll', 'other-district', 'no-personal-data'] }).notNull(),
    n: bigint('n', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ name: 'verification_tallies_pk', columns: [t.initiativeId, t.district, t.decision, t.reason, t.rollResult] })],
);
