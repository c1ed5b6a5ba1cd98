import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Context, Next } from 'hono';
import type { AppEnv } from './http';

/**
 * What anyone may read from the API (an initiative, its progress and its live stream, its log and
 * proofs, referendum items, the keys, the API's description) may be read by a page of another
 * origin: a city portal or a newsroom's widget calling from the reader's browser. Only what is the
 * same for everyone is shared (read without a token, or marked `Cache-Control: public`): an answer
 * about its caller carries no CORS header, a preflight never grants `Authorization`, and no write is
 * ever allowed from another origin.
 */
const EXPOSED = 'ETag, Retry-After, X-Request-Id';
/** What a cross-origin read may send beyond the safelisted headers (EventSource's, a reload's, a revalidation's). */
const ALLOWED_HEADERS = 'Cache-Control, If-None-Match, Last-Event-ID';
const READS = new Set(['GET', 'HEAD']);

const isPublicPath = (path: string) => path.startsWith('/v1/') || path === '/.well-known/jwks.json' || path === '/openapi.json';

export async function crossOriginReads(c: Context<AppEnv>, next: Next) {
  if (!isPublicPath(c.req.path)) return next();
  const preflight = c.req.method === 'OPTIONS' ? c.req.header('access-control-request-method') : undefined;
  if (preflight !== undefined) {
    // A read's preflight is granted (never with Authorization); any other method's gets no CORS header, so the browser sends nothing.
    if (!READS.has(preflight.toUpperCase())) return next();
    return new Response(null, {
      status: 204,
      headers: {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, HEAD',
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
      },
    });
  }
  await next();
  if (!READS.has(c.req.method)) return;
  // Read with a token, an answer is about its caller, unless the route said it is the same for everyone (a shared cache may then hand it to anyone).
  if (c.get('principal') && !/^public\b/.test(c.res.headers.get('cache-control') ?? '')) return;
  c.res.headers.set('Access-Control-Allow-Origin', '*');
  c.res.headers.set('Access-Control-Expose-Headers', EXPOSED);
  // Not only CORS fetches: a no-cors request (an <img>, a page isolated by COEP) may take it too.
  c.res.headers.set('Cross-Origin-Resource-Policy', 'cross-origin');
}

/**
 * Conditional reads of what a cache may keep for everyone (`Cache-Control: public`): a JSON answer
 * gets a strong `ETag` (the first half of the SHA-256 of its bytes, in hex), or the weak one its
 * route gave (`weakValidator`: an answer stamped with the time it was read), and a request whose
 * `If-None-Match` names it gets `304 Not Modified` with the same `ETag` and `Cache-Control`, no body.
 * A widget polling progress every few seconds downloads it again only when it changed. Streams and
 * answers about their caller are left alone.
 */
export async function conditionalReads(c: Context<AppEnv>, next: Next) {
  await next();
  if (!READS.has(c.req.method) || c.res.status !== 200) return;
  const cacheControl = c.res.headers.get('cache-control') ?? '';
  const type = c.res.headers.get('content-type') ?? '';
  if (!/^public\b/.test(cacheControl) || !/^application\/(?:[\w.+-]+\+)?json\b/.test(type)) return;
  const etag = c.res.headers.get('etag') ?? `"${bytesToHex(sha256(new Uint8Array(await c.res.clone().arrayBuffer())).subarray(0, 16))}"`;
  if (matches(c.req.header('if-none-match'), etag)) {
    const headers = new Headers({ ETag: etag, 'Cache-Control': cacheControl });
    for (const name of ['vary', 'x-request-id', 'date']) {
      const value = c.res.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    await c.res.body?.cancel();
    c.res = undefined;
    c.res = new Response(null, { status: 304, headers });
    return;
  }
  c.res.headers.set('ETag', etag);
}

/** RFC 9110 §13.1.2: `*`, or a list of tags compared weakly. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === opaque);
}

const validators = new WeakMap<object, string>();

/**
 * A weak `ETag` for an answer that says when it was read (a progress's `updatedAt`): the same as
 * long as everything else in it is, so a reader polling it gets 304 until something changes, not at
 * every new second. `content` is what the answer says without that time; it is hashed once per
 * object (`key`, the answer kept for anonymous readers, serves many reads).
 */
export function weakValidator(key: object, content: () => unknown): string {
  let etag = validators.get(key);
  if (etag === undefined) {
    etag = `W/"${bytesToHex(sha256(new TextEncoder().encode(JSON.stringify(content()))).subarray(0, 16))}"`;
    validators.set(key, etag);
  }
  return etag;
}
