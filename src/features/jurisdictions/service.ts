import { asc, eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { jurisdictionClerks, jurisdictions } from '../../db/schema';
import { problems } from '../../platform/problems';
import { appendAudit } from '../audit/service';
import type { CreateJurisdiction } from './schema';

export type JurisdictionRow = typeof jurisdictions.$inferSelect;

export function jurisdictionView(j: JurisdictionRow) {
  return {
    id: j.id,
    name: j.name,
    electorate: j.electorate,
    minimumAge: j.minimumAge,
    requireRoll: j.requireRoll,
    minimumAssurance: j.minimumAssurance,
    committeeMinimum: j.committeeMinimum,
    timeZone: j.timeZone,
    districts: j.districts,
    rules: j.rules,
    createdAt: j.createdAt.toISOString(),
  };
}

export async function createJurisdiction(db: Database, input: CreateJurisdiction, actor: string, now: Date) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(jurisdictions)
      .values({ ...input, createdAt: now })
      .onConflictDoNothing()
      .returning();
    if (!row) throw problems.conflict('jurisdiction-exists', 'Jurisdiction exists', `A jurisdiction with id "${input.id}" already exists.`);
    await appendAudit(tx, { actor, action: 'jurisdiction.created', at: now, jurisdictionId: row.id, details: { name: row.name } });
    return row;
  });
}

export async function getJurisdiction(db: Database, id: string): Promise<JurisdictionRow> {
  const [row] = await db.select().from(jurisdictions).where(eq(jurisdictions.id, id));
  if (!row) throw problems.notFound('Jurisdiction', id);
  return row;
}

export async function listJurisdictions(db: Database) {
  return db.select().from(jurisdictions).orderBy(asc(jurisdictions.name));
}

export async function grantClerk(db: Database, jurisdictionId: string, subject: string, actor: string, now: Date) {
  await getJurisdiction(db, jurisdictionId);
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(jurisdictionClerks)
      .values({ jurisdictionId, subject, grantedBy: actor, grantedAt: now })
      .onConflictDoNothing()
      .returning();
    if (inserted.length > 0) {
      await appendAudit(tx, { actor, action: 'clerk.granted', at: now, jurisdictionId, details: { subject } });
    }
    return { jurisdictionId, subject, created: inserted.length > 0 };
  });
}
