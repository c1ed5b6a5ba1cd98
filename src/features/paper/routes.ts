import { createRoute } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createRouter } from '../../platform/http';
import { bearer, errors, json, jsonBody } from '../../platform/openapi';
import { problems } from '../../platform/problems';
import { requirePrincipal } from '../auth/access';
import { IdParam } from '../initiatives/schema';
import { PAPER_BATCH_MAX, PaperAnomaliesSchema, PaperBatchResultSchema, PaperBatchSchema } from './schema';
import { keyInPaperBatch, paperAnomalies } from './service';

/** A full batch of 5,000 entries is larger than the app's 1 MB JSON limit: this route has its own. */
export const PAPER_BODY_LIMIT = 4 * 1024 * 1024;
export const PAPER_SIGNATURES_PATH = /^\/v1\/initiatives\/[^/]+\/paper-signatures$/;

const paperBodyLimit = bodyLimit({
  maxSize: PAPER_BODY_LIMIT,
  onError: () => {
    throw problems.payloadTooLarge(PAPER_BODY_LIMIT);
  },
});

export const paperRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/initiatives/{id}/paper-signatures',
      tags: ['Paper signatures'],
      summary: 'Key in a batch of paper signatures (clerk)',
      description:
        `Up to ${PAPER_BATCH_MAX} entries, in one transaction. Each entry is accepted, a duplicate of an earlier ` +
        'signature (online or paper: one person counts once) or ineligible with the rule that failed. ' +
        'Sending the same batch again changes nothing: its entries come back as duplicates. ' +
        'Taken while the initiative is open or closed, until verification starts and, on a closed initiative, ' +
        "until its signers' personal data is destroyed under the retention schedule (409 personal-data-destroyed).",
      security: bearer,
      middleware: [paperBodyLimit] as const,
      request: { params: IdParam, body: jsonBody(PaperBatchSchema) },
      responses: { 200: json(PaperBatchResultSchema, 'A result per entry, in order.'), ...errors(400, 401, 403, 404, 409, 413, 415, 429, 503) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const result = await keyInPaperBatch(c.var.deps, c.req.valid('param').id, principal, c.req.valid('json').entries);
      return c.json(result, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/paper-signatures/anomalies',
      tags: ['Paper signatures'],
      summary: 'Collectors and sheets that stand out (clerk)',
      description:
        'A collector or sheet stands out with at least 10 entries and a rejection or duplicate rate at least twice ' +
        "the initiative's paper-wide rate. Also lists birth dates out of range and sheets with signers of 3 or more districts.",
      security: bearer,
      request: { params: IdParam },
      responses: { 200: json(PaperAnomaliesSchema, 'What deserves a second look.'), ...errors(400, 401, 403, 404) },
    }),
    async (c) => c.json(await paperAnomalies(c.var.deps, c.req.valid('param').id, requirePrincipal(c)), 200),
  );
