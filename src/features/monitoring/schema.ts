import { z } from '@hono/zod-openapi';
import { Instant } from '../../platform/openapi';
import { ProgressSchema } from '../initiatives/schema';

export const HistoryQuerySchema = z.strictObject({
  bucket: z.enum(['hour', 'day']).default('day').openapi({ description: 'Hours in UTC, or days in the jurisdiction\'s time zone.' }),
  district: z.string().min(1).max(32).optional().openapi({ description: 'Only this district.' }),
  from: Instant.optional().openapi({ description: 'Default: the opening (day), or a week before `to` (hour).' }),
  to: Instant.optional().openapi({ description: 'Default: now, or the closing if earlier (the last signature keyed in after the closing, if any).' }),
});

export const DashboardQuerySchema = z.strictObject({
  bucket: z.enum(['hour', 'day']).default('day'),
});

const Counts = z.object({ signed: z.number().int(), withdrawn: z.number().int(), net: z.number().int() });

export const HistorySchema = z
  .object({
    initiativeId: z.string(),
    bucket: z.enum(['hour', 'day']),
    district: z.string().nullable(),
    timeZone: z.string(),
    from: z.string(),
    to: z.string(),
    signatures: z.number().int().openapi({ description: 'Signatures counted at the end of the last bucket.' }),
    points: z.array(
      z.object({
        start: z.string(),
        signed: z.number().int(),
        withdrawn: z.number().int(),
        net: z.number().int(),
        cumulative: z.number().int(),
      }),
    ),
  })
  .openapi('ProgressHistory');

export const DashboardSchema = z
  .object({
    initiativeId: z.string(),
    status: z.string(),
    progress: ProgressSchema,
    history: HistorySchema,
    velocity: z.object({ lastHour: Counts, lastDay: Counts, perDay: z.number() }),
    projection: z.object({ goalAt: z.string(), remaining: z.number().int(), beforeClose: z.boolean().nullable() }).nullable(),
    districtsBehind: z.array(
      z.object({ code: z.string(), name: z.string(), signatures: z.number().int(), required: z.number().int(), shortfall: z.number().int() }),
    ),
    timeLeft: z.object({ closesAt: z.string(), seconds: z.number().int(), days: z.number().int() }).nullable(),
    generatedAt: z.string(),
  })
  .openapi('Dashboard');
