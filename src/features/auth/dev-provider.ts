import { sha256 } from '@noble/hashes/sha2.js';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { canonicalIdentity } from '../../core/identity';
import { createOidcVerifier, type IdentityVerifier } from './verifier';

export const DEV_CLIENT_ID = 'civic-engine-dev';

/** Claims one asks the development provider to assert for a made-up person. */
export interface DevPerson {
  givenNames: string;
  familyName: string;
  birthdate: string;
  acr?: string;
  /** By default derived from the identity, so the same person always gets the same `sub`. */
  subject?: string;
  expiresInSeconds?: number;
}

/**
 * A development OpenID provider built into the engine: it signs ID tokens (ES256, like
 * FranceConnect) for whoever you say you are. Never enabled in production.
 */
export interface DevIdentityProvider {
  issuer: string;
  clientId: string;
  jwks: { keys: JWK[] };
  verifier: IdentityVerifier;
  mintIdToken(person: DevPerson, now: Date): Promise<string>;
  /** Tokens with arbitrary claims, for tests of refusals. */
  mintRaw(claims: Record<string, unknown>, now: Date, expiresInSeconds?: number): Promise<string>;
}

export async function createDevIdentityProvider(options: { issuer: string; privateJwk?: JWK }): Promise<DevIdentityProvider> {
  const privateJwk = options.privateJwk ?? (await generateDevProviderKey());
  const privateKey = (await importJWK(privateJwk, 'ES256')) as CryptoKey;
  const { d: _private, ...publicJwk } = privateJwk;
  const kid = privateJwk.kid!;
  const jwks = { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] };

  const mintRaw = async (claims: Record<string, unknown>, now: Date, expiresInSeconds = 600) => {
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(options.issuer)
      .setAudience(DEV_CLIENT_ID)
      .setIssuedAt(iat)
      .setExpirationTime(iat + expiresInSeconds)
      .sign(privateKey);
  };

  return {
    issuer: options.issuer,
    clientId: DEV_CLIENT_ID,
    jwks,
    verifier: createOidcVerifier({ issuer: options.issuer, audience: DEV_CLIENT_ID, algorithms: ['ES256'], jwks }),
    mintRaw,
    mintIdToken: (person, now) =>
      mintRaw(
        {
          sub: person.subject ?? devSubject(person),
          given_name: person.givenNames,
          family_name: person.familyName,
          birthdate: person.birthdate,
          acr: person.acr ?? 'eidas2',
        },
        now,
        person.expiresInSeconds,
      ),
  };
}

export async function generateDevProviderKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `dev-${crypto.randomUUID().slice(0, 8)}`, alg: 'ES256' };
}

/** A stable pseudonymous subject for a made-up person (a real provider would have its own). */
function devSubject(person: DevPerson): string {
  let basis: string;
  try {
    basis = canonicalIdentity(person);
  } catch {
    basis = `${person.familyName}|${person.givenNames}|${person.birthdate}`;
  }
  return `dev-${Buffer.from(sha256(new TextEncoder().encode(basis))).toString('base64url').slice(0, 22)}`;
}
