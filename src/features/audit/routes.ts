import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../platform/http';
import { signWithEngineKey } from '../../platform/keys';
import { bearer, errors, Instant, json } from '../../platform/openapi';
import { problems } from '../../platform/problems';
import { clerkJurisdictions, requirePrincipal } from '../auth/access';
import { auditTrailHead, listAudit } from './service';

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

const AuditHeadSchema = z
  .object({
    seq: z.number().int().openapi({ description: 'The sequence number of the newest entry of the whole trail (0 before the first).' }),
    hash: z.string().openapi({ description: 'Its hash (empty before the first entry).' }),
    at: z.string().nullable().openapi({ description: 'When it was written.' }),
    signature: z.string().openapi({ description: 'Compact JWS (EdDSA, typ audit-head+jwt, a key of /.well-known/jwks.json) over seq, hash and at; iat is when it was signed.' }),
  })
  .openapi('AuditHead');

export const auditRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/head',
      tags: ['Audit'],
      summary: 'The newest entry of the audit trail, signed by the engine (anyone may keep it)',
      description:
        'Public: it names no person and no action, only how long the trail is and the hash of its newest entry. Kept by a sponsor, a journalist or a court, it commits the engine to every entry up to it: a later export must hold that entry with that hash (`npm run verify -- audit <export> --head <head.json>`).',
      responses: { 200: json(AuditHeadSchema, 'The signed head of the trail.'), ...errors(401) },
    }),
    async (c) => {
      const { deps } = c.var;
      const head = await auditTrailHead(deps.db.db);
      const at = head.at?.toISOString() ?? null;
      const signature = await signWithEngineKey(deps.keys, 'audit-head+jwt', { seq: head.seq, hash: head.hash, at }, { issuer: deps.config.publicUrl, now: deps.clock() });
      c.header('Cache-Control', 'no-store');
      return c.json({ seq: head.seq, hash: head.hash, at, signature }, 200);
    },
  )
  .openapi(
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
