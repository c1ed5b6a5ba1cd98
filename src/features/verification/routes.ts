import { createRoute, z } from '@hono/zod-openapi';
import { referendumItems } from '../../db/schema';
import { createRouter } from '../../platform/http';
import { bearer, errors, json, jsonBody } from '../../platform/openapi';
import { requirePrincipal } from '../auth/access';
import { IdParam } from '../initiatives/schema';
import { CSV_BOM, csvDownloadHeaders, csvLine } from './csv';
import {
  CompleteVerificationSchema,
  DecisionBatchSchema,
  DecisionResultSchema,
  ReferendumItemSchema,
  StartVerificationSchema,
  VerificationQuerySchema,
  VerificationSchema,
} from './schema';
import {
  completeVerification,
  DISTRICT_EXPORT_COLUMNS,
  EXPORT_COLUMNS,
  getReferendumItem,
  listReferendumItems,
  openVerificationExport,
  recordDecisions,
  startVerification,
  verificationDistricts,
  verificationExportRows,
  verificationReport,
} from './service';

type ItemRow = typeof referendumItems.$inferSelect;
const itemView = (row: ItemRow) => ({ ...row, certifiedAt: row.certifiedAt.toISOString() });

export const verificationRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/initiatives/{id}/verification',
      tags: ['Verification'],
      summary: 'Start verification of a closed initiative (clerk)',
      description:
        "Refused once its signers' personal data is destroyed under the retention schedule (a closed initiative below its goal): 409 personal-data-destroyed. " +
        'A full count with a roll imported answers at once: the check against the roll is then done in the background (rollCheck says how far).',
      security: bearer,
      request: { params: IdParam, body: jsonBody(StartVerificationSchema) },
      responses: { 201: json(VerificationSchema, 'Verification started.'), ...errors(400, 401, 403, 404, 409, 413, 415) },
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
      summary: 'Sample or signatures with decisions, tallies, projection and band (clerk)',
      description:
        'Lists the signatures under verification (the sample in draw order, or every signature of a full count), with the decrypted personal data where kept; each read is audited. ' +
        'Beyond 1,000 districts, `counts.districts` lists 1,000 of them (`counts.districtCount` says how many there are); completion and the certificate still take every district, ' +
        'and `/verification/districts` gives them all as CSV.',
      security: bearer,
      request: { params: IdParam, query: VerificationQuerySchema },
      responses: { 200: json(VerificationSchema, 'The verification.'), ...errors(400, 401, 403, 404) },
    }),
    async (c) => {
      const report = await verificationReport(c.var.deps, c.req.valid('param').id, requirePrincipal(c), c.req.valid('query'));
      // Signers' names and birth dates: no copy in a browser's or proxy's cache, out of reach of the retention schedule.
      c.header('Cache-Control', 'no-store');
      return c.json(report, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/initiatives/{id}/verification/decisions',
      tags: ['Verification'],
      summary: 'Record clerks’ decisions on signatures, in batches (clerk)',
      security: bearer,
      request: { params: IdParam, body: jsonBody(DecisionBatchSchema) },
      responses: { 200: json(DecisionResultSchema, 'What each decision did.'), ...errors(400, 401, 403, 404, 409, 413, 415) },
    }),
    async (c) => c.json(await recordDecisions(c.var.deps, c.req.valid('param').id, requirePrincipal(c), c.req.valid('json').decisions), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/verification/export',
      tags: ['Verification'],
      summary: 'CSV of the verification for the official record, streamed (clerk)',
      description: `Columns: ${EXPORT_COLUMNS.join(', ')}. Cells that a spreadsheet would run as a formula start with a single quote.`,
      security: bearer,
      request: { params: IdParam },
      responses: {
        200: { description: 'The verified signatures and their decisions.', content: { 'text/csv': { schema: z.string() } } },
        ...errors(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const verification = await openVerificationExport(c.var.deps, id, requirePrincipal(c));
      const rows = verificationExportRows(c.var.deps.db.db, verification);
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(CSV_BOM + csvLine(EXPORT_COLUMNS)));
        },
        async pull(controller) {
          const next = await rows.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(csvLine(next.value)));
        },
        async cancel() {
          await rows.return(undefined);
        },
      });
      return c.body(body, 200, csvDownloadHeaders(`verification-${id}.csv`));
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/verification/districts',
      tags: ['Verification'],
      summary: 'CSV of the verified counts of every district (clerk)',
      description:
        `Columns: ${DISTRICT_EXPORT_COLUMNS.join(', ')}: the signatures not withdrawn (raw), those counted valid (a sample: projected, rounded down), ` +
        'the district’s minimum and whether it is met, as the report and the certificate evaluate them; every district, where the report lists 1,000 at most.',
      security: bearer,
      request: { params: IdParam },
      responses: {
        200: { description: 'Every district of the jurisdiction, in its order.', content: { 'text/csv': { schema: z.string() } } },
        ...errors(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const districts = await verificationDistricts(c.var.deps, id, requirePrincipal(c));
      const lines = [CSV_BOM + csvLine(DISTRICT_EXPORT_COLUMNS)];
      for (const d of districts) lines.push(csvLine([d.code, d.name, String(d.raw), String(d.valid), d.required === null ? null : String(d.required), d.met === null ? null : String(d.met)]));
      return c.body(lines.join(''), 200, csvDownloadHeaders(`verification-districts-${id}.csv`));
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/initiatives/{id}/verification/complete',
      tags: ['Verification'],
      summary: 'Certify (creates the referendum item) or declare insufficient (clerk)',
      description:
        'Refused while a full count is still being checked against the roll (409 roll-check-running, with checked, toCheck and missingKey), ' +
        'while signatures await a decision (409 verification-pending), and where a sample cannot decide (409 full-count-required).',
      security: bearer,
      request: { params: IdParam, body: { ...jsonBody(CompleteVerificationSchema), required: false } },
      responses: { 200: json(VerificationSchema, 'Verification complete.'), ...errors(400, 401, 403, 404, 409, 413, 415) },
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
      request: {
        query: z.object({
          jurisdiction: z.string().min(1).max(64).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: z.string().max(200).optional(),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(ReferendumItemSchema), nextCursor: z.string().nullable() }), 'A page, newest first.'), ...errors(400, 401) },
    }),
    async (c) => {
      const page = await listReferendumItems(c.var.deps.db.db, c.req.valid('query'));
      return c.json({ items: page.items.map(itemView), nextCursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/referendum-items/{id}',
      tags: ['Referendum items'],
      summary: 'One certified item',
      request: { params: IdParam },
      responses: { 200: json(ReferendumItemSchema, 'The item.'), ...errors(400, 401, 404) },
    }),
    async (c) => {
      return c.json(itemView(await getReferendumItem(c.var.deps.db.db, c.req.valid('param').id)), 200);
    },
  );
