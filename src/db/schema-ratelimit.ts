import { index, integer, pgTable, timestamp } from 'drizzle-orm/pg-core';
import { bytea } from './schema';

/**
 * Fixed-window request counters shared by every engine process. The key is a keyed hash of
 * the action and the client address or identity, so neither is stored in clear.
 */
export const rateLimitCounters = pgTable(
  'rate_limit_counters',
  {
    key: bytea('key').primaryKey(),
    windowStart: timestamp('window_start', { withTimezone: true, mode: 'date' }).notNull(),
    count: integer('count').notNull(),
  },
  (t) => [index('rate_limit_counters_window').on(t.windowStart)],
);
