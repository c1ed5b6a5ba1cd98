import { and, desc, eq, ne } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { committeeMembers, initiatives } from '../../db/schema';

/** The initiatives a person sponsors, newest first (drafts included: they are theirs). */
export async function sponsoredBy(db: Executor, subject: string, limit = 100) {
  return db.select().from(initiatives).where(eq(initiatives.sponsorSubject, subject)).orderBy(desc(initiatives.createdAt)).limit(limit);
}

/** The initiatives whose support committee a person joined (not those they sponsor), newest first. */
export async function supportedBy(db: Executor, subject: string, limit = 100) {
  return db
    .select({ id: initiatives.id, title: initiatives.title, language: initiatives.language, status: initiatives.status, opensAt: initiatives.opensAt })
    .from(committeeMembers)
    .innerJoin(initiatives, eq(initiatives.id, committeeMembers.initiativeId))
    .where(and(eq(committeeMembers.subject, subject), ne(initiatives.sponsorSubject, subject)))
    .orderBy(desc(committeeMembers.joinedAt))
    .limit(limit);
}
