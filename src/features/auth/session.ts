import { decodeJwt, decodeProtectedHeader, EncryptJWT, jwtDecrypt, type JWTPayload } from 'jose';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import { fromOwnOrigin, type AppDeps, type AppEnv, type Principal } from '../../platform/http';
import { keyDerivedFrom, type EngineKeys } from '../../platform/keys';
import { Problem, problems } from '../../platform/problems';
import { isEncryptedToken } from './id-token-decryption';
import { isSessionRevoked } from './revocation';
import { identityFromClaims, tokenProblem, type VerifiedToken } from './verifier';

export const SESSION_COOKIE = 'session';

/** The engine is served over https (directly or behind a TLS proxy). */
export function servedOverHttps(c: Context<AppEnv>): boolean {
  return c.var.deps.config.publicUrl.startsWith('https:') || new URL(c.req.url).protocol === 'https:';
}

/**
 * Over https the session cookie is `__Host-session` (Secure, Path=/, no Domain), the only one read:
 * another host of the same site can set a plain `session` cookie for the whole domain, its own
 * session, and have a person draft or sign as that other identity without knowing.
 */
export const sessionCookiePrefix = (c: Context<AppEnv>) => (servedOverHttps(c) ? ('host' as const) : undefined);
const SESSION_AUDIENCE = 'session';

const SESSION_TYP = 'session+jwt';
/** The sessions' own key, derived from the personal-data key, as the login flow's is. */
const sessionKey = (keys: EngineKeys) => keyDerivedFrom(keys.pii.key, 'civic-engine session v1');

/**
 * A short-lived engine session carrying what the ID token asserted. It is encrypted (JWE dir +
 * A256GCM, authenticated by the engine's key alone): it holds the person's names and birth date,
 * which a proxy logging cookies or headers must not be able to read. Its random id (`jti`) is what
 * a logout records as ended (see revocation.ts).
 */
export async function issueSession(deps: AppDeps, verified: VerifiedToken): Promise<{ token: string; expiresAt: string }> {
  const now = deps.clock();
  const ttl = deps.config.sessionTtlSeconds;
  const iat = Math.floor(now.getTime() / 1000);
  const token = await new EncryptJWT({
    idp: verified.issuer,
    ...(verified.assurance ? { acr: verified.assurance } : {}),
    ...(verified.identity
      ? { given_name: verified.identity.givenNames, family_name: verified.identity.familyName, birthdate: verified.identity.birthdate }
      : {}),
  })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: SESSION_TYP })
    .setSubject(verified.subject)
    .setAudience(SESSION_AUDIENCE)
    .setIssuer(deps.config.publicUrl)
    .setJti(crypto.randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .encrypt(sessionKey(deps.keys));
  return { token, expiresAt: new Date(now.getTime() + ttl * 1000).toISOString() };
}

/** An engine session is a JWE of type `session+jwt` with a direct key; any other JWE is the provider's ID token. */
function isSession(jwe: string): boolean {
  try {
    const header = decodeProtectedHeader(jwe);
    return header.typ === SESSION_TYP && header.alg === 'dir';
  } catch {
    return false;
  }
}

/** Verifies a bearer token: an engine session if the engine issued it, otherwise an ID token of the configured provider. */
export async function verifyBearer(deps: AppDeps, token: string): Promise<Principal> {
  const encrypted = isEncryptedToken(token);
  if (encrypted && isSession(token)) {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtDecrypt(token, sessionKey(deps.keys), {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
        issuer: deps.config.publicUrl,
        audience: SESSION_AUDIENCE,
        typ: SESSION_TYP,
        currentDate: deps.clock(),
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw tokenProblem(error);
    }
    // Sessions issued before they had an id cannot be ended early: they last until they expire.
    const id = typeof payload.jti === 'string' ? payload.jti : undefined;
    // Outside the try above: a database that does not answer is a 503, not a bad token.
    if (id !== undefined && (await isSessionRevoked(deps.db, id))) throw problems.invalidToken('The session has ended (logged out); sign in again.');
    const principal = principalOf(deps, { subject: payload.sub!, issuer: String(payload.idp), expiresAt: payload.exp, ...identityFromClaims(payload) }, 'session');
    return id === undefined ? principal : { ...principal, session: { id, expiresAt: new Date(payload.exp! * 1000) } };
  }
  if (!encrypted) {
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw problems.invalidToken('The token is not a valid JWT.');
    }
    // Sessions used to be signed JWS; one still presented (or any JWS of the engine's) is not a session.
    if (issuer === deps.config.publicUrl) throw problems.invalidToken('The token is not a session this engine issued; sign in again.');
  }
  return principalOf(deps, await deps.identity.verify(token), 'id-token');
}

/**
 * Verifies an ID token sent in the request's body, once per request: the login rate limit needs the
 * identity before the route does, and the route reuses that verification (and its failure).
 */
export function verifyBodyIdToken(c: Context<AppEnv>, token: string): Promise<VerifiedToken> {
  const memo = c.get('bodyIdToken');
  if (memo?.token === token) return memo.verified;
  const verified = c.var.deps.identity.verify(token);
  c.set('bodyIdToken', { token, verified });
  return verified;
}

function principalOf(deps: AppDeps, v: VerifiedToken, via: Principal['via']): Principal {
  return {
    subject: v.subject,
    issuer: v.issuer,
    assurance: v.assurance,
    identity: v.identity,
    missingClaims: v.missingClaims,
    isAdmin: deps.config.adminSubjects.includes(v.subject),
    via,
  };
}

/** Resolves the caller from `Authorization: Bearer` (a bad token is a 401 at once) or the session cookie. */
/** An Authorization header of the engine's own scheme; any other is a proxy's, not the engine's to read or refuse. */
export const isBearer = (header: string | undefined): header is string => header !== undefined && /^Bearer(\s|$)/i.test(header);

export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization');
  // Another scheme is not the engine's (a staging site's proxy asking for Basic credentials): the request goes on as if it had none.
  if (isBearer(header)) {
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
    if (!match) throw problems.unauthenticated('The Authorization header must be "Bearer <token>".');
    c.set('principal', await verifyBearer(c.var.deps, match[1]!));
    return next();
  }
  const cookie = getCookie(c, SESSION_COOKIE, sessionCookiePrefix(c));
  let principal: Principal | undefined;
  if (cookie) {
    // An expired or foreign session cookie means "logged out", not an error on every page.
    principal = await verifyBearer(c.var.deps, cookie).catch((error: unknown) => {
      if (error instanceof Problem && error.status === 401) {
        deleteCookie(c, SESSION_COOKIE, { path: '/', secure: servedOverHttps(c), prefix: sessionCookiePrefix(c) });
        return undefined;
      }
      throw error;
    });
  }
  // SameSite=Lax keeps the cookie off other sites' requests, not off another origin of the same site (a
  // sibling subdomain), whose bodiless POST needs no CORS preflight.
  if (principal && isApiChange(c) && !fromOwnOrigin(c)) {
    throw problems.forbidden('The session cookie is not accepted on a change asked by a page of another origin; send the token as Authorization: Bearer.');
  }
  c.set('principal', principal);
  await next();
};

/** A change through the API (the web front's own forms check their form token). */
const isApiChange = (c: Context<AppEnv>) => !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method) && c.req.path.startsWith('/v1/');
