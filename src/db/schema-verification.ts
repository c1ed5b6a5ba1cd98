import { index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

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
  },
  (t) => [primaryKey({ columns: [t.initiativeId, t.signatureId] }), index('verification_decisions_decided').on(t.initiativeId, t.decidedAt)],
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
