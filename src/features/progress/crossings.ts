import { and, eq, inArray, max } from 'drizzle-orm';
import { electorateOf, evaluateRules, reachedKeys } from '../../core/rules';
import type { Database, Executor } from '../../db/client';
import { initiativeCrossings, initiatives, jurisdictions, signatures } from '../../db/schema';
import { emitEvent } from '../../platform/outbox';
import { getInitiative, transition } from '../initiatives/service';
import { rulesOf, tallyMany } from './service';

/**
 * Records milestones and goals reached by initiatives still counting: open ones, and closed ones
 * until verification starts (the last signatures may come in the very moment before the deadline
 * closes it, and paper sheets signed during collection are keyed in until then). The primary key
 * on (initiative, key) makes each crossing happen once, whichever process sees it first.
 */
export async function recordCrossings(db: Database, now: Date, options: { includeClosed?: boolean } = {}): Promise<{ initiativeId: string; key: string }[]> {
  const open = await db
    .select({ initiative: initiatives, jurisdiction: jurisdictions })
    .from(initiatives)
    .innerJoin(jurisdictions, eq(jurisdictions.id, initiatives.jurisdictionId))
    .where(inArray(initiatives.status, options.includeClosed === false ? ['open'] : ['open', 'closed']));
  if (open.length === 0) return [];
  const tallies = await tallyMany(db, open.map((o) => o.initiative.id));
  const known = await db
    .select({ initiativeId: initiativeCrossings.initiativeId, key: initiativeCrossings.key })
    .from(initiativeCrossings)
    .where(inArray(initiativeCrossings.initiativeId, open.map((o) => o.initiative.id)));
  const seen = new Set(known.map((k) => `${k.initiativeId} ${k.key}`));
  const recorded: { initiativeId: string; key: string }[] = [];

  for (const { initiative, jurisdiction } of open) {
    const tally = tallies.get(initiative.id)!;
    const rules = rulesOf(initiative, jurisdiction);
    const fresh = reachedKeys(evaluateRules(rules, electorateOf(initiative, jurisdiction), tally)).filter((key) => !seen.has(`${initiative.id} ${key}`));
    if (fresh.length === 0) continue;
    await db.transaction(async (tx) => {
      for (const key of fresh) {
        const [row] = await tx
          .insert(initiativeCrossings)
          .values({ initiativeId: initiative.id, key, signatures: tally.total, reachedAt: now })
          .onConflictDoNothing()
          .returning();
        if (!row) continue;
        recorded.push({ initiativeId: initiative.id, key });
        const milestone = key.startsWith('milestone:') ? rules.milestones.find((m) => `milestone:${m.signatures}` === key) : undefined;
        await emitEvent(tx, {
          type: key === 'goal' ? 'initiative.goal_reached' : 'initiative.milestone_reached',
          at: now,
          initiativeId: initiative.id,
          jurisdictionId: initiative.jurisdictionId,
          data: { initiativeId: initiative.id, jurisdictionId: initiative.jurisdictionId, signatures: tally.total, ...(milestone ? { milestone } : {}) },
        });
        if (key === 'goal' && rules.closeWhenMet && initiative.status === 'open') {
          // Locked first: a batch of signatures being committed holds the row FOR SHARE, so the close comes after them.
          const current = await getInitiative(tx, initiative.id, 'update');
          if (current.status === 'open') {
            const closesAt = goalCloseTime(now, current.closesAt, await latestOnlineSignature(tx, initiative.id));
            await transition(tx, current, 'close', { actor: 'system:scheduler', now, patch: { closesAt, closedAt: now }, details: { by: 'goal-met' } });
          }
        }
      }
    });
  }
  return recorded;
}


/** When online signing took its last signature of the initiative. */
async function latestOnlineSignature(tx: Executor, initiativeId: string): Promise<Date | undefined> {
  const [row] = await tx
    .select({ at: max(signatures.createdAt) })
    .from(signatures)
    .where(and(eq(signatures.initiativeId, initiativeId), eq(signatures.channel, 'online')));
  return row?.at ?? undefined;
}

/**
 * The close of a goal met: the task's time, or just after the last online signature when one came in
 * since the task read its clock (signing accepts until closesAt, excluded); never after the deadline.
 */
function goalCloseTime(now: Date, deadline: Date | null, lastSigned: Date | undefined): Date {
  const after = lastSigned && lastSigned >= now ? new Date(lastSigned.getTime() + 1) : now;
  return deadline && deadline < after ? deadline : after;
}
