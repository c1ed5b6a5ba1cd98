import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, type AppDeps, type Principal } from '../../platform/http';
import { bearer, errors, json, jsonBody } from '../../platform/openapi';
import { requireIdentity, requirePrincipal } from '../auth/access';
import { buildProgress } from '../progress/service';
import {
  CreateInitiativeSchema,
  IdParam,
  InitiativeSchema,
  JoinCommitteeSchema,
  ListQuerySchema,
  ProgressSchema,
  ReasonSchema,
  ReviewSchema,
  UpdateInitiativeSchema,
} from './schema';
import {
  closeBySponsor,
  createInitiative,
  getInitiativeWithJurisdiction,
  joinCommittee,
  listInitiatives,
  pageView,
  readInitiativePage,
  review,
  submit,
  summaryView,
  updateDraft,
  withdraw,
} from './service';
import { publicPage } from './public-reads';
import { weakValidator } from '../../platform/public-reads-http';

// Paths stay literal types so that the typed client (hc<App>) knows each route.
const lifecycleRoute = <const P extends string>(path: P, summary: string) =>
  createRoute({
    method: 'post',
    path,
    tags: ['Initiatives'],
    summary,
    security: bearer,
    request: { params: IdParam },
    responses: { 200: json(InitiativeSchema, 'The initiative in its new state.'), ...errors(400, 401, 403, 404, 409) },
  });

const lifecycleRouteWith = <const P extends string, T extends z.ZodType>(path: P, summary: string, schema: T, required: boolean) =>
  createRoute({
    method: 'post',
    path,
    tags: ['Initiatives'],
    summary,
    security: bearer,
    request: { params: IdParam, body: { ...jsonBody(schema), required } },
    responses: { 200: json(InitiativeSchema, 'The initiative in its new state.'), ...errors(400, 401, 403, 404, 409, 413, 415) },
  });

export const initiativeRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives',
      tags: ['Initiatives'],
      summary: 'List initiatives (drafts only for their sponsor)',
      request: { query: ListQuerySchema },
      responses: {
        200: json(z.object({ items: z.array(InitiativeSchema), nextCursor: z.string().nullable() }), 'A page, newest first.'),
        ...errors(400, 401),
      },
    }),
    async (c) => {
      const page = await listInitiatives(c.var.deps.db.db, c.req.valid('query'), c.get('principal'));
      return c.json({ items: page.items.map((row) => ({ ...summaryView(row), committeeSize: row.committeeSize })), nextCursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/initiatives',
      tags: ['Initiatives'],
      summary: 'Create a draft (any verified citizen becomes its sponsor)',
      security: bearer,
      request: { body: jsonBody(CreateInitiativeSchema) },
      responses: { 201: json(InitiativeSchema, 'The draft, with the committee code to share.'), ...errors(400, 401, 403, 413, 415) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      requireIdentity(principal);
      const { deps } = c.var;
      const now = deps.clock();
      const row = await createInitiative(deps.db.db, c.req.valid('json'), principal, deps.keys.keyring, now);
      return c.json(await viewAfter(deps, row.id, principal, now), 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}',
      tags: ['Initiatives'],
      summary: 'Initiative detail with progress',
      request: { params: IdParam },
      responses: { 200: json(InitiativeSchema, 'The initiative.'), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { deps } = c.var;
      const principal = c.get('principal');
      const { id } = c.req.valid('param');
      const render = async () => pageView(await readInitiativePage(deps.db.db, id, principal), principal, deps.clock());
      // What everyone sees alike may come from memory for up to a second (see PublicReads).
      if (!principal) c.header('Cache-Control', 'public, max-age=1');
      const view = await publicPage(deps.db, { view: 'detail', id, personal: !!principal, cacheControl: c.req.header('cache-control') }, render);
      if (!principal) c.header('ETag', weakValidator(view, () => ({ ...view, progress: view.progress && { ...view.progress, updatedAt: undefined } })));
      return c.json(view, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/v1/initiatives/{id}',
      tags: ['Initiatives'],
      summary: 'Edit a draft (sponsor)',
      security: bearer,
      request: { params: IdParam, body: jsonBody(UpdateInitiativeSchema) },
      responses: { 200: json(InitiativeSchema, 'The edited draft.'), ...errors(400, 401, 403, 404, 409, 413, 415) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const { deps } = c.var;
      const now = deps.clock();
      const row = await updateDraft(deps.db.db, c.req.valid('param').id, c.req.valid('json'), principal, now);
      return c.json(await viewAfter(deps, row.id, principal, now), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/initiatives/{id}/committee',
      tags: ['Initiatives'],
      summary: "Join the sponsoring committee with the sponsor's code",
      security: bearer,
      request: { params: IdParam, body: jsonBody(JoinCommitteeSchema) },
      responses: {
        201: json(z.object({ joined: z.boolean(), committeeSize: z.number().int() }), 'Joined.'),
        200: json(z.object({ joined: z.boolean(), committeeSize: z.number().int() }), 'Already a member.'),
        ...errors(400, 401, 403, 404, 409, 413, 415),
      },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      requireIdentity(principal);
      const { deps } = c.var;
      const result = await joinCommittee(deps.db.db, deps.keys.keyring, c.req.valid('param').id, c.req.valid('json').code, principal, deps.clock());
      return c.json(result, result.joined ? 201 : 200);
    },
  )
  .openapi(lifecycleRoute('/v1/initiatives/{id}/submit', 'Submit for admissibility review (sponsor)'), async (c) => {
    const principal = requirePrincipal(c);
    const { deps } = c.var;
    const now = deps.clock();
    const row = await submit(deps.db.db, c.req.valid('param').id, principal, now);
    return c.json(await viewAfter(c.var.deps, row.id, principal, now), 200);
  })
  .openapi(lifecycleRouteWith('/v1/initiatives/{id}/review', 'Rule on admissibility: open or reject (clerk)', ReviewSchema, true), async (c) => {
    const principal = requirePrincipal(c);
    const { deps } = c.var;
    const now = deps.clock();
    const body = c.req.valid('json') as z.infer<typeof ReviewSchema>;
    const row = await review(deps.db.db, c.req.valid('param').id, body, principal, now);
    return c.json(await viewAfter(deps, row.id, principal, now), 200);
  })
  .openapi(lifecycleRouteWith('/v1/initiatives/{id}/withdraw', 'Withdraw the initiative (sponsor)', ReasonSchema, false), async (c) => {
    const principal = requirePrincipal(c);
    const { deps } = c.var;
    const now = deps.clock();
    const body = c.req.valid('json') as z.infer<typeof ReasonSchema> | undefined;
    const row = await withdraw(deps.db.db, c.req.valid('param').id, principal, body?.reason, now);
    return c.json(await viewAfter(deps, row.id, principal, now), 200);
  })
  .openapi(lifecycleRoute('/v1/initiatives/{id}/close', 'Close collection early (sponsor)'), async (c) => {
    const principal = requirePrincipal(c);
    const { deps } = c.var;
    const row = await closeBySponsor(deps.db.db, c.req.valid('param').id, principal, deps.clock);
    return c.json(await viewAfter(deps, row.id, principal, deps.clock()), 200);
  })
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/progress',
      tags: ['Progress'],
      summary: 'Progress: total, each criterion, each district, milestones',
      request: { params: IdParam },
      responses: { 200: json(ProgressSchema, 'Progress now.'), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { deps } = c.var;
      const principal = c.get('principal');
      const { id } = c.req.valid('param');
      // Progress is the same for everyone once the initiative is visible; a sponsor's draft is read for them alone, and kept by no cache.
      let draft = false;
      const render = async () => {
        const { initiative, jurisdiction, tally, crossings } = await readInitiativePage(deps.db.db, id, principal);
        draft = initiative.status === 'draft';
        return buildProgress(initiative, jurisdiction, tally, crossings, deps.clock());
      };
      const progress = await publicPage(deps.db, { view: 'progress', id, personal: !!principal, cacheControl: c.req.header('cache-control') }, render);
      c.header('Cache-Control', draft ? 'private, no-store' : 'public, max-age=1');
      if (!draft) c.header('ETag', weakValidator(progress, () => ({ ...progress, updatedAt: undefined })));
      return c.json(progress, 200);
    },
  );

/** The initiative as the caller sees it once a change committed. */
async function viewAfter(deps: AppDeps, id: string, principal: Principal, now: Date) {
  return pageView(await readInitiativePage(deps.db.db, id, principal), principal, now);
}
