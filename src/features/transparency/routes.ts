import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../platform/http';
import { errors, json } from '../../platform/openapi';
import { IdParam } from '../initiatives/schema';
import { consistencyProofFor, inclusionProofFor, logEntriesPage, logHead, MAX_ENTRIES_PAGE } from './service';

/** A position or size in the log, in digits: `?index=` is not index 0, nor `?size=0x10` size 16. */
const position = (min: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v),
    z
      .number({ error: 'A whole number, written in digits.' })
      .min(min, { error: `At least ${min}.` })
      .max(Number.MAX_SAFE_INTEGER, { error: `At most ${Number.MAX_SAFE_INTEGER}.`, abort: true })
      .int({ error: 'A whole number, written in digits.' }),
  );
const Position = position(0);
const Hash = z.string().openapi({ description: 'Base64 of a SHA-256 hash.', example: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' });

const TreeHeadSchema = z
  .object({
    initiativeId: z.uuid(),
    size: z.number().int(),
    root: Hash,
    timestamp: z.string(),
    signature: z.string().openapi({ description: 'Compact JWS (EdDSA, typ tree-head+jwt) over initiative, size, root and timestamp; key in /.well-known/jwks.json.' }),
  })
  .openapi('SignedTreeHead');

const EntriesSchema = z
  .object({
    start: z.number().int(),
    end: z.number().int().openapi({ description: 'Exclusive; continue from here for the next page.' }),
    size: z.number().int(),
    entries: z.array(z.object({ index: z.number().int(), data: z.string().openapi({ description: 'Base64 of the entry bytes, exactly as hashed into the leaf.' }) })),
  })
  .openapi('LogEntries');

const InclusionSchema = z
  .object({ index: z.number().int(), size: z.number().int(), leaf: Hash, proof: z.array(Hash) })
  .openapi('InclusionProof');

const ConsistencySchema = z.object({ from: z.number().int(), to: z.number().int(), proof: z.array(Hash) }).openapi('ConsistencyProof');

const tags = ['Transparency log'];

/**
 * What a tree of a given size holds never changes (the log never rewrites an entry): such a proof
 * may be kept for good. The latest tree head, and anything computed against it, changes with every
 * batch the sequencer integrates: kept no longer than a public progress read. Set on success only,
 * so a refusal (a size not reached yet) is never kept.
 */
const FOR_GOOD = 'public, max-age=31536000, immutable';
const FOR_A_MOMENT = 'public, max-age=1';

export const transparencyRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/log',
      tags,
      summary: 'The latest signed tree head of the initiative’s log',
      request: { params: IdParam },
      responses: { 200: json(TreeHeadSchema, 'Size, root, timestamp and their signature.'), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const head = await logHead(c.var.deps, id);
      c.header('Cache-Control', FOR_A_MOMENT);
      return c.json({ initiativeId: id, ...head }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/log/entries',
      tags,
      summary: 'Log entries in order, as stored',
      description: `Entries with start ≤ index < end (start defaults to 0, end to the log's size); at most ${MAX_ENTRIES_PAGE} per page.`,
      request: { params: IdParam, query: z.object({ start: Position.default(0), end: Position.optional() }) },
      responses: { 200: json(EntriesSchema, 'A page of entries.'), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { start, end } = c.req.valid('query');
      const page = await logEntriesPage(c.var.deps, c.req.valid('param').id, start, end);
      // The page says the log's current size too.
      c.header('Cache-Control', FOR_A_MOMENT);
      return c.json(page, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/log/inclusion',
      tags,
      summary: 'Inclusion proof of an entry, by leaf index or by signature id',
      description: 'Give `index`, or `ref` (a signature id: its `sign` entry). `size` defaults to the log’s size. RFC 9162 §2.1.3.',
      request: { params: IdParam, query: z.object({ index: Position.optional(), ref: z.uuid().optional(), size: position(1).optional() }) },
      responses: { 200: json(InclusionSchema, 'The audit path, bottom up.'), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const proof = await inclusionProofFor(c.var.deps, c.req.valid('param').id, query);
      c.header('Cache-Control', query.size === undefined ? FOR_A_MOMENT : FOR_GOOD);
      return c.json(proof, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/log/consistency',
      tags,
      summary: 'Consistency proof between two tree sizes',
      description: '`to` defaults to the log’s size. RFC 9162 §2.1.4.',
      request: { params: IdParam, query: z.object({ from: Position, to: Position.optional() }) },
      responses: { 200: json(ConsistencySchema, 'The proof that the larger tree extends the smaller.'), ...errors(400, 401, 404) },
    }),
    async (c) => {
      const { from, to } = c.req.valid('query');
      const proof = await consistencyProofFor(c.var.deps, c.req.valid('param').id, from, to);
      c.header('Cache-Control', to === undefined ? FOR_A_MOMENT : FOR_GOOD);
      return c.json(proof, 200);
    },
  );
