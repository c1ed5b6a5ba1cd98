import { z } from 'zod';

export const CountOrRatioSchema = z.union([
  z.strictObject({ signatures: z.number().int().positive() }),
  z.strictObject({ ratio: z.number().gt(0).lte(1) }),
]);
export type CountOrRatio = z.infer<typeof CountOrRatioSchema>;

export const DistrictRequirementSchema = z.union([
  CountOrRatioSchema,
  z.strictObject({ table: z.record(z.string().min(1), z.number().int().nonnegative()) }),
]);
export type DistrictRequirement = z.infer<typeof DistrictRequirementSchema>;

export const MilestoneSchema = z.strictObject({
  signatures: z.number().int().positive(),
  label: z.string().min(1).max(200),
});

export const RulesSchema = z
  .strictObject({
    goal: CountOrRatioSchema,
    districts: z
      .strictObject({
        minCount: z.number().int().positive().optional(),
        each: DistrictRequirementSchema,
      })
      .optional(),
    collectionDays: z.number().int().positive().max(3650),
    closeWhenMet: z.boolean().default(false),
    milestones: z.array(MilestoneSchema).default([]),
  })
  .superRefine((rules, ctx) => {
    // A milestone is recorded once under its signature count, so two must not share one.
    const seen = new Set<number>();
    rules.milestones.forEach((milestone, index) => {
      if (seen.has(milestone.signatures)) {
        ctx.addIssue({
          code: 'custom',
          path: ['milestones', index, 'signatures'],
          message: 'two milestones have the same number of signatures',
        });
      }
      seen.add(milestone.signatures);
    });
  });
export type Rules = z.output<typeof RulesSchema>;
export type RulesInput = z.input<typeof RulesSchema>;

export type JurisdictionElectorate = {
  electorate: number;
  districts: { code: string; electorate: number }[];
};

/**
 * The figures an initiative is evaluated on: those of its jurisdiction when the clerk opened it
 * (frozen with its rules, so a later change of the electorate moves no goal), or the
 * jurisdiction's current ones for an initiative not opened yet (or opened before figures were kept).
 */
export function electorateOf(initiative: { electorateFigures?: JurisdictionElectorate | null }, jurisdiction: JurisdictionElectorate): JurisdictionElectorate {
  return initiative.electorateFigures ?? jurisdiction;
}

export type SignatureCounts = { total: number; byDistrict: Record<string, number> };

export type Criterion = { kind: 'goal' | 'districts'; required: number; current: number; met: boolean };
export type DistrictResult = { code: string; signatures: number; required: number | null; met: boolean | null };
export type MilestoneResult = { signatures: number; label: string; reached: boolean };
export type Evaluation = {
  goalMet: boolean;
  criteria: Criterion[];
  districts: DistrictResult[];
  milestones: MilestoneResult[];
};

/** A count is itself; a ratio is ceil(ratio × electorate). */
export function requiredFor(req: CountOrRatio, electorate: number): number {
  if ('signatures' in req) return req.signatures;
  // 15 significant digits drop binary float error (0.07 × 100 = 7.000000000000001) at any electorate size.
  return Math.ceil(Number((req.ratio * electorate).toPrecision(15)));
}

function districtRequired(each: DistrictRequirement, district: { code: string; electorate: number }): number | null {
  if ('table' in each) {
    // hasOwn, so a district coded "constructor" does not read the prototype.
    return Object.hasOwn(each.table, district.code) ? (each.table[district.code] ?? null) : null;
  }
  return requiredFor(each, district.electorate);
}

/** Every criterion of the rules against the current counts (SPEC §3). */
export function evaluateRules(
  rules: Rules,
  jurisdiction: JurisdictionElectorate,
  counts: SignatureCounts,
): Evaluation {
  const goalRequired = requiredFor(rules.goal, jurisdiction.electorate);
  const criteria: Criterion[] = [
    { kind: 'goal', required: goalRequired, current: counts.total, met: counts.total >= goalRequired },
  ];

  const districtRule = rules.districts;
  const districts: DistrictResult[] = jurisdiction.districts.map((district) => {
    const signatures = Object.hasOwn(counts.byDistrict, district.code) ? (counts.byDistrict[district.code] ?? 0) : 0;
    const required = districtRule ? districtRequired(districtRule.each, district) : null;
    return { code: district.code, signatures, required, met: required === null ? null : signatures >= required };
  });
  // A district the jurisdiction added after these figures were taken (an initiative keeps those of
  // its opening day): its signatures are in the total, so it is listed too, with no minimum of its own.
  const listed = new Set(districts.map((district) => district.code));
  for (const code of Object.keys(counts.byDistrict).filter((code) => !listed.has(code) && (counts.byDistrict[code] ?? 0) > 0).sort()) {
    districts.push({ code, signatures: counts.byDistrict[code]!, required: null, met: null });
  }

  if (districtRule) {
    const withRequirement = districts.filter((district) => district.required !== null).length;
    const required = districtRule.minCount ?? withRequirement;
    const current = districts.filter((district) => district.met === true).length;
    criteria.push({ kind: 'districts', required, current, met: current >= required });
  }

  // Lowest first, as signatures reach them, whatever order the configuration lists them in.
  const milestones = rules.milestones
    .map((milestone) => ({ signatures: milestone.signatures, label: milestone.label, reached: counts.total >= milestone.signatures }))
    .sort((a, b) => a.signatures - b.signatures);

  return { goalMet: criteria.every((criterion) => criterion.met), criteria, districts, milestones };
}

/**
 * Stable names of what has been reached, so each crossing is recorded exactly once; in the order
 * signatures reach them (the goal at its required count, before a milestone at the same count), so
 * crossings seen together are announced as they happened.
 */
export function reachedKeys(e: Evaluation): string[] {
  const reached = e.milestones.filter((milestone) => milestone.reached).map((milestone) => ({ key: `milestone:${milestone.signatures}`, at: milestone.signatures }));
  if (e.goalMet) {
    const goal = e.criteria.find((criterion) => criterion.kind === 'goal')!.required;
    reached.splice(reached.filter((milestone) => milestone.at < goal).length, 0, { key: 'goal', at: goal });
  }
  return reached.map((crossing) => crossing.key);
}
