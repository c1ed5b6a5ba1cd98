import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  assessSample,
  bandOf,
  floorOf,
  defaultSampleSize,
  drawSample,
  drawSamplePositions,
  projectDistricts,
  projectSample,
  randomSeed,
  SeededDraws,
} from '../../src/core/sampling';
import { RulesSchema } from '../../src/core/rules';

const ids = (count: number, prefix = 'sig') => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`);

describe('sample size (the greater of 500 and 3 % of the raw count)', () => {
  it('takes 500 up to 16,666 signatures, then 3 % rounded up, never more than the raw count', () => {
    expect(defaultSampleSize(3000)).toBe(500);
    expect(defaultSampleSize(16_666)).toBe(500);
    expect(defaultSampleSize(16_667)).toBe(501);
    expect(defaultSampleSize(100_000)).toBe(3000);
    expect(defaultSampleSize(1_000_001)).toBe(30_001);
    expect(defaultSampleSize(320)).toBe(320);
    expect(defaultSampleSize(0)).toBe(0);
  });
});

describe('projection (Cal. Code Regs. tit. 2 §20540)', () => {
  it('scales the valid rate to the raw count and weighs each duplicate (N/n)·(N/n − 1)', () => {
    // 3,000 filed, 500 sampled: each sampled signature stands for 6; a duplicate costs 6 × 5 = 30 more.
    const p = projectSample({ population: 3000, sampleSize: 500, valid: 430, duplicates: 2 });
    expect(p.scale).toBe(6);
    expect(p.duplicateWeight).toBe(30);
    expect(p.scaledValid).toBe(2580);
    expect(p.duplicatePenalty).toBe(60);
    expect(p.projectedValid).toBe(2520);
  });

  it('without duplicates it is the valid rate times the raw count', () => {
    expect(projectSample({ population: 12_345, sampleSize: 500, valid: 400, duplicates: 0 }).projectedValid).toBeCloseTo(9876, 6);
  });

  it('a full sample (n = N) carries no duplicate penalty beyond the duplicate itself', () => {
    const p = projectSample({ population: 800, sampleSize: 800, valid: 700, duplicates: 5 });
    expect(p.duplicateWeight).toBe(0);
    expect(p.projectedValid).toBe(700);
  });

  it('never projects fewer than zero, and an empty sample projects zero', () => {
    expect(projectSample({ population: 10_000, sampleSize: 500, valid: 10, duplicates: 20 }).projectedValid).toBe(0);
    expect(projectSample({ population: 0, sampleSize: 0, valid: 0, duplicates: 0 }).projectedValid).toBe(0);
  });

  it('districts use the sample’s scale, so their projections add up to the total', () => {
    const byDistrict = { A: { valid: 200, duplicates: 1, raw: 1500 }, B: { valid: 230, duplicates: 1, raw: 1500 } };
    const districts = projectDistricts(3000, 500, byDistrict);
    expect(districts.A!.projectedValid).toBe(1170);
    expect(districts.B!.projectedValid).toBe(1350);
    expect(districts.A!.projectedValid + districts.B!.projectedValid).toBe(projectSample({ population: 3000, sampleSize: 500, valid: 430, duplicates: 2 }).projectedValid);
  });

  it('never projects a district more valid signatures than were filed there, nor fewer than zero', () => {
    // 1,000 filed, 500 sampled (scale 2): district b, 500 filed, drew 400 of the sample, all valid: 800 by the formula, 500 at most.
    const districts = projectDistricts(1000, 500, { a: { valid: 100, duplicates: 0, raw: 500 }, b: { valid: 400, duplicates: 0, raw: 500 }, c: { valid: 0, duplicates: 3, raw: 4 } });
    expect(districts.b!.projectedValid).toBe(500);
    expect(floorOf(districts.b!.exact)).toBe(500);
    // Bands follow the capped figure: 500 of a minimum of 460 is under 110 %, so a full count, not certifiable.
    expect(bandOf(districts.b!.exact, 460)).toBe('full-count');
    // Under the cap, unchanged; a district whose duplicates outweigh its valid signatures, zero.
    expect(districts.a!.projectedValid).toBe(200);
    expect(districts.c!.projectedValid).toBe(0);
    expect(floorOf(districts.c!.exact)).toBe(0);
  });

  it('is unbiased on a petition with known invalid entries and duplicate pairs (fixed seeds)', () => {
    // 6,000 filed: 600 invalid, 300 people signed twice → 5,100 valid once duplicates are struck.
    const population = ids(6000);
    const invalid = new Set(population.slice(0, 600));
    const twinOf = new Map<string, string>();
    for (let i = 0; i < 300; i++) {
      const [a, b] = [population[600 + 2 * i]!, population[601 + 2 * i]!];
      twinOf.set(a, b);
      twinOf.set(b, a);
    }
    const truth = 6000 - 600 - 300;
    const rounds = 200;
    let sum = 0;
    let sumWithoutPenalty = 0;
    for (let r = 0; r < rounds; r++) {
      const sample = drawSample(`unbiased-${r}`, population, 1000);
      const inSample = new Set(sample);
      let valid = 0;
      let duplicates = 0;
      for (const id of sample) {
        if (invalid.has(id)) continue;
        const twin = twinOf.get(id);
        // Both of a pair drawn: the later in canonical order is the duplicate, the other stays valid.
        if (twin && inSample.has(twin) && id > twin) duplicates++;
        else valid++;
      }
      const p = projectSample({ population: 6000, sampleSize: 1000, valid, duplicates });
      sum += p.projectedValid;
      sumWithoutPenalty += p.scaledValid;
    }
    expect(Math.abs(sum / rounds - truth)).toBeLessThan(40);
    // Leaving the penalty out would overstate the count by about 250.
    expect(sumWithoutPenalty / rounds - truth).toBeGreaterThan(150);
  });
});

describe('bands (110 % and 95 % of the requirement)', () => {
  it('certifies from 110 %, asks for a full count from 95 %, fails below', () => {
    expect(bandOf(2200, 2000)).toBe('certifiable');
    expect(bandOf(2199.9, 2000)).toBe('full-count');
    expect(bandOf(1900, 2000)).toBe('full-count');
    expect(bandOf(1899.9, 2000)).toBe('insufficient');
  });

  it('decides a projection lying exactly on 110 % or 95 % on the exact figure, not on its float', () => {
    // 508 × 275 / 500 = 279.4 = 110 % of 254, though 279.4 × 100 is 27939.999999999996 in floating point.
    const at110 = projectSample({ population: 508, sampleSize: 500, valid: 275, duplicates: 0 });
    expect(bandOf(at110.exact, 254)).toBe('certifiable');
    expect(bandOf(at110.exact, 255)).toBe('full-count');
    // 564 × 475 / 500 = 535.8 = 95 % of 564.
    const at95 = projectSample({ population: 564, sampleSize: 500, valid: 475, duplicates: 0 });
    expect(bandOf(at95.exact, 564)).toBe('full-count');
    expect(bandOf(at95.exact, 565)).toBe('insufficient');
    // The duplicate penalty is exact too: 3000 × 430 / 500 − 2 × 6 × 5 = 2520.
    expect(floorOf(projectSample({ population: 3000, sampleSize: 500, valid: 430, duplicates: 2 }).exact)).toBe(2520);
    // A whole projection floors to itself: 565 × 100 / 500 = 113, though (565 / 500) × 100 is 112.99999999999999.
    const whole = projectSample({ population: 565, sampleSize: 500, valid: 100, duplicates: 0 });
    expect(floorOf(whole.exact)).toBe(113);
    expect(whole.projectedValid).toBe(113);
    expect(assessSample({ goal: { signatures: 254 }, collectionDays: 30, closeWhenMet: false, milestones: [] }, { electorate: 1000, districts: [] }, { total: at110.exact, byDistrict: {} }).criteria[0]).toMatchObject({
      band: 'certifiable',
      percent: 110,
    });
  });

  const jurisdiction = {
    electorate: 100_000,
    districts: [
      { code: 'A', electorate: 50_000 },
      { code: 'B', electorate: 30_000 },
      { code: 'C', electorate: 20_000 },
    ],
  };
  const rules = RulesSchema.parse({ goal: { signatures: 2000 }, districts: { minCount: 2, each: { signatures: 500 } }, collectionDays: 90 });

  it('an initiative takes the band of its weakest criterion', () => {
    expect(assessSample(rules, jurisdiction, { total: 2500, byDistrict: { A: 1200, B: 800, C: 500 } }).band).toBe('certifiable');
    // Goal comfortably met, but the second district is only within 95–110 % of its minimum.
    const doubt = assessSample(rules, jurisdiction, { total: 2500, byDistrict: { A: 1900, B: 500, C: 100 } });
    expect(doubt.band).toBe('full-count');
    expect(doubt.criteria[1]).toMatchObject({ kind: 'districts', required: 2, surelyMet: 1, possiblyMet: 2, band: 'full-count' });
    expect(assessSample(rules, jurisdiction, { total: 2500, byDistrict: { A: 2000, B: 470, C: 30 } }).band).toBe('insufficient');
    const short = assessSample(rules, jurisdiction, { total: 2000, byDistrict: { A: 1000, B: 600, C: 400 } });
    expect(short.criteria[0]).toMatchObject({ kind: 'goal', required: 2000, projected: 2000, percent: 100, band: 'full-count' });
    expect(short.band).toBe('full-count');
  });

  it('a sample of every signature is a count: it meets each requirement or not, with no band of doubt', () => {
    expect(assessSample(rules, jurisdiction, { total: 2000, byDistrict: { A: 1000, B: 500, C: 500 } }, true).band).toBe('certifiable');
    expect(assessSample(rules, jurisdiction, { total: 1999, byDistrict: { A: 1000, B: 500, C: 499 } }, true).band).toBe('insufficient');
    expect(assessSample(rules, jurisdiction, { total: 2000, byDistrict: { A: 1500, B: 499, C: 1 } }, true).band).toBe('insufficient');
  });
});

describe('seeded sample', () => {
  it('draws from HMAC-SHA256(seed, domain ‖ counter), 6 bytes at a time', () => {
    const message = Buffer.concat([Buffer.from('civic-initiative-sample/v1'), Buffer.alloc(8)]);
    const block = createHmac('sha256', 'le tirage du 3 juillet').update(message).digest();
    // A bound of 2^47 rejects nothing below 2^48 and keeps the low 47 bits.
    expect(new SeededDraws('le tirage du 3 juillet').below(2 ** 47)).toBe(block.readUIntBE(0, 6) % 2 ** 47);
  });

  it('is reproducible: same seed and same signatures give the same sample, whatever their order', () => {
    const population = ids(3000);
    const shuffled = [...population].reverse();
    const a = drawSample('seed-1', population, 500);
    expect(drawSample('seed-1', shuffled, 500)).toEqual(a);
    expect(drawSample('seed-2', population, 500)).not.toEqual(a);
  });

  it('draws without replacement, only from the population, and caps at its size', () => {
    const population = ids(3000);
    const sample = drawSample('no-repeat', population, 500);
    expect(sample).toHaveLength(500);
    expect(new Set(sample).size).toBe(500);
    const known = new Set(population);
    expect(sample.every((id) => known.has(id))).toBe(true);
    expect(new Set(drawSample('all', population.slice(0, 40), 100))).toEqual(new Set(population.slice(0, 40)));
    expect(drawSample('none', [], 500)).toEqual([]);
  });

  it('draws a sample of a national initiative by positions, without listing its millions of signatures', () => {
    // 3 % of the 4.8 million signatures a French shared-initiative referendum needs.
    const positions = drawSamplePositions('tirage public', 4_800_000, 144_000);
    expect(positions).toHaveLength(144_000);
    expect(new Set(positions).size).toBe(144_000);
    expect(positions.every((p) => Number.isInteger(p) && p >= 0 && p < 4_800_000)).toBe(true);
    expect(drawSamplePositions('none', 0, 500)).toEqual([]);
  });

  it('draws by positions exactly what a Fisher–Yates shuffle of the whole sorted population draws', () => {
    const shuffleReference = (seed: string, sorted: string[], size: number) => {
      const pool = [...sorted];
      const draws = new SeededDraws(seed);
      for (let i = 0; i < size; i++) {
        const j = i + draws.below(pool.length - i);
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      return pool.slice(0, size);
    };
    for (const [count, size] of [[1, 1], [40, 40], [700, 500], [3000, 90]] as const) {
      const sorted = ids(count).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const expected = shuffleReference(`reference-${count}`, sorted, size);
      expect(drawSamplePositions(`reference-${count}`, count, size).map((p) => sorted[p])).toEqual(expected);
      expect(drawSample(`reference-${count}`, [...sorted].reverse(), size)).toEqual(expected);
    }
  });

  it('refuses a population that lists a signature twice', () => {
    expect(() => drawSample('x', ['a', 'b', 'a'], 2)).toThrow(/twice/);
  });

  it('gives every signature the same chance (chi-square over 2,000 fixed seeds)', () => {
    const population = ids(50);
    const hits = new Map(population.map((id) => [id, 0]));
    const first = new Map(population.map((id) => [id, 0]));
    const rounds = 2000;
    for (let r = 0; r < rounds; r++) {
      const sample = drawSample(`uniform-${r}`, population, 10);
      for (const id of sample) hits.set(id, hits.get(id)! + 1);
      first.set(sample[0]!, first.get(sample[0]!)! + 1);
    }
    const chiSquare = (counts: Iterable<number>, expected: number) => [...counts].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 49 degrees of freedom: 85.4 is the 0.1 % critical value.
    expect(chiSquare(hits.values(), (rounds * 10) / 50)).toBeLessThan(85.4);
    expect(chiSquare(first.values(), rounds / 50)).toBeLessThan(85.4);
  });

  it('draws integers below a bound without modulo bias', () => {
    const draws = new SeededDraws('bias');
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[draws.below(3)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    expect(() => draws.below(0)).toThrow(RangeError);
  });

  it('generates a 128-bit seed when none is given', () => {
    const seed = randomSeed();
    expect(seed).toMatch(/^[0-9a-f]{32}$/);
    expect(randomSeed()).not.toBe(seed);
  });
});
