import { and, asc, eq, inArray, isNotNull, isNull } from 'drizzle-orm';
import { districtChanges } from '../../core/districts';
import type { Database } from '../../db/client';
import { initiatives, jurisdictionClerks, jurisdictions } from '../../db/schema';
import { rollEntries, rollImports } from '../../db/schema-roll';
import type { Principal } from '../../platform/http';
import { problems, type FieldError } from '../../platform/problems';
import { appendAudit } from '../audit/service';
import { isClerkOf } from '../auth/access';
import { currentRoll } from '../roll/service';
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
    districtTerm: j.districtTerm,
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

/**
 * Settings shown whole before and after in the audit trail: all but the districts, which can be
 * 35,000 (France's communes) and are recorded as their difference (core/districts).
 */
const SHOWN_WHOLE = ['name', 'electorate', 'minimumAge', 'requireRoll', 'minimumAssurance', 'committeeMinimum', 'timeZone', 'districtTerm', 'rules'] as const;

/**
 * A clerk of the jurisdiction (or an administrator) changes its configuration; the whole result
 * must hold as at creation. Initiatives already opened keep the rules and the electorate figures
 * they were opened with (frozen then); the eligibility settings (age, assurance, districts, the
 * roll requirement) apply to signatures from now on. Refused with a 409: removing a district once
 * an initiative has been opened in the jurisdiction or while the current roll uses it, removing a
 * kind's rules while initiatives of that kind are drafted or submitted (they take them at opening),
 * and requiring the roll before one is imported. The row is held for the change: an opening (which
 * holds it too) sees the figures before or after, never half.
 */
export async function updateJurisdiction(db: Database, principal: Principal, id: string, change: UpdateJurisdiction, now: Date): Promise<JurisdictionRow> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(jurisdictions).where(eq(jurisdictions.id, id)).for('update');
    if (!current) throw problems.notFound('Jurisdiction', id);
    if (!principal.isAdmin && !(await isClerkOf(tx, principal.subject, id))) {
      throw problems.forbidden(`Only a clerk of jurisdiction "${id}" or an administrator may change it.`);
    }
    const next = { ...current, ...change };
    const issues: FieldError[] = [];
    // The electorates are checked against each other when the change gives either (a configuration from before the check is left as it is otherwise).
    const figures = change.districts ? 'districts' : change.electorate !== undefined ? 'electorate' : false;
    checkSettings(next, { addIssue: ({ path, message }) => issues.push({ field: ['body', ...path].join('.'), message }) }, figures);
    if (issues.length > 0) throw problems.validation(issues, 'The jurisdiction would not be valid with this change.');

    // By code, once (core/districts): comparing each district with every other is seconds at 35,000.
    const districts = change.districts ? districtChanges(current.districts, next.districts) : undefined;
    const removed = districts?.removed.map((d) => d.code) ?? [];
    if (removed.length > 0) {
      const [opened] = await tx.select({ id: initiatives.id }).from(initiatives).where(and(eq(initiatives.jurisdictionId, id), isNotNull(initiatives.opensAt))).limit(1);
      const [onRoll] = await tx
        .select({ district: rollEntries.district })
        .from(rollEntries)
        .innerJoin(rollImports, eq(rollImports.id, rollEntries.importId))
        .where(and(eq(rollImports.jurisdictionId, id), inArray(rollEntries.district, removed)))
        .limit(1);
      if (opened || onRoll) {
        throw problems.conflict(
          'district-in-use',
          'District in use',
          `District "${onRoll?.district ?? removed[0]}" cannot be removed: ${onRoll ? 'the electoral roll in force places voters in it' : 'initiatives have been opened in this jurisdiction, and their signatures, rules and counts refer to its districts'}.`,
        );
      }
    }
    // An initiative takes its kind's rules from the jurisdiction until it opens.
    const kindsRemoved = Object.keys(current.rules).filter((kind) => !(kind in next.rules)) as (typeof initiatives.$inferSelect)['kind'][];
    if (kindsRemoved.length > 0) {
      const unopened = and(eq(initiatives.jurisdictionId, id), inArray(initiatives.kind, kindsRemoved), isNull(initiatives.rules));
      const [waiting] = await tx
        .select({ kind: initiatives.kind })
        .from(initiatives)
        .where(and(unopened, inArray(initiatives.status, ['draft', 'submitted'])))
        .limit(1);
      if (waiting) {
        throw problems.conflict(
          'kind-in-use',
          'Kind of initiative in use',
          `The ${waiting.kind} rules cannot be removed: ${waiting.kind} initiatives are being drafted or await review in this jurisdiction. They must be opened, rejected or withdrawn first.`,
        );
      }
      // Those rejected or withdrawn before opening keep the rules they were drafted under, for their pages.
      for (const kind of kindsRemoved) {
        await tx.update(initiatives).set({ rules: current.rules[kind] as Record<string, unknown> }).where(and(unopened, eq(initiatives.kind, kind)));
      }
    }
    if (next.requireRoll && !current.requireRoll && !(await currentRoll(tx, id))) {
      throw problems.conflict('no-roll', 'No electoral roll', 'Import the electoral roll before requiring it: every signature would be refused until then.');
    }

    const changed = (Object.keys(change) as (keyof UpdateJurisdiction)[]).filter((k) => JSON.stringify(current[k]) !== JSON.stringify(next[k])).sort();
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
        districtTerm: next.districtTerm,
        districts: next.districts,
        rules: next.rules,
      })
      .where(eq(jurisdictions.id, id))
      .returning();
    const whole = SHOWN_WHOLE.filter((k) => changed.includes(k));
    await appendAudit(tx, {
      actor: principal.subject,
      action: 'jurisdiction.updated',
      at: now,
      jurisdictionId: id,
      details: {
        changed,
        before: Object.fromEntries(whole.map((k) => [k, current[k]])),
        after: Object.fromEntries(whole.map((k) => [k, next[k]])),
        ...(changed.includes('districts') ? { districts } : {}),
      },
    });
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

/** The names and time zones of these jurisdictions, by id (one query: a clerk's pages name the jurisdictions they serve, and date their records). */
export async function jurisdictionLabels(db: Database, ids: string[]): Promise<Map<string, { name: string; timeZone: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select({ id: jurisdictions.id, name: jurisdictions.name, timeZone: jurisdictions.timeZone }).from(jurisdictions).where(inArray(jurisdictions.id, ids));
  return new Map(rows.map(({ id, ...label }) => [id, label]));
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

/** The clerks of a jurisdiction, for an administrator or one of them. */
export async function listClerks(db: Database, principal: Principal, jurisdictionId: string) {
  await getJurisdiction(db, jurisdictionId);
  if (!principal.isAdmin && !(await isClerkOf(db, principal.subject, jurisdictionId))) {
    throw problems.forbidden(`Only a clerk of jurisdiction "${jurisdictionId}" or an administrator may list its clerks.`);
  }
  return db
    .select({ subject: jurisdictionClerks.subject, grantedBy: jurisdictionClerks.grantedBy, grantedAt: jurisdictionClerks.grantedAt })
    .from(jurisdictionClerks)
    .where(eq(jurisdictionClerks.jurisdictionId, jurisdictionId))
    .orderBy(asc(jurisdictionClerks.grantedAt), asc(jurisdictionClerks.subject));
}

/**
 * Someone leaves the elections office: the role goes at once (every clerk action checks it in the
 * database, sessions included), and the audit trail says who revoked it.
 */
export async function revokeClerk(db: Database, jurisdictionId: string, subject: string, actor: string, now: Date) {
  await getJurisdiction(db, jurisdictionId);
  await db.transaction(async (tx) => {
    const [revoked] = await tx
      .delete(jurisdictionClerks)
      .where(and(eq(jurisdictionClerks.jurisdictionId, jurisdictionId), eq(jurisdictionClerks.subject, subject)))
      .returning();
    if (!revoked) throw problems.notFound('Clerk', subject);
    await appendAudit(tx, { actor, action: 'clerk.revoked', at: now, jurisdictionId, details: { subject, grantedBy: revoked.grantedBy, grantedAt: revoked.grantedAt.toISOString() } });
  });
}
