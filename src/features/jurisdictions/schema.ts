import { z } from '@hono/zod-openapi';
import { ASSURANCE_LEVELS } from '../../core/identity';
import { RulesSchema } from '../../core/rules';
import { DISTRICT_TERMS } from '../../db/schema';

export const DistrictSchema = z
  .strictObject({
    code: z.string().trim().min(1).max(32).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash or underscore'),
    name: z.string().trim().min(1).max(200),
    electorate: z.number().int().min(0).max(2_000_000_000),
  })
  .openapi('District');

export const JurisdictionRulesSchema = z
  .strictObject({ agenda: RulesSchema.optional(), referendum: RulesSchema.optional() })
  .openapi('JurisdictionRules');

/**
 * France's 34,969 communes (2025) are the most districts of the regimes the engine is meant for
 * (Germany has about 10,800 Gemeinden, Italy 7,900, the United States 3,100 counties); the limit
 * leaves room for them and for the communes merged or split between two yearly updates.
 */
export const DISTRICTS_MAX = 50_000;

/** Everything a jurisdiction is configured with, its id aside (defaults are the creation's). */
const settingsShape = {
  name: z.string().trim().min(1).max(200),
  electorate: z.number().int().min(1).max(2_000_000_000),
  minimumAge: z.number().int().min(0).max(120),
  requireRoll: z.boolean(),
  minimumAssurance: z.enum(ASSURANCE_LEVELS),
  committeeMinimum: z.number().int().min(0).max(1000),
  timeZone: z.string().refine((tz) => isTimeZone(tz), 'an IANA time zone such as Europe/Paris'),
  districtTerm: z.enum(DISTRICT_TERMS).openapi({
    description: 'What the districts are called on the French pages: arrondissement, circonscription, canton or member-state (État membre). English pages say district.',
  }),
  districts: z
    .array(DistrictSchema)
    .max(DISTRICTS_MAX)
    .openapi({ description: 'The districts, each with its registered voters: together no more than the jurisdiction’s `electorate` (a district’s 0 meaning not known).' }),
  rules: JurisdictionRulesSchema,
};

type Settings = {
  electorate: number;
  districts: { code: string; electorate: number }[];
  rules: z.infer<typeof JurisdictionRulesSchema>;
};

/**
 * What must hold of a whole configuration, at creation and after a change (paths as in the body).
 * `figures` names the field that the check of the districts' electorates against the jurisdiction's
 * is reported on (the one a change gave), or is false to leave it out (a change of other settings).
 */
export function checkSettings(
  j: Settings,
  ctx: { addIssue: (issue: { code: 'custom'; path: (string | number)[]; message: string }) => void },
  figures: 'districts' | 'electorate' | false = 'districts',
) {
  // A district's registered voters are the jurisdiction's too: more in the districts than in the whole would make share-of-electorate rules on each disagree.
  // A district's electorate of 0 is one not known: the known ones alone must not exceed the whole. A
  // jurisdiction's electorate refused on its own (missing, under 1) is not compared as well.
  const inDistricts = j.districts.reduce((sum, d) => sum + d.electorate, 0);
  if (figures && j.electorate >= 1 && inDistricts > j.electorate) {
    ctx.addIssue({
      code: 'custom',
      path: [figures],
      message: `The districts' electorates add up to ${inDistricts}, more than the jurisdiction's electorate (${j.electorate}): every district's registered voters are also the jurisdiction's.`,
    });
  }
  const codes = new Set<string>();
  j.districts.forEach((d, i) => {
    if (codes.has(d.code)) ctx.addIssue({ code: 'custom', path: ['districts', i, 'code'], message: `Duplicate district code "${d.code}".` });
    codes.add(d.code);
  });
  for (const kind of ['agenda', 'referendum'] as const) {
    const rules = j.rules[kind];
    if (!rules?.districts) continue;
    if (j.districts.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['rules', kind, 'districts'], message: 'A district rule needs districts.' });
    }
    const each = rules.districts.each;
    const minCount = rules.districts.minCount;
    if ('table' in each) {
      const tabled = Object.keys(each.table);
      if (tabled.length === 0) ctx.addIssue({ code: 'custom', path: ['rules', kind, 'districts', 'each', 'table'], message: 'The table gives no district a minimum.' });
      for (const code of tabled) {
        if (!codes.has(code)) ctx.addIssue({ code: 'custom', path: ['rules', kind, 'districts', 'each', 'table', code], message: `Unknown district "${code}".` });
      }
      // A district left out of the table has no minimum, so it can never be one of those that meet theirs.
      if (minCount !== undefined && minCount <= j.districts.length && minCount > tabled.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', kind, 'districts', 'minCount'],
          message: `More districts than the table gives a minimum to (${tabled.length}): the rule could never be met.`,
        });
      }
    }
    if (minCount !== undefined && minCount > j.districts.length) {
      ctx.addIssue({ code: 'custom', path: ['rules', kind, 'districts', 'minCount'], message: 'More districts than the jurisdiction has.' });
    }
  }
  // ceil(ratio × 0) is 0: a district with no registered voters would meet a ratio minimum with no signature at all.
  const ratioRule = (['agenda', 'referendum'] as const).find((kind) => {
    const each = j.rules[kind]?.districts?.each;
    return each !== undefined && 'ratio' in each;
  });
  if (ratioRule) {
    j.districts.forEach((d, i) => {
      if (d.electorate > 0) return;
      ctx.addIssue({
        code: 'custom',
        path: ['districts', i, 'electorate'],
        message: `District "${d.code}" has no registered voters, so the ${ratioRule} rules' share of them would be no signature at all: give its electorate, or the district minimum as a count or a table.`,
      });
    });
  }
  if (!j.rules.agenda && !j.rules.referendum) {
    ctx.addIssue({ code: 'custom', path: ['rules'], message: 'Rules for at least one kind (agenda or referendum) are required.' });
  }
}

export const CreateJurisdictionSchema = z
  .strictObject({
    id: z.string().min(2).max(64).regex(/^[a-z0-9][a-z0-9-]*$/, 'a lowercase slug (letters, digits, dashes)'),
    ...settingsShape,
    requireRoll: settingsShape.requireRoll.default(false),
    committeeMinimum: settingsShape.committeeMinimum.default(0),
    timeZone: settingsShape.timeZone.default('Europe/Paris'),
    districtTerm: settingsShape.districtTerm.default('arrondissement'),
    districts: settingsShape.districts.default([]),
  })
  .superRefine((j, ctx) => checkSettings(j, ctx))
  .openapi('CreateJurisdiction', {
    example: {
      id: 'lyon',
      name: 'Ville de Lyon',
      electorate: 330000,
      minimumAge: 16,
      requireRoll: false,
      minimumAssurance: 'eidas2',
      committeeMinimum: 2,
      timeZone: 'Europe/Paris',
      districtTerm: 'arrondissement',
      districts: [
        { code: '69381', name: 'Lyon 1er Arrondissement', electorate: 18000 },
        { code: '69382', name: 'Lyon 2e Arrondissement', electorate: 20000 },
      ],
      rules: { referendum: { goal: { signatures: 10000 }, collectionDays: 270 } },
    },
  });

export type CreateJurisdiction = z.infer<typeof CreateJurisdictionSchema>;

export const JurisdictionSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    electorate: z.number().int(),
    minimumAge: z.number().int(),
    requireRoll: z.boolean(),
    minimumAssurance: z.string(),
    committeeMinimum: z.number().int(),
    timeZone: z.string(),
    districtTerm: z.enum(DISTRICT_TERMS),
    districts: z.array(DistrictSchema),
    rules: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
  })
  .openapi('Jurisdiction');

/** A change of configuration: any of the settings, at least one; districts and rules are replaced whole. */
export const UpdateJurisdictionSchema = z
  .strictObject(settingsShape)
  .partial()
  .refine((u) => Object.keys(u).length > 0, 'Give at least one setting to change.')
  .openapi('UpdateJurisdiction', { example: { electorate: 2110000, minimumAge: 16 } });

export type UpdateJurisdiction = z.infer<typeof UpdateJurisdictionSchema>;

export const ClerkSchema = z
  .object({ subject: z.string(), grantedBy: z.string(), grantedAt: z.iso.datetime() })
  .openapi('Clerk', { example: { subject: 'clerk-of-paris', grantedBy: 'admin-subject', grantedAt: '2027-01-15T09:00:00.000Z' } });

export const GrantClerkSchema = z.strictObject({ subject: z.string().trim().min(1).max(255) }).openapi('GrantClerk', { example: { subject: 'clerk-of-paris' } });

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
