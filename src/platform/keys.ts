import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { HashKeyring } from '../core/identity';
import type { Identity } from '../features/auth/verifier';
import { ConfigError, type Config } from './config';

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
  /** Public keys served at /.well-known/jwks.json: the current one, then retired ones (SIGNING_KEYS_PREVIOUS). */
  jwks: { keys: JWK[] };
  /** Peppers by version, with derived per-initiative and per-jurisdiction keys memoised. */
  keyring: HashKeyring;
  /** Symmetric key for encrypted personal data (JWE dir + A256GCM); earlier keys by id, to open what they sealed. */
  pii: PiiKeys;
  /** Set: sealing and signing run there (same keys, same results). */
  offload?: JoseOffload;
}

export interface PiiKeys {
  key: Uint8Array;
  kid: string;
  previous?: Readonly<Record<string, Uint8Array>>;
}

const derivedKeys = new WeakMap<Uint8Array, Map<string, Uint8Array>>();

/** A key for one use only (the login flow, sessions, webhook secrets), derived from a personal-data key by HKDF-SHA256 with the use as its label; memoised. */
export function keyDerivedFrom(piiKey: Uint8Array, label: string): Uint8Array {
  let byLabel = derivedKeys.get(piiKey);
  if (!byLabel) derivedKeys.set(piiKey, (byLabel = new Map()));
  let key = byLabel.get(label);
  if (!key) byLabel.set(label, (key = hkdf(sha256, piiKey, undefined, new TextEncoder().encode(label), 32)));
  return key;
}

/** The personal-data key with this id: the current one or an earlier one still configured. */
export function piiKeyFor(pii: PiiKeys, kid: string | undefined): Uint8Array | undefined {
  if (kid === pii.kid) return pii.key;
  return kid !== undefined && pii.previous && Object.hasOwn(pii.previous, kid) ? pii.previous[kid] : undefined;
}

export interface KeyMaterial {
  signingJwk: JWK;
  /** Public JWKs of retired signing keys, served beside the current one. */
  previousSigningJwks?: JWK[];
  pepper: { version: string; secret: Uint8Array };
  /** Older peppers still needed by open initiatives. */
  previousPeppers?: Record<string, Uint8Array>;
  piiKey: Uint8Array;
  piiKeyId?: string;
  /** Older personal-data keys by id. */
  previousPiiKeys?: Record<string, Uint8Array>;
}

/**
 * Key material from configuration. What configuration leaves out comes from `generated` (a
 * development engine's keys.json); without it, a missing secret stops the start, naming it.
 */
export function configuredKeyMaterial(
  config: Pick<Config, 'signingKey' | 'previousSigningKeys' | 'pepper' | 'previousPeppers' | 'piiKey' | 'piiKeyId' | 'previousPiiKeys'>,
  generated?: Pick<KeyMaterial, 'signingJwk' | 'pepper' | 'piiKey'>,
  required: (variable: string) => string = () => 'is required',
): KeyMaterial {
  let signingJwk = generated?.signingJwk;
  if (config.signingKey !== undefined) {
    try {
      signingJwk = JSON.parse(config.signingKey) as JWK;
    } catch {
      throw new ConfigError('SIGNING_KEY', 'must be a JSON Web Key');
    }
  }
  const pepper = config.pepper ?? generated?.pepper;
  const piiKey = config.piiKey ?? generated?.piiKey;
  if (!signingJwk) throw new ConfigError('SIGNING_KEY', required('SIGNING_KEY'));
  if (!pepper) throw new ConfigError('IDENTITY_PEPPER', required('IDENTITY_PEPPER'));
  if (!piiKey) throw new ConfigError('PII_KEY', required('PII_KEY'));
  return {
    signingJwk,
    previousSigningJwks: config.previousSigningKeys,
    pepper,
    previousPeppers: config.previousPeppers,
    piiKey,
    piiKeyId: config.piiKeyId,
    previousPiiKeys: config.previousPiiKeys,
  };
}

/** The engine's Ed25519 key pair from its private JWK, and the public JWK it serves. */
export async function loadSigningKeys(jwk: JWK): Promise<Pick<EngineKeys, 'signing' | 'jwks'>> {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d) throw new Error('SIGNING_KEY must be a private Ed25519 JWK');
  const kid = jwk.kid ?? (await thumbprintOf(jwk));
  const { d: _private, ...publicJwk } = jwk;
  // x and d of two different keys: Node refuses the import, workerd takes it and would sign what the JWKS cannot verify.
  const mismatched = () => new ConfigError('SIGNING_KEY', 'x is not the public key of d (a key pair pasted from two keys?)');
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  try {
    privateKey = (await importJWK({ ...jwk, alg: 'EdDSA' }, 'EdDSA')) as CryptoKey;
    publicKey = (await importJWK({ ...publicJwk, alg: 'EdDSA' }, 'EdDSA')) as CryptoKey;
  } catch {
    throw mismatched();
  }
  const probe = new TextEncoder().encode('civic-initiative-engine signing key check');
  const signature = await crypto.subtle.sign('Ed25519', privateKey, probe);
  if (!(await crypto.subtle.verify('Ed25519', publicKey, signature, probe))) throw mismatched();
  return { signing: { privateKey, publicKey, kid }, jwks: { keys: [{ ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }] } };
}

export async function loadEngineKeys(material: KeyMaterial): Promise<EngineKeys> {
  const signing = await loadSigningKeys(material.signingJwk);
  if (material.piiKey.length !== 32) throw new Error('PII_KEY must be 32 bytes (base64)');
  const retired: JWK[] = [];
  for (const jwk of material.previousSigningJwks ?? []) {
    const kid = jwk.kid ?? (await thumbprintOf(jwk));
    const listed = [...signing.jwks.keys, ...retired];
    if (listed.some((k) => k.kid === kid || k.x === jwk.x)) {
      throw new ConfigError('SIGNING_KEYS_PREVIOUS', `key "${kid}" appears twice (or is the current SIGNING_KEY)`);
    }
    retired.push({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: 'EdDSA', use: 'sig' });
  }
  return {
    ...signing,
    jwks: { keys: [...signing.jwks.keys, ...retired] },
    keyring: new HashKeyring(material.pepper.version, {
      ...material.previousPeppers,
      [material.pepper.version]: material.pepper.secret,
    }),
    pii: { key: material.piiKey, kid: material.piiKeyId ?? 'pii-1', previous: material.previousPiiKeys ?? {} },
  };
}

const keySets = new WeakMap<EngineKeys['jwks'], JWTVerifyGetKey>();

/** The served keys, chosen by `kid`: what a retired key signed (an old tree head) still checks. */
export function engineKeySet(keys: Pick<EngineKeys, 'jwks'>): JWTVerifyGetKey {
  let set = keySets.get(keys.jwks);
  if (!set) keySets.set(keys.jwks, (set = createLocalJWKSet(keys.jwks)));
  return set;
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
