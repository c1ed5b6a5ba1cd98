import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { initiatives, jurisdictionClerks, jurisdictions, signatures } from '../../db/schema';
import { rollEntries, rollImports } from '../../db/schema-roll';
import type { Principal } from '../../platform/http';
import { problems, type FieldError } from '../../platform/problems';
import { appendAudit } from '../audit/service';
import { isClerkOf } from '../auth/access';
import { checkSettings, type CreateJurisdiction, type UpdateJurisdiction } from './schema';

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

/** Initiatives whose count still depends on the jurisdiction's electorate figures (ratio goals and district minimums). */
const COUNTING = ['open', 'closed', 'verifying'] as const;

/**
 * A clerk of the jurisdiction (or an administrator) changes its configuration. The whole result
 * must hold as at creation. Initiatives keep the rules they were opened with; the eligibility
 * settings (age, assurance, districts, roll) apply to signatures from now on. Refused with a 409:
 * removing a district that signatures or the current roll use, and changing electorate figures
 * while an initiative still counts against them (open, closed or being verified).
 */
export async function updateJurisdiction(db: Database, principal: Principal, id: string, change: UpdateJurisdiction, now: Date): Promise<JurisdictionRow> {
  const current = await getJurisdiction(db, id);
  if (!principal.isAdmin && !(await isClerkOf(db, principal.subject, id))) {
    throw problems.forbidden(`Only a clerk of jurisdiction "${id}" or an administrator may change it.`);
  }
  const next = { ...current, ...change };
  const issues: FieldError[] = [];
  checkSettings(next, { addIssue: ({ path, message }) => issues.push({ field: ['body', ...path].join('.'), message }) });
  if (issues.length > 0) throw problems.validation(issues, 'The jurisdiction would not be valid with this change.');

  return db.transaction(async (tx) => {
    // Held while the change is checked and written: no initiative opens and no signature lands in a district being removed meanwhile.
    await tx.select({ id: jurisdictions.id }).from(jurisdictions).where(eq(jurisdictions.id, id)).for('update');
    const removed = current.districts.filter((d) => !next.districts.some((n) => n.code === d.code)).map((d) => d.code);
    if (removed.length > 0) {
      const [signed] = await tx
        .select({ district: signatures.district })
        .from(signatures)
        .innerJoin(initiatives, eq(initiatives.id, signatures.initiativeId))
        .where(and(eq(initiatives.jurisdictionId, id), inArray(signatures.district, removed)))
        .limit(1);
      const [onRoll] = await tx
        .select({ district: rollEntries.district })
        .from(rollEntries)
        .innerJoin(rollImports, eq(rollImports.id, rollEntries.importId))
        .where(and(eq(rollImports.jurisdictionId, id), inArray(rollEntries.district, removed)))
        .limit(1);
      const used = signed?.district ?? onRoll?.district;
      if (used !== undefined) {
        throw problems.conflict('district-in-use', 'District in use', `District "${used}" cannot be removed: ${signed ? 'signatures' : 'the electoral roll'} of this jurisdiction use it.`);
      }
    }
    const figures = (j: Pick<JurisdictionRow, 'electorate' | 'districts'>) => JSON.stringify([j.electorate, j.districts.map((d) => [d.code, d.electorate])]);
    const changedFigures = figures(current) !== figures({ electorate: next.electorate, districts: next.districts.filter((d) => current.districts.some((c) => c.code === d.code)) });
    if (changedFigures) {
      const [counting] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(initiatives)
        .where(and(eq(initiatives.jurisdictionId, id), inArray(initiatives.status, [...COUNTING])));
      if ((counting?.n ?? 0) > 0) {
        throw problems.conflict(
          'electorate-in-use',
          'Electorate figures in use',
          `${counting!.n} initiative${counting!.n === 1 ? ' counts' : 's count'} against the current electorate figures (open, closed or being verified): change them once they are certified or declared insufficient.`,
        );
      }
    }
    const [row] = await tx
      .update(jurisdictions)
      .set({
        name: next.name,
        electorate: next.electorate,
        minimumAge: next.minimumAge,
        requireRoll: next.requireRoll,
        minimumAssurance: next.minimumAssurance,
        committeeMinimum: next.committeeMinimum,
        timeZone: next.timeZone,
        districts: next.districts,
        rules: next.rules,
      })
      .where(eq(jurisdictions.id, id))
      .returning();
    await appendAudit(tx, { actor: principal.subject, action: 'jurisdiction.updated', at: now, jurisdictionId: id, details: { changed: Object.keys(change).sort() } });
    return row!;
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
