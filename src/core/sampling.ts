import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { evaluateRules, type JurisdictionElectorate, type Rules } from './rules';

/**
 * Random-sample verification of petitions, after the California method
 * (Elections Code §9030; Cal. Code Regs., title 2, §§20530–20540).
 *
 * Words of the regulation, as used here:
 * - raw count `N`: the signatures filed (here: counted when the verification starts);
 * - random sample `n`: signatures drawn uniformly, without replacement, from the raw count;
 *   at least 500 or 3 % of the raw count, whichever is greater (never more than N);
 * - valid `V`: sampled signatures found valid and not duplicates;
 * - invalid: sampled signatures found not valid (not registered, wrong district, incomplete...);
 * - duplicates `D`: sampled signatures whose signer also signed another signature of the sample
 *   (one of each such pair is a duplicate, the other is judged on its own merits).
 */

/** How many signatures a sample takes by default: max(500, ceil(3 % × N)), capped at N. */
export function defaultSampleSize(population: number): number {
  return Math.min(population, Math.max(500, Math.ceil((population * 3) / 100)));
}

/** The smallest sample the method allows: its default size. A larger one may be drawn, never a smaller. */
export function minimumSampleSize(population: number): number {
  return defaultSampleSize(population);
}

/** A fresh seed for a sample when the clerk gives none: 128 random bits, hex. */
export function randomSeed(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
}

const DOMAIN = utf8ToBytes('civic-initiative-sample/v1');
const MAX_DRAW = 2 ** 48;

/**
 * A deterministic stream of uniform integers: HMAC-SHA256(seed, domain ‖ counter) blocks, read
 * 6 bytes at a time. Pure JavaScript hashing, so Node and Workers draw the same numbers.
 */
export class SeededDraws {
  private readonly key: Uint8Array;
  private counter = 0;
  private block = new Uint8Array(0);
  private offset = 0;

  constructor(seed: string) {
    this.key = utf8ToBytes(seed);
  }

  private next48(): number {
    if (this.offset + 6 > this.block.length) {
      const message = new Uint8Array(DOMAIN.length + 8);
      message.set(DOMAIN);
      new DataView(message.buffer).setBigUint64(DOMAIN.length, BigInt(this.counter++));
      this.block = hmac(sha256, this.key, message);
      this.offset = 0;
    }
    let value = 0;
    for (let i = 0; i < 6; i++) value = value * 256 + this.block[this.offset + i]!;
    this.offset += 6;
    return value;
  }

  /** A uniform integer in [0, bound): draws above the last whole multiple of `bound` are rejected, so no modulo bias. */
  below(bound: number): number {
    if (!Number.isSafeInteger(bound) || bound < 1 || bound > MAX_DRAW) throw new RangeError(`bound out of range: ${bound}`);
    const limit = MAX_DRAW - (MAX_DRAW % bound);
    for (;;) {
      const value = this.next48();
      if (value < limit) return value % bound;
    }
  }
}

/** Canonical order of the population (UTF-16 code units, as every runtime sorts strings), so the draw does not depend on how rows came back. */
function canonicalOrder(ids: readonly string[]): string[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The positions, in the canonically ordered population, of a uniform random sample without
 * replacement: a partial Fisher–Yates shuffle driven by the seed, in draw order. Only the positions
 * the shuffle moves are kept, so a sample of a population of millions costs the sample, not the population.
 */
export function drawSamplePositions(seed: string, population: number, size: number): number[] {
  const n = Math.min(Math.max(0, Math.floor(size)), population);
  const draws = new SeededDraws(seed);
  // What a full shuffle's array would hold at a moved position; any other position holds itself.
  const moved = new Map<number, number>();
  const positions: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = i + draws.below(population - i);
    positions.push(moved.get(j) ?? j);
    moved.set(j, moved.get(i) ?? i);
    moved.delete(i);
  }
  return positions;
}

/**
 * A uniform random sample without replacement: the ids at `drawSamplePositions` in the canonically
 * ordered ids. Same seed and same ids → same sample, in the same draw order.
 */
export function drawSample(seed: string, populationIds: readonly string[], size: number): string[] {
  const pool = canonicalOrder(populationIds);
  for (let i = 1; i < pool.length; i++) {
    if (pool[i] === pool[i - 1]) throw new RangeError(`the population lists ${pool[i]} twice`);
  }
  return drawSamplePositions(seed, pool.length, size).map((position) => pool[position]!);
}

export interface SampleFindings {
  /** N: the raw count the sample was drawn from. */
  population: number;
  /** n: the size of the sample. */
  sampleSize: number;
  /** V: sampled signatures found valid (duplicates excluded). */
  valid: number;
  /** D: duplicates found within the sample. */
  duplicates: number;
}

/** A non-negative rational, kept as whole numbers so a band or a floor never turns on a float's rounding. */
export interface Fraction {
  numerator: bigint;
  denominator: bigint;
}

function asNumber(p: number | Fraction): number {
  return typeof p === 'number' ? p : Number(p.numerator) / Number(p.denominator);
}

/** The whole part of a fraction: the signatures a projection supports, never one more. */
export function floorOf(f: Fraction): number {
  return Number(f.numerator / f.denominator);
}

export interface Projection {
  /** N/n: how many signatures of the raw count each sampled one stands for. */
  scale: number;
  /** (N/n)·(N/n − 1): the weight of each duplicate found in the sample. */
  duplicateWeight: number;
  /** N × V / n. */
  scaledValid: number;
  /** D × (N/n)·(N/n − 1). */
  duplicatePenalty: number;
  /** N × V / n − D × (N/n)·(N/n − 1), never below zero. */
  projectedValid: number;
  /** The same, exactly: (N·V·n − D·N·(N − n)) / n². Bands and counts are decided on it. */
  exact: Fraction;
}

/**
 * The projected number of valid signatures in the raw count (Cal. Code Regs., tit. 2, §20540):
 *
 *     projected valid = N × V / n  −  D × (N/n) × (N/n − 1)
 *
 * Why the duplicate weight: a pair of signatures by one person lands wholly in the sample with
 * probability ≈ (n/N)², so each pair seen there stands for (N/n)² pairs in the raw count. Each
 * of those pairs holds one signature too many. Since the duplicate found is already left out of V,
 * scaling V removes N/n of them; the penalty removes the remaining (N/n)² − N/n = (N/n)(N/n − 1).
 */
export function projectSample(findings: SampleFindings): Projection {
  const { population, sampleSize, valid, duplicates } = findings;
  if (sampleSize <= 0 || population <= 0) {
    return { scale: 0, duplicateWeight: 0, scaledValid: 0, duplicatePenalty: 0, projectedValid: 0, exact: { numerator: 0n, denominator: 1n } };
  }
  const scale = population / sampleSize;
  const duplicateWeight = scale * (scale - 1);
  const scaledValid = scale * valid;
  const duplicatePenalty = duplicates * duplicateWeight;
  const [N, n, V, D] = [population, sampleSize, valid, duplicates].map(BigInt) as [bigint, bigint, bigint, bigint];
  const numerator = N * V * n - D * N * (N - n);
  const exact = { numerator: numerator > 0n ? numerator : 0n, denominator: n * n };
  // One rounding (of the exact fraction), so a whole projection shows whole: 565 × 100 / 500 is 113, not 112.99999999999999.
  return { scale, duplicateWeight, scaledValid, duplicatePenalty, projectedValid: asNumber(exact), exact };
}

/**
 * Per-district projection: the same formula on each district's share of the sample, with the
 * sample's own scale (each sampled signature stands for N/n, whatever its district), capped at
 * the signatures filed in the district (`raw`): a district that drew more than its share of the
 * sample would otherwise be projected more valid signatures than it holds. Below the cap, the
 * districts' projections add up to the whole's; a capped one adds less.
 */
export function projectDistricts(
  population: number,
  sampleSize: number,
  byDistrict: Record<string, { valid: number; duplicates: number; raw: number }>,
): Record<string, Projection> {
  const result: Record<string, Projection> = {};
  for (const [code, findings] of Object.entries(byDistrict)) {
    const projection = projectSample({ population, sampleSize, valid: findings.valid, duplicates: findings.duplicates });
    result[code] = capAt(projection, Math.max(0, findings.raw));
  }
  return result;
}

/** A projection no higher than `ceiling` signatures (its exact figure and its number alike). */
function capAt(projection: Projection, ceiling: number): Projection {
  const { numerator, denominator } = projection.exact;
  if (numerator <= BigInt(ceiling) * denominator) return projection;
  return { ...projection, projectedValid: ceiling, exact: { numerator: BigInt(ceiling), denominator: 1n } };
}

export type SampleBand = 'certifiable' | 'full-count' | 'insufficient';

/** At or above 110 % of the requirement the sample suffices to certify. */
export const CERTIFY_PERCENT = 110;
/** Below 95 % the petition fails; in between, every signature must be counted. */
export const FULL_COUNT_PERCENT = 95;

/** A projection as a number, or exactly as a fraction (what the service passes). */
export type Projected = number | Fraction;

/** projected ≥ percent % of required; on a fraction in whole numbers, so 508 × 275 / 500 = 279.4 is exactly 110 % of 254. */
function reaches(projected: Projected, percent: number, required: number): boolean {
  if (typeof projected === 'number') return projected * 100 >= percent * required;
  return projected.numerator * 100n >= BigInt(percent) * BigInt(required) * projected.denominator;
}

/** The projection in percent of a requirement, rounded once (exactly 110 shows as 110). */
function percentOf(projected: Projected, required: number): number {
  if (typeof projected === 'number') return (100 * projected) / required;
  return asNumber({ numerator: projected.numerator * 100n, denominator: projected.denominator * BigInt(required) });
}

/**
 * Where a projection stands against one requirement (compared in percent, so 110 % of 2000 is
 * exactly 2200). An exact figure (a sample of every signature: nothing projected) has no band of
 * doubt: it meets the requirement or not.
 */
export function bandOf(projected: Projected, required: number, exact = false): SampleBand {
  if (exact) return reaches(projected, 100, required) ? 'certifiable' : 'insufficient';
  if (reaches(projected, CERTIFY_PERCENT, required)) return 'certifiable';
  if (reaches(projected, FULL_COUNT_PERCENT, required)) return 'full-count';
  return 'insufficient';
}

const SEVERITY: Record<SampleBand, number> = { certifiable: 0, 'full-count': 1, insufficient: 2 };

export interface CriterionAssessment {
  kind: 'goal' | 'districts';
  required: number;
  /** Goal: projected valid signatures; districts: districts whose projection meets their minimum. */
  projected: number;
  /** Goal: the projection in percent of the goal. */
  percent?: number;
  /** Districts: how many surely meet their minimum (≥ 110 %) and how many possibly do (≥ 95 %). */
  surelyMet?: number;
  possiblyMet?: number;
  band: SampleBand;
}

export interface SampleAssessment {
  band: SampleBand;
  criteria: CriterionAssessment[];
}

/**
 * The bands applied to every criterion of the rules: the goal on the projected total; a district
 * rule counts districts surely met (≥ 110 % of their minimum) and possibly met (≥ 95 %). The
 * initiative's band is its worst criterion's: one criterion in doubt asks for a full count.
 * `exact`: the sample holds every signature (fewer than the minimum sample size were counted), so
 * the "projection" is the count itself, decided signature by signature, and there is no doubt to settle.
 */
export function assessSample(
  rules: Rules,
  jurisdiction: JurisdictionElectorate,
  projection: { total: Projected; byDistrict: Record<string, Projected> },
  exact = false,
): SampleAssessment {
  const total = asNumber(projection.total);
  const byDistrict = Object.fromEntries(Object.entries(projection.byDistrict).map(([code, p]) => [code, asNumber(p)]));
  const evaluation = evaluateRules(rules, jurisdiction, { total, byDistrict });
  const goal = evaluation.criteria.find((c) => c.kind === 'goal')!;
  const criteria: CriterionAssessment[] = [
    {
      kind: 'goal',
      required: goal.required,
      projected: total,
      percent: percentOf(projection.total, goal.required),
      band: bandOf(projection.total, goal.required, exact),
    },
  ];

  const districtRule = evaluation.criteria.find((c) => c.kind === 'districts');
  if (districtRule) {
    const bands = evaluation.districts
      .filter((d) => d.required !== null)
      .map((d) => bandOf(Object.hasOwn(projection.byDistrict, d.code) ? projection.byDistrict[d.code]! : 0, d.required!, exact));
    const surelyMet = bands.filter((b) => b === 'certifiable').length;
    const possiblyMet = bands.filter((b) => b !== 'insufficient').length;
    const band: SampleBand = surelyMet >= districtRule.required ? 'certifiable' : possiblyMet >= districtRule.required ? 'full-count' : 'insufficient';
    criteria.push({ kind: 'districts', required: districtRule.required, projected: districtRule.current, surelyMet, possiblyMet, band });
  }
  const band = criteria.reduce<SampleBand>((worst, c) => (SEVERITY[c.band] > SEVERITY[worst] ? c.band : worst), 'certifiable');
  return { band, criteria };
}
