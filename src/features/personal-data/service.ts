import { and, count, eq, inArray, isNotNull, or, sql, type SQL } from 'drizzle-orm';
import { electorateOf, evaluateRules } from '../../core/rules';
import type { Database, Executor } from '../../db/client';
import { auditLog, initiativeCrossings, initiatives, jurisdictions, signatures, verifications } from '../../db/schema';
import type { AppDeps, Principal } from '../../platform/http';
import { problems, type Problem } from '../../platform/problems';
import { appendAudit } from '../audit/service';
import { isClerkOf, requireClerk } from '../auth/access';
import type { Identity } from '../auth/verifier';
import { getInitiative, type InitiativeRow } from '../initiatives/service';
import { rulesOf, tallySignatures } from '../progress/service';
import { openPersonalData } from './sealing';

export type { Identity };
export { openPersonalData, PersonalDataKeyError, sealPersonalData } from './sealing';

/**
 * Decrypts the personal data of signatures for a clerk of their jurisdiction, and records the
 * read in the audit trail (who, which signatures) in the same transaction. Destroyed data is absent from the map.
 */
export async function readPersonalData(
  deps: Pick<AppDeps, 'db' | 'keys' | 'clock'>,
  actor: Pick<Principal, 'subject'>,
  signatureIds: string[],
): Promise<Map<string, Identity>> {
  const result = new Map<string, Identity>();
  if (signatureIds.length === 0) return result;
  const now = deps.clock();
  return deps.db.db.transaction(async (tx) => {
    const rows = await tx
      .select({ id: signatures.id, initiativeId: signatures.initiativeId, jurisdictionId: initiatives.jurisdictionId, personalData: signatures.personalData })
      .from(signatures)
      .innerJoin(initiatives, eq(initiatives.id, signatures.initiativeId))
      .where(inArray(signatures.id, signatureIds));
    const byInitiative = new Map<string, { jurisdictionId: string; ids: string[] }>();
    for (const row of rows) {
      const group = byInitiative.get(row.initiativeId) ?? { jurisdictionId: row.jurisdictionId, ids: [] };
      group.ids.push(row.id);
      byInitiative.set(row.initiativeId, group);
    }
    for (const jurisdictionId of new Set([...byInitiative.values()].map((g) => g.jurisdictionId))) {
      if (!(await isClerkOf(tx, actor.subject, jurisdictionId))) {
        throw problems.forbidden(`Only a clerk of jurisdiction "${jurisdictionId}" may read its signers' personal data.`);
      }
    }
    for (const row of rows) {
      if (row.personalData) result.set(row.id, await openPersonalData(deps.keys, row.personalData));
    }
    for (const [initiativeId, group] of byInitiative) {
      await appendAudit(tx, {
        actor: actor.subject,
        action: 'personal-data.read',
        at: now,
        jurisdictionId: group.jurisdictionId,
        initiativeId,
        details: { signatures: group.ids.sort(), destroyed: group.ids.filter((id) => !result.has(id)).length },
      });
    }
    return result;
  });
}

/** One signature's personal data for a clerk of its initiative's jurisdiction (audited). */
export async function personalDataOfSignature(deps: AppDeps, principal: Principal, initiativeId: string, signatureId: string) {
  const [row] = await deps.db.db
    .select({ id: signatures.id, status: signatures.status, jurisdictionId: initiatives.jurisdictionId })
    .from(signatures)
    .innerJoin(initiatives, eq(initiatives.id, signatures.initiativeId))
    .where(and(eq(signatures.id, signatureId), eq(signatures.initiativeId, initiativeId)));
  if (!row) throw problems.notFound('Signature', signatureId);
  await requireClerk(deps.db.db, principal, row.jurisdictionId);
  const identity = (await readPersonalData(deps, principal, [signatureId])).get(signatureId);
  if (!identity) {
    const why =
      row.status === 'withdrawn'
        ? 'The signer withdrew this signature, and its personal data was destroyed with it.'
        : 'The personal data of this signature was destroyed under the retention schedule.';
    throw problems.conflict('personal-data-destroyed', 'Personal data destroyed', why);
  }
  return identity;
}

export interface RetentionPeriods {
  /** After certification or a declaration of insufficiency; also after the close of an initiative that did not reach its goal. */
  afterResultMonths: number;
  /** After the sponsor withdrew the initiative. */
  afterWithdrawalMonths: number;
}

/** The audit action recording that an initiative's signers' personal data was destroyed: the purge's mark that it is done. */
const DESTROYED = 'personal-data.destroyed';

/** SPEC §4 defaults: 3 months after the result, 1 month after withdrawal. */
export const DEFAULT_RETENTION: RetentionPeriods = { afterResultMonths: 3, afterWithdrawalMonths: 1 };

/**
 * Whether `months` calendar months have passed since `from` (UTC), added as PostgreSQL adds them: one
 * month from 31 January is 28 February. (Counting back from today instead, 31 May less three months
 * is 3 March, and data kept since 3 March would go three days early.)
 */
function monthsPassed(from: SQL, months: number, now: Date): SQL {
  return sql`(${from} at time zone 'UTC') + make_interval(months => ${months}::int) <= (${now.toISOString()}::timestamptz at time zone 'UTC')`;
}

/**
 * Destroys (sets to NULL) the personal data of initiatives whose retention period is over;
 * sheet and collector stay, as they describe the paper form and its collector, not the signer.
 * A closed initiative below its goal (on its count, whatever it reached before) has nothing for the
 * clerks to verify: its data goes `afterResultMonths` after its close, as if its result were out
 * (its status stays `closed`).
 */
export async function purgePersonalData(db: Database, now: Date, periods: RetentionPeriods = DEFAULT_RETENTION): Promise<number> {
  const due = await db
    .select({
      id: initiatives.id,
      jurisdictionId: initiatives.jurisdictionId,
      status: initiatives.status,
      reachedGoal: sql<boolean>`exists (select 1 from ${initiativeCrossings} where ${initiativeCrossings.initiativeId} = ${initiatives.id} and ${initiativeCrossings.key} = 'goal')`,
    })
    .from(initiatives)
    .leftJoin(verifications, eq(verifications.initiativeId, initiatives.id))
    .where(
      and(
        or(
          and(inArray(initiatives.status, ['certified', 'insufficient']), monthsPassed(sql`coalesce(${verifications.completedAt}, ${initiatives.updatedAt})`, periods.afterResultMonths, now)),
          and(eq(initiatives.status, 'withdrawn'), monthsPassed(sql`${initiatives.updatedAt}`, periods.afterWithdrawalMonths, now)),
          and(eq(initiatives.status, 'closed'), monthsPassed(sql`coalesce(${initiatives.closedAt}, ${initiatives.closesAt})`, periods.afterResultMonths, now)),
        ),
        // Each initiative is purged once: the audit entry of its purge says it is done.
        sql`not ${destroyedSql}`,
      ),
    )
    // The longest overdue first.
    .orderBy(initiatives.updatedAt, initiatives.id);
  let destroyed = 0;
  const failures: unknown[] = [];
  for (const initiative of due) {
    // One initiative that cannot be purged now must not keep the others' data: each goes on its own.
    destroyed += await db.transaction(async (tx) => {
      // A goal once reached may be lost again by withdrawals before the close: the count decides. Read
      // without a lock first, so one that meets its goal and awaits verification holds nothing up.
      if (initiative.status === 'closed' && initiative.reachedGoal && (await goalMet(tx, await getInitiative(tx, initiative.id)))) return 0;
      // Locked against a paper batch (it holds the row FOR SHARE): one committed before is purged
      // with the rest, one after sees the purge and is refused. A verification started meanwhile wins.
      const current = await getInitiative(tx, initiative.id, 'update');
      if (current.status !== initiative.status) return 0;
      // Another engine's purge held the row first and is committed: one destruction, recorded once.
      if (await personalDataDestroyed(tx, initiative.id)) return 0;
      if (current.status === 'closed' && (await goalMet(tx, current))) return 0;
      const held = and(eq(signatures.initiativeId, initiative.id), isNotNull(signatures.personalData));
      const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(signatures).where(held);
      await tx.update(signatures).set({ personalData: null }).where(held);
      await appendAudit(tx, {
        actor: 'system:scheduler',
        action: DESTROYED,
        at: now,
        jurisdictionId: initiative.jurisdictionId,
        initiativeId: initiative.id,
        details: { signatures: n, status: initiative.status },
      });
      return n;
    }).catch((error: unknown) => (failures.push(error), 0));
  }
  if (failures.length > 0) {
    // The database's own message of the first failure is what the scheduler logs (not the query's parameters).
    const first = failures[0];
    throw new AggregateError(failures, `The personal data of ${failures.length} of ${due.length} initiatives due could not be destroyed; it is tried again on the next run.`, {
      cause: first instanceof Error && first.cause instanceof Error ? first.cause : first,
    });
  }
  return destroyed;
}

/** On the count itself: paper keyed in since the scheduler last recorded crossings may have reached the goal. */
async function goalMet(tx: Executor, initiative: InitiativeRow): Promise<boolean> {
  const [jurisdiction] = await tx.select().from(jurisdictions).where(eq(jurisdictions.id, initiative.jurisdictionId));
  return evaluateRules(rulesOf(initiative, jurisdiction!), electorateOf(initiative, jurisdiction!), await tallySignatures(tx, initiative.id)).goalMet;
}

/** The refusal of work that needs the signers' personal data once the retention schedule has destroyed it. */
export function personalDataDestroyedProblem(consequence: string): Problem {
  return problems.conflict('personal-data-destroyed', 'Personal data destroyed', `The personal data of this initiative's signers was destroyed under the retention schedule: ${consequence}`);
}

/** Whether the retention schedule has destroyed the personal data of this initiative's signers. */
/** In SQL, for the initiative of the row at hand (`initiatives.id`): its signers' personal data was destroyed. */
export const destroyedSql = sql`exists (select 1 from ${auditLog} where ${auditLog.initiativeId} = ${initiatives.id} and ${auditLog.action} = ${DESTROYED})`;

export async function personalDataDestroyed(db: Executor, initiativeId: string): Promise<boolean> {
  const [row] = await db
    .select({ seq: auditLog.seq })
    .from(auditLog)
    .where(and(eq(auditLog.initiativeId, initiativeId), eq(auditLog.action, DESTROYED)))
    .limit(1);
  return row !== undefined;
}
