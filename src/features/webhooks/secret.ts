import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CompactEncrypt, compactDecrypt } from 'jose';
import type { EngineKeys } from '../../platform/keys';

/** A fresh signing secret in the Standard Webhooks form: `whsec_` and base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`;
}

// A key of its own, derived from the personal-data key, so a leaked table row reveals no secret.
const secretKey = (keys: Pick<EngineKeys, 'pii'>) => hkdf(sha256, keys.pii.key, undefined, new TextEncoder().encode('webhook-secrets'), 32);

export async function sealWebhookSecret(keys: Pick<EngineKeys, 'pii'>, secret: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(secret))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: `${keys.pii.kid}/webhooks` })
    .encrypt(secretKey(keys));
}

export async function openWebhookSecret(keys: Pick<EngineKeys, 'pii'>, sealed: string): Promise<string> {
  const { plaintext } = await compactDecrypt(sealed, secretKey(keys));
  return new TextDecoder().decode(plaintext);
}
