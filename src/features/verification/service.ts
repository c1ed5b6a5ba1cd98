import { and, eq, sql } from 'drizzle-orm';
import { evaluateRules } from '../../core/rules';
import type { Executor } from '../../db/client';
import { referendumItems, signatures, verifications } from '../../db/schema';
import type { AppDeps, Principal } from '../../platform/http';
import { signWithEngineKey } from '../../platform/keys';
import { emitEvent } from '../../platform/outbox';
import { problems } from '../../platform/problems';
import { requireClerk } from '../auth/access';
import { getInitiativeWithJurisdiction, transition } from '../initiatives/service';
import { rulesOf, type SignatureTally } from '../progress/service';
import type { StartVerification } from './schema';

/** Valid signatures per district, counted from the rows themselves (not the live counters). */
export async function verifiedTally(db: Executor, initiativeId: string): Promise<SignatureTally & { raw: number }> {
  const rows = await db
    .select({ district: signatures.district, status: signatures.status, n: sql<string>`count(*)` })
    .from(signatures)
    .where(and(eq(signatures.initiativeId, initiativeId), sql`${signatures.status} <> 'withdrawn'`))
    .groupBy(signatures.district, signatures.status);
  const byDistrict: Record<string, number> = {};
  let total = 0;
  let raw = 0;
  for (const row of rows) {
    const n = Number(row.n);
    raw += n;
    if (row.status !== 'counted') continue;
    byDistrict[row.district] = (byDistrict[row.district] ?? 0) + n;
    total += n;
  }
  return { total, byDistrict, raw };
}

export async function startVerification(deps: AppDeps, id: string, principal: Principal, input: StartVerification) {
  const now = deps.clock();
  return deps.db.db.transaction(async (tx) => {
    const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(tx, id);
    await requireClerk(tx, principal, jurisdiction.id);
    await transition(tx, initiative, 'startVerification', { actor: principal.subject, now, details: { method: input.method, seed: input.seed ?? null } });
    await tx.insert(verifications).values({
      initiativeId: id,
      method: input.method,
      seed: input.seed ?? null,
      sampleSize: input.sampleSize ?? null,
      startedBy: principal.subject,
      startedAt: now,
    });
  });
}

export async function verificationReport(deps: AppDeps, id: string, principal: Principal) {
  const db = deps.db.db;
  const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(db, id);
  await requireClerk(db, principal, jurisdiction.id);
  const [verification] = await db.select().from(verifications).where(eq(verifications.initiativeId, id));
  if (!verification) throw problems.notFound('Verification', id);
  const tally = await verifiedTally(db, id);
  const evaluation = evaluateRules(rulesOf(initiative, jurisdiction), jurisdiction, tally);
  const [item] = await db.select({ id: referendumItems.id }).from(referendumItems).where(eq(referendumItems.initiativeId, id));
  return {
    initiativeId: id,
    status: initiative.status,
    method: verification.method,
    seed: verification.seed,
    startedAt: verification.startedAt.toISOString(),
    completedAt: verification.completedAt?.toISOString() ?? null,
    outcome: verification.outcome,
    reason: verification.reason,
    counts: {
      raw: tally.raw,
      valid: tally.total,
      districts: evaluation.districts.map((d) => ({ code: d.code, valid: d.signatures, required: d.required, met: d.met })),
    },
    criteria: evaluation.criteria,
    goalMet: evaluation.goalMet,
    referendumItemId: item?.id ?? null,
  };
}

/**
 * Re-evaluates the frozen rules on verified counts; certifies into a referendum item with a
 * signed certificate, or declares the initiative insufficient. One transaction: all or nothing.
 */
export async function completeVerification(deps: AppDeps, id: string, principal: Principal, reason: string | undefined) {
  const now = deps.clock();
  return deps.db.db.transaction(async (tx) => {
    const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(tx, id);
    await requireClerk(tx, principal, jurisdiction.id);
    if (initiative.status !== 'verifying') throw problems.illegalTransition(initiative.status, 'complete verification');
    const [verification] = await tx.select().from(verifications).where(eq(verifications.initiativeId, id)).for('update');
    if (!verification) throw problems.illegalTransition(initiative.status, 'complete verification');
    const rules = rulesOf(initiative, jurisdiction);
    const tally = await verifiedTally(tx, id);
    const evaluation = evaluateRules(rules, jurisdiction, tally);
    const districts = evaluation.districts.map((d) => ({ code: d.code, valid: d.signatures, required: d.required, met: d.met }));

    if (!evaluation.goalMet) {
      const why = reason ?? unmetCriteria(evaluation.criteria);
      await transition(tx, initiative, 'declareInsufficient', { actor: principal.subject, now, patch: { reason: why }, details: { reason: why, valid: tally.total } });
      await tx.update(verifications).set({ completedAt: now, outcome: 'insufficient', reason: why }).where(eq(verifications.initiativeId, id));
      return { outcome: 'insufficient' as const, referendumItem: null };
    }

    const itemId = crypto.randomUUID();
    const certificate = await signWithEngineKey(
      deps.keys,
      'certificate+jwt',
      {
        referendumItem: itemId,
        initiative: { id: initiative.id, kind: initiative.kind, title: initiative.title, question: initiative.question },
        jurisdiction: { id: jurisdiction.id, name: jurisdiction.name, electorate: jurisdiction.electorate },
        rules,
        counts: { raw: tally.raw, valid: tally.total, districts },
        criteria: evaluation.criteria,
        method: verification.method,
        seed: verification.seed,
        log: null,
        certifiedAt: now.toISOString(),
      },
      { issuer: deps.config.publicUrl, now },
    );
    const [item] = await tx
      .insert(referendumItems)
      .values({
        id: itemId,
        initiativeId: id,
        jurisdictionId: jurisdiction.id,
        kind: initiative.kind,
        title: initiative.title,
        question: initiative.question,
        validSignatures: tally.total,
        districts,
        method: verification.method,
        certifiedAt: now,
        certificate,
      })
      .returning();
    await transition(tx, initiative, 'certify', { actor: principal.subject, now, details: { valid: tally.total, referendumItemId: itemId } });
    await tx.update(verifications).set({ completedAt: now, outcome: 'certified' }).where(eq(verifications.initiativeId, id));
    await emitEvent(tx, {
      type: 'referendum_item.created',
      at: now,
      initiativeId: id,
      jurisdictionId: jurisdiction.id,
      data: { referendumItemId: itemId, initiativeId: id, kind: initiative.kind, validSignatures: tally.total },
    });
    return { outcome: 'certified' as const, referendumItem: item! };
  });
}

function unmetCriteria(criteria: { kind: string; required: number; current: number; met: boolean }[]): string {
  return criteria
    .filter((c) => !c.met)
    .map((c) => (c.kind === 'goal' ? `${c.current} valid signatures of ${c.required} required` : `${c.current} districts of ${c.required} required met their minimum`))
    .join('; ');
}
