import { compactDecrypt, importJWK, type CryptoKey, type JWK } from 'jose';
import { ConfigError } from '../../platform/config';
import { problems } from '../../platform/problems';

/** JWE key management algorithms accepted for encrypted ID tokens, by key type (FranceConnect uses RSA-OAEP or ECDH-ES). */
const KEY_MANAGEMENT: Record<string, string[]> = {
  RSA: ['RSA-OAEP', 'RSA-OAEP-256'],
  EC: ['ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW'],
  OKP: ['ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW'],
};
export const CONTENT_ENCRYPTION = ['A128GCM', 'A192GCM', 'A256GCM', 'A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512'];

export interface IdTokenDecryption {
  keyManagementAlgorithms: string[];
  /** The private key imported once per algorithm (RSA-OAEP and RSA-OAEP-256 need distinct CryptoKeys). */
  keyFor(alg: string): Promise<CryptoKey>;
  kid: string | undefined;
  /** The inner signed ID token (JWS) of a compact JWE; a 401 when it cannot be decrypted. */
  decrypt(jwe: string): Promise<string>;
}

/** Decrypts ID tokens that the provider encrypted to the engine's public key (JWE, nested JWS). */
export function idTokenDecryption(privateJwk: JWK): IdTokenDecryption {
  const supported = KEY_MANAGEMENT[privateJwk.kty ?? ''] ?? [];
  const keyManagementAlgorithms = privateJwk.alg ? supported.filter((a) => a === privateJwk.alg) : supported;
  if (keyManagementAlgorithms.length === 0) throw new Error(`Unsupported ID token decryption key (kty ${privateJwk.kty}, alg ${privateJwk.alg})`);
  const { alg: _alg, use: _use, key_ops: _ops, ...material } = privateJwk;
  const imported = new Map<string, Promise<CryptoKey>>();
  const keyFor = (alg: string) => {
    let key = imported.get(alg);
    if (!key) {
      key = importJWK({ ...material, alg }, alg) as Promise<CryptoKey>;
      imported.set(alg, key);
    }
    return key;
  };

  return {
    keyManagementAlgorithms,
    keyFor,
    kid: privateJwk.kid,
    async decrypt(jwe) {
      let plaintext: Uint8Array;
      try {
        ({ plaintext } = await compactDecrypt(jwe, (header) => keyFor(String(header.alg)), {
          keyManagementAlgorithms,
          contentEncryptionAlgorithms: CONTENT_ENCRYPTION,
        }));
      } catch {
        throw problems.invalidToken('The encrypted ID token cannot be decrypted with the configured key.');
      }
      const inner = new TextDecoder().decode(plaintext);
      if (inner.split('.').length !== 3) throw problems.invalidToken('The encrypted ID token does not contain a signed token.');
      return inner;
    },
  };
}

/**
 * Imports OIDC_ID_TOKEN_DECRYPTION_KEY for each of its algorithms at start: members that do not fit
 * together (a public point that is not the private key's) stop the start, not the first encrypted login.
 */
export async function checkIdTokenDecryptionKey(privateJwk: JWK): Promise<void> {
  try {
    const decryption = idTokenDecryption(privateJwk);
    await Promise.all(decryption.keyManagementAlgorithms.map((alg) => decryption.keyFor(alg)));
  } catch (error) {
    throw new ConfigError('OIDC_ID_TOKEN_DECRYPTION_KEY', `cannot be used as a private decryption key (${error instanceof Error ? error.message : String(error)})`);
  }
}

export const isEncryptedToken = (token: string) => token.split('.').length === 5;
