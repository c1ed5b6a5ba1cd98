import { z } from '@hono/zod-openapi';
import { EVENT_TYPES } from '../../platform/outbox';

export const CreateWebhookSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'Must be an http:// or https:// URL.' })
      .max(2000)
      .refine((u) => !/^[a-z]+:\/\/[^/?#]*@/i.test(u), 'Credentials in the URL are not accepted; authenticate with the signature.'),
    events: z
      .array(z.enum(EVENT_TYPES))
      .min(1)
      .max(EVENT_TYPES.length)
      .transform((events) => [...new Set(events)]),
    jurisdictionId: z.string().min(1).max(64).optional().openapi({ description: "A jurisdiction's events (administrators)." }),
    initiativeId: z.uuid().optional().openapi({ description: "One initiative's events (its sponsor, or an administrator)." }),
  })
  .superRefine((v, ctx) => {
    if (!v.jurisdictionId === !v.initiativeId) {
      ctx.addIssue({ code: 'custom', path: ['jurisdictionId'], message: 'Give exactly one of jurisdictionId and initiativeId.' });
    }
  })
  .openapi('CreateWebhook', {
    example: { url: 'https://hooks.example.org/civic', events: ['initiative.opened', 'initiative.goal_reached'], jurisdictionId: 'paris' },
  });
export type CreateWebhook = z.infer<typeof CreateWebhookSchema>;

export const WebhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    jurisdictionId: z.string().nullable(),
    initiativeId: z.string().nullable(),
    status: z.enum(['active', 'disabled']),
    disabledReason: z.string().nullable(),
    disabledAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('Webhook');

export const CreatedWebhookSchema = WebhookSchema.extend({
  secret: z.string().openapi({ description: 'The signing secret (Standard Webhooks, `whsec_…`). Shown only now: store it.' }),
}).openapi('CreatedWebhook');

export const DeliverySchema = z
  .object({
    id: z.string().openapi({ description: 'Also the `webhook-id` header of every attempt.' }),
    eventId: z.string(),
    eventType: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    lastAttemptAt: z.string().nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('WebhookDelivery');

export const DeliveriesQuerySchema = z.strictObject({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type DeliveriesQuery = z.infer<typeof DeliveriesQuerySchema>;

export const WebhookIdParam = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example: '0192f0c4-6f7d-7a51-9c35-2b1f6c0c7e11' }),
});
