import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { z } from 'zod';
import { isCalendarDate } from '../../core/identity';
import { problems } from '../../platform/problems';
import { idTokenDecryption, isEncryptedToken } from './id-token-decryption';

/** The person behind a verified ID token, as the identity provider asserts it. */
export interface Identity {
  givenNames: string;
  familyName: string;
  birthdate: string;
}

export interface VerifiedToken {
  subject: string;
  issuer: string;
  assurance: string | undefined;
  /** Present when the token carries every identity claim of SPEC §4. */
  identity: Identity | undefined;
  /** Identity claims the token lacks (empty when `identity` is present). */
  missingClaims: string[];
  expiresAt: number | undefined;
}

export interface IdentityVerifier {
  readonly issuer: string;
  /** The settings it was made with, when they are plain data (another thread can make the same verifier). */
  readonly options?: OidcVerifierOptions;
  verify(idToken: string): Promise<VerifiedToken>;
}

const IdentityClaims = {
  given_name: z.string().trim().min(1).max(200),
  family_name: z.string().trim().min(1).max(200),
  birthdate: z.string().refine(isCalendarDate),
  acr: z.string().min(1).max(64),
} as const;

/** Reads the identity claims of an already verified payload; absent or malformed claims are reported by name. */
export function identityFromClaims(payload: JWTPayload): Pick<VerifiedToken, 'identity' | 'missingClaims' | 'assurance'> {
  const missingClaims = (Object.keys(IdentityClaims) as (keyof typeof IdentityClaims)[]).filter(
    (claim) => !IdentityClaims[claim].safeParse(payload[claim]).success,
  );
  const assurance = typeof payload.acr === 'string' ? payload.acr : undefined;
  if (missingClaims.length > 0) return { identity: undefined, missingClaims, assurance };
  return {
    identity: {
      givenNames: String(payload.given_name).trim(),
      familyName: String(payload.family_name).trim(),
      birthdate: String(payload.birthdate),
    },
    missingClaims: [],
    assurance,
  };
}

export interface OidcVerifierOptions {
  issuer: string;
  audience: string;
  algorithms: string[];
  /** Known keys (the development provider); otherwise found through OpenID discovery. */
  jwks?: JSONWebKeySet;
  /** Private JWK for providers that encrypt ID tokens (JWE). */
  decryptionKey?: JWK;
  /** Discovery and JWKS requests give up after this long (then a 503). */
  timeoutMs?: number;
  /** How soon after a JWKS fetch an unknown `kid` may trigger another one (key rotation). */
  jwksCooldownMs?: number;
  clockToleranceSeconds?: number;
}

/** Verifies ID tokens of one issuer with jose: issuer, audience, algorithms and expiry pinned. */
export function createOidcVerifier(options: OidcVerifierOptions): IdentityVerifier {
  const timeoutMs = options.timeoutMs ?? 5000;
  const decryption = options.decryptionKey ? idTokenDecryption(options.decryptionKey) : undefined;
  let keys: JWTVerifyGetKey | undefined = options.jwks ? createLocalJWKSet(options.jwks) : undefined;
  let discovering: Promise<JWTVerifyGetKey> | undefined;

  const discover = async (): Promise<JWTVerifyGetKey> => {
    const url = `${options.issuer}/.well-known/openid-configuration`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch {
      throw problems.unavailable('The identity provider cannot be reached.');
    }
    if (!response.ok) throw problems.unavailable(`The identity provider's discovery answered ${response.status}.`);
    const metadata = z.object({ issuer: z.string(), jwks_uri: z.url() }).safeParse(await response.json().catch(() => null));
    if (!metadata.success || metadata.data.issuer.replace(/\/$/, '') !== options.issuer) {
      throw problems.unavailable("The identity provider's discovery document is invalid.");
    }
    return createRemoteJWKSet(new URL(metadata.data.jwks_uri), { timeoutDuration: timeoutMs, cooldownDuration: options.jwksCooldownMs ?? 30_000 });
  };

  return {
    issuer: options.issuer,
    options,
    async verify(token) {
      let idToken = token;
      if (isEncryptedToken(token)) {
        if (!decryption) throw problems.invalidToken('Encrypted ID tokens are not accepted: no decryption key is configured.');
        idToken = await decryption.decrypt(token);
      }
      if (!keys) {
        discovering ??= discover().finally(() => (discovering = undefined));
        keys = await discovering;
      }
      try {
        const { payload } = await jwtVerify(idToken, keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: options.algorithms,
          clockTolerance: options.clockToleranceSeconds ?? 30,
          requiredClaims: ['sub', 'exp', 'iat'],
        });
        checkIssuedToUs(payload, options.audience);
        return {
          subject: payload.sub!,
          issuer: options.issuer,
          expiresAt: payload.exp,
          ...identityFromClaims(payload),
        };
      } catch (error) {
        throw tokenProblem(error);
      }
    },
  };
}

/**
 * What jose leaves to the relying party (OpenID Connect Core 3.1.3.7): a token naming several
 * audiences, or an authorized party, was issued to the party `azp` names, which must be this
 * engine.
 */
function checkIssuedToUs(payload: JWTPayload, clientId: string) {
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (payload.azp !== undefined && payload.azp !== clientId) {
    throw new joseErrors.JWTClaimValidationFailed('the token was issued to another client (azp)', payload, 'azp', 'check_failed');
  }
  if (audiences.length > 1 && payload.azp === undefined) {
    throw new joseErrors.JWTClaimValidationFailed('a token for several audiences must name the client it was issued to (azp)', payload, 'azp', 'missing');
  }
}

/** Maps jose's verification failures to a 401 (or a 503 when the provider's keys cannot be fetched). */
export function tokenProblem(error: unknown) {
  if (error instanceof joseErrors.JWKSTimeout) return problems.unavailable("The identity provider's keys cannot be fetched.");
  if (error instanceof joseErrors.JOSEError) {
    if (error.code === 'ERR_JOSE_GENERIC' && /fetch|network|Expected 200/i.test(error.message)) {
      return problems.unavailable("The identity provider's keys cannot be fetched.");
    }
    const reasons: Record<string, string> = {
      ERR_JWT_EXPIRED: 'The token has expired.',
      ERR_JWT_CLAIM_VALIDATION_FAILED: `The token's claims are not accepted (${error.message}).`,
      ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'The token signature is invalid.',
      ERR_JOSE_ALG_NOT_ALLOWED: 'The token is signed with an algorithm that is not accepted.',
      ERR_JWKS_NO_MATCHING_KEY: 'The token is signed with an unknown key.',
      ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'The token key is ambiguous.',
      ERR_JWS_INVALID: 'The token is not a valid JWS.',
      ERR_JWT_INVALID: 'The token is not a valid JWT.',
    };
    return problems.invalidToken(reasons[error.code] ?? 'The token cannot be verified.');
  }
  if (error instanceof Error && error.name === 'Problem') return error;
  return problems.invalidToken('The token cannot be verified.');
}
