import { and, eq, lt, or, type AnyColumn, type SQL } from 'drizzle-orm';
import { problems } from './problems';

/**
 * Keyset pagination over rows ordered newest first by (time, id): a cursor is the last row's pair,
 * opaque to clients (base64url JSON); the next page is what comes strictly after it.
 */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A row id as the database writes it (lowercase UUID): the only ids a cursor can hold. */
export const isUuid = (s: string) => UUID.test(s);

/** The pair a cursor holds; anything this API did not return is a 400 naming `query.cursor`. */
export function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    // Exactly as encodeCursor wrote it, in years 1–9999: PostgreSQL refuses other years and ids that are not UUIDs.
    const date = typeof at === 'string' && /^(?!0000)\d{4}-/.test(at) ? new Date(at) : undefined;
    if (!date || Number.isNaN(date.getTime()) || date.toISOString() !== at || typeof id !== 'string' || !isUuid(id)) throw new Error('bad cursor');
    return { at: date, id };
  } catch {
    throw problems.validation([{ field: 'query.cursor', message: 'Not a cursor this API returned; use the nextCursor of a previous page.' }]);
  }
}

/** Rows after the cursor in (time desc, id desc) order. */
export function afterCursor(cursor: string, time: AnyColumn, id: AnyColumn): SQL {
  const after = decodeCursor(cursor);
  return or(lt(time, after.at), and(eq(time, after.at), lt(id, after.id)))!;
}

/** The page (at most `limit` of the `limit + 1` rows read) and the cursor to the next one, if any. */
export function pageOf<T>(rows: T[], limit: number, key: (row: T) => { at: Date; id: string }): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  if (rows.length <= limit || !last) return { items, nextCursor: null };
  const { at, id } = key(last);
  return { items, nextCursor: encodeCursor(at, id) };
}
