import { and, eq, lte } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { initiatives } from '../../db/schema';
import { transition } from './service';

/** Closes every open initiative whose deadline has passed. Signing never waits for this: it checks the clock itself. */
export async function closeOverdueInitiatives(db: Database, now: Date): Promise<string[]> {
  const overdue = await db
    .select()
    .from(initiatives)
    .where(and(eq(initiatives.status, 'open'), lte(initiatives.closesAt, now)))
    .limit(100);
  const closed: string[] = [];
  for (const initiative of overdue) {
    const done = await db
      .transaction((tx) => transition(tx, initiative, 'close', { actor: 'system:scheduler', now, patch: { closedAt: now }, details: { by: 'deadline' } }))
      .then(() => true, () => false); // another process closed it first
    if (done) closed.push(initiative.id);
  }
  return closed;
}
