import { and, eq, inArray, sql } from 'drizzle-orm';
import { districtsByCode } from '../../core/districts';
import { electorateOf, evaluateRules, type Evaluation, type JurisdictionElectorate, type Rules, RulesSchema } from '../../core/rules';
import type { Executor } from '../../db/client';
import { initiativeCrossings, signatureCounts, type District } from '../../db/schema';

export interface SignatureTally {
  total: number;
  byDistrict: Record<string, number>;
}

/** Sums the slotted counters of one initiative: a handful of rows, whatever the number of signatures. */
export async function tallySignatures(db: Executor, initiativeId: string): Promise<SignatureTally> {
  const rows = await db
    .select({ district: signatureCounts.district, count: sql<string>`sum(${signatureCounts.count})` })
    .from(signatureCounts)
    .where(eq(signatureCounts.initiativeId, initiativeId))
    .groupBy(signatureCounts.district);
  return toTally(rows);
}

/** Tallies of many initiatives in one query (scheduler, lists). */
export async function tallyMany(db: Executor, initiativeIds: string[]): Promise<Map<string, SignatureTally>> {
  const result = new Map<string, SignatureTally>();
  if (initiativeIds.length === 0) return result;
  const rows = await db
    .select({ initiativeId: signatureCounts.initiativeId, district: signatureCounts.district, count: sql<string>`sum(${signatureCounts.count})` })
    .from(signatureCounts)
    .where(inArray(signatureCounts.initiativeId, initiativeIds))
    .groupBy(signatureCounts.initiativeId, signatureCounts.district);
  for (const id of initiativeIds) result.set(id, { total: 0, byDistrict: {} });
  for (const row of rows) {
    const tally = result.get(row.initiativeId)!;
    const n = Number(row.count);
    tally.byDistrict[row.district] = n;
    tally.total += n;
  }
  return result;
}

export function toTally(rows: { district: string; count: string | number }[]): SignatureTally {
  const byDistrict: Record<string, number> = {};
  let total = 0;
  for (const row of rows) {
    const n = Number(row.count);
    byDistrict[row.district] = n;
    total += n;
  }
  return { total, byDistrict };
}

/** Counter rows per (initiative, district): concurrent writers mostly touch different rows. */
const SLOTS = 16;

export const randomSlot = () => Math.floor(Math.random() * SLOTS);

/**
 * Adds to the counters of an initiative's districts (one entry per district), in the caller's
 * transaction and one statement: one random slot each, taken in district order as the signing
 * statement takes them, so two writers never each hold a counter the other waits for.
 */
export async function bumpCounts(tx: Executor, initiativeId: string, deltas: Iterable<readonly [district: string, delta: number]>): Promise<void> {
  const rows = [...deltas].map(([district, delta]) => ({ district, delta }));
  if (rows.length === 0) return;
  await tx.execute(sql`
    insert into signature_counts (initiative_id, district, slot, count)
    select ${initiativeId}::uuid, d.district, ${randomSlot()}::smallint, d.delta
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as d(district text, delta bigint)
    order by d.district
    on conflict (initiative_id, district, slot) do update set count = signature_counts.count + excluded.count`);
}

export interface ProgressSubject {
  id: string;
  status: string;
  kind: string;
  rules: Record<string, unknown> | null;
  closesAt: Date | null;
  /** Frozen at opening (see electorateOf). */
  electorateFigures?: JurisdictionElectorate | null;
}

export interface ProgressJurisdiction {
  electorate: number;
  districts: District[];
  rules: Record<string, unknown>;
}

/** The rules that apply: frozen ones once open, otherwise the jurisdiction's current default. */
export function rulesOf(initiative: ProgressSubject, jurisdiction: ProgressJurisdiction): Rules {
  return RulesSchema.parse(initiative.rules ?? jurisdiction.rules[initiative.kind]);
}

/**
 * Up to this many districts a progress lists them all (577 circonscriptions, 2,000 communes of a
 * département). Beyond, it lists this many: for France's 34,969 communes every district made a
 * progress of 2.7 MB, sent to every reader and on every change of the live stream.
 */
export const PROGRESS_DISTRICTS_MAX = 1_000;

export interface Progress {
  initiativeId: string;
  status: string;
  signatures: number;
  goalMet: boolean;
  criteria: Evaluation['criteria'];
  /** How many districts there are (those listed in `districts` may be fewer). */
  districtCount: number;
  districts: (Evaluation['districts'][number] & { name: string })[];
  milestones: { signatures: number; label: string; reached: boolean; reachedAt: string | null }[];
  closesAt: string | null;
  updatedAt: string;
}

export function buildProgress(
  initiative: ProgressSubject,
  jurisdiction: ProgressJurisdiction,
  tally: SignatureTally,
  crossings: { key: string; reachedAt: Date }[],
  now: Date,
  options: { allDistricts?: boolean } = {},
): Progress {
  const evaluation = evaluateRules(rulesOf(initiative, jurisdiction), electorateOf(initiative, jurisdiction), tally);
  const reachedAt = new Map(crossings.map((c) => [c.key, c.reachedAt.toISOString()]));
  const listed = options.allDistricts ? evaluation.districts : listedDistricts(evaluation.districts);
  const names = districtsByCode(jurisdiction.districts);
  return {
    initiativeId: initiative.id,
    status: initiative.status,
    signatures: tally.total,
    goalMet: evaluation.goalMet,
    criteria: evaluation.criteria,
    districtCount: evaluation.districts.length,
    districts: listed.map((d) => ({ ...d, name: names.get(d.code)?.name ?? d.code })),
    // A milestone once announced stays reached (its announcement, and what it obliged, stand) even if withdrawals take the count back under it.
    milestones: evaluation.milestones.map((m) => {
      const at = reachedAt.get(`milestone:${m.signatures}`) ?? null;
      return { ...m, reached: m.reached || at !== null, reachedAt: at };
    }),
    closesAt: initiative.closesAt?.toISOString() ?? null,
    updatedAt: now.toISOString(),
  };
}

/**
 * The districts a progress lists: every one, in the jurisdiction's order, up to
 * PROGRESS_DISTRICTS_MAX; beyond, those that meet their minimum then those with the most
 * signatures, at most PROGRESS_DISTRICTS_MAX (a district without a signature that does not meet a
 * minimum says nothing a reader needs; the clerks' export gives them all).
 */
export function listedDistricts<D extends { code: string; signatures: number; met: boolean | null }>(districts: D[]): D[] {
  if (districts.length <= PROGRESS_DISTRICTS_MAX) return districts;
  return districts
    .filter((d) => d.signatures > 0 || d.met === true)
    .sort((a, b) => Number(b.met === true) - Number(a.met === true) || b.signatures - a.signatures || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
    .slice(0, PROGRESS_DISTRICTS_MAX);
}

export async function crossingsOf(db: Executor, initiativeId: string) {
  return db
    .select({ key: initiativeCrossings.key, reachedAt: initiativeCrossings.reachedAt })
    .from(initiativeCrossings)
    .where(and(eq(initiativeCrossings.initiativeId, initiativeId)));
}
