import { z } from '@hono/zod-openapi';

export const SignSchema = z
  .strictObject({
    district: z.string().trim().min(1).max(32),
    consent: z.literal(true, { error: 'Consent must be given (true) to sign.' }),
  })
  .openapi('Sign', { example: { district: '75111', consent: true } });
export type Sign = z.infer<typeof SignSchema>;

export const SignatureSchema = z
  .object({
    id: z.string(),
    initiativeId: z.string(),
    status: z.enum(['counted', 'withdrawn', 'invalid']),
    channel: z.enum(['online', 'paper']),
    district: z.string(),
    createdAt: z.string(),
    withdrawnAt: z.string().nullable(),
  })
  .openapi('Signature');

export const SignResultSchema = z
  .object({ signature: SignatureSchema, receipt: z.string().openapi({ description: 'Signature receipt: a compact JWS (EdDSA) by the engine.' }) })
  .openapi('SignResult');
