import { sql } from 'drizzle-orm';
import { index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { bytea, jurisdictions } from './schema';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * One import of a jurisdiction's electoral roll. Exactly one import per jurisdiction is `current`:
 * flipping that status in one transaction replaces the roll atomically for every reader.
 */
export const rollImports = pgTable(
  'roll_imports',
  {
    id: uuid('id').primaryKey(),
    jurisdictionId: text('jurisdiction_id').notNull().references(() => jurisdictions.id),
    /** Pepper version of the roll hashes of this import. */
    keyVersion: text('key_version').notNull(),
    status: text('status', { enum: ['loading', 'current', 'replaced', 'failed'] }).notNull(),
    importedBy: text('imported_by').notNull(),
    startedAt: at('started_at').notNull(),
    completedAt: at('completed_at'),
    imported: integer('imported'),
    rejected: integer('rejected'),
    duplicates: integer('duplicates'),
  },
  (t) => [
    uniqueIndex('roll_imports_one_current').on(t.jurisdictionId).where(sql`status = 'current'`),
    // One import at a time per jurisdiction: a second one is refused rather than interleaved.
    uniqueIndex('roll_imports_one_loading').on(t.jurisdictionId).where(sql`status = 'loading'`),
    index('roll_imports_jurisdiction').on(t.jurisdictionId, t.startedAt),
  ],
);

/** A person on the roll: only the keyed roll hash and the district, never a name or a birth date. */
export const rollEntries = pgTable(
  'roll_entries',
  {
    importId: uuid('import_id').notNull(),
    rollHash: bytea('roll_hash').notNull(),
    district: text('district').notNull(),
  },
  (t) => [primaryKey({ columns: [t.importId, t.rollHash] })],
);
