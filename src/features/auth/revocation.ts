import { lt, sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../../db/client';
import { runPrepared } from '../../db/query';
import { revokedSessions } from '../../db/schema-sessions';
import type { Principal } from '../../platform/http';

/**
 * Ended sessions live in the database, not in a process's memory: a logout through one engine
 * process is refused by every other at once, on Node and on Workers alike.
 */

/** Records a session as ended until its token's own expiry (logging out twice is the same logout). */
export async function revokeSession(handle: DatabaseHandle, id: string, expiresAt: Date): Promise<void> {
  await handle.db.insert(revokedSessions).values({ jti: id, expiresAt }).onConflictDoNothing();
}

/**
 * Ends the engine session the caller came with. False when there is none to end: no caller, an ID
 * token, or a session issued before sessions had an id (it lasts until it expires).
 */
export async function endSession(handle: DatabaseHandle, principal: Principal | undefined): Promise<boolean> {
  if (!principal?.session) return false;
  await revokeSession(handle, principal.session.id, principal.session.expiresAt);
  return true;
}

/** Whether a session was ended by a logout: one lookup of the primary key, prepared where the driver allows. */
export async function isSessionRevoked(handle: DatabaseHandle, id: string): Promise<boolean> {
  const rows = await runPrepared<{ one: number }>(handle, sql`select 1 as one from revoked_sessions where jti = ${id}`);
  return rows.length > 0;
}

/**
 * Leeway before a row is swept: the token is refused by its expiry from then on, but an engine
 * process whose clock runs a little behind this one's would still take it without the row.
 */
const SWEEP_LEEWAY_MS = 5 * 60_000;

/** Forgets the ended sessions whose tokens have expired (a scheduled task). */
export async function sweepRevokedSessions(handle: DatabaseHandle, now: Date): Promise<void> {
  await handle.db.delete(revokedSessions).where(lt(revokedSessions.expiresAt, new Date(now.getTime() - SWEEP_LEEWAY_MS)));
}
