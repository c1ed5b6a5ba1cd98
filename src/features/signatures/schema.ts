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
    logIndex: z.number().int().nullable().openapi({
      description:
        "Index of the signature's `sign` entry in the initiative's transparency log. Null until the sequencer has integrated it (within the maximum merge delay), and always in the answer to signing: `GET …/signatures/me` gives it once integrated.",
    }),
  })
  .openapi('Signature');

export const SignResultSchema = z
  .object({ signature: SignatureSchema, receipt: z.string().openapi({ description: 'Signature receipt: a compact JWS (EdDSA) by the engine.' }) })
  .openapi('SignResult');
