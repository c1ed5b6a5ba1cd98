import { z } from '@hono/zod-openapi';
import { EVENT_TYPES, type EventType } from '../../platform/outbox';
import type { Router } from '../../platform/http';
import type { InitiativeStatus } from '../../core/lifecycle';

/**
 * What a subscriber receives, described in the OpenAPI document's `webhooks` (one entry per event
 * type): the Standard Webhooks envelope and each type's `data`. A sponsor's tooling generates its
 * types from it; tests/api/contract.test.ts holds every delivery of a whole story to it.
 */
const Id = z.uuid();
const Count = z.number().int().min(0);

/** An initiative's change of status: where it is now, and what the change says. */
const lifecycle = (status: InitiativeStatus, extra: z.ZodRawShape = {}) =>
  z.object({ initiativeId: Id, jurisdictionId: z.string(), status: z.literal(status).openapi({ description: 'The status it is in now.' }), ...extra });

const SampleSummary = z
  .object({
    seed: z.string(),
    population: Count,
    size: Count,
    valid: Count,
    duplicates: Count,
    scale: z.number(),
    duplicateWeight: z.number(),
    projectedValid: z.number(),
    band: z.string(),
  })
  
  .openapi({ description: 'A random sample’s figures (verification by sample only).' });

const verificationOutcome = {
  method: z.enum(['full', 'sample']),
  raw: Count.openapi({ description: 'Signatures counted before verification.' }),
  valid: Count.openapi({ description: 'Valid signatures: counted, or projected from the sample.' }),
  sample: SampleSummary.optional(),
};

const crossing = (extra: z.ZodRawShape = {}) =>
  z.object({ initiativeId: Id, jurisdictionId: z.string(), signatures: Count.openapi({ description: 'The count when it was reached.' }), ...extra });

const DATA: Record<EventType, { summary: string; data: z.ZodType }> = {
  'initiative.submitted': { summary: 'The sponsor submitted the draft for review.', data: lifecycle('submitted') },
  'initiative.opened': {
    summary: 'A clerk opened the initiative for signatures.',
    data: lifecycle('open', { opensAt: z.iso.datetime(), closesAt: z.iso.datetime() }),
  },
  'initiative.rejected': { summary: 'A clerk found the initiative inadmissible.', data: lifecycle('rejected', { reason: z.string() }) },
  'initiative.withdrawn': { summary: 'The sponsor withdrew the initiative.', data: lifecycle('withdrawn', { reason: z.string().optional() }) },
  'initiative.closed': {
    summary: 'Collection ended.',
    data: lifecycle('closed', { by: z.enum(['deadline', 'sponsor', 'goal-met']).openapi({ description: 'What ended it: the deadline, the sponsor, or the goal met under `closeWhenMet`.' }) }),
  },
  'initiative.milestone_reached': {
    summary: 'The count reached one of the rules’ milestones.',
    data: crossing({ milestone: z.object({ signatures: Count, label: z.string() }) }),
  },
  'initiative.goal_reached': { summary: 'The count reached the signature goal.', data: crossing() },
  'initiative.certified': {
    summary: 'A clerk certified the initiative: its official item exists.',
    data: lifecycle('certified', { ...verificationOutcome, referendumItemId: Id }),
  },
  'initiative.insufficient': {
    summary: 'Verification found too few valid signatures.',
    data: lifecycle('insufficient', { ...verificationOutcome, reason: z.string() }),
  },
  'referendum_item.created': {
    summary: 'The official item (agenda item or referendum question) of a certified initiative was created.',
    data: z
      .object({ referendumItemId: Id, initiativeId: Id, kind: z.enum(['agenda', 'referendum']), validSignatures: Count, method: z.enum(['full', 'sample']) })
      ,
  },
};

const HEADERS = z.object({
  'webhook-id': z.string().openapi({ description: 'The delivery’s id, the same on every retry: deduplicate on it.' }),
  'webhook-timestamp': z.string().openapi({ description: 'When this attempt was sent, in seconds since 1970 (UTC).' }),
  'webhook-signature': z.string().openapi({ description: '`v1,` and the base64 HMAC-SHA256, with the subscription’s secret, of `{webhook-id}.{webhook-timestamp}.{body}`.' }),
});

export function registerWebhookEvents(router: Router) {
  for (const type of EVENT_TYPES) {
    const { summary, data } = DATA[type];
    router.openAPIRegistry.registerWebhook({
      method: 'post',
      path: type,
      tags: ['Webhooks'],
      summary,
      description:
        'Sent to each active subscription to this event (Standard Webhooks). Verify the signature before trusting the body; answer 2xx within 5 seconds, or the delivery is retried with exponential backoff for 24 hours.',
      request: {
        headers: HEADERS,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  type: z.literal(type),
                  sequence: z.number().int().openapi({ description: 'The order the engine wrote its events in (gaps possible).' }),
                  timestamp: z.iso.datetime().openapi({ description: 'When it happened.' }),
                  data,
                })
                .openapi(`WebhookEvent_${type.replace(/[._]/g, '-')}`),
            },
          },
        },
      },
      responses: { 200: { description: 'Any 2xx: received. Anything else, or no answer within 5 seconds: retried.' } },
    });
  }
}
