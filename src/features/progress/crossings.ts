import { eq, inArray } from 'drizzle-orm';
import { electorateOf, evaluateRules, reachedKeys } from '../../core/rules';
import type { Database } from '../../db/client';
import { initiativeCrossings, initiatives, jurisdictions } from '../../db/schema';
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
          data: { initiativeId: initiative.id, signatures: tally.total, ...(milestone ? { milestone } : {}) },
        });
        if (key === 'goal' && rules.closeWhenMet && initiative.status === 'open') {
          const current = await getInitiative(tx, initiative.id);
          if (current.status === 'open') {
            await transition(tx, current, 'close', { actor: 'system:scheduler', now, patch: { closesAt: now, closedAt: now }, details: { by: 'goal-met' } });
          }
        }
      }
    });
  }
  return recorded;
}

