import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { HashKeyring } from '../core/identity';
import type { Identity } from '../features/auth/verifier';

export interface EngineSignOptions {
  issuer: string;
  expiresInSeconds?: number;
  now: Date;
}

/** Where the engine's own JOSE work runs when not on the calling thread (jose-threads.ts, Node only). */
export interface JoseOffload {
  /** sealPersonalData, elsewhere. */
  seal(identity: Identity): Promise<string>;
  /** signWithEngineKey, elsewhere. */
  sign(typ: string, payload: JWTPayload, options: EngineSignOptions): Promise<string>;
  /** Stops it, once nothing needs it any more. */
  close(): Promise<void>;
}

/** The engine's secrets, loaded once and passed to createApp. */
export interface EngineKeys {
  /** Ed25519 key for receipts, tree heads, certificates and sessions. */
  signing: { privateKey: CryptoKey; publicKey: CryptoKey; kid: string };
  /** Public keys served at /.well-known/jwks.json. */
  jwks: { keys: JWK[] };
  /** Peppers by version, with derived per-initiative and per-jurisdiction keys memoised. */
  keyring: HashKeyring;
  /** Symmetric key for encrypted personal data (JWE dir + A256GCM). */
  pii: { key: Uint8Array; kid: string };
  /** Set: sealing and signing run there (same keys, same results). */
  offload?: JoseOffload;
}

export interface KeyMaterial {
  signingJwk: JWK;
  pepper: { version: string; secret: Uint8Array };
  /** Older peppers still needed by open initiatives. */
  previousPeppers?: Record<string, Uint8Array>;
  piiKey: Uint8Array;
  piiKeyId?: string;
}

/** The engine's Ed25519 key pair from its private JWK, and the public JWK it serves. */
export async function loadSigningKeys(jwk: JWK): Promise<Pick<EngineKeys, 'signing' | 'jwks'>> {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d) throw new Error('SIGNING_KEY must be a private Ed25519 JWK');
  const kid = jwk.kid ?? (await thumbprintOf(jwk));
  const privateKey = (await importJWK({ ...jwk, alg: 'EdDSA' }, 'EdDSA')) as CryptoKey;
  const { d: _private, ...publicJwk } = jwk;
  const publicKey = (await importJWK({ ...publicJwk, alg: 'EdDSA' }, 'EdDSA')) as CryptoKey;
  return { signing: { privateKey, publicKey, kid }, jwks: { keys: [{ ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }] } };
}

export async function loadEngineKeys(material: KeyMaterial): Promise<EngineKeys> {
  const signing = await loadSigningKeys(material.signingJwk);
  if (material.piiKey.length !== 32) throw new Error('PII_KEY must be 32 bytes (base64)');
  return {
    ...signing,
    keyring: new HashKeyring(material.pepper.version, {
      ...material.previousPeppers,
      [material.pepper.version]: material.pepper.secret,
    }),
    pii: { key: material.piiKey, kid: material.piiKeyId ?? 'pii-1' },
  };
}

async function thumbprintOf(jwk: JWK): Promise<string> {
  const { calculateJwkThumbprint } = await import('jose');
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JWK);
}

export async function generateKeyMaterial(pepperVersion = 'v1'): Promise<KeyMaterial> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const signingJwk = await exportJWK(privateKey);
  return {
    signingJwk,
    pepper: { version: pepperVersion, secret: crypto.getRandomValues(new Uint8Array(32)) },
    piiKey: crypto.getRandomValues(new Uint8Array(32)),
  };
}

/** A compact JWS (EdDSA) with the engine's key; `typ` tells receipts, sessions and certificates apart. */
export async function signWithEngineKey(keys: Pick<EngineKeys, 'signing' | 'offload'>, typ: string, payload: JWTPayload, options: EngineSignOptions): Promise<string> {
  if (keys.offload) return keys.offload.sign(typ, payload, options);
  const iat = Math.floor(options.now.getTime() / 1000);
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.signing.kid, typ })
    .setIssuer(options.issuer)
    .setIssuedAt(iat);
  if (options.expiresInSeconds) jwt.setExpirationTime(iat + options.expiresInSeconds);
  return jwt.sign(keys.signing.privateKey);
}
