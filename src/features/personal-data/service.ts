import { and, asc, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import { electorateOf, evaluateRules } from '../../core/rules';
import type { Database, Executor } from '../../db/client';
import { rowsOf } from '../../db/query';
import { initiativeCrossings, initiatives, jurisdictions, personalDataPurges, signatures, verifications } from '../../db/schema';
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
      .select({
        id: signatures.id,
        initiativeId: signatures.initiativeId,
        jurisdictionId: initiatives.jurisdictionId,
        personalData: signatures.personalData,
        // A purge under way: what its pages have not reached yet is as destroyed as the rest.
        purged: sql<boolean>`${destroyedSql}`,
      })
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
      if (row.personalData && !row.purged) result.set(row.id, await openPersonalData(deps.keys, row.personalData));
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

/** Signatures whose data one page of the purge destroys, in a transaction of its own: a fraction of a second. */
export const PURGE_PAGE = 10_000;
/** How long one pass of the scheduler goes on purging pages, so the other periodic tasks (and a Worker's cron run) are not held up. */
export const PURGE_BUDGET_MS = 3000;

type DueInitiative = { id: string; status: string; reachedGoal: boolean };

/**
 * Destroys (sets to NULL) the personal data of initiatives whose retention period is over;
 * sheet and collector stay, as they describe the paper form and its collector, not the signer.
 * A closed initiative below its goal (on its count, whatever it reached before) has nothing for the
 * clerks to verify: its data goes `afterResultMonths` after its close, as if its result were out
 * (its status stays `closed`).
 *
 * Each initiative's purge begins in a short transaction holding its row (from then on its data counts
 * as destroyed), then goes a page of signatures at a time, each page a transaction of its own holding
 * the purge's row (another engine skips it meanwhile), one page of each purge under way after the
 * other, until all are done or `budgetMs` is spent (one page of each at least). What a page committed
 * stays: the next pass, on this engine or another, goes on after it. The last page writes the audit
 * entry with the number of every page. Returns the number of signatures whose data this pass destroyed.
 */
export async function purgePersonalData(
  db: Database,
  now: Date,
  periods: RetentionPeriods = DEFAULT_RETENTION,
  options: { pageSize?: number; budgetMs?: number } = {},
): Promise<number> {
  const pageSize = options.pageSize ?? PURGE_PAGE;
  const budgetMs = options.budgetMs ?? PURGE_BUDGET_MS;
  const started = performance.now();
  const due = await db
    .select({
      id: initiatives.id,
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
        // Each initiative is purged once: one begun goes on below.
        sql`not ${destroyedSql}`,
      ),
    )
    // The longest overdue first.
    .orderBy(initiatives.updatedAt, initiatives.id);
  // One initiative that cannot be purged now must not keep the others' data: each goes on its own.
  const failures = new Map<string, unknown>();
  for (const initiative of due) await beginPurge(db, initiative, now).catch((error: unknown) => failures.set(initiative.id, error));
  const underWay = await db
    .select({ initiativeId: personalDataPurges.initiativeId })
    .from(personalDataPurges)
    .where(isNull(personalDataPurges.doneAt))
    .orderBy(asc(personalDataPurges.begunAt), asc(personalDataPurges.initiativeId));
  let destroyed = 0;
  // The purges with more to destroy after the page they were just given: each gets its next page in turn.
  let going = underWay.map((p) => p.initiativeId);
  const spent = () => performance.now() - started >= budgetMs;
  for (let round = 0; going.length > 0 && !(round > 0 && spent()); round++) {
    const next: string[] = [];
    for (const initiativeId of going) {
      if (round > 0 && spent()) break;
      try {
        const page = await purgePage(db, initiativeId, now, pageSize);
        destroyed += page.destroyed;
        if (page.more) next.push(initiativeId);
      } catch (error) {
        failures.set(initiativeId, error);
      }
    }
    going = next;
  }
  if (failures.size > 0) {
    // The database's own message of the first failure is what the scheduler logs (not the query's parameters).
    const first = [...failures.values()][0];
    const tried = new Set([...due.map((d) => d.id), ...underWay.map((p) => p.initiativeId)]).size;
    throw new AggregateError([...failures.values()], `The personal data of ${failures.size} of ${tried} initiatives due could not be destroyed; it is tried again on the next run.`, {
      cause: first instanceof Error && first.cause instanceof Error ? first.cause : first,
    });
  }
  return destroyed;
}

/**
 * Begins the purge of an initiative due, unless what it was found due for no longer holds. Holds the
 * initiative's row against a paper batch (it holds the row FOR SHARE): one committed before is purged
 * with the rest, one after sees the purge begun and is refused. A verification started meanwhile wins.
 */
async function beginPurge(db: Database, initiative: DueInitiative, now: Date): Promise<void> {
  // A goal once reached may be lost again by withdrawals before the close: the count decides. Read
  // without a lock first, so one that meets its goal and awaits verification holds nothing up.
  if (initiative.status === 'closed' && initiative.reachedGoal && (await goalMet(db, await getInitiative(db, initiative.id)))) return;
  await db.transaction(async (tx) => {
    const current = await getInitiative(tx, initiative.id, 'update');
    if (current.status !== initiative.status) return;
    // Another engine's purge held the row first and began: its pages are shared out below.
    if (await personalDataDestroyed(tx, initiative.id)) return;
    if (current.status === 'closed' && (await goalMet(tx, current))) return;
    await tx.insert(personalDataPurges).values({ initiativeId: initiative.id, status: current.status, begunAt: now });
  });
}

/**
 * One page of a purge under way: the data of the next `pageSize` signatures that hold some, by time
 * signed then id (through the index of an initiative's signatures by time, so a page reads its own
 * rows only, whatever else the table holds), is destroyed, and the purge's row moved past them in the
 * same transaction. A short page is the last: it writes the audit entry, with the number of every
 * page, and marks the purge done.
 */
async function purgePage(db: Database, initiativeId: string, now: Date, pageSize: number): Promise<{ destroyed: number; more: boolean }> {
  return db.transaction(async (tx) => {
    // Another engine's page holds the row: it is skipped, never waited for, never destroyed twice.
    const [purge] = await tx
      .select({
        status: personalDataPurges.status,
        destroyed: personalDataPurges.destroyed,
        doneAt: personalDataPurges.doneAt,
        after: personalDataPurges.after,
        // As text: a JavaScript date would drop the microseconds.
        afterCreatedAt: sql<string | null>`${personalDataPurges.afterCreatedAt}::text`,
      })
      .from(personalDataPurges)
      .where(eq(personalDataPurges.initiativeId, initiativeId))
      .for('update', { skipLocked: true });
    if (!purge || purge.doneAt) return { destroyed: 0, more: false };
    const [page] = rowsOf<{ last: string | null; lastCreatedAt: string | null; seen: number; destroyed: number }>(
      await tx.execute(sql`
        with page as (
          select id, created_at from ${signatures}
          where initiative_id = ${initiativeId} and personal_data is not null
            ${purge.after === null ? sql`` : sql`and (created_at, id) > (${purge.afterCreatedAt}::timestamptz, ${purge.after}::uuid)`}
          order by created_at, id limit ${pageSize}
        ), wiped as (
          update ${signatures} set personal_data = null from page
          where ${signatures}.id = page.id and ${signatures}.personal_data is not null
          returning 1
        ), last as (
          select id, created_at from page order by created_at desc, id desc limit 1
        )
        select (select id from last) as last, (select created_at::text from last) as "lastCreatedAt",
               (select count(*) from page)::int as seen, (select count(*) from wiped)::int as destroyed`),
    );
    const { last, lastCreatedAt, seen, destroyed } = page!;
    const total = purge.destroyed + destroyed;
    const done = seen < pageSize;
    await tx
      .update(personalDataPurges)
      .set({
        ...(last === null ? {} : { after: last, afterCreatedAt: sql`${lastCreatedAt}::timestamptz` }),
        destroyed: total,
        ...(done ? { doneAt: now } : {}),
      })
      .where(eq(personalDataPurges.initiativeId, initiativeId));
    if (done) {
      const [initiative] = await tx.select({ jurisdictionId: initiatives.jurisdictionId }).from(initiatives).where(eq(initiatives.id, initiativeId));
      await appendAudit(tx, {
        actor: 'system:scheduler',
        action: DESTROYED,
        at: now,
        jurisdictionId: initiative!.jurisdictionId,
        initiativeId,
        details: { signatures: total, status: purge.status },
      });
    }
    return { destroyed, more: !done };
  });
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

/**
 * In SQL, for the initiative of the row at hand (`initiatives.id`): its signers' personal data was
 * destroyed, or its purge has begun (from its first page, what is left counts as destroyed).
 */
export const destroyedSql = sql`exists (select 1 from ${personalDataPurges} where ${personalDataPurges.initiativeId} = ${initiatives.id})`;

/** Whether the retention schedule has destroyed the personal data of this initiative's signers, or begun to. */
export async function personalDataDestroyed(db: Executor, initiativeId: string): Promise<boolean> {
  const [row] = await db.select({ id: personalDataPurges.initiativeId }).from(personalDataPurges).where(eq(personalDataPurges.initiativeId, initiativeId)).limit(1);
  return row !== undefined;
}
