import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CountOrRatioSchema,
  DistrictRequirementSchema,
  RulesSchema,
  evaluateRules,
  reachedKeys,
  requiredFor,
  type JurisdictionElectorate,
  type Rules,
  type RulesInput,
  type SignatureCounts,
} from '../../src/core/rules';

const rules = (input: RulesInput): Rules => RulesSchema.parse(input);

const paris: JurisdictionElectorate = {
  electorate: 2103778,
  districts: [
    { code: '75101', electorate: 15114 },
    { code: '75102', electorate: 14250 },
    { code: '75111', electorate: 104000 },
  ],
};

describe('RulesSchema', () => {
  it('fills the defaults', () => {
    expect(rules({ goal: { signatures: 5000 }, collectionDays: 365 })).toEqual({
      goal: { signatures: 5000 },
      collectionDays: 365,
      closeWhenMet: false,
      milestones: [],
    });
  });

  it('accepts the SPEC examples', () => {
    expect(() =>
      rules({
        goal: { ratio: 0.1 },
        districts: { minCount: 10, each: { ratio: 0.05 } },
        collectionDays: 270,
        closeWhenMet: true,
        milestones: [{ signatures: 10000, label: 'government response' }],
      }),
    ).not.toThrow();
    expect(DistrictRequirementSchema.safeParse({ table: { FR: 58320, DE: 69120, MT: 0 } }).success).toBe(true);
  });

  it('refuses malformed rules', () => {
    const bad: unknown[] = [
      { goal: { signatures: 0 }, collectionDays: 365 },
      { goal: { signatures: 10.5 }, collectionDays: 365 },
      { goal: { ratio: 0 }, collectionDays: 365 },
      { goal: { ratio: 1.2 }, collectionDays: 365 },
      { goal: { signatures: 10, ratio: 0.1 }, collectionDays: 365 },
      { goal: { signatures: 10 }, collectionDays: 0 },
      { goal: { signatures: 10 }, collectionDays: 3651 },
      { goal: { signatures: 10 }, collectionDays: 30, extra: true },
      { goal: { signatures: 10 }, collectionDays: 30, districts: { minCount: 0, each: { signatures: 1 } } },
      { goal: { signatures: 10 }, collectionDays: 30, districts: { each: { table: { FR: -1 } } } },
      { goal: { signatures: 10 }, collectionDays: 30, milestones: [{ signatures: 5, label: '' }] },
      { goal: { signatures: 10 }, collectionDays: 30, milestones: [{ signatures: 5, label: 'x'.repeat(201) }] },
    ];
    for (const input of bad) expect(RulesSchema.safeParse(input).success, JSON.stringify(input)).toBe(false);
  });

  it('refuses two milestones at the same count, naming the second', () => {
    const result = RulesSchema.safeParse({
      goal: { signatures: 10 },
      collectionDays: 30,
      milestones: [
        { signatures: 5, label: 'a' },
        { signatures: 5, label: 'b' },
      ],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['milestones', 1, 'signatures']);
  });

  it('keeps count and ratio strict', () => {
    expect(CountOrRatioSchema.safeParse({ signatures: 5 }).success).toBe(true);
    expect(CountOrRatioSchema.safeParse({ ratio: 1 }).success).toBe(true);
    expect(CountOrRatioSchema.safeParse({ table: {} }).success).toBe(false);
  });
});

describe('requiredFor', () => {
  it('takes a count as is and rounds a ratio up', () => {
    expect(requiredFor({ signatures: 5000 }, 2103778)).toBe(5000);
    expect(requiredFor({ ratio: 0.1 }, 2103778)).toBe(210378);
    expect(requiredFor({ ratio: 0.05 }, 15114)).toBe(756);
    expect(requiredFor({ ratio: 1 }, 42)).toBe(42);
  });

  it('is not fooled by binary float error', () => {
    expect(0.07 * 100).toBeGreaterThan(7);
    expect(requiredFor({ ratio: 0.07 }, 100)).toBe(7);
    expect(requiredFor({ ratio: 0.1 }, 3)).toBe(1);
    expect(requiredFor({ ratio: 0.3 }, 10)).toBe(3);
    expect(requiredFor({ ratio: 0.01 }, 449_206_579)).toBe(4_492_066);
    expect(requiredFor({ ratio: 0.07 }, 100_000_000_000)).toBe(7_000_000_000);
  });

  it('is the smallest whole count at or above ratio × electorate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 50_000_000 }), (perTenThousand, electorate) => {
        const required = requiredFor({ ratio: perTenThousand / 10_000 }, electorate);
        // Exact integer arithmetic: required × 10000 ≥ ratio × electorate × 10000 > (required − 1) × 10000.
        return required * 10_000 >= perTenThousand * electorate && (required - 1) * 10_000 < perTenThousand * electorate;
      }),
    );
  });
});

describe('evaluateRules', () => {
  it('meets a count goal at the count', () => {
    const agenda = rules({ goal: { signatures: 5000 }, collectionDays: 365 });
    const under = evaluateRules(agenda, paris, { total: 4999, byDistrict: {} });
    expect(under.goalMet).toBe(false);
    expect(under.criteria).toEqual([{ kind: 'goal', required: 5000, current: 4999, met: false }]);

    const at = evaluateRules(agenda, paris, { total: 5000, byDistrict: { '75101': 41 } });
    expect(at.goalMet).toBe(true);
    expect(at.districts).toEqual([
      { code: '75101', signatures: 41, required: null, met: null },
      { code: '75102', signatures: 0, required: null, met: null },
      { code: '75111', signatures: 0, required: null, met: null },
    ]);
  });

  it('meets the Paris referendum ratio at ceil(10 % × 2,103,778) = 210,378', () => {
    const referendum = rules({ goal: { ratio: 0.1 }, collectionDays: 270 });
    expect(evaluateRules(referendum, paris, { total: 210377, byDistrict: {} }).goalMet).toBe(false);
    expect(evaluateRules(referendum, paris, { total: 210378, byDistrict: {} }).criteria[0]).toEqual({
      kind: 'goal',
      required: 210378,
      current: 210378,
      met: true,
    });
  });

  describe('a European Citizens’ Initiative: 1,000,000 and 7 of 27 states above their own minimum', () => {
    const minimums: Record<string, number> = {
      AT: 13395, BE: 15840, BG: 12015, CY: 4320, CZ: 15840, DE: 69120, DK: 10035, EE: 5040, ES: 42120,
      FI: 10035, FR: 58320, GR: 15840, HR: 8640, HU: 15840, IE: 9360, IT: 54720, LT: 7920, LU: 4320,
      LV: 6480, MT: 4320, NL: 20880, PL: 37440, PT: 15840, RO: 23040, SE: 15120, SI: 5760, SK: 10080,
    };
    const union: JurisdictionElectorate = {
      electorate: 370_000_000,
      districts: Object.keys(minimums).map((code) => ({ code, electorate: 1_000_000 })),
    };
    const eci = rules({
      goal: { signatures: 1_000_000 },
      districts: { minCount: 7, each: { table: minimums } },
      collectionDays: 365,
    });
    const sevenStates = ['DE', 'FR', 'IT', 'ES', 'PL', 'NL', 'MT'];

    it('is met with a million signatures and seven states at their minimum', () => {
      const byDistrict = Object.fromEntries(sevenStates.map((code) => [code, minimums[code] ?? 0]));
      const evaluation = evaluateRules(eci, union, { total: 1_000_000, byDistrict });
      expect(evaluation.goalMet).toBe(true);
      expect(evaluation.criteria).toEqual([
        { kind: 'goal', required: 1_000_000, current: 1_000_000, met: true },
        { kind: 'districts', required: 7, current: 7, met: true },
      ]);
      expect(evaluation.districts).toHaveLength(27);
      expect(evaluation.districts.find((d) => d.code === 'MT')).toEqual({ code: 'MT', signatures: 4320, required: 4320, met: true });
      expect(evaluation.districts.find((d) => d.code === 'AT')).toEqual({ code: 'AT', signatures: 0, required: 13395, met: false });
    });

    it('is not met with a million signatures from six states', () => {
      const byDistrict = Object.fromEntries(sevenStates.map((code) => [code, minimums[code] ?? 0]));
      byDistrict.MT = 4319;
      const evaluation = evaluateRules(eci, union, { total: 2_000_000, byDistrict });
      expect(evaluation.goalMet).toBe(false);
      expect(evaluation.criteria[1]).toEqual({ kind: 'districts', required: 7, current: 6, met: false });
    });
  });

  it('leaves districts missing from the table without a requirement', () => {
    const table = rules({ goal: { signatures: 10 }, districts: { each: { table: { '75101': 5, '75102': 0 } } }, collectionDays: 30 });
    const evaluation = evaluateRules(table, paris, { total: 10, byDistrict: { '75101': 5, '75111': 5 } });
    expect(evaluation.districts).toEqual([
      { code: '75101', signatures: 5, required: 5, met: true },
      { code: '75102', signatures: 0, required: 0, met: true },
      { code: '75111', signatures: 5, required: null, met: null },
    ]);
    // Default minCount: every district that has a requirement.
    expect(evaluation.criteria[1]).toEqual({ kind: 'districts', required: 2, current: 2, met: true });
    expect(evaluation.goalMet).toBe(true);
  });

  it('does not read table entries off the object prototype', () => {
    const odd: JurisdictionElectorate = { electorate: 10, districts: [{ code: 'constructor', electorate: 10 }] };
    const table = rules({ goal: { signatures: 1 }, districts: { each: { table: {} } }, collectionDays: 30 });
    expect(evaluateRules(table, odd, { total: 1, byDistrict: {} }).districts).toEqual([
      { code: 'constructor', signatures: 0, required: null, met: null },
    ]);
  });

  it('applies a ratio to each district’s own electorate and requires all by default', () => {
    const spread = rules({ goal: { ratio: 0.001 }, districts: { each: { ratio: 0.05 } }, collectionDays: 270 });
    const counts: SignatureCounts = { total: 6000, byDistrict: { '75101': 756, '75102': 713, '75111': 5199 } };
    const evaluation = evaluateRules(spread, paris, counts);
    expect(evaluation.districts.map((d) => [d.required, d.met])).toEqual([
      [756, true],
      [713, true],
      [5200, false],
    ]);
    expect(evaluation.criteria).toEqual([
      { kind: 'goal', required: 2104, current: 6000, met: true },
      { kind: 'districts', required: 3, current: 2, met: false },
    ]);
    expect(evaluation.goalMet).toBe(false);

    const withMinCount = rules({ goal: { ratio: 0.001 }, districts: { minCount: 2, each: { ratio: 0.05 } }, collectionDays: 270 });
    expect(evaluateRules(withMinCount, paris, counts).goalMet).toBe(true);
  });

  it('reports milestones, such as the UK petitions ladder', () => {
    const petition = rules({
      goal: { signatures: 10_000 },
      collectionDays: 180,
      milestones: [
        { signatures: 10_000, label: 'government response' },
        { signatures: 100_000, label: 'considered for debate' },
      ],
    });
    const evaluation = evaluateRules(petition, paris, { total: 10_000, byDistrict: {} });
    expect(evaluation.milestones).toEqual([
      { signatures: 10_000, label: 'government response', reached: true },
      { signatures: 100_000, label: 'considered for debate', reached: false },
    ]);
    expect(reachedKeys(evaluation)).toEqual(['goal', 'milestone:10000']);
    expect(reachedKeys(evaluateRules(petition, paris, { total: 9_999, byDistrict: {} }))).toEqual([]);
    expect(reachedKeys(evaluateRules(petition, paris, { total: 100_000, byDistrict: {} }))).toEqual([
      'goal',
      'milestone:10000',
      'milestone:100000',
    ]);
  });
});

describe('crossings in the order signatures reach them', () => {
  // Milestones configured out of order, the goal between them.
  const ladder = rules({
    goal: { signatures: 3 },
    collectionDays: 30,
    milestones: [
      { signatures: 5, label: 'cinq' },
      { signatures: 2, label: 'deux' },
      { signatures: 3, label: 'trois' },
    ],
  });

  it('lists milestones lowest first', () => {
    expect(evaluateRules(ladder, paris, { total: 2, byDistrict: {} }).milestones).toEqual([
      { signatures: 2, label: 'deux', reached: true },
      { signatures: 3, label: 'trois', reached: false },
      { signatures: 5, label: 'cinq', reached: false },
    ]);
  });

  it('names what was reached together lowest first, the goal before a milestone at its own count', () => {
    expect(reachedKeys(evaluateRules(ladder, paris, { total: 6, byDistrict: {} }))).toEqual(['milestone:2', 'goal', 'milestone:3', 'milestone:5']);
    expect(reachedKeys(evaluateRules(ladder, paris, { total: 3, byDistrict: {} }))).toEqual(['milestone:2', 'goal', 'milestone:3']);
  });
});

describe('evaluateRules properties', () => {
  const codes = ['A', 'B', 'C', 'D', 'E', 'F'];
  const countOrRatio = fc.oneof(
    fc.record({ signatures: fc.integer({ min: 1, max: 500 }) }),
    fc.record({ ratio: fc.double({ min: 0.0001, max: 1, noNaN: true }) }),
  );
  const districtRequirement = fc.oneof(
    countOrRatio,
    fc.record({ table: fc.dictionary(fc.constantFrom(...codes), fc.integer({ min: 0, max: 300 })) }),
  );
  const rulesArb = fc
    .record(
      {
        goal: countOrRatio,
        districts: fc.record(
          { minCount: fc.integer({ min: 1, max: 7 }), each: districtRequirement },
          { requiredKeys: ['each'] },
        ),
        collectionDays: fc.constant(30),
        milestones: fc.uniqueArray(
          fc.record({ signatures: fc.integer({ min: 1, max: 2000 }), label: fc.constant('m') }),
          { selector: (m) => m.signatures, maxLength: 4 },
        ),
      },
      { requiredKeys: ['goal', 'collectionDays'] },
    )
    .map((input) => RulesSchema.parse(input));
  const jurisdictionArb = fc
    .subarray(codes)
    .chain((districtCodes) =>
      fc.record({
        electorate: fc.integer({ min: 0, max: 5000 }),
        districts: fc.tuple(...districtCodes.map((code) => fc.record({ code: fc.constant(code), electorate: fc.integer({ min: 0, max: 1000 }) }))),
      }),
    );
  const countsArb = fc
    .record({ byDistrict: fc.dictionary(fc.constantFrom(...codes), fc.nat(600)), unassigned: fc.nat(1000) })
    .map(({ byDistrict, unassigned }) => ({
      byDistrict,
      total: Object.values(byDistrict).reduce((sum, n) => sum + n, unassigned),
    }));

  it('never un-meets a goal or a milestone when signatures are added', () => {
    fc.assert(
      fc.property(rulesArb, jurisdictionArb, countsArb, countsArb, (r, jurisdiction, before, added) => {
        const after: SignatureCounts = {
          total: before.total + added.total,
          byDistrict: Object.fromEntries(codes.map((code) => [code, (before.byDistrict[code] ?? 0) + (added.byDistrict[code] ?? 0)])),
        };
        const earlier = evaluateRules(r, jurisdiction, before);
        const later = evaluateRules(r, jurisdiction, after);
        if (earlier.goalMet && !later.goalMet) return false;
        const laterKeys = new Set(reachedKeys(later));
        return reachedKeys(earlier).every((key) => laterKeys.has(key));
      }),
    );
  });

  it('marks a criterion met exactly when current reaches required', () => {
    fc.assert(
      fc.property(rulesArb, jurisdictionArb, countsArb, (r, jurisdiction, counts) => {
        const evaluation = evaluateRules(r, jurisdiction, counts);
        return (
          evaluation.criteria.every((c) => c.met === c.current >= c.required) &&
          evaluation.goalMet === evaluation.criteria.every((c) => c.met) &&
          evaluation.districts.every((d) => (d.required === null ? d.met === null : d.met === d.signatures >= d.required)) &&
          // The jurisdiction's districts in order, then any other district holding signatures, by code, with no minimum.
          evaluation.districts.map((d) => d.code).join() ===
            [
              ...jurisdiction.districts.map((d) => d.code),
              ...Object.keys(counts.byDistrict)
                .filter((code) => !jurisdiction.districts.some((d) => d.code === code) && counts.byDistrict[code]! > 0)
                .sort(),
            ].join() &&
          evaluation.districts.slice(jurisdiction.districts.length).every((d) => d.required === null && d.signatures === counts.byDistrict[d.code])
        );
      }),
    );
  });
});
