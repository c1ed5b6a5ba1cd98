import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../platform/http';
import { bearer, errors, json, problemResponses } from '../../platform/openapi';
import { problems } from '../../platform/problems';
import { requireClerk, requirePrincipal } from '../auth/access';
import { importRoll, MAX_RECORD_CHARS, REPORTED_REJECTIONS, ROLL_COLUMNS, rollSummary } from './service';

/** Default largest roll CSV (200 MB: some 4 million lines); ROLL_MAX_BYTES changes it. */
export const ROLL_BODY_LIMIT = 200 * 1024 * 1024;

/** The roll import streams its body and applies its own limit, so the app's JSON body limit skips it. */
export const ROLL_IMPORT_PATH = /^\/v1\/jurisdictions\/[^/]+\/roll$/;

const JurisdictionParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'paris' }) });

const RollImportSchema = z
  .object({
    importId: z.string(),
    jurisdictionId: z.string(),
    keyVersion: z.string().openapi({ description: 'Pepper version of the roll hashes.' }),
    imported: z.number().int().openapi({ description: 'Entries on the new roll.' }),
    duplicates: z.number().int().openapi({ description: 'Lines naming a person already on an earlier line (the first one is kept).' }),
    rejected: z.number().int(),
    rejections: z
      .array(z.object({ line: z.number().int(), reason: z.string() }))
      .openapi({ description: `The first ${REPORTED_REJECTIONS} rejected lines (line 1 is the header).` }),
    completedAt: z.string(),
  })
  .openapi('RollImport');

const RollSummarySchema = z
  .object({
    importId: z.string(),
    jurisdictionId: z.string(),
    keyVersion: z.string(),
    imported: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.number().int(),
    importedBy: z.string(),
    completedAt: z.string().nullable(),
  })
  .openapi('RollSummary');

export const rollRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'put',
      path: '/v1/jurisdictions/{id}/roll',
      tags: ['Electoral roll'],
      summary: 'Replace the electoral roll (clerk)',
      description:
        `A CSV body (UTF-8, header \`${ROLL_COLUMNS.join(',')}\`), read as a stream. Each line is validated and ` +
        'canonicalised; only a keyed hash of the person and the district are stored. A malformed CSV record is rejected ' +
        `by the line it starts on; a record over ${MAX_RECORD_CHARS} characters (a quote left open) refuses the file (400). The roll is replaced atomically: ` +
        'signers are checked against the old roll or the new one, never a mix.',
      security: bearer,
      request: {
        params: JurisdictionParam,
        body: {
          required: true,
          content: { 'text/csv': { schema: z.string().openapi({ example: 'family_name,given_names,birthdate,district\nDupont,Élodie Marie,1990-04-12,75111\n' }) } },
        },
      },
      responses: {
        200: json(RollImportSchema, 'The new roll is in force.'),
        ...errors(400, 401, 403, 404, 409, 413),
        415: { ...problemResponses[415], description: 'The body is not text/csv.' },
      },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const { deps } = c.var;
      const { id } = c.req.valid('param');
      await requireClerk(deps.db.db, principal, id);
      const limit = deps.config.rollMaxBytes ?? ROLL_BODY_LIMIT;
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'text/csv') throw problems.unsupportedMediaType('text/csv');
      const declared = Number(c.req.header('content-length') ?? Number.NaN);
      if (declared > limit) throw problems.payloadTooLarge(limit);
      const body = c.req.raw.body;
      if (!body) throw problems.validation([{ field: 'body', message: 'A CSV body is required.' }]);
      return c.json(await importRoll(deps, id, principal.subject, body, limit), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/jurisdictions/{id}/roll',
      tags: ['Electoral roll'],
      summary: 'The electoral roll in force (clerk): counts only',
      security: bearer,
      request: { params: JurisdictionParam },
      responses: { 200: json(RollSummarySchema, 'The current import.'), ...errors(401, 403, 404) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      const { deps } = c.var;
      const { id } = c.req.valid('param');
      await requireClerk(deps.db.db, principal, id);
      return c.json(await rollSummary(deps.db.db, id), 200);
    },
  );
