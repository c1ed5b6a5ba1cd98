import { z } from '@hono/zod-openapi';

export const StartVerificationSchema = z
  .strictObject({
    method: z.enum(['full']),
    sampleSize: z.number().int().min(1).max(10_000_000).optional(),
    seed: z.string().trim().min(1).max(128).optional(),
  })
  .openapi('StartVerification', { example: { method: 'full' } });
export type StartVerification = z.infer<typeof StartVerificationSchema>;

export const CompleteVerificationSchema = z
  .strictObject({ reason: z.string().trim().min(1).max(2000).optional() })
  .openapi('CompleteVerification');

export const VerificationSchema = z
  .object({
    initiativeId: z.string(),
    status: z.string(),
    method: z.enum(['full', 'sample']),
    seed: z.string().nullable(),
    startedAt: z.string(),
    completedAt: z.string().nullable(),
    outcome: z.enum(['certified', 'insufficient']).nullable(),
    reason: z.string().nullable(),
    counts: z.object({
      raw: z.number().int(),
      valid: z.number().int(),
      districts: z.array(z.object({ code: z.string(), valid: z.number().int(), required: z.number().nullable(), met: z.boolean().nullable() })),
    }),
    criteria: z.array(z.object({ kind: z.string(), required: z.number(), current: z.number(), met: z.boolean() })),
    goalMet: z.boolean(),
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
    validSignatures: z.number().int(),
    districts: z.array(z.unknown()),
    method: z.enum(['full', 'sample']),
    certifiedAt: z.string(),
    certificate: z.string().openapi({ description: 'Certificate of result: compact JWS (EdDSA); keys at /.well-known/jwks.json.' }),
  })
  .openapi('ReferendumItem');
