import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { jurisdictions } from '../../db/schema';
import { createRouter, type AppEnv } from '../../platform/http';
import { bearer, errors, json, jsonBody } from '../../platform/openapi';
import { problems } from '../../platform/problems';
import { isClerkOf, requireAdmin, requirePrincipal } from '../auth/access';
import { ClerkSchema, CreateJurisdictionSchema, GrantClerkSchema, JurisdictionSchema, UpdateJurisdictionSchema } from './schema';
import { createJurisdiction, getJurisdiction, grantClerk, jurisdictionView, listClerks, listJurisdictions, revokeClerk, updateJurisdiction } from './service';

/**
 * France's 34,969 communes make a body of about 2 MB, over the app's 1 MB JSON limit: creating and
 * changing a jurisdiction have their own, 50,000 districts at 160 bytes each.
 */
export const JURISDICTION_BODY_LIMIT = 8 * 1024 * 1024;
export const isJurisdictionConfiguration = (method: string, path: string) =>
  (method === 'POST' && path === '/v1/jurisdictions') || (method === 'PATCH' && /^\/v1\/jurisdictions\/[^/]+$/.test(path));

/**
 * The caller may do it (an administrator to create; an administrator or a clerk of the jurisdiction to
 * change it) before megabytes of districts are read and validated: anyone signed in is not enough.
 */
const largeConfiguration = (who: 'admin' | 'clerk') => [
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = requirePrincipal(c);
    if (who === 'admin') requireAdmin(principal);
    const id = c.req.param('id');
    if (who === 'clerk' && !principal.isAdmin && id !== undefined && !(await isClerkOf(c.var.deps.db.db, principal.subject, id))) {
      // As the change itself answers: an unknown jurisdiction first (its id only is read, not its districts).
      const [known] = await c.var.deps.db.db.select({ id: jurisdictions.id }).from(jurisdictions).where(eq(jurisdictions.id, id));
      if (!known) throw problems.notFound('Jurisdiction', id);
      throw problems.forbidden(`Only a clerk of jurisdiction "${id}" or an administrator may change it.`);
    }
    await next();
  }),
  bodyLimit({
    maxSize: JURISDICTION_BODY_LIMIT,
    onError: () => {
      throw problems.payloadTooLarge(JURISDICTION_BODY_LIMIT);
    },
  }),
];

const IdParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'paris' }) });

export const jurisdictionRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/jurisdictions',
      tags: ['Jurisdictions'],
      summary: 'List jurisdictions',
      responses: { 200: json(z.object({ items: z.array(JurisdictionSchema) }), 'Every jurisdiction, by name.'), ...errors(401) },
    }),
    async (c) => {
      const rows = await listJurisdictions(c.var.deps.db.db);
      return c.json({ items: rows.map(jurisdictionView) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/jurisdictions/{id}',
      tags: ['Jurisdictions'],
      summary: 'Jurisdiction detail',
      request: { params: IdParam },
      responses: { 200: json(JurisdictionSchema, 'The jurisdiction, with districts and default rules.'), ...errors(401, 404) },
    }),
    async (c) => c.json(jurisdictionView(await getJurisdiction(c.var.deps.db.db, c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/jurisdictions',
      tags: ['Jurisdictions'],
      summary: 'Create a jurisdiction (admin)',
      security: bearer,
      middleware: largeConfiguration('admin'),
      request: { body: jsonBody(CreateJurisdictionSchema) },
      responses: { 201: json(JurisdictionSchema, 'Created.'), ...errors(400, 401, 403, 409, 413, 415) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      requireAdmin(principal);
      const { deps } = c.var;
      const row = await createJurisdiction(deps.db.db, c.req.valid('json'), principal.subject, deps.clock());
      return c.json(jurisdictionView(row), 201);
    },
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/v1/jurisdictions/{id}',
      tags: ['Jurisdictions'],
      summary: "Change a jurisdiction's configuration (its clerks, or an administrator)",
      description:
        'Any of the settings given at creation but the id; districts and default rules are replaced whole, and the result must be valid as at creation. Initiatives already opened keep the rules and electorate figures they were opened with; age, assurance, districts and the roll requirement apply to signatures from now on. 409 `district-in-use` for removing a district once an initiative has been opened in the jurisdiction, or while the roll in force uses it; 409 `kind-in-use` for removing the rules of a kind while initiatives of that kind are drafted or await review (those rejected or withdrawn before opening keep the rules they were drafted under); 409 `no-roll` for requiring a roll before one is imported. Recorded in the audit trail (`jurisdiction.updated`): the settings changed, each setting but the districts before and after (the rules in full), and the districts as their difference — those added and removed, whole, and for each one changed, its code and the name or electorate before and after.',
      security: bearer,
      middleware: largeConfiguration('clerk'),
      request: { params: IdParam, body: jsonBody(UpdateJurisdictionSchema) },
      responses: { 200: json(JurisdictionSchema, 'The jurisdiction as changed.'), ...errors(400, 401, 403, 404, 409, 413, 415) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const { deps } = c.var;
      const row = await updateJurisdiction(deps.db.db, principal, c.req.valid('param').id, c.req.valid('json'), deps.clock());
      return c.json(jurisdictionView(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/jurisdictions/{id}/clerks',
      tags: ['Jurisdictions'],
      summary: 'Grant the clerk role to a subject (admin)',
      security: bearer,
      request: { params: IdParam, body: jsonBody(GrantClerkSchema) },
      responses: {
        201: json(z.object({ jurisdictionId: z.string(), subject: z.string() }), 'Granted.'),
        200: json(z.object({ jurisdictionId: z.string(), subject: z.string() }), 'Already a clerk.'),
        ...errors(400, 401, 403, 404, 413, 415),
      },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      requireAdmin(principal);
      const { deps } = c.var;
      const result = await grantClerk(deps.db.db, c.req.valid('param').id, c.req.valid('json').subject, principal.subject, deps.clock());
      return c.json({ jurisdictionId: result.jurisdictionId, subject: result.subject }, result.created ? 201 : 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/jurisdictions/{id}/clerks',
      tags: ['Jurisdictions'],
      summary: 'List the clerks of a jurisdiction (admin, or one of its clerks)',
      security: bearer,
      request: { params: IdParam },
      responses: {
        200: json(z.object({ items: z.array(ClerkSchema) }), 'Its clerks, in the order they were granted the role.'),
        ...errors(401, 403, 404),
      },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const rows = await listClerks(c.var.deps.db.db, principal, c.req.valid('param').id);
      return c.json({ items: rows.map((r) => ({ subject: r.subject, grantedBy: r.grantedBy, grantedAt: r.grantedAt.toISOString() })) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/v1/jurisdictions/{id}/clerks/{subject}',
      tags: ['Jurisdictions'],
      summary: 'Revoke the clerk role (admin)',
      description: 'Takes effect at once, for sessions already open too. Recorded in the audit trail.',
      security: bearer,
      request: { params: IdParam.extend({ subject: z.string().min(1).max(255).openapi({ param: { name: 'subject', in: 'path' }, example: 'clerk-of-paris' }) }) },
      responses: { 204: { description: 'Revoked.' }, ...errors(401, 403, 404) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      requireAdmin(principal);
      const { id, subject } = c.req.valid('param');
      await revokeClerk(c.var.deps.db.db, id, subject, principal.subject, c.var.deps.clock());
      return c.body(null, 204);
    },
  );
