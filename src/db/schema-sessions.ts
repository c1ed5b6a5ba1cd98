import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Sessions ended by a logout before their token expires, shared by every engine process. A row
 * holds the session's random id and the token's own expiry, after which the token is refused anyway
 * and the row is swept: nothing about the person.
 */
export const revokedSessions = pgTable(
  'revoked_sessions',
  {
    jti: text('jti').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('revoked_sessions_expires_at').on(t.expiresAt)],
);
