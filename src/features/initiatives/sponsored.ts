import { desc, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { initiatives } from '../../db/schema';

/** The initiatives a person sponsors, newest first (drafts included: they are theirs). */
export async function sponsoredBy(db: Executor, subject: string, limit = 100) {
  return db.select().from(initiatives).where(eq(initiatives.sponsorSubject, subject)).orderBy(desc(initiatives.createdAt)).limit(limit);
}
