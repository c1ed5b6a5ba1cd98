import { z } from '@hono/zod-openapi';

/** Shapes shared by every route's OpenAPI description. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: '/problems/validation' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string(), code: z.string().optional() })).optional(),
    requestId: z.string().optional(),
  })
  .passthrough()
  .openapi('Problem');

const problem = (description: string, headers?: Record<string, { description: string; schema: { type: 'integer' | 'string' } }>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

const retryAfter = { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' as const } } };

export const problemResponses = {
  400: problem('Invalid request: the `errors` array names each field at fault.'),
  401: problem('A bearer token is needed and missing, or the one sent is expired or invalid (on public operations too: send none rather than a bad one).'),
  403: problem('The caller may not do this, or is not eligible; or the session cookie came with a change asked by a page of another origin.'),
  404: problem('No such resource.'),
  409: problem('Not possible in the current state; the problem names it.'),
  410: problem('No longer available: the problem says why.'),
  413: problem('Request body too large.'),
  415: problem('The body is not of the media type the route takes.'),
  429: problem('Too many requests of this kind from this client address or identity; retry after the given delay.', retryAfter),
  503: problem(
    'The database is unavailable, or the request met another change of the same records at the same instant and nothing of it was kept; send it again after the given delay.',
    retryAfter,
  ),
} as const;

/** The problems an operation may answer; every operation that reads or writes the database may also answer 503. */
export function errors<const C extends keyof typeof problemResponses>(...codes: C[]) {
  return Object.fromEntries([...codes, 503 as const].map((code) => [code, problemResponses[code]])) as Pick<typeof problemResponses, C | 503>;
}

export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true,
  description,
  content: { 'application/json': { schema } },
});

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const bearer = [{ Bearer: [] }];

/**
 * A point in time with its offset (RFC 3339), in the years 1900–2100 that calendar dates take too:
 * PostgreSQL cannot read every instant JavaScript can write (year 10000 and later, year 0).
 */
export const Instant = z.iso
  .datetime({ offset: true })
  .refine((s) => Math.abs(new Date(s).getUTCFullYear() - 2000) <= 100, 'A time in the years 1900 to 2100.');
