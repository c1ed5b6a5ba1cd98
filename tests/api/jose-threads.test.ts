import { decodeJwt, jwtVerify } from 'jose';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatures } from '../../src/db/schema';
import { createDevIdentityProvider, type DevIdentityProvider } from '../../src/features/auth/dev-provider';
import { openPersonalData, sealPersonalData } from '../../src/features/personal-data/service';
import { startJoseThreads, type JoseThreads } from '../../src/platform/jose-threads';
import { generateKeyMaterial, loadEngineKeys, signWithEngineKey, type EngineKeys, type KeyMaterial } from '../../src/platform/keys';
import { createLogger } from '../../src/platform/logger';
import { Problem } from '../../src/platform/problems';
import { createTestEngine, PUBLIC_URL, type TestEngine } from '../support/engine';
import { startSilentProvider } from '../support/oidc-provider';
import { openParisInitiative } from '../support/identity';

const PERSON = { givenNames: 'Irène', familyName: 'Lambert', birthdate: '1991-09-09' };
const silentLog = createLogger('silent');

/**
 * JOSE work in worker threads (CRYPTO_THREADS, on by default on Node with two CPUs or more): the
 * same results as on the request's thread, calls matched to their own answers, a dead thread replaced.
 */
describe('JOSE threads', () => {
  let material: KeyMaterial;
  let inline: EngineKeys;
  let provider: DevIdentityProvider;
  let threads: JoseThreads;
  let threaded: EngineKeys;

  beforeAll(async () => {
    material = await generateKeyMaterial('t1');
    inline = await loadEngineKeys(material);
    provider = await createDevIdentityProvider({ issuer: `${PUBLIC_URL}/dev/oidc` });
    threads = await startJoseThreads(1, { signingJwk: material.signingJwk, piiKey: material.piiKey, piiKeyId: inline.pii.kid, verifier: provider.verifier.options }, silentLog);
    threaded = { ...inline, offload: threads };
  });
  afterAll(() => threads.close());

  it('signs exactly what the request thread signs (Ed25519 is deterministic), verifiable with the published key', async () => {
    const options = { issuer: PUBLIC_URL, now: new Date('2027-01-15T10:00:00Z'), expiresInSeconds: 600 };
    const payload = { initiative: 'i-1', signature: 's-1', leaf: 'AAAA', signedAt: options.now.toISOString(), mmd: 1 };
    const there = await signWithEngineKey(threaded, 'receipt+jwt', payload, options);
    expect(there).toBe(await signWithEngineKey(inline, 'receipt+jwt', payload, options));
    const { payload: claims, protectedHeader } = await jwtVerify(there, inline.signing.publicKey, { issuer: PUBLIC_URL, typ: 'receipt+jwt', currentDate: options.now });
    expect(protectedHeader.kid).toBe(inline.signing.kid);
    expect(claims).toMatchObject({ ...payload, iat: options.now.getTime() / 1000, exp: options.now.getTime() / 1000 + 600 });
  });

  it('seals personal data that the request thread opens, and opens what it sealed', async () => {
    const sealed = await sealPersonalData(threaded, PERSON);
    expect(sealed).not.toContain('Lambert');
    expect(await openPersonalData(inline, sealed)).toEqual(PERSON);
    // A fresh IV each time: the same person never seals to the same text.
    expect(await sealPersonalData(threaded, PERSON)).not.toBe(sealed);
  });

  it("verifies ID tokens as the provider's verifier does, and refuses the same tokens with the same problem", async () => {
    const verifier = threads.verifier(provider.verifier);
    expect(verifier).not.toBe(provider.verifier);
    const token = await provider.mintIdToken(PERSON, new Date());
    expect(await verifier.verify(token)).toEqual(await provider.verifier.verify(token));

    const expired = await provider.mintIdToken({ ...PERSON, expiresInSeconds: 60 }, new Date(Date.now() - 3_600_000));
    const tampered = `${token.slice(0, -6)}AAAAAA`;
    for (const bad of [expired, tampered, 'not.a.token']) {
      const here = await provider.verifier.verify(bad).catch((e: unknown) => e);
      const there = await verifier.verify(bad).catch((e: unknown) => e);
      expect(here).toBeInstanceOf(Problem);
      expect(there).toBeInstanceOf(Problem);
      expect((there as Problem).toJSON()).toEqual((here as Problem).toJSON());
      expect((there as Problem).headers).toEqual((here as Problem).headers);
    }
  });

  it('leaves a verifier of another issuer on the request thread', async () => {
    const other = await createDevIdentityProvider({ issuer: 'https://other.example/dev/oidc' });
    expect(threads.verifier(other.verifier)).toBe(other.verifier);
  });

  it('answers hundreds of concurrent calls each with its own result', async () => {
    const now = new Date('2027-01-15T10:00:00Z');
    const receipts = await Promise.all(
      Array.from({ length: 300 }, (_, i) => signWithEngineKey(threaded, 'receipt+jwt', { signature: `s-${i}` }, { issuer: PUBLIC_URL, now })),
    );
    expect(receipts.map((r) => decodeJwt(r).signature)).toEqual(Array.from({ length: 300 }, (_, i) => `s-${i}`));
    const people = Array.from({ length: 100 }, (_, i) => ({ ...PERSON, familyName: `Lambert${'e'.repeat(i % 7)}${i}` }));
    const sealed = await Promise.all(people.map((p) => sealPersonalData(threaded, p)));
    expect(await Promise.all(sealed.map((s) => openPersonalData(inline, s)))).toEqual(people);
  });

  it('fails the calls a dead thread held with a 503, and answers the next ones from a new thread', async () => {
    // A provider that never answers: its ID tokens stay in the thread, waiting for the keys, until it dies.
    const silent = await startSilentProvider({ answerDiscovery: false });
    const verifierOptions = { issuer: silent.issuer, audience: 'civic', algorithms: ['ES256'], timeoutMs: 60_000 };
    const own = await startJoseThreads(1, { signingJwk: material.signingJwk, piiKey: material.piiKey, piiKeyId: inline.pii.kid, verifier: verifierOptions }, silentLog);
    try {
      const verifier = own.verifier({ issuer: silent.issuer, options: verifierOptions, verify: () => Promise.reject(new Error('stays on this thread')) });
      const token = await provider.mintIdToken(PERSON, new Date());
      const held = Array.from({ length: 5 }, () => verifier.verify(token).then(() => 'verified', (e: unknown) => e));
      const [first] = own.threads();
      // Sent, and waiting in the thread for the provider's discovery document.
      await new Promise((r) => setTimeout(r, 200));
      await first!.terminate();
      for (const outcome of await Promise.all(held)) expect(outcome).toMatchObject({ status: 503, code: 'unavailable', headers: { 'Retry-After': '1' } });

      expect(own.threads()[0]).not.toBe(first);
      const keys = { ...inline, offload: own };
      const now = new Date('2027-01-15T10:00:00Z');
      const after = await signWithEngineKey(keys, 'receipt+jwt', { signature: 'after' }, { issuer: PUBLIC_URL, now });
      expect(after).toBe(await signWithEngineKey(inline, 'receipt+jwt', { signature: 'after' }, { issuer: PUBLIC_URL, now }));
    } finally {
      await own.close();
      await silent.close();
    }
  });

  it('refuses to start with key material it cannot load, and refuses calls once closed', async () => {
    const bad = { ...material.signingJwk, d: 'not-a-key', x: 'not-a-key' };
    await expect(startJoseThreads(1, { signingJwk: bad, piiKey: material.piiKey, piiKeyId: 'pii-1', verifier: undefined }, silentLog)).rejects.toThrow();

    const closing = await startJoseThreads(1, { signingJwk: material.signingJwk, piiKey: material.piiKey, piiKeyId: 'pii-1', verifier: undefined }, silentLog);
    await closing.close();
    await expect(closing.seal(PERSON)).rejects.toMatchObject({ status: 503 });
  });
});

describe('signing through the API with JOSE threads', () => {
  let engine: TestEngine;
  let threads: JoseThreads;
  const used = { verify: 0, seal: 0, sign: 0 };

  beforeAll(async () => {
    engine = await createTestEngine();
    const { keyMaterial: material, deps } = engine;
    const keys = deps.keys;
    // As the server wires them: the engine's keys and its identity provider's verifier, in a thread.
    const verifier = engine.devProvider.verifier;
    threads = await startJoseThreads(1, { signingJwk: material.signingJwk, piiKey: material.piiKey, piiKeyId: keys.pii.kid, verifier: verifier.options }, silentLog);
    keys.offload = {
      ...threads,
      seal: (identity) => (used.seal++, threads.seal(identity)),
      sign: (typ, payload, options) => (used.sign++, threads.sign(typ, payload, options)),
    };
    const threaded = threads.verifier(verifier);
    engine.deps.identity = { ...threaded, verify: (token) => (used.verify++, threaded.verify(token)) };
  });
  afterAll(async () => {
    await engine.close();
    await threads.close();
  });

  it('counts a signature once, with a receipt signed by the engine and the personal data sealed under its key', async () => {
    const { initiativeId } = await openParisInitiative(engine);
    const token = await engine.tokenFor(PERSON);
    const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75101', consent: true } });
    expect(signed.status).toBe(201);
    const again = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75101', consent: true } });
    expect(again.status).toBe(200);
    expect(again.body.receipt).toBe(signed.body.receipt);

    const { payload } = await jwtVerify(signed.body.receipt, engine.deps.keys.signing.publicKey, { issuer: PUBLIC_URL, typ: 'receipt+jwt', currentDate: engine.clock.now() });
    expect(payload).toMatchObject({ initiative: initiativeId, signature: signed.body.signature.id });

    const [row] = await engine.db.db.select({ personalData: signatures.personalData }).from(signatures).where(eq(signatures.id, signed.body.signature.id));
    expect(await openPersonalData(engine.deps.keys, row!.personalData!)).toEqual(PERSON);
    const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
    expect(progress.body.signatures).toBe(1);
    // The token was verified, the data sealed and the receipts signed in the thread.
    expect(used.verify).toBeGreaterThanOrEqual(2);
    expect(used.seal).toBeGreaterThanOrEqual(1);
    expect(used.sign).toBeGreaterThanOrEqual(2);
  });
});
