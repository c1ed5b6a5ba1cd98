import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { auditRoutes } from './features/audit/routes';
import { devProviderRoutes } from './features/auth/dev-routes';
import { loginRoutes } from './features/auth/login-routes';
import { sweepRevokedSessions } from './features/auth/revocation';
import { mountApiDocs } from './features/docs/routes';
import { authRoutes } from './features/auth/routes';
import { authenticate, isBearer } from './features/auth/session';
import { closeOverdueInitiatives } from './features/initiatives/deadlines';
import { initiativeRoutes } from './features/initiatives/routes';
import { isJurisdictionConfiguration, jurisdictionRoutes } from './features/jurisdictions/routes';
import { rollUpSignatureHours } from './features/monitoring/history';
import { monitoringRoutes } from './features/monitoring/routes';
import { opsRoutes } from './features/ops/routes';
import { PAPER_SIGNATURES_PATH, paperRoutes } from './features/paper/routes';
import { personalDataRoutes } from './features/personal-data/routes';
import { personalDataResealer } from './features/personal-data/reseal';
import { purgePersonalData } from './features/personal-data/service';
import { ROLL_IMPORT_PATH, rollRoutes } from './features/roll/routes';
import { dropOldEntries } from './features/roll/service';
import { rateLimit } from './features/rate-limit/middleware';
import { sweepRateLimits } from './features/rate-limit/service';
import { recordCrossings } from './features/progress/crossings';
import { signatureRoutes } from './features/signatures/routes';
import { verificationRoutes } from './features/verification/routes';
import { runRollChecks } from './features/verification/service';
import { dispatchWebhooks, webhookHistoryPurger } from './features/webhooks/dispatcher';
import { webhookRoutes } from './features/webhooks/routes';
import { sequenceLogs } from './features/transparency/service';
import { transparencyRoutes } from './features/transparency/routes';
import { createRouter, JSON_BODY_LIMIT, type AppDeps } from './platform/http';
import { conditionalReads, crossOriginReads } from './platform/public-reads-http';
import { publicReadsFor } from './features/initiatives/public-reads';
import { errorPage, notFoundPage, verifyLogoutForm, wantsPage } from './web/errors';
import { formLimit } from './web/request';
import { webRoutes } from './web/routes';
import { describeError, logLevelOf, toProblem } from './platform/error-problem';
import { Problem, problems } from './platform/problems';
import { atMostEvery, type ScheduledTask } from './platform/scheduler';

const SIGNATURES_ROUTE = '/v1/initiatives/:id/signatures';

/** The one Hono app, the same on Node, Workers and in tests; everything runtime-specific comes in `deps`. */
export function createApp(deps: AppDeps) {
  const app = createRouter();

  app.use('*', requestId({ headerName: 'X-Request-Id' }));
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    const started = performance.now();
    await next();
    const route = c.req.routePath && c.req.routePath !== '/*' ? c.req.routePath : 'unmatched';
    const seconds = (performance.now() - started) / 1000;
    const labels = { method: c.req.method, route, status: String(c.res.status) };
    deps.metrics.requests.inc(labels);
    deps.metrics.latency.observe({ route }, seconds);
    // Route patterns only: paths may carry ids but never names, tokens or birth dates.
    deps.logger.info('request', { requestId: c.var.requestId, ...labels, ms: Math.round(seconds * 10_000) / 10 });
  });
  // Any change through this process but a new signature is seen by the next anonymous read (see
  // PublicReads). A refused request changed nothing: a stream of bad ones does not empty the cache.
  app.use('*', async (c, next) => {
    await next();
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS' || c.res.status >= 400) return;
    if (c.req.method === 'POST' && c.req.routePath === SIGNATURES_ROUTE) return;
    publicReadsFor(deps.db).changed();
  });
  // Outside the security headers: a public read's Cross-Origin-Resource-Policy is set over theirs.
  app.use('*', crossOriginReads);
  app.use('*', secureHeaders({ referrerPolicy: 'no-referrer', xFrameOptions: 'DENY' }));
  const jsonBodyLimit = bodyLimit({
    maxSize: JSON_BODY_LIMIT,
    onError: () => {
      throw problems.payloadTooLarge(JSON_BODY_LIMIT);
    },
  });
  // The roll import streams its body; paper batches and jurisdictions' districts are larger: they apply their own limits.
  app.use('/v1/*', (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    if (ROLL_IMPORT_PATH.test(c.req.path) || PAPER_SIGNATURES_PATH.test(c.req.path)) return next();
    if (isJurisdictionConfiguration(c.req.method, c.req.path)) return next();
    // A declared length is checked from the header (the HTTP parser holds the body to it), without
    // touching the body: reading `raw.body` turns Node's request into a web stream, on every request.
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > JSON_BODY_LIMIT) throw problems.payloadTooLarge(JSON_BODY_LIMIT);
      return next();
    }
    return jsonBodyLimit(c, next);
  });
  app.use('*', (c, next) => (isForEveryone(c.req.path) ? next() : authenticate(c, next)));
  // A read made with a token answers about its caller (their signature, their roles, a clerk's lists):
  // no cache keeps it, unless the route said how long its answer, the same for everyone, may be kept.
  app.use('/v1/*', async (c, next) => {
    await next();
    if ((c.req.method === 'GET' || c.req.method === 'HEAD') && c.get('principal') && !c.res.headers.has('Cache-Control')) {
      c.header('Cache-Control', 'private, no-store');
    }
  });
  app.use('*', conditionalReads);
  // After authentication (limits per identity), before the routes; counters are shared by the engine's processes in the database.
  app.use('/v1/initiatives/:id/signatures', rateLimit('sign'));
  app.use('/v1/initiatives/:id/paper-signatures', rateLimit('paper'));
  app.use('/v1/session', rateLimit('login'));
  app.use('/auth/login', rateLimit('login', ['GET']));
  app.use('/auth/logout', formLimit, verifyLogoutForm);

  // Chained so that the type of the app carries the API's routes: integrators' hc<App> client is typed from it.
  const api = app
    .route('/', opsRoutes)
    .route('/', authRoutes)
    .route('/', jurisdictionRoutes)
    .route('/', initiativeRoutes)
    .route('/', signatureRoutes)
    .route('/', rollRoutes)
    .route('/', paperRoutes)
    .route('/', personalDataRoutes)
    .route('/', verificationRoutes)
    .route('/', transparencyRoutes)
    .route('/', auditRoutes)
    .route('/', monitoringRoutes)
    .route('/', webhookRoutes);
  app.route('/', loginRoutes);
  if (deps.devProvider && !deps.config.production) app.route('/', devProviderRoutes);
  app.route('/', webRoutes());

  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An ID token of the configured identity provider, or an engine session token from POST /v1/session.',
  });
  mountApiDocs(app);

  app.notFound((c) => {
    // A path of the API with another method is there: 405 and the methods it takes (RFC 9110 §15.5.6), not "not found".
    const allowed = c.req.path.startsWith('/v1/') ? allowedMethods(app, c.req.path) : [];
    if (allowed.length > 0) return problemResponse(c, problems.methodNotAllowed(c.req.method, allowed));
    return wantsPage(c) ? notFoundPage(c) : problemResponse(c, problems.notFound('Resource', c.req.path));
  });
  app.onError((error, c) => {
    const problem = toProblem(error);
    // A page's request failing before its route (the session's check, a limit), or outside the pages' routes (the login's start), is answered with a page.
    // Not a refused Authorization header: it is the client's own credential, which a redirect to the login cannot mend (and on the login's start would loop).
    if (wantsPage(c) && !(problem.status === 401 && isBearer(c.req.header('authorization')))) return errorPage(error, c);
    // Server faults are logged (a missing personal-data key or pepper too), contention as a warning; other 503s say retry and are not.
    const level = logLevelOf(error, problem);
    if (level) deps.logger[level](level === 'error' ? 'unhandled error' : 'contention', { requestId: c.var.requestId, route: c.req.routePath, error: describeError(error) });
    return problemResponse(c, problem);
  });
  return api;
}

/**
 * Probes, metrics, keys, the API's description and the pages' assets answer everyone alike: a bearer token sent along
 * (a scraper's, or one a proxy in front has already checked) is not theirs to verify or refuse.
 */
const FOR_EVERYONE = new Set(['/healthz', '/readyz', '/metrics', '/.well-known/jwks.json', '/openapi.json']);
export const isForEveryone = (path: string) => FOR_EVERYONE.has(path) || path === '/docs' || path.startsWith('/docs/') || path.startsWith('/assets/');

function problemResponse(c: { var: { requestId?: string }; req: { path: string } }, problem: Problem) {
  return new Response(JSON.stringify(problem.toJSON(c.req.path, c.var.requestId)), {
    status: problem.status,
    headers: {
      'Content-Type': 'application/problem+json',
      ...(c.var.requestId ? { 'X-Request-Id': c.var.requestId } : {}),
      ...problem.headers,
    },
  });
}

/** The methods the API's routes take on a path, as an Allow header lists them (HEAD wherever GET). */
function allowedMethods(app: { routes: { method: string; path: string }[] }, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === 'ALL' || !route.path.startsWith('/v1/')) continue;
    if (new RegExp(`^${route.path.replace(/:[A-Za-z]+/g, '[^/]+')}$`).test(path)) methods.add(route.method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods];
}

/** Node runs this task on its own timer, at half the log's maximum merge delay (see server.ts). */
export const SEQUENCE_LOGS_TASK = 'sequence-logs';

/** The periodic work of the engine; Node runs it on a timer, Workers on a cron trigger. */
export function engineTasks(deps: AppDeps): ScheduledTask[] {
  return [
    { name: 'close-overdue', run: async (now) => changed(deps, await closeOverdueInitiatives(deps.db.db, now)) },
    { name: 'record-crossings', run: crossingsTask(deps) },
    { name: 'personal-data-retention', run: (now) => purgePersonalData(deps.db.db, now, deps.config.retention) },
    { name: 'personal-data-reseal', run: personalDataResealer(deps) },
    { name: 'drop-replaced-roll-entries', run: replacedRollSweeper(deps) },
    { name: 'check-against-roll', run: rollChecker(deps) },
    { name: SEQUENCE_LOGS_TASK, run: (now) => sequenceLogs(deps, now) },
    { name: 'roll-up-signature-hours', run: (now) => rollUpSignatureHours(deps.db.db, now) },
    { name: 'deliver-webhooks', run: (now) => dispatchWebhooks(deps, now) },
    { name: 'purge-webhook-history', run: webhookHistoryPurger(deps) },
    { name: 'sweep-rate-limits', run: (now) => (deps.config.rateLimits ? sweepRateLimits(deps.db, deps.config.rateLimits.windowSeconds, now) : Promise.resolve()) },
    { name: 'sweep-ended-sessions', run: endedSessionSweeper(deps) },
  ];
}

/** Forgets ended sessions whose tokens have expired since, every ten minutes at most: the rows are few and small. */
function endedSessionSweeper(deps: AppDeps): ScheduledTask['run'] {
  const due = atMostEvery(10 * 60_000);
  return (now) => (due(now) ? sweepRevokedSessions(deps.db, now) : Promise.resolve());
}

/**
 * Open initiatives at every tick; closed ones (still counting paper until verification starts, and
 * piling up where results are never verified) once a minute at most.
 */
function crossingsTask(deps: AppDeps): ScheduledTask['run'] {
  const closedDue = atMostEvery(60_000);
  return async (now) => changed(deps, (await recordCrossings(deps.db.db, now, { includeClosed: closedDue(now) })).map((c) => c.initiativeId));
}

/** Entries of replaced rolls that their import could not delete (the engine stopped, the database refused), once a minute at most. */
function replacedRollSweeper(deps: AppDeps): ScheduledTask['run'] {
  const due = atMostEvery(60_000);
  return (now) => (due(now) ? dropOldEntries(deps.db.db) : Promise.resolve());
}

/** Full counts' checks against the roll, a few seconds of pages at each pass; a key warning is logged once per process. */
function rollChecker(deps: AppDeps): ScheduledTask['run'] {
  const warned = new Map<string, string>();
  return (now) => runRollChecks(deps, now, { warned });
}

/** What a periodic task changed leaves the anonymous reads kept in memory. */
function changed(deps: AppDeps, initiativeIds: string[]) {
  if (initiativeIds.length > 0) publicReadsFor(deps.db).changed(initiativeIds);
  return initiativeIds;
}

export type App = ReturnType<typeof createApp>;
