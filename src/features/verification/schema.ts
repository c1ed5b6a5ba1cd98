import { z } from '@hono/zod-openapi';
import { Reason } from '../initiatives/schema';

export const StartVerificationSchema = z
  .strictObject({
    method: z.enum(['full', 'sample']),
    sampleSize: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .optional()
      .openapi({
        description:
          'At least the default, max(500, ceil(3 % × N)) for N signatures counted (every one when N is smaller): a smaller size is refused with a 400 naming `sampleSize` and the minimum. Never more than N.',
      }),
    seed: z.string().trim().min(1).max(128).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.method === 'full' && v.sampleSize !== undefined) ctx.addIssue({ code: 'custom', path: ['sampleSize'], message: 'Only a sample has a size.' });
    if (v.method === 'full' && v.seed !== undefined) ctx.addIssue({ code: 'custom', path: ['seed'], message: 'Only a sample has a seed.' });
  })
  .openapi('StartVerification', {
    description:
      'A full count, or a random sample (default and minimum size max(500, ceil(3 % × N))); without a seed one is generated. ' +
      'While a sample is under way, starting a full count replaces it (the sample’s decisions stand).',
    example: { method: 'sample', seed: 'tirage public du 3 juillet 2027 : 4 1 7 9 2' },
  });
export type StartVerification = z.infer<typeof StartVerificationSchema>;

export const DecisionSchema = z
  .strictObject({
    signatureId: z.uuid(),
    decision: z.enum(['valid', 'invalid', 'duplicate']),
    reason: z.string().trim().min(1).max(200).optional(),
    duplicateOf: z
      .uuid()
      .optional()
      .openapi({ description: 'A duplicate’s partner: the signature of the same signer that stays, judged on its merits (in a sample, a sampled one). Required for `duplicate`, refused otherwise.' }),
  })
  .superRefine((v, ctx) => {
    if (v.decision === 'invalid' && !v.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'An invalid signature needs its reason.' });
    // Each duplicate weighs (N/n)(N/n − 1) in a sample's projection: the record names the signature it duplicates.
    if (v.decision === 'duplicate' && !v.duplicateOf)
      ctx.addIssue({ code: 'custom', path: ['duplicateOf'], message: 'A duplicate names the signature it duplicates.', params: { code: 'duplicate-partner-missing' } });
    if (v.decision !== 'duplicate' && v.duplicateOf)
      ctx.addIssue({ code: 'custom', path: ['duplicateOf'], message: 'Only a duplicate names a partner.', params: { code: 'partner-on-non-duplicate' } });
    if (v.duplicateOf && v.duplicateOf === v.signatureId)
      ctx.addIssue({ code: 'custom', path: ['duplicateOf'], message: 'A signature cannot duplicate itself.', params: { code: 'duplicate-of-itself' } });
    // A reason for invalidity beside `valid` says two things at once: the record must say one.
    if (v.decision === 'valid' && v.reason)
      ctx.addIssue({ code: 'custom', path: ['reason'], message: 'A valid signature has no reason for invalidity.', params: { code: 'reason-on-valid' } });
  });
export type DecisionInput = z.infer<typeof DecisionSchema>;

export const DecisionBatchSchema = z
  .strictObject({ decisions: z.array(DecisionSchema).min(1).max(1000) })
  .openapi('VerificationDecisions', {
    description:
      'Valid, invalid (with a reason) or duplicate. Sending a decision again changes nothing; a valid one may later be ' +
      'found invalid or a duplicate, but an invalidated signature stays invalid. In a sample, a duplicate is a sampled ' +
      'signature whose signer also signed another sampled one. A duplicate names that other signature in `duplicateOf`: of this ' +
      'initiative, not itself, in a sample a sampled one, and not itself ruled a duplicate (400 or 409 duplicate-partner otherwise); ' +
      'a signature named as a partner cannot then be ruled a duplicate.',
    example: {
      decisions: [
        { signatureId: '6f1c2b9e-3d4a-4f5e-8a7b-1c2d3e4f5a6b', decision: 'valid' },
        { signatureId: '0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d', decision: 'invalid', reason: 'not on the electoral roll' },
        { signatureId: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b', decision: 'duplicate', duplicateOf: '6f1c2b9e-3d4a-4f5e-8a7b-1c2d3e4f5a6b' },
      ],
    },
  });

export const DecisionResultSchema = z
  .object({
    recorded: z.number().int(),
    changed: z.number().int(),
    unchanged: z.number().int(),
    results: z.array(z.object({ signatureId: z.string(), decision: z.enum(['valid', 'invalid', 'duplicate']), outcome: z.enum(['recorded', 'changed', 'unchanged']) })),
  })
  .openapi('VerificationDecisionResult');

export const VerificationQuerySchema = z.object({
  filter: z.enum(['all', 'pending', 'decided']).default('all').openapi({ description: 'Which signatures to list: all, those awaiting a decision, or those decided.' }),
  cursor: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: 'The `nextCursor` of the page before. One that is not a cursor of this list (in a full count, the id of no signature of this initiative) is refused: 400.' }),
  limit: z.coerce.number().int().min(1).max(2000).default(500),
  personalData: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true')
    .openapi({ description: 'Decrypt the signers’ names and birth dates where kept (each read is audited).' }),
});
export type VerificationQuery = z.infer<typeof VerificationQuerySchema>;

export const CompleteVerificationSchema = z
  .strictObject({ reason: Reason.optional() })
  .openapi('CompleteVerification', { example: { reason: 'Full count of the valid signatures.' } });

const Band = z.enum(['certifiable', 'full-count', 'insufficient']);

export const VerifiedSignatureSchema = z.object({
  id: z.string(),
  position: z.number().int().nullable().openapi({ description: 'Place in the draw order of the sample.' }),
  channel: z.enum(['online', 'paper']),
  district: z.string(),
  sheet: z.string().nullable(),
  collector: z.string().nullable(),
  status: z.enum(['counted', 'withdrawn', 'invalid']),
  rollCheck: z.enum(['on-roll', 'not-on-roll', 'other-district', 'no-personal-data']).nullable(),
  rollDistrict: z.string().nullable(),
  decision: z
    .object({
      decision: z.enum(['valid', 'invalid', 'duplicate']),
      reason: z.string().nullable(),
      duplicateOf: z.string().nullable().openapi({ description: 'A duplicate’s partner, the signature of the same signer it duplicates.' }),
      source: z.enum(['clerk', 'roll']),
      clerk: z.string(),
      decidedAt: z.string(),
    })
    .nullable(),
  personalData: z.object({ givenNames: z.string(), familyName: z.string(), birthdate: z.string() }).nullable(),
});

export const VerificationSchema = z
  .object({
    initiativeId: z.string(),
    status: z.string(),
    method: z.enum(['full', 'sample']),
    seed: z.string().nullable(),
    sampleSize: z.number().int().nullable(),
    population: z.number().int().nullable().openapi({ description: 'N: signatures counted when verification started.' }),
    startedAt: z.string(),
    completedAt: z.string().nullable(),
    outcome: z.enum(['certified', 'insufficient']).nullable(),
    reason: z.string().nullable(),
    tallies: z.object({
      decided: z.number().int(),
      pending: z.number().int().openapi({ description: 'Signatures that still need a decision before completion.' }),
      valid: z.number().int(),
      invalid: z.number().int(),
      invalidByReason: z.array(z.object({ reason: z.string(), count: z.number().int() })),
      duplicates: z.number().int(),
    }),
    roll: z
      .object({ onRoll: z.number().int(), notOnRoll: z.number().int(), otherDistrict: z.number().int(), noPersonalData: z.number().int() })
      .nullable()
      .openapi({ description: 'The automatic check of a full count against the imported electoral roll: its totals so far.' }),
    rollCheck: z
      .object({
        status: z.enum(['running', 'stopped', 'done']).openapi({
          description: 'running: the scheduler checks the signatures page by page; stopped: personal data under a key that is not configured (missingKey), tried again at each pass; done.',
        }),
        rollImport: z.string().openapi({ description: 'The roll import in force when the check was asked for.' }),
        requestedAt: z.string(),
        doneAt: z.string().nullable(),
        checked: z.number().int().openapi({ description: 'Signatures checked so far.' }),
        toCheck: z.number().int().openapi({ description: 'Signatures the check covers: those checked, and those still undecided it has not reached.' }),
        missingKey: z.string().nullable().openapi({ description: 'The id of the personal-data key the check stopped on.' }),
      })
      .nullable()
      .openapi({ description: 'A full count with a roll imported: where its check against the roll stands. Completion is refused (409 roll-check-running) until it is done.' }),
    projection: z
      .object({
        population: z.number().int(),
        sampleSize: z.number().int(),
        valid: z.number().int(),
        duplicates: z.number().int(),
        scale: z.number(),
        duplicateWeight: z.number(),
        duplicatePenalty: z.number(),
        projectedValid: z.number(),
        band: Band,
        criteria: z.array(
          z.object({
            kind: z.enum(['goal', 'districts']),
            required: z.number(),
            projected: z.number(),
            percent: z.number().optional(),
            surelyMet: z.number().int().optional(),
            possiblyMet: z.number().int().optional(),
            band: Band,
          }),
        ),
        districts: z
          .array(z.object({ code: z.string(), projected: z.number() }))
          .openapi({ description: 'The districts with signatures in the sample; beyond 1,000 districts in the jurisdiction, only those `counts.districts` lists.' }),
      })
      .nullable()
      .openapi({ description: 'Sample only: N × V / n − D × (N/n)(N/n − 1), and its band against 110 % and 95 % of each requirement.' }),
    counts: z.object({
      raw: z.number().int().openapi({ description: 'The signatures filed, not withdrawn.' }),
      valid: z.number().int().openapi({ description: 'Valid signatures: those not struck out (a full count, all valid once decided), or projected from a sample (rounded down).' }),
      verified: z.number().int().openapi({
        description:
          'Of them, those found valid one by one, by a clerk or the roll: a full count’s valid rulings (its `valid` once every signature is decided); a sample’s sampled signatures found valid (V), from which `valid` is projected. The certificate’s `counts.verified`.',
      }),
      districtCount: z.number().int().openapi({ description: 'How many districts there are; `districts` lists them all when there are at most 1,000.' }),
      districts: z
        .array(z.object({ code: z.string(), raw: z.number().int(), valid: z.number().int(), required: z.number().nullable(), met: z.boolean().nullable() }))
        .openapi({
          description:
            'Every district, in the jurisdiction’s order, up to 1,000 of them. Beyond, at most 1,000: those that had signatures and miss their minimum (nearest to it first), ' +
            'those that meet it (least to spare first), then the others with signatures (most valid first); none without signatures that misses its minimum. ' +
            'Only what this view sends: the rules, the certificate and the referendum item take every district, and ' +
            '`GET /v1/initiatives/{id}/verification/districts` gives them all as CSV.',
        }),
    }),
    criteria: z.array(z.object({ kind: z.string(), required: z.number(), current: z.number(), met: z.boolean() })),
    goalMet: z.boolean(),
    signatures: z.object({ items: z.array(VerifiedSignatureSchema), nextCursor: z.string().nullable() }),
    referendumItemId: z.string().nullable(),
  })
  .openapi('Verification');

export const ReferendumItemSchema = z
  .object({
    id: z.string(),
    initiativeId: z.string(),
    jurisdictionId: z.string(),
    kind: z.enum(['agenda', 'referendum']),
    title: z.string(),
    question: z.string().nullable(),
    language: z.string().openapi({ description: "The language of the title and question (BCP 47), the initiative's; not stated by the certificate.", example: 'fr' }),
    validSignatures: z.number().int(),
    districts: z.array(z.unknown()),
    method: z.enum(['full', 'sample']),
    certifiedAt: z.string(),
    certificate: z.string().openapi({ description: 'Certificate of result: compact JWS (EdDSA); keys at /.well-known/jwks.json.' }),
  })
  .openapi('ReferendumItem');
