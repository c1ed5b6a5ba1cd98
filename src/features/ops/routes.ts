import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, type AppDeps } from '../../platform/http';
import type { MetricsSnapshot } from '../../platform/metrics';
import { errors, json } from '../../platform/openapi';
import { problems } from '../../platform/problems';

const Health = z.object({ status: z.string() }).openapi('Health');

const router = createRouter();

// Plain text, not JSON: described by hand so the OpenAPI document still lists it.
router.openAPIRegistry.registerPath({
  method: 'get',
  path: '/metrics',
  tags: ['Operations'],
  summary: 'Prometheus metrics: requests, latencies, signatures, database pool, periodic tasks (text exposition format)',
  responses: { 200: { description: 'Metrics in the Prometheus text format 0.0.4.', content: { 'text/plain': { schema: z.string() } } } },
});

export const opsRoutes = router
  .openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags: ['Operations'],
      summary: 'Liveness: the process answers',
      responses: { 200: json(Health, 'Alive.') },
    }),
    (c) => c.json({ status: 'ok' }, 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags: ['Operations'],
      summary: 'Readiness: the database answers',
      responses: { 200: json(Health, 'Ready.'), ...errors(503) },
    }),
    async (c) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          c.var.deps.db.ping(),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 2000))),
        ]);
      } catch {
        throw problems.unavailable('The database does not answer.');
      } finally {
        // A probe every few seconds would otherwise leave a pending timer behind each answer.
        clearTimeout(timer);
      }
      return c.json({ status: 'ready' }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/.well-known/jwks.json',
      tags: ['Operations'],
      summary: "The engine's public keys (receipts, tree heads, certificates, sessions)",
      responses: { 200: json(z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi('JWKS'), 'JSON Web Key Set.') },
    }),
    (c) => {
      c.header('Cache-Control', 'public, max-age=300');
      return c.json(c.var.deps.keys.jwks as { keys: Record<string, unknown>[] }, 200);
    },
  )
  .get('/metrics', async (c) => {
    const { deps } = c.var;
    // In a cluster every process counts what it answered: the figures are the sum over all of them.
    const snapshots = deps.clusterMetrics ? await deps.clusterMetrics() : [processMetrics(deps)];
    return c.body(deps.metrics.render(snapshots), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
  });

/** This process's counters, latencies and database pool. */
export function processMetrics(deps: Pick<AppDeps, 'metrics' | 'db'>): MetricsSnapshot {
  const pool = deps.db.poolUse();
  return deps.metrics.snapshot({ db_pool_connections_active: pool.active, db_pool_connections_max: pool.max });
}
