import { createRoute, z } from '@hono/zod-openapi';
import { desc, eq } from 'drizzle-orm';
import { referendumItems } from '../../db/schema';
import { createRouter } from '../../platform/http';
import { bearer, errors, json, jsonBody } from '../../platform/openapi';
import { problems } from '../../platform/problems';
import { requirePrincipal } from '../auth/access';
import { IdParam } from '../initiatives/schema';
import { CompleteVerificationSchema, ReferendumItemSchema, StartVerificationSchema, VerificationSchema } from './schema';
import { completeVerification, startVerification, verificationReport } from './service';

type ItemRow = typeof referendumItems.$inferSelect;
const itemView = (row: ItemRow) => ({ ...row, certifiedAt: row.certifiedAt.toISOString() });

export const verificationRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/initiatives/{id}/verification',
      tags: ['Verification'],
      summary: 'Start verification of a closed initiative (clerk)',
      security: bearer,
      request: { params: IdParam, body: jsonBody(StartVerificationSchema) },
      responses: { 201: json(VerificationSchema, 'Verification started.'), ...errors(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const id = c.req.valid('param').id;
      await startVerification(c.var.deps, id, principal, c.req.valid('json'));
      return c.json(await verificationReport(c.var.deps, id, principal), 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/verification',
      tags: ['Verification'],
      summary: 'Verification state, counts and criteria (clerk)',
      security: bearer,
      request: { params: IdParam },
      responses: { 200: json(VerificationSchema, 'The verification.'), ...errors(400, 401, 403, 404) },
    }),
    async (c) => c.json(await verificationReport(c.var.deps, c.req.valid('param').id, requirePrincipal(c)), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/initiatives/{id}/verification/complete',
      tags: ['Verification'],
      summary: 'Certify (creates the referendum item) or declare insufficient (clerk)',
      security: bearer,
      request: { params: IdParam, body: { ...jsonBody(CompleteVerificationSchema), required: false } },
      responses: { 200: json(VerificationSchema, 'Verification complete.'), ...errors(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const id = c.req.valid('param').id;
      const body = c.req.valid('json') as z.infer<typeof CompleteVerificationSchema> | undefined;
      await completeVerification(c.var.deps, id, principal, body?.reason);
      return c.json(await verificationReport(c.var.deps, id, principal), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/referendum-items',
      tags: ['Referendum items'],
      summary: 'Certified items with their certificates',
      request: { query: z.object({ jurisdiction: z.string().min(1).max(64).optional() }) },
      responses: { 200: json(z.object({ items: z.array(ReferendumItemSchema) }), 'Newest first.'), ...errors(400) },
    }),
    async (c) => {
      const { jurisdiction } = c.req.valid('query');
      const rows = await c.var.deps.db.db
        .select()
        .from(referendumItems)
        .where(jurisdiction ? eq(referendumItems.jurisdictionId, jurisdiction) : undefined)
        .orderBy(desc(referendumItems.certifiedAt))
        .limit(500);
      return c.json({ items: rows.map(itemView) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/referendum-items/{id}',
      tags: ['Referendum items'],
      summary: 'One certified item',
      request: { params: IdParam },
      responses: { 200: json(ReferendumItemSchema, 'The item.'), ...errors(400, 404) },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const [row] = await c.var.deps.db.db.select().from(referendumItems).where(eq(referendumItems.id, id));
      if (!row) throw problems.notFound('Referendum item', id);
      return c.json(itemView(row), 200);
    },
  );
