import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { createRouter } from '../../platform/http';
import { bearer, errors, json } from '../../platform/openapi';
import { problems } from '../../platform/problems';
import { requirePrincipal } from '../auth/access';
import { IdParam } from '../initiatives/schema';
import { getVisibleInitiative } from '../initiatives/service';
import { dashboardFor } from './dashboard';
import { progressHistory } from './history';
import { clientAddress } from '../rate-limit/middleware';
import { progressFeedReader, progressHubFor, isProxyLikeAddress, streamSlotsFor, type ProgressSnapshot } from './live';
import { DashboardQuerySchema, DashboardSchema, HistoryQuerySchema, HistorySchema } from './schema';

/** The stream never pushes twice within this interval, whatever the polling does. */
export const MIN_PUSH_INTERVAL_MS = 1000;
const DEFAULT_HEARTBEAT_MS = 15_000;
const RECONNECT_MS = 3000;

export const monitoringRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/progress/history',
      tags: ['Progress'],
      summary: 'Signatures per hour or day, and cumulative, from the signatures’ own timestamps',
      description:
        'A signature counts from the time it was made; a withdrawn one stops counting when it was withdrawn (it appears in `withdrawn` of that bucket). Buckets without signatures are included with zeros.',
      request: { params: IdParam, query: HistoryQuerySchema },
      responses: { 200: json(HistorySchema, 'The time series.'), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { deps } = c.var;
      const query = c.req.valid('query');
      const { initiative, jurisdiction } = await getVisibleInitiative(deps.db.db, c.req.valid('param').id, c.get('principal'));
      if (query.district && !jurisdiction.districts.some((d) => d.code === query.district)) {
        throw problems.validation([{ field: 'query.district', message: `Jurisdiction "${jurisdiction.id}" has no district "${query.district}".` }]);
      }
      const history = await progressHistory(
        deps.db.db,
        initiative,
        jurisdiction.timeZone,
        { bucket: query.bucket, district: query.district, from: query.from ? new Date(query.from) : undefined, to: query.to ? new Date(query.to) : undefined },
        deps.clock(),
      );
      // A sponsor's draft is read for them alone: kept by no cache.
      c.header('Cache-Control', initiative.status === 'draft' ? 'private, no-store' : 'public, max-age=5');
      return c.json(history, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/dashboard',
      tags: ['Progress'],
      summary: 'Dashboard for the sponsor, the committee and the clerks: progress, history, pace, projection, districts behind, time left',
      security: bearer,
      request: { params: IdParam, query: DashboardQuerySchema },
      responses: { 200: json(DashboardSchema, 'The dashboard now.'), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const { deps } = c.var;
      const dashboard = await dashboardFor(deps.db.db, c.req.valid('param').id, principal, c.req.valid('query').bucket, deps.clock(), deps.keys.keyring);
      c.header('Cache-Control', 'private, no-store');
      return c.json(dashboard, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/progress/stream',
      tags: ['Progress'],
      summary: 'Live progress (Server-Sent Events)',
      description:
        'Each `progress` event carries the progress (same shape as GET …/progress) and an `id` naming its version. Events come at most once a second, only when the progress changed; comment lines keep the connection alive. Reconnecting with `Last-Event-ID` skips the first event when the client already has the current version. Once collection is over (any status after `open`), the stream sends the progress in its new status and ends; a request for such an initiative gets that progress and the end at once, or `204` (which tells an EventSource to stop reconnecting) when its `Last-Event-ID` is already the current version.',
      request: {
        params: IdParam,
        headers: z.object({ 'last-event-id': z.string().max(200).optional() }),
      },
      responses: {
        200: { description: 'An event stream.', content: { 'text/event-stream': { schema: z.string() } } },
        204: { description: 'Collection is over and the client already has the last progress: nothing more will come.' },
        ...errors(400, 401, 404, 429),
      },
    }),
    async (c) => {
      const { deps } = c.var;
      const id = c.req.valid('param').id;
      const { initiative } = await getVisibleInitiative(deps.db.db, id, c.get('principal'));
      const lastEventId = c.req.valid('header')['last-event-id'];
      const options = deps.progressStream ?? {};
      c.header('X-Accel-Buffering', 'no');

      if (options.mode === 'snapshot' || !collecting(initiative.status)) {
        const snapshot = await (await progressFeedReader(deps.db.db, deps.clock)(id))();
        if (!collecting(snapshot.progress.status) && snapshot.version === lastEventId) return c.body(null, 204);
        return streamSSE(c, async (stream) => {
          await stream.write(`retry: ${RECONNECT_MS}\n\n`);
          if (snapshot.version !== lastEventId) await sendProgress(stream, snapshot);
        });
      }

      // A HEAD has its headers and no body: nothing would ever read, end or cancel a live stream's.
      if (c.req.method === 'HEAD') return c.body(null, 200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });

      // A live stream holds a connection for as long as its page is open: one address may hold only so many.
      // Behind a reverse proxy whose header is not configured, every visitor has the proxy's address: not counted then.
      const limits = deps.config.rateLimits;
      const perAddress = limits?.streamsPerAddress ?? 0;
      const seen = limits && perAddress > 0 ? clientAddress(c, limits) : undefined;
      const address = seen && (limits?.addressHeader || !isProxyLikeAddress(seen)) ? seen : undefined;
      const release = address ? streamSlotsFor(deps).take(address, perAddress) : () => {};
      if (!release) {
        throw problems.tooManyRequests(RECONNECT_MS / 1000, `This address already holds ${perAddress} live progress streams; close one, or read GET …/progress.`);
      }
      const hub = progressHubFor(deps);
      let pending: ProgressSnapshot | undefined;
      let ending = false;
      let wake: (() => void) | undefined;
      const subscription = await hub
        .subscribe(id, (snapshot) => {
          if (snapshot) pending = snapshot;
          else ending = true;
          wake?.();
        })
        .catch((error: unknown) => {
          release();
          throw error;
        });
      pending ??= subscription.current;
      const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;

      return streamSSE(c, async (stream) => {
        // Wakes on a new version or on abort; resolves false when `ms` passed without either.
        const wait = (ms: number) =>
          new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => {
              wake = undefined;
              resolve(false);
            }, ms);
            wake = () => {
              clearTimeout(timer);
              wake = undefined;
              resolve(true);
            };
          });
        stream.onAbort(() => wake?.());
        let sentVersion = lastEventId;
        let sentAt = -Infinity;
        try {
          await stream.write(`retry: ${RECONNECT_MS}\n\n`);
          while (!stream.aborted && !ending) {
            if (pending && pending.version !== sentVersion) {
              const due = sentAt + MIN_PUSH_INTERVAL_MS - performance.now();
              if (due > 0) {
                // Later versions arriving meanwhile replace `pending`; the wait resumes until due.
                await wait(due);
                continue;
              }
              const snapshot = pending;
              pending = undefined;
              sentAt = performance.now();
              sentVersion = snapshot.version;
              await sendProgress(stream, snapshot);
              if (!collecting(snapshot.progress.status)) break;
            } else if (!(await wait(heartbeatMs)) && !stream.aborted && !ending) {
              await stream.write(': heartbeat\n\n');
            }
          }
        } finally {
          subscription.unsubscribe();
          release();
        }
      });
    },
  );

/** Statuses whose progress may still move with online signing; after them the stream has nothing live to follow. */
const collecting = (status: string) => status === 'draft' || status === 'submitted' || status === 'open';

function sendProgress(stream: SSEStreamingApi, snapshot: ProgressSnapshot) {
  return stream.writeSSE({ event: 'progress', id: snapshot.version, data: JSON.stringify(snapshot.progress) });
}
