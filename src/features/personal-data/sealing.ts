/**
 * Personal data sealed for storage (JWE dir + A256GCM under PII_KEY) and opened again. Kept apart
 * from the service so that a JOSE thread (platform/jose-thread.ts) loads only this.
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { z } from 'zod';
import { isCalendarDate } from '../../core/identity';
import { piiKeyFor, type EngineKeys } from '../../platform/keys';
import { Problem } from '../../platform/problems';
import type { Identity } from '../auth/verifier';

const SealedIdentity = z.strictObject({
  givenNames: z.string().min(1),
  familyName: z.string().min(1),
  birthdate: z.string().refine(isCalendarDate),
});

const importedKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

/** The AES key imported once, not for every one of a batch's thousands of encryptions. */
function aesKey(raw: Uint8Array): Promise<CryptoKey> {
  let key = importedKeys.get(raw);
  if (!key) {
    key = crypto.subtle.importKey('raw', new Uint8Array(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
    importedKeys.set(raw, key);
  }
  return key;
}

/** The names and birth date a clerk may need, encrypted for storage (JWE dir + A256GCM). */
export async function sealPersonalData(keys: Pick<EngineKeys, 'pii' | 'offload'>, identity: Identity): Promise<string> {
  if (keys.offload) return keys.offload.seal(identity);
  const payload = { givenNames: identity.givenNames, familyName: identity.familyName, birthdate: identity.birthdate };
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: keys.pii.kid })
    .encrypt(await aesKey(keys.pii.key));
}

/** Sealed under a key this engine does not hold: an operator's matter (PII_KEY, PII_KEYS_PREVIOUS), answered as a 500 naming the key id. */
export class PersonalDataKeyError extends Problem {
  constructor(readonly kid: string | undefined) {
    super({
      status: 500,
      code: 'personal-data-key-missing',
      title: 'Personal data key missing',
      detail: `Personal data sealed under key "${kid ?? '(none)'}" cannot be opened: that key is not configured (PII_KEY, PII_KEYS_PREVIOUS).`,
    });
  }
}

/** Opens personal data sealed under the current key or an earlier one still configured (PII_KEYS_PREVIOUS). */
export async function openPersonalData(keys: Pick<EngineKeys, 'pii'>, jwe: string): Promise<Identity> {
  const header = decodeProtectedHeader(jwe);
  const key = piiKeyFor(keys.pii, header.kid);
  if (!key) throw new PersonalDataKeyError(header.kid);
  const { plaintext } = await compactDecrypt(jwe, await aesKey(key), { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
  return SealedIdentity.parse(JSON.parse(new TextDecoder().decode(plaintext)));
}

