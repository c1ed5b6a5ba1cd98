import { sha256 } from '@noble/hashes/sha2.js';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { canonicalIdentity } from '../../core/identity';
import { createOidcVerifier, type IdentityVerifier } from './verifier';
import type { Locale } from '../../platform/locale';

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
  /** Where /dev/oidc/authorize may send the browser back: the engine's own /auth/callback. */
  redirectUris: string[];
  jwks: { keys: JWK[] };
  verifier: IdentityVerifier;
  mintIdToken(person: DevPerson, now: Date, nonce?: string): Promise<string>;
  /** A single-use authorization code (60 s) for the person chosen on the authorize page. */
  issueCode(request: DevAuthorizationRequest, person: DevPerson, now: Date): string;
  /** The token endpoint's work: checks client, redirect URI and PKCE, then mints the ID token. */
  redeemCode(redemption: DevCodeRedemption, now: Date): Promise<string>;
  /** Tokens with arbitrary claims, for tests of refusals. */
  mintRaw(claims: Record<string, unknown>, now: Date, expiresInSeconds?: number): Promise<string>;
}

export interface DevAuthorizationRequest {
  clientId: string;
  redirectUri: string;
  nonce: string | undefined;
  /** S256 PKCE challenge (required). */
  codeChallenge: string;
}

export interface DevCodeRedemption {
  code: string;
  clientId: string | undefined;
  redirectUri: string | undefined;
  codeVerifier: string | undefined;
}

/** An OAuth token endpoint error (RFC 6749 §5.2), answered as `{error, error_description}`. */
export class DevOAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_grant' | 'invalid_client' | 'unsupported_grant_type',
    readonly description: string,
  ) {
    super(description);
    this.name = 'DevOAuthError';
  }
}

const CODE_TTL_MS = 60_000;

export async function createDevIdentityProvider(options: { issuer: string; privateJwk?: JWK; redirectUris?: string[] }): Promise<DevIdentityProvider> {
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

  const mintIdToken = (person: DevPerson, now: Date, nonce?: string) =>
    mintRaw(
      {
        sub: person.subject ?? devSubject(person),
        given_name: person.givenNames,
        family_name: person.familyName,
        birthdate: person.birthdate,
        acr: person.acr ?? 'eidas2',
        ...(nonce ? { nonce, auth_time: Math.floor(now.getTime() / 1000) } : {}),
      },
      now,
      person.expiresInSeconds,
    );

  // Codes live in memory: the development provider runs in the one engine process.
  const pendingCodes = new Map<string, DevAuthorizationRequest & { person: DevPerson; expiresAt: number }>();

  return {
    issuer: options.issuer,
    clientId: DEV_CLIENT_ID,
    redirectUris: options.redirectUris ?? [`${options.issuer.replace(/\/dev\/oidc$/, '')}/auth/callback`],
    jwks,
    verifier: createOidcVerifier({ issuer: options.issuer, audience: DEV_CLIENT_ID, algorithms: ['ES256'], jwks }),
    mintRaw,
    mintIdToken,
    issueCode(request, person, now) {
      for (const [code, pending] of pendingCodes) if (pending.expiresAt <= now.getTime()) pendingCodes.delete(code);
      const code = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
      pendingCodes.set(code, { ...request, person, expiresAt: now.getTime() + CODE_TTL_MS });
      return code;
    },
    async redeemCode(redemption, now) {
      const pending = pendingCodes.get(redemption.code);
      pendingCodes.delete(redemption.code);
      if (!pending || pending.expiresAt <= now.getTime()) throw new DevOAuthError('invalid_grant', 'The code is unknown, used or expired.');
      if (redemption.clientId !== pending.clientId) throw new DevOAuthError('invalid_client', 'The code was issued to another client.');
      if (redemption.redirectUri !== pending.redirectUri) throw new DevOAuthError('invalid_grant', 'redirect_uri differs from the authorization request.');
      if (!redemption.codeVerifier) throw new DevOAuthError('invalid_grant', 'code_verifier is required (PKCE).');
      const challenge = Buffer.from(sha256(new TextEncoder().encode(redemption.codeVerifier))).toString('base64url');
      if (challenge !== pending.codeChallenge) throw new DevOAuthError('invalid_grant', 'code_verifier does not match the code challenge (PKCE).');
      return mintIdToken(pending.person, now, pending.nonce);
    },
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

/** A ready-made person of the development provider's login page. */
export interface DevIdentity extends DevPerson {
  /** Stable key of the button on the login page. */
  key: string;
  /** Why this person is there (shown next to the button), in the login page's languages. */
  role: Record<Locale, string>;
  /** An arrondissement of Paris where this person lives, to declare when signing (not an identity claim). */
  district: string;
}

/**
 * The people offered as buttons at /dev/oidc/authorize: an administrator, a clerk of Paris and
 * citizens of several ages and arrondissements (one too young to sign, one with a weak identity).
 * The minor's birth date follows the clock so they stay 15.
 */
export function devIdentities(now: Date): DevIdentity[] {
  const fifteenYearsAgo = new Date(Date.UTC(now.getUTCFullYear() - 15, now.getUTCMonth(), 1) - 40 * 86_400_000);
  return [
    { key: 'dev-admin', subject: 'dev-admin', role: { fr: 'administratrice', en: 'administrator' }, givenNames: 'Aline', familyName: 'Administratrice', birthdate: '1975-03-08', acr: 'eidas2', district: '75104' },
    { key: 'dev-clerk', subject: 'dev-clerk', role: { fr: 'agent du service des élections de Paris', en: 'clerk of Paris' }, givenNames: 'Gaspard', familyName: 'Greffier', birthdate: '1968-10-21', acr: 'eidas2', district: '75104' },
    { key: 'elodie', role: { fr: 'citoyenne', en: 'citizen' }, givenNames: 'Élodie Marie', familyName: 'Dupont', birthdate: '1990-04-12', acr: 'eidas2', district: '75111' },
    { key: 'karim', role: { fr: 'citoyen, identité de garantie élevée (eidas3)', en: 'citizen, strong identity (eidas3)' }, givenNames: 'Karim', familyName: 'Benali', birthdate: '1985-11-03', acr: 'eidas3', district: '75118' },
    { key: 'marcel', role: { fr: 'citoyen, identité de garantie faible (eidas1)', en: 'citizen, weak identity (eidas1)' }, givenNames: 'Marcel Louis', familyName: 'Lefèvre', birthdate: '1962-09-23', acr: 'eidas1', district: '75120' },
    { key: 'lucie', role: { fr: 'citoyenne de 15\u00a0ans\u00a0: trop jeune pour signer', en: 'citizen aged 15: too young to sign' }, givenNames: 'Lucie', familyName: 'Moreau', birthdate: fifteenYearsAgo.toISOString().slice(0, 10), acr: 'eidas2', district: '75105' },
  ];
}
