import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../platform/http';
import { bearer, errors, Instant, json } from '../../platform/openapi';
import { problems } from '../../platform/problems';
import { clerkJurisdictions, requirePrincipal } from '../auth/access';
import { listAudit } from './service';

const AuditEntrySchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    jurisdictionId: z.string().nullable(),
    initiativeId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEntry');

export const auditRoutes = createRouter().openapi(
  createRoute({
    method: 'get',
    path: '/v1/audit',
    tags: ['Audit'],
    summary: 'Hash-chained audit trail (clerks see their jurisdictions, admins everything)',
    security: bearer,
    request: {
      query: z.object({
        initiative: z.uuid().optional(),
        jurisdiction: z.string().min(1).max(64).optional(),
        action: z.string().min(1).max(100).optional(),
        actor: z.string().min(1).max(255).optional().openapi({ description: 'The subject who acted.' }),
        from: Instant.optional().openapi({ description: 'Entries at or after this time.' }),
        to: Instant.optional().openapi({ description: 'Entries before this time.' }),
        before: z.coerce.number().int().min(1).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
    },
    responses: {
      200: json(z.object({ items: z.array(AuditEntrySchema), nextBefore: z.number().int().nullable() }), 'Newest first.'),
      ...errors(400, 401, 403),
    },
  }),
  async (c) => {
    const principal = requirePrincipal(c);
    const db = c.var.deps.db.db;
    const scope = principal.isAdmin ? 'all' : await clerkJurisdictions(db, principal.subject);
    if (scope !== 'all' && scope.length === 0) throw problems.forbidden('Only clerks and administrators may read the audit trail.');
    const q = c.req.valid('query');
    const rows = await listAudit(db, { jurisdictionIds: scope, initiativeId: q.initiative, jurisdictionId: q.jurisdiction, action: q.action, actor: q.actor, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, before: q.before, limit: q.limit });
    const last = rows[rows.length - 1];
    return c.json(
      { items: rows.map((r) => ({ ...r, at: r.at.toISOString() })), nextBefore: rows.length === q.limit && last ? last.seq : null },
      200,
    );
  },
);
