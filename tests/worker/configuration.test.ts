import { exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { mapLimit, sleep } from '../support/process';
import { startWorkerEngine } from '../support/worker';

interface Refusal {
  /** The `detail` of the 503 problem that /readyz, an API route and a page all answered. */
  detail: string;
  /** Everything the problems said, to look for secrets in. */
  text: string;
  /** What the Worker logged. */
  output: string;
}

/** A Worker started with wrangler.toml, the usual secrets and `settings` over them; what it answers. */
async function refusal(settings: Record<string, string>): Promise<Refusal> {
  const worker = await startWorkerEngine({ settings, ready: false });
  try {
    const probe = await worker.request('GET', '/readyz');
    const api = await worker.request('POST', '/v1/jurisdictions', { body: {} });
    const page = await worker.request('GET', '/', { headers: { accept: 'text/html' } });
    for (const res of [probe, api, page]) {
      expect(res.status).toBe(503);
      expect(res.contentType).toBe('application/problem+json');
      expect(res.headers.get('retry-after')).toBe('2');
      expect(res.body.detail).toBe(probe.body.detail);
    }
    // The log line may reach wrangler's output a moment after the answer.
    for (let i = 0; i < 40 && !worker.output.some((line) => line.includes('engine not started')); i++) await sleep(50);
    return { detail: String(probe.body.detail), text: JSON.stringify([probe.body, api.body, page.body]), output: worker.output.join('\n') };
  } finally {
    await worker.stop();
  }
}

/**
 * The Worker's settings come from wrangler.toml's [vars] and from secrets (here an env file, as
 * `wrangler dev` reads .dev.vars; an empty value unsets one). A missing or malformed one is refused
 * with the message Node prints at start (`Configuration error: <message>`, the same literals as in
 * tests/api/production-build.test.ts): every request gets a 503 problem naming the setting, never
 * its value, and the log says the same.
 */
describe('on Workers: a misconfigured engine refuses every request, naming the setting', () => {
  const privateJwk = async () => exportJWK((await generateKeyPair('EdDSA', { extractable: true })).privateKey);
  const cases: Record<string, { settings: () => Promise<Record<string, string>> | Record<string, string>; message: string }> = {
    'no SIGNING_KEY in production': { settings: () => ({ SIGNING_KEY: '' }), message: 'SIGNING_KEY: is required in production (generated keys are refused)' },
    'no IDENTITY_PEPPER in production': { settings: () => ({ IDENTITY_PEPPER: '' }), message: 'IDENTITY_PEPPER: is required in production' },
    'no PII_KEY in production': { settings: () => ({ PII_KEY: '' }), message: 'PII_KEY: is required in production (generated keys are refused)' },
    'the development identity provider in production': {
      settings: () => ({ OIDC_ISSUER: '' }),
      message: 'OIDC_ISSUER: is required in production (the development identity provider is refused)',
    },
    'generated keys outside production (a Worker has nowhere to keep them)': {
      settings: () => ({ NODE_ENV: 'development', OIDC_ISSUER: '', SIGNING_KEY: '' }),
      message: 'SIGNING_KEY: is required on Workers (wrangler secret put SIGNING_KEY)',
    },
    'a malformed PII_KEY': { settings: () => ({ PII_KEY: 'not base64!' }), message: 'PII_KEY: must be base64 of 32 bytes' },
    'a short IDENTITY_PEPPER': { settings: () => ({ IDENTITY_PEPPER: Buffer.alloc(16, 1).toString('base64') }), message: 'IDENTITY_PEPPER: must be base64 of at least 32 bytes' },
    // The README's example as written, placeholders and all.
    "the README's SIGNING_KEY placeholder": {
      settings: () => ({ SIGNING_KEY: '{"kty":"OKP","crv":"Ed25519","x":"…","d":"…"}' }),
      message: 'SIGNING_KEY: must be a private Ed25519 JWK: {"kty":"OKP","crv":"Ed25519","x":"…","d":"…"} with x and d of 32 bytes in base64url',
    },
    // Receipts signed with d would not verify against the x that the JWKS serves.
    'a SIGNING_KEY whose x is not the public half of its d': {
      settings: async () => {
        const [one, other] = await Promise.all([privateJwk(), privateJwk()]);
        return { SIGNING_KEY: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: other.x, d: one.d }) };
      },
      message: 'SIGNING_KEY: x is not the public key of d (a key pair pasted from two keys?)',
    },
    'an OIDC_ID_TOKEN_DECRYPTION_KEY that is no private key': {
      settings: () => ({ OIDC_ID_TOKEN_DECRYPTION_KEY: '{"kty":"RSA","d":"x"}' }),
      message: 'OIDC_ID_TOKEN_DECRYPTION_KEY: must be a private JWK (JSON with kty RSA, EC or OKP and d): an RSA key needs n, e, d, p, q, dp, dq, qi in base64url; n, e, p, q, dp, dq, qi missing or malformed',
    },
    'a maximum merge delay that the once-a-minute cron trigger cannot keep': {
      settings: () => ({ LOG_MERGE_DELAY_MS: '1000' }),
      message: 'LOG_MERGE_DELAY_MS: must be at least 90000 on Workers: the cron trigger sequences the logs once a minute, and receipts promise inclusion within this delay',
    },
    'no PUBLIC_URL (a cron run has no request to take links and token issuers from)': { settings: () => ({ PUBLIC_URL: '' }), message: 'PUBLIC_URL: is required on Workers' },
  };
  const results = new Map<string, { settings: Record<string, string>; refusal: Refusal }>();

  beforeAll(async () => {
    // Two Workers start at once: each start bundles the engine and boots workerd.
    await mapLimit(Object.entries(cases), 2, async ([name, c]) => {
      const settings = await c.settings();
      results.set(name, { settings, refusal: await refusal(settings) });
    });
  }, 600_000);

  for (const [name, { message }] of Object.entries(cases)) {
    it(`refuses ${name}`, () => {
      const { settings, refusal } = results.get(name)!;
      expect(refusal.detail).toBe(`The engine is misconfigured: ${message}`);
      expect(refusal.output).toContain(`"msg":"engine not started","error":${JSON.stringify(message)}`);
      // Never the value (but for the README's placeholder, which the message shows as the form to follow).
      for (const value of Object.values(settings)) if (value.length > 8 && !message.includes(value)) expect(refusal.text + refusal.output).not.toContain(value);
    });
  }
});
