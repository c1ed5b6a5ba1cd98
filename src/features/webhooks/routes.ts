import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../platform/http';
import { bearer, errors, json, jsonBody } from '../../platform/openapi';
import { requirePrincipal } from '../auth/access';
import { CreatedWebhookSchema, CreateWebhookSchema, DeliveriesQuerySchema, DeliverySchema, WebhookIdParam, WebhookSchema } from './schema';
import { registerWebhookEvents } from './events';
import { createWebhook, deleteWebhook, enableWebhook, listDeliveries, listWebhooks, webhookView } from './service';

export const webhookRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/webhooks',
      tags: ['Webhooks'],
      summary: "Subscribe to events: a jurisdiction's (administrator) or an initiative's (its sponsor)",
      description:
        'Deliveries follow the Standard Webhooks specification: a JSON body `{type, sequence, timestamp, data}` (`sequence`: the order the engine wrote its events in, for events that share a timestamp) with the headers `webhook-id`, `webhook-timestamp` and `webhook-signature` (HMAC-SHA256 with the secret returned here, once). Retried with exponential backoff for 24 hours; then the subscription is disabled with a reason. Each event type and its `data` are described under this document’s `webhooks`.',
      security: bearer,
      request: { body: jsonBody(CreateWebhookSchema) },
      responses: { 201: json(CreatedWebhookSchema, 'The subscription and its signing secret (shown only now).'), ...errors(400, 401, 403, 409, 413, 415) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const { deps } = c.var;
      const created = await createWebhook(deps, principal, c.req.valid('json') as z.infer<typeof CreateWebhookSchema>, deps.clock());
      c.header('Cache-Control', 'no-store');
      return c.json(created, 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/webhooks',
      tags: ['Webhooks'],
      summary: 'Your webhook subscriptions',
      security: bearer,
      responses: { 200: json(z.object({ items: z.array(WebhookSchema) }), 'Newest first.'), ...errors(401) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const rows = await listWebhooks(c.var.deps.db.db, principal);
      return c.json({ items: rows.map(webhookView) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/webhooks/{id}/enable',
      tags: ['Webhooks'],
      summary: 'Turn one of your disabled subscriptions back on',
      description:
        'After 24 hours of failed deliveries a subscription is disabled. Once the receiver is fixed, this turns it back on (the address is checked again): events from now on are delivered (of those that happened while it was off, only any the dispatcher had not yet handed out, from the last scheduler tick at most); its failed deliveries stay in its log. An active subscription is returned as it is.',
      security: bearer,
      request: { params: WebhookIdParam },
      responses: { 200: json(WebhookSchema, 'The subscription, active.'), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      return c.json(webhookView(await enableWebhook(c.var.deps, principal, c.req.valid('param').id, c.var.deps.clock())), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/v1/webhooks/{id}',
      tags: ['Webhooks'],
      summary: 'Delete one of your webhook subscriptions (and its delivery log)',
      security: bearer,
      request: { params: WebhookIdParam },
      responses: { 204: { description: 'Deleted.' }, ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      await deleteWebhook(c.var.deps.db.db, principal, c.req.valid('param').id, c.var.deps.clock());
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/webhooks/{id}/deliveries',
      tags: ['Webhooks'],
      summary: 'Delivery log of one of your subscriptions',
      security: bearer,
      request: { params: WebhookIdParam, query: DeliveriesQuerySchema },
      responses: {
        200: json(z.object({ items: z.array(DeliverySchema), nextCursor: z.string().nullable() }), 'Newest first.'),
        ...errors(400, 401, 404),
      },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const page = await listDeliveries(c.var.deps.db.db, principal, c.req.valid('param').id, c.req.valid('query'));
      return c.json(page, 200);
    },
  );

// What subscribers receive: the document's `webhooks`.
registerWebhookEvents(webhookRoutes);
