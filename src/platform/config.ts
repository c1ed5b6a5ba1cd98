import type { JWK } from 'jose';
import { z } from 'zod';
import { DEFAULT_RATE_LIMITS, type RateLimits } from '../features/rate-limit/limits';

/**
 * A whole number from the environment, within [min, max]. An empty value is refused: read as a
 * number it would be 0 (a rate limit off, personal data kept 0 months, a port chosen at random).
 */
const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));
/** A whole number within [min, max], or `auto`. */
const wholeNumberOrAuto = (min: number, max: number) =>
  z
    .string()
    .trim()
    .refine((v) => v === 'auto' || (/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max), `must be auto or a whole number from ${min} to ${max}`)
    .transform((v) => (v === 'auto' ? v : Number(v)));

/** Every setting the engine reads, validated in one place (SPEC §8). */
const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: wholeNumber(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z
    .string()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'must be an http:// or https:// URL')
    // Pages, forms, assets and __Host- cookies are at the root: under a path, the site would start and then break at every link and at login.
    .refine(
      (v) => !URL.canParse(v) || (!/[?#]/.test(v) && isSiteRoot(new URL(v))),
      'must be the address of a site root, with no path, query or credentials (https://petitions.example.org): the engine serves its pages, its API and its login at /, so give it a host name of its own',
    )
    .optional(),
  // Parsed as a URL, as the driver will: an unencoded # or / in the password would otherwise stop the start naming nothing.
  DATABASE_URL: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\//.test(v) && URL.canParse(v), 'must be a postgres:// URL (a password with #, / or ? in it percent-encoded)')
    .optional(),
  DATABASE_POOL_SIZE: wholeNumber(1, 200).default(10),
  /** Node processes answering HTTP (a cluster sharing the port); `auto`: one per CPU. */
  ENGINE_PROCESSES: wholeNumberOrAuto(1, 64).default(1),
  /** Threads for JOSE work (verifying ID tokens, sealing, signing) beside the one answering HTTP; `auto`: 1 when there are 2 CPUs or more. */
  CRYPTO_THREADS: wholeNumberOrAuto(0, 16).default('auto'),
  DATA_DIR: z.string().min(1).default('./.data'),
  OIDC_ISSUER: z.url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_ALGORITHMS: z.string().default('ES256,RS256'),
  OIDC_SCOPES: z.string().default('openid given_name family_name birthdate'),
  OIDC_ID_TOKEN_DECRYPTION_KEY: z.string().optional(),
  ADMIN_SUBJECTS: z.string().default(''),
  IDENTITY_PEPPER: z.string().optional(),
  IDENTITY_PEPPER_VERSION: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/).default('v1'),
  /** Older peppers still used by unfinished initiatives and current rolls: JSON {"<version>": "<base64>"}. */
  IDENTITY_PEPPERS_PREVIOUS: z.string().optional(),
  SIGNING_KEY: z.string().optional(),
  /** Retired signing keys whose public halves stay in the JWKS (old receipts, tree heads, certificates): a JSON array of Ed25519 JWKs. */
  SIGNING_KEYS_PREVIOUS: z.string().optional(),
  PII_KEY: z.string().optional(),
  PII_KEY_ID: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/).default('pii-1'),
  /** Older personal-data keys: JSON {"<key id>": "<base64 of 32 bytes>"}; what they sealed is opened with them and sealed again under PII_KEY. */
  PII_KEYS_PREVIOUS: z.string().optional(),
  PERSONAL_DATA_RETENTION_MONTHS: wholeNumber(0, 120).default(3),
  PERSONAL_DATA_RETENTION_WITHDRAWN_MONTHS: wholeNumber(0, 120).default(1),
  ROLL_MAX_BYTES: wholeNumber(1024).default(200 * 1024 * 1024),
  SESSION_TTL_SECONDS: wholeNumber(60, 86_400).default(3600),
  SCHEDULER_INTERVAL_MS: wholeNumber(50, 60_000).default(1000),
  /** Maximum merge delay of the transparency logs: receipts promise inclusion within it. */
  LOG_MERGE_DELAY_MS: wholeNumber(100, 86_400_000).default(1000),
  /** `true` lets webhooks reach loopback, link-local and private addresses (tests, closed networks). */
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** Rate limits: requests per window; 0 turns one off (defaults in src/features/rate-limit/service.ts). */
  RATE_LIMIT_WINDOW_SECONDS: wholeNumber(1, 86_400).optional(),
  RATE_LIMIT_SIGN_PER_ADDRESS: wholeNumber(0).optional(),
  RATE_LIMIT_SIGN_PER_IDENTITY: wholeNumber(0).optional(),
  RATE_LIMIT_LOGIN_PER_ADDRESS: wholeNumber(0).optional(),
  RATE_LIMIT_LOGIN_PER_IDENTITY: wholeNumber(0).optional(),
  RATE_LIMIT_PAPER_PER_ADDRESS: wholeNumber(0).optional(),
  RATE_LIMIT_PAPER_PER_IDENTITY: wholeNumber(0).optional(),
  RATE_LIMIT_STREAMS_PER_ADDRESS: wholeNumber(0).optional(),
  /** A header a trusted reverse proxy sets to the client address (e.g. X-Forwarded-For); unset: the socket's peer. */
  CLIENT_ADDRESS_HEADER: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).optional(),
  /** `off` skips the development demo (Ville de Paris and two initiatives) seeded at first start. */
  DEMO: z.enum(['on', 'off']).default('on'),
  /** `public`: the development identity provider even at an https:// PUBLIC_URL of another host (a public demonstration). */
  DEV_PROVIDER: z.enum(['public']).optional(),
});

export type Env = z.infer<typeof EnvSchema>;

/** The name of every setting: a name outside it (a typo in wrangler.toml, say) is read by nothing. */
export const SETTING_NAMES = Object.keys(EnvSchema.shape) as (keyof Env)[];

export interface Config {
  production: boolean;
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Processes answering HTTP on Node (1: no cluster); `auto` resolved to the number of CPUs. */
  processes: number | 'auto';
  /** JOSE worker threads per process on Node (0: on the main thread). */
  cryptoThreads: number | 'auto';
  dataDir: string;
  /** Unset: the built-in development identity provider. */
  oidc:
    | {
        issuer: string;
        clientId: string;
        clientSecret: string | undefined;
        algorithms: string[];
        scopes: string;
        /** Private JWK (RSA or EC) for providers that encrypt ID tokens (JWE). */
        idTokenDecryptionKey: JWK | undefined;
      }
    | undefined;
  adminSubjects: string[];
  pepper: { version: string; secret: Uint8Array } | undefined;
  /** Peppers of earlier versions, kept while unfinished initiatives or current rolls use them. */
  previousPeppers: Record<string, Uint8Array>;
  signingKey: string | undefined;
  /** Public JWKs of retired signing keys, still served so that what they signed can be checked. */
  previousSigningKeys: JWK[];
  /** 32 bytes, from base64. */
  piiKey: Uint8Array | undefined;
  piiKeyId: string;
  /** Personal-data keys of earlier ids, kept until everything they sealed is sealed again under the current one. */
  previousPiiKeys: Record<string, Uint8Array>;
  /** Months personal data is kept after an initiative's result, and after its withdrawal (SPEC §4). */
  retention: { afterResultMonths: number; afterWithdrawalMonths: number };
  /** Largest electoral roll CSV accepted, in bytes. */
  rollMaxBytes: number;
  sessionTtlSeconds: number;
  schedulerIntervalMs: number;
  logMergeDelayMs: number;
  logLevel: Env['LOG_LEVEL'];
  rateLimits: RateLimits;
  /** Seed the development demo at first start (never in production). */
  demo: boolean;
  /** Deliver webhooks to loopback, link-local and private addresses too. */
  webhookAllowPrivate: boolean;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';

  let pepper: Config['pepper'];
  if (e.IDENTITY_PEPPER !== undefined) {
    const secret = decodeBase64(e.IDENTITY_PEPPER);
    if (!secret || secret.length < 32) throw new ConfigError('IDENTITY_PEPPER', 'must be base64 of at least 32 bytes');
    pepper = { version: e.IDENTITY_PEPPER_VERSION, secret };
  }
  const previousPeppers = parseKeyMap('IDENTITY_PEPPERS_PREVIOUS', e.IDENTITY_PEPPERS_PREVIOUS, PEPPER_MAP);
  if (pepper && Object.hasOwn(previousPeppers, pepper.version)) {
    throw new ConfigError('IDENTITY_PEPPERS_PREVIOUS', `must not contain the current version "${pepper.version}"`);
  }
  const previousPiiKeys = parseKeyMap('PII_KEYS_PREVIOUS', e.PII_KEYS_PREVIOUS, PII_KEY_MAP);
  if (Object.hasOwn(previousPiiKeys, e.PII_KEY_ID)) throw new ConfigError('PII_KEYS_PREVIOUS', `must not contain the current key id "${e.PII_KEY_ID}"`);
  const piiKey = e.PII_KEY === undefined ? undefined : decodeBase64(e.PII_KEY);
  if (e.PII_KEY !== undefined && piiKey?.length !== 32) throw new ConfigError('PII_KEY', 'must be base64 of 32 bytes');
  if (e.SIGNING_KEY !== undefined) checkSigningKey(e.SIGNING_KEY);
  const oidc = e.OIDC_ISSUER
    ? {
        issuer: e.OIDC_ISSUER.replace(/\/$/, ''),
        clientId: required(e, 'OIDC_CLIENT_ID'),
        clientSecret: e.OIDC_CLIENT_SECRET,
        algorithms: idTokenAlgorithms(e.OIDC_ALGORITHMS),
        scopes: [...new Set(['openid', ...e.OIDC_SCOPES.split(/[\s,]+/).filter(Boolean)])].join(' '),
        idTokenDecryptionKey: e.OIDC_ID_TOKEN_DECRYPTION_KEY === undefined ? undefined : decryptionJwk(e.OIDC_ID_TOKEN_DECRYPTION_KEY),
      }
    : undefined;

  if (production) {
    if (!oidc) throw new ConfigError('OIDC_ISSUER', 'is required in production (the development identity provider is refused)');
    if (!httpsOrLoopback(oidc.issuer)) throw new ConfigError('OIDC_ISSUER', 'must be an https:// URL in production');
    if (!pepper) throw new ConfigError('IDENTITY_PEPPER', 'is required in production');
    if (!e.SIGNING_KEY) throw new ConfigError('SIGNING_KEY', 'is required in production (generated keys are refused)');
    if (!e.PII_KEY) throw new ConfigError('PII_KEY', 'is required in production (generated keys are refused)');
    // http://HOST:PORT would be signed into every receipt and certificate as their issuer, and make a redirect URI no provider knows.
    if (!e.PUBLIC_URL) {
      throw new ConfigError('PUBLIC_URL', 'is required in production: the https:// address people reach the engine at (it issues receipts, certificates and the login redirect)');
    }
    if (!httpsOrLoopback(e.PUBLIC_URL)) throw new ConfigError('PUBLIC_URL', 'must be an https:// URL in production');
  }
  // An https:// address of another host is a deployment: one that forgot NODE_ENV=production would let anyone in as anyone.
  if (!oidc && !production && e.PUBLIC_URL && e.DEV_PROVIDER !== 'public' && /^https:/.test(e.PUBLIC_URL) && !isLoopback(e.PUBLIC_URL)) {
    const at = e.PUBLIC_URL.replace(/\/$/, '');
    throw new ConfigError(
      'OIDC_ISSUER',
      `is not set, so the development identity provider would let anyone log in as anyone at ${at}, as an administrator too: set NODE_ENV=production and OIDC_ISSUER, or DEV_PROVIDER=public for a public demonstration`,
    );
  }
  if (e.ENGINE_PROCESSES !== 1) {
    if (!e.DATABASE_URL) throw new ConfigError('ENGINE_PROCESSES', 'needs DATABASE_URL: the embedded database (PGlite) lives inside one process');
    if (!oidc) throw new ConfigError('ENGINE_PROCESSES', 'needs OIDC_ISSUER: the development identity provider keeps its login codes inside one process');
  }

  return {
    production,
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://${defaultPublicHost(e.HOST)}:${e.PORT}`).replace(/\/$/, ''),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    processes: e.ENGINE_PROCESSES,
    cryptoThreads: e.CRYPTO_THREADS,
    dataDir: e.DATA_DIR,
    oidc,
    adminSubjects: adminSubjects(e.ADMIN_SUBJECTS, !oidc && !production),
    pepper,
    signingKey: e.SIGNING_KEY,
    previousSigningKeys: parsePreviousSigningKeys(e.SIGNING_KEYS_PREVIOUS),
    piiKey,
    piiKeyId: e.PII_KEY_ID,
    previousPiiKeys,
    previousPeppers,
    retention: { afterResultMonths: e.PERSONAL_DATA_RETENTION_MONTHS, afterWithdrawalMonths: e.PERSONAL_DATA_RETENTION_WITHDRAWN_MONTHS },
    rollMaxBytes: e.ROLL_MAX_BYTES,
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    schedulerIntervalMs: e.SCHEDULER_INTERVAL_MS,
    logMergeDelayMs: e.LOG_MERGE_DELAY_MS,
    logLevel: e.LOG_LEVEL,
    rateLimits: {
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS ?? DEFAULT_RATE_LIMITS.windowSeconds,
      sign: { perAddress: e.RATE_LIMIT_SIGN_PER_ADDRESS ?? DEFAULT_RATE_LIMITS.sign.perAddress, perIdentity: e.RATE_LIMIT_SIGN_PER_IDENTITY ?? DEFAULT_RATE_LIMITS.sign.perIdentity },
      login: { perAddress: e.RATE_LIMIT_LOGIN_PER_ADDRESS ?? DEFAULT_RATE_LIMITS.login.perAddress, perIdentity: e.RATE_LIMIT_LOGIN_PER_IDENTITY ?? DEFAULT_RATE_LIMITS.login.perIdentity },
      paper: { perAddress: e.RATE_LIMIT_PAPER_PER_ADDRESS ?? DEFAULT_RATE_LIMITS.paper.perAddress, perIdentity: e.RATE_LIMIT_PAPER_PER_IDENTITY ?? DEFAULT_RATE_LIMITS.paper.perIdentity },
      streamsPerAddress: e.RATE_LIMIT_STREAMS_PER_ADDRESS ?? DEFAULT_RATE_LIMITS.streamsPerAddress,
      addressHeader: e.CLIENT_ADDRESS_HEADER?.toLowerCase(),
    },
    demo: e.DEMO === 'on' && !production,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE === 'true',
  };
}

/**
 * The host of the default PUBLIC_URL. Listening on every address (HOST=0.0.0.0 in a container) is no
 * address to send a browser to: the login would leave 127.0.0.1 for 0.0.0.0, without its flow cookie.
 */
function defaultPublicHost(host: string): string {
  // `::` takes IPv4 too (Node listens dual-stack): 127.0.0.1, the address the README has people open, works for both.
  if (host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Scheme, host and port only (a trailing slash allowed). */
function isSiteRoot(url: URL): boolean {
  return (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
}

/** Plain http only for this very host (loopback), as OAuth allows for native apps. */
function httpsOrLoopback(url: string): boolean {
  return url.startsWith('https://') || isLoopback(url);
}

/** An address of this very host. */
export function isLoopback(url: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);
}

/** With the development identity provider, its ready-made `dev-admin` is an administrator unless ADMIN_SUBJECTS says otherwise. */
function adminSubjects(list: string, devProvider: boolean): string[] {
  const subjects = list.split(',').map((s) => s.trim()).filter(Boolean);
  return subjects.length === 0 && devProvider ? ['dev-admin'] : subjects;
}

/** Signature algorithms of the provider's published (public) keys: HS256 and friends need a shared secret, never published. */
const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** A name jose does not know, or none at all, would refuse every login of an engine that started as if all were well. */
function idTokenAlgorithms(list: string): string[] {
  const algorithms = list.split(',').map((a) => a.trim()).filter(Boolean);
  if (algorithms.length === 0 || algorithms.some((a) => !ID_TOKEN_ALGORITHMS.includes(a))) {
    throw new ConfigError('OIDC_ALGORITHMS', `must list the ID tokens’ signature algorithms, comma-separated, among ${ID_TOKEN_ALGORITHMS.join(', ')}`);
  }
  return algorithms;
}

function required(e: Env, name: 'OIDC_CLIENT_ID'): string {
  const value = e[name];
  if (!value) throw new ConfigError(name, 'is required when OIDC_ISSUER is set');
  return value;
}

/** JWE key management algorithms an ID token decryption key may name, by key type (as src/features/auth/id-token-decryption.ts accepts them). */
const DECRYPTION_ALGORITHMS: Record<string, string[]> = {
  RSA: ['RSA-OAEP', 'RSA-OAEP-256'],
  EC: ['ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW'],
  OKP: ['ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW'],
};
/** Bytes of a coordinate (and of d) per curve. */
const CURVE_BYTES: Record<string, Record<string, number>> = { EC: { 'P-256': 32, 'P-384': 48, 'P-521': 66 }, OKP: { X25519: 32, X448: 56 } };

/** A key missing a member would otherwise be refused only at the first encrypted login, naming nothing. */
function decryptionJwk(s: string): JWK {
  const fail = (why: string): never => {
    throw new ConfigError('OIDC_ID_TOKEN_DECRYPTION_KEY', `must be a private JWK (JSON with kty RSA, EC or OKP and d)${why ? `: ${why}` : ''}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(s);
  } catch {
    json = undefined;
  }
  const parsed = z.looseObject({ kty: z.enum(['RSA', 'EC', 'OKP']), d: z.string().min(1), alg: z.string().optional() }).safeParse(json);
  if (!parsed.success) return fail('');
  const jwk = parsed.data as JWK & Record<string, unknown>;
  const kty = parsed.data.kty;
  const base64url = (name: string, bytes?: number) => {
    const value = jwk[name];
    return typeof value === 'string' && /^[A-Za-z0-9_-]+$/.test(value) && (bytes === undefined || Buffer.from(value, 'base64url').length === bytes);
  };
  if (kty === 'RSA') {
    const members = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'];
    const missing = members.filter((name) => !base64url(name));
    if (missing.length) fail(`an RSA key needs ${members.join(', ')} in base64url; ${missing.join(', ')} missing or malformed`);
  } else {
    const curves = CURVE_BYTES[kty]!;
    const members = kty === 'EC' ? ['x', 'y', 'd'] : ['x', 'd'];
    const bytes = curves[String(jwk.crv)];
    if (bytes === undefined || members.some((name) => !base64url(name, bytes))) {
      fail(`an ${kty} key needs crv (${Object.keys(curves).join(', ')}) and ${members.join(', ')} in base64url of the curve's size`);
    }
  }
  if (jwk.alg !== undefined && !DECRYPTION_ALGORITHMS[kty]!.includes(jwk.alg)) {
    fail(`alg "${jwk.alg}" is not a key management algorithm for ${kty} keys (${DECRYPTION_ALGORITHMS[kty]!.join(', ')})`);
  }
  return jwk;
}

/** A JSON map of earlier secrets by id: what each is, and what a valid one is. */
interface KeyMapShape {
  example: string;
  noun: string;
  valid(bytes: Uint8Array): boolean;
  requirement: string;
}
const PEPPER_MAP: KeyMapShape = { example: '{"v1": "<base64 pepper>"}', noun: 'pepper', valid: (b) => b.length >= 32, requirement: 'base64 of at least 32 bytes' };
const PII_KEY_MAP: KeyMapShape = { example: '{"pii-1": "<base64 key>"}', noun: 'key', valid: (b) => b.length === 32, requirement: 'base64 of 32 bytes' };

function parseKeyMap(variable: string, text: string | undefined, shape: KeyMapShape): Record<string, Uint8Array> {
  if (text === undefined || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(variable, `must be JSON: ${shape.example}`);
  }
  const map = z.record(z.string().regex(/^[A-Za-z0-9._-]{1,32}$/), z.string()).safeParse(parsed);
  if (!map.success) throw new ConfigError(variable, `must map ids to base64 values: ${shape.example}`);
  // Own properties only, whatever the ids (an id such as "__proto__" is a plain key here).
  return Object.fromEntries(
    Object.entries(map.data).map(([id, value]) => {
      const bytes = decodeBase64(value);
      if (!bytes || !shape.valid(bytes)) throw new ConfigError(variable, `${shape.noun} "${id}" must be ${shape.requirement}`);
      return [id, bytes];
    }),
  );
}

/** A key pasted with a placeholder or cut short would otherwise fail deep inside jose, naming nothing. */
function checkSigningKey(text: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const base64url32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
  const shape = z.looseObject({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: base64url32, d: base64url32 }).safeParse(parsed);
  if (!shape.success) throw new ConfigError('SIGNING_KEY', 'must be a private Ed25519 JWK: {"kty":"OKP","crv":"Ed25519","x":"…","d":"…"} with x and d of 32 bytes in base64url');
}

const PublicEd25519Jwk = z.looseObject({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  kid: z.string().min(1).max(128).optional(),
});

/** Only the public halves are kept: a private part given by mistake is dropped, never served. */
function parsePreviousSigningKeys(text: string | undefined): JWK[] {
  if (text === undefined || text.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError('SIGNING_KEYS_PREVIOUS', 'must be JSON: an array of Ed25519 JWKs, or {"keys": [...]}');
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  const shape = z.array(PublicEd25519Jwk).safeParse(list);
  if (!shape.success) throw new ConfigError('SIGNING_KEYS_PREVIOUS', 'must list Ed25519 JWKs (kty OKP, crv Ed25519, x)');
  return shape.data.map(({ kty, crv, x, kid }) => ({ kty, crv, x, ...(kid ? { kid } : {}) }));
}

function decodeBase64(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s.trim())) return undefined;
  return Uint8Array.from(Buffer.from(s.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}
