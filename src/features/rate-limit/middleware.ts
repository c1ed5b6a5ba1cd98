import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../platform/http';
import { problems } from '../../platform/problems';
import { verifyBodyIdToken } from '../auth/session';
import { DEFAULT_RATE_LIMITS, type LimitedAction, type RateLimits } from './limits';
import { countRequest, counterKey } from './service';

/** The client's address: the trusted proxy's header when configured, else the socket's peer as the runtime reports it. */
export function clientAddress(c: Context<AppEnv>, limits: RateLimits): string | undefined {
  if (limits.addressHeader) {
    const value = c.req.header(limits.addressHeader);
    // A proxy appends the address it saw: the rightmost entry is the one it vouches for.
    const last = value?.split(',').pop()?.trim();
    return last || undefined;
  }
  return c.var.deps.clientAddress?.(c);
}

/**
 * Who is asking: the authenticated caller, or for a session exchange the verified ID token of the
 * body (never unverified claims: those would let anyone lock someone else out). Other routes' bodies
 * are left to them: a paper batch is read under its own size limit, after this.
 */
async function identityOf(c: Context<AppEnv>, action: LimitedAction): Promise<string | undefined> {
  const principal = c.get('principal');
  if (principal) return `${principal.issuer}\u0000${principal.subject}`;
  if (action !== 'login' || !c.req.header('content-type')?.includes('json')) return undefined;
  const body = (await c.req.json().catch(() => undefined)) as { idToken?: unknown } | undefined;
  if (typeof body?.idToken !== 'string' || body.idToken.length > 20_000) return undefined;
  const verified = await verifyBodyIdToken(c, body.idToken).catch(() => undefined);
  return verified ? `${verified.issuer}\u0000${verified.subject}` : undefined;
}

/**
 * Refuses with 429 and Retry-After once a client address or an identity has made more than its
 * share of `action` requests in the window. Counters live in the database, so every engine
 * process sees the same ones (the embedded database's, in its one process's memory). Runs after
 * authentication, before the route.
 */
export function rateLimit(action: LimitedAction, methods: string[] = ['POST']): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { deps } = c.var;
    const limits = deps.config.rateLimits;
    if (!limits || !methods.includes(c.req.method)) return next();
    const rule = limits[action] ?? DEFAULT_RATE_LIMITS[action];
    const now = deps.clock();
    const address = rule.perAddress > 0 ? clientAddress(c, limits) : undefined;
    const identity = rule.perIdentity > 0 ? await identityOf(c, action) : undefined;
    const checks: { scope: 'address' | 'identity'; value: string; limit: number }[] = [];
    if (address) checks.push({ scope: 'address', value: address, limit: rule.perAddress });
    if (identity) checks.push({ scope: 'identity', value: identity, limit: rule.perIdentity });
    for (const check of checks) {
      const { count, resetAt } = await countRequest(deps.db, counterKey(deps.keys, action, check.scope, check.value), limits.windowSeconds, now);
      if (count > check.limit) {
        const retryAfter = Math.max(1, Math.ceil((resetAt.getTime() - now.getTime()) / 1000));
        throw problems.tooManyRequests(retryAfter, `Too many ${action} requests from this ${check.scope === 'address' ? 'address' : 'identity'}; retry in ${retryAfter} s.`);
      }
    }
    return next();
  };
}
