import { integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Signatures per initiative, UTC hour and district, derived from the signatures' own timestamps by
 * the roll-up task: `signed` counts rows created in the hour, `withdrawn` rows withdrawn in it.
 * Each hour also has a row with district '' for all districts together, so a chart of the whole
 * initiative reads one row an hour. Only hours before the initiative's seal (signature_rollup_seals)
 * are here; later ones are read live.
 */
export const signatureHours = pgTable(
  'signature_hours',
  {
    initiativeId: uuid('initiative_id').notNull(),
    hour: at('hour').notNull(),
    district: text('district').notNull(),
    signed: integer('signed').notNull(),
    withdrawn: integer('withdrawn').notNull(),
  },
  (t) => [primaryKey({ columns: [t.initiativeId, t.district, t.hour] })],
);

/** Every hour strictly before `sealedUntil` is final in signature_hours for that initiative. */
export const signatureRollupSeals = pgTable('signature_rollup_seals', {
  initiativeId: uuid('initiative_id').primaryKey(),
  sealedUntil: at('sealed_until').notNull(),
});
