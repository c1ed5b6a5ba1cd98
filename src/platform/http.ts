import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { DatabaseHandle } from '../db/client';
import type { DevIdentityProvider } from '../features/auth/dev-provider';
import type { LoginClient } from '../features/auth/login-client';
import type { DocsAssetFile } from '../features/docs/routes';
import type { IdentityVerifier, Identity, VerifiedToken } from '../features/auth/verifier';
import type { ProgressStreamOptions } from '../features/monitoring/live';
import type { WebhookOptions } from '../features/webhooks/sender';
import type { Config } from './config';
import type { EngineKeys } from './keys';
import type { Logger } from './logger';
import type { Metrics, MetricsSnapshot } from './metrics';
import { problems, type FieldError } from './problems';

/** The largest JSON body the API reads. */
export const JSON_BODY_LIMIT = 1024 * 1024;

/** What createApp needs: everything that differs between Node, Workers and tests. */
export interface AppDeps {
  db: DatabaseHandle;
  keys: EngineKeys;
  clock: () => Date;
  /** Verifies ID tokens of the configured identity provider. */
  identity: IdentityVerifier;
  /** The development identity provider, when enabled (never in production). */
  devProvider?: DevIdentityProvider;
  /** The web login's relying party for the configured provider; unset: the development provider's, built on demand. */
  login?: LoginClient;
  /** `logMergeDelayMs` unset: the default maximum merge delay of the transparency logs. */
  config: Pick<Config, 'publicUrl' | 'adminSubjects' | 'sessionTtlSeconds' | 'production'> & Partial<Pick<Config, 'logMergeDelayMs' | 'retention' | 'rollMaxBytes' | 'webhookAllowPrivate' | 'rateLimits'>>;
  logger: Logger;
  metrics: Metrics;
  /** In a cluster of Node processes: every process's metrics, for /metrics to sum; unset: this process alone. */
  clusterMetrics?: () => Promise<MetricsSnapshot[]>;
  /** The client's address as the runtime sees it (Node: the socket's peer), for per-address rate limits. */
  clientAddress?: (c: Context<AppEnv>) => string | undefined;
  /** Live progress stream: Node keeps connections open; a runtime without long-lived timers may send one snapshot. */
  progressStream?: ProgressStreamOptions;
  /** How webhooks are sent (Node's defaults: node:http, every resolved address checked). */
  webhooks?: WebhookOptions;
  /** Reads a file of the interactive API documentation (Swagger UI); Node reads the package, Workers their static assets. */
  docsAssets?: (file: DocsAssetFile) => Promise<Response | undefined>;
}

/** Who is calling, once their bearer token (ID token or engine session) is verified. */
export interface Principal {
  subject: string;
  /** The identity provider that asserted the identity. */
  issuer: string;
  assurance: string | undefined;
  identity: Identity | undefined;
  missingClaims: string[];
  isAdmin: boolean;
  via: 'id-token' | 'session';
  /** The engine session the caller came with, for a logout to end it (absent for ID tokens and sessions issued without an id). */
  session?: { id: string; expiresAt: Date };
}

export interface AppEnv {
  Variables: {
    deps: AppDeps;
    requestId: string;
    principal: Principal | undefined;
    /** The body's ID token and its verification, made once for the request (rate limit, then route). */
    bodyIdToken: { token: string; verified: Promise<VerifiedToken> } | undefined;
  };
}

/** Turns zod issues into the `errors` array of a validation problem, naming each field. */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], target: string): FieldError[] {
  return issues.flatMap((issue) => {
    const path = [target, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ field: `${path}.${k}`, message: 'Unknown field.' }));
    }
    // A schema's own check may name its case (`params: { code }`), as the services' field errors do.
    const code = issue.code === 'custom' && typeof issue.params?.code === 'string' ? issue.params.code : undefined;
    return [{ field: path, message: issue.message, ...(code ? { code } : {}) }];
  });
}

/** What PostgreSQL cannot store in text: NUL, and half of a surrogate pair (UTF-8 has no form for it; the driver would write U+FFFD). */
export const UNSTORABLE_TEXT = /[\u0000\p{Cs}]/u;

/** Every string of a valid request (object keys too) that holds a character PostgreSQL cannot store, by its field. */
function unstorableText(value: unknown, path: string): FieldError[] {
  const refused = (field: string) => [
    { field, message: 'Contains a NUL character or an unpaired surrogate (\\ud800–\\udfff), which cannot be stored.', code: 'invalid-character' },
  ];
  if (typeof value === 'string') return UNSTORABLE_TEXT.test(value) ? refused(path) : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => unstorableText(item, `${path}.${i}`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => (UNSTORABLE_TEXT.test(key) ? refused(`${path}.${key}`) : unstorableText(item, `${path}.${key}`)));
  }
  return [];
}

export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      const target = result.target === 'json' ? 'body' : result.target;
      // Every change through the API needs a caller: an anonymous one is told that first, not what its request lacks
      // (POST /v1/session aside, whose body may carry the ID token that makes the caller).
      if (!result.success && !c.get('principal') && !['GET', 'HEAD'].includes(c.req.method) && c.req.path.startsWith('/v1/') && c.req.path !== '/v1/session') {
        throw problems.unauthenticated();
      }
      if (!result.success) throw problems.validation(fieldErrors(result.error.issues, target));
      // Checked here, once for every route, rather than on each text field of each schema.
      const unstorable = unstorableText(result.data, target);
      if (unstorable.length > 0) throw problems.validation(unstorable);
    },
  });
}

export type Router = ReturnType<typeof createRouter>;

/**
 * Whether the browser says the request comes from a page of this engine's own origin (Sec-Fetch-Site,
 * Origin); clients that are no browser send neither. Under Referrer-Policy: no-referrer a same-origin
 * request says `Origin: null`.
 */
export function fromOwnOrigin(c: Context<AppEnv>): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = c.req.header('origin');
  return origin === undefined || origin === 'null' || origin === new URL(c.req.url).origin || origin === new URL(c.var.deps.config.publicUrl).origin;
}
