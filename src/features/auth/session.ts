import { decodeJwt, jwtVerify } from 'jose';
import type { MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import type { AppDeps, AppEnv, Principal } from '../../platform/http';
import { signWithEngineKey } from '../../platform/keys';
import { Problem, problems } from '../../platform/problems';
import { isEncryptedToken } from './id-token-decryption';
import { identityFromClaims, tokenProblem, type VerifiedToken } from './verifier';

export const SESSION_COOKIE = 'session';
const SESSION_AUDIENCE = 'session';

/** A short-lived engine session carrying what the ID token asserted; signed with the engine's key. */
export async function issueSession(deps: AppDeps, verified: VerifiedToken): Promise<{ token: string; expiresAt: string }> {
  const now = deps.clock();
  const ttl = deps.config.sessionTtlSeconds;
  const token = await signWithEngineKey(
    deps.keys,
    'session+jwt',
    {
      sub: verified.subject,
      aud: SESSION_AUDIENCE,
      idp: verified.issuer,
      ...(verified.assurance ? { acr: verified.assurance } : {}),
      ...(verified.identity
        ? { given_name: verified.identity.givenNames, family_name: verified.identity.familyName, birthdate: verified.identity.birthdate }
        : {}),
    },
    { issuer: deps.config.publicUrl, now, expiresInSeconds: ttl },
  );
  return { token, expiresAt: new Date(now.getTime() + ttl * 1000).toISOString() };
}

/** Verifies a bearer token: an engine session if the engine issued it, otherwise an ID token of the configured provider. */
export async function verifyBearer(deps: AppDeps, token: string): Promise<Principal> {
  // Engine sessions are signed, never encrypted: a JWE can only be the provider's ID token.
  if (isEncryptedToken(token)) return principalOf(deps, await deps.identity.verify(token), 'id-token');
  let issuer: unknown;
  try {
    issuer = decodeJwt(token).iss;
  } catch {
    throw problems.invalidToken('The token is not a valid JWT.');
  }
  if (issuer === deps.config.publicUrl) {
    try {
      const { payload } = await jwtVerify(token, deps.keys.signing.publicKey, {
        issuer: deps.config.publicUrl,
        audience: SESSION_AUDIENCE,
        algorithms: ['EdDSA'],
        typ: 'session+jwt',
        currentDate: deps.clock(),
        requiredClaims: ['sub', 'exp'],
      });
      return principalOf(deps, { subject: payload.sub!, issuer: String(payload.idp), expiresAt: payload.exp, ...identityFromClaims(payload) }, 'session');
    } catch (error) {
      throw tokenProblem(error);
    }
  }
  return principalOf(deps, await deps.identity.verify(token), 'id-token');
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
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
    if (!match) throw problems.unauthenticated('The Authorization header must be "Bearer <token>".');
    c.set('principal', await verifyBearer(c.var.deps, match[1]!));
    return next();
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  let principal: Principal | undefined;
  if (cookie) {
    // An expired or foreign session cookie means "logged out", not an error on every page.
    principal = await verifyBearer(c.var.deps, cookie).catch((error: unknown) => {
      if (error instanceof Problem && error.status === 401) {
        deleteCookie(c, SESSION_COOKIE, { path: '/' });
        return undefined;
      }
      throw error;
    });
  }
  c.set('principal', principal);
  await next();
};
