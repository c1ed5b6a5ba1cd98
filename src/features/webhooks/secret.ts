import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { keyDerivedFrom, piiKeyFor, type EngineKeys } from '../../platform/keys';

/** A fresh signing secret in the Standard Webhooks form: `whsec_` and base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`;
}

// A key of its own, derived from the personal-data key, so a leaked table row reveals no secret.
const secretKey = (piiKey: Uint8Array) => keyDerivedFrom(piiKey, 'webhook-secrets');
/** A webhook secret's key id: the personal-data key's, with this after it. */
export const WEBHOOK_KID_SUFFIX = '/webhooks';

export async function sealWebhookSecret(keys: Pick<EngineKeys, 'pii'>, secret: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(secret))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: `${keys.pii.kid}${WEBHOOK_KID_SUFFIX}` })
    .encrypt(secretKey(keys.pii.key));
}

export class WebhookSecretKeyError extends Error {
  constructor(readonly kid: string | undefined) {
    super(`The subscription's secret was sealed under key "${kid ?? '(none)'}", which is not configured (PII_KEY, PII_KEYS_PREVIOUS).`);
    this.name = 'WebhookSecretKeyError';
  }
}

/** Opens a secret sealed under the current personal-data key or an earlier one still configured. */
export async function openWebhookSecret(keys: Pick<EngineKeys, 'pii'>, sealed: string): Promise<string> {
  const kid = decodeProtectedHeader(sealed).kid;
  const key = kid?.endsWith(WEBHOOK_KID_SUFFIX) ? piiKeyFor(keys.pii, kid.slice(0, -WEBHOOK_KID_SUFFIX.length)) : undefined;
  if (!key) throw new WebhookSecretKeyError(kid);
  const { plaintext } = await compactDecrypt(sealed, secretKey(key), { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
  return new TextDecoder().decode(plaintext);
}
