import { serve } from '@hono/node-server';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, pepperChecks, signatures } from '../../src/db/schema';
import { webhookSubscriptions } from '../../src/db/schema-webhooks';
import { ConfigError, loadConfig } from '../../src/platform/config';
import { personalDataResealer } from '../../src/features/personal-data/reseal';
import { sealPersonalData } from '../../src/features/personal-data/service';
import { checkIdentityPeppers } from '../../src/platform/identity-peppers';
import { configuredKeyMaterial, generateKeyMaterial, loadEngineKeys, type KeyMaterial } from '../../src/platform/keys';
import { runVerifier } from '../../src/verify';
import { browserRequests } from '../web/browser-requests';
import { createTestEngine, type TestEngine } from '../support/engine';
import { openParisInitiative, putRoll, rollCsv } from '../support/identity';
import { freePort, startEngineExpectingExit, startEngineProcess, stopEngine, tempDir, type EngineProcess } from '../support/process';
import { PARISIANS, REFERENDUM_DRAFT } from '../support/paris';
import { Receiver } from '../support/webhook-receiver';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const kidOf = (jwe: string) => decodeProtectedHeader(jwe).kid;
const people = Object.values(PARISIANS);

/** What an operator does: a new key in PII_KEY / SIGNING_KEY, the old one listed as previous; the rest as before. */
async function rotatedKeys(before: KeyMaterial, env: Record<string, string>) {
  const material = configuredKeyMaterial(loadConfig(env), before);
  return { material, keys: await loadEngineKeys(material) };
}

describe('rotating the personal-data key (PII_KEY, PII_KEYS_PREVIOUS)', () => {
  let engine: TestEngine;
  let receiver: Receiver;
  let before: KeyMaterial;
  let current: { key: Uint8Array; kid: string };

  beforeAll(async () => {
    engine = await createTestEngine({ config: { webhookAllowPrivate: true } });
    before = engine.keyMaterial;
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await receiver.kill().catch(() => {});
    await engine.close();
  });

  it('what the earlier key sealed is still read by clerks, sealed again under the new key by the scheduler, and still read once the earlier key is gone', async () => {
    const { initiativeId, clerk, sponsor } = await openParisInitiative(engine);
    const admin = await engine.adminToken();
    const hook = await engine.request('POST', '/v1/webhooks', { token: admin, body: { url: receiver.url, jurisdictionId: 'paris', events: ['initiative.closed'] } });
    expect(hook.status).toBe(201);
    const signatureIds: string[] = [];
    const signAs = async (person: (typeof people)[number]) => {
      const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(person), body: { district: '75111', consent: true } });
      expect(res.status).toBe(201);
      signatureIds.push(res.body.signature.id);
    };
    for (const person of people.slice(0, 3)) await signAs(person);
    const stored = async () => (await engine.db.db.select({ id: signatures.id, personalData: signatures.personalData }).from(signatures)).map((r) => kidOf(r.personalData!));
    const storedSecret = async () => kidOf((await engine.db.db.select({ secret: webhookSubscriptions.secret }).from(webhookSubscriptions))[0]!.secret);
    expect(await stored()).toEqual(['pii-1', 'pii-1', 'pii-1']);
    expect(await storedSecret()).toBe('pii-1/webhooks');
    const read = (i: number) => engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/${signatureIds[i]}/personal-data`, { token: clerk });

    const session = await engine.request('POST', '/v1/session', { body: { idToken: await engine.tokenFor(people[4]!) } });
    expect(session.status).toBe(201);
    const mine = () => engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: session.body.token });
    expect((await mine()).status).toBe(404);

    // The operator rotates: PII_KEY=<new>, PII_KEY_ID=pii-2, PII_KEYS_PREVIOUS={"pii-1": <old>}.
    const newKey = crypto.getRandomValues(new Uint8Array(32));
    const rotated = await rotatedKeys(before, { PII_KEY: b64(newKey), PII_KEY_ID: 'pii-2', PII_KEYS_PREVIOUS: JSON.stringify({ 'pii-1': b64(before.piiKey) }) });
    engine.deps.keys = rotated.keys;
    // Sessions are encrypted under a key derived from PII_KEY: one made before is refused, and its holder signs in again.
    expect((await mine()).status).toBe(401);
    const first = await read(0);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject(people[0]!);
    await signAs(people[3]!);
    expect((await stored()).sort()).toEqual(['pii-1', 'pii-1', 'pii-1', 'pii-2']);

    // The scheduler seals the three again under pii-2, and the webhook's secret too; the audit trail says so.
    await engine.scheduler.tick();
    expect(await stored()).toEqual(['pii-2', 'pii-2', 'pii-2', 'pii-2']);
    expect(await storedSecret()).toBe('pii-2/webhooks');
    const audit = await engine.db.db.select().from(auditLog).where(eq(auditLog.action, 'personal-data.resealed'));
    expect(audit.map((a) => a.details)).toEqual([{ signatures: 3, webhookSecrets: 1, fromKeys: ['pii-1'], toKey: 'pii-2' }]);
    // The next pass finds nothing left, and says the earlier key may go.
    await engine.scheduler.tick();
    expect(engine.logLines.some((l) => l.includes('they may be removed from PII_KEYS_PREVIOUS'))).toBe(true);
    expect(await engine.db.db.select().from(auditLog).where(eq(auditLog.action, 'personal-data.resealed'))).toHaveLength(1);

    // The earlier key is removed: everything still opens, and deliveries are signed with the secret given at creation.
    engine.deps.keys = (await rotatedKeys(before, { PII_KEY: b64(newKey), PII_KEY_ID: 'pii-2' })).keys;
    for (let i = 0; i < 4; i++) {
      const res = await read(i);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject(people[i]!);
    }
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor })).status).toBe(200);
    await engine.scheduler.tick();
    const delivered = receiver.received.map((r) => new Webhook(hook.body.secret).verify(r.body, r.headers) as { type: string });
    expect(delivered.map((d) => d.type)).toEqual(['initiative.closed']);
    current = { key: newKey, kid: 'pii-2' };
  });

  it('pages through the signatures; what the configured keys cannot open is left as it is, reported by key, and the earlier key is not said to be removable', async () => {
    const { initiativeId } = await openParisInitiative(engine, { createJurisdiction: false });
    for (const person of people.slice(0, 3)) {
      const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(person), body: { district: '75111', consent: true } });
      expect(res.status).toBe(201);
    }
    const rows = await engine.db.db.select({ id: signatures.id, personalData: signatures.personalData }).from(signatures).where(eq(signatures.initiativeId, initiativeId));
    // One damaged under the current key, one under a key that was dropped too early, and a damaged webhook secret.
    const [damaged, orphan] = rows;
    const parts = damaged!.personalData!.split('.');
    parts[3] = 'A'.repeat(parts[3]!.length);
    await engine.db.db.update(signatures).set({ personalData: parts.join('.') }).where(eq(signatures.id, damaged!.id));
    const dropped = await sealPersonalData({ pii: { key: crypto.getRandomValues(new Uint8Array(32)), kid: 'pii-0' } }, people[4]!);
    await engine.db.db.update(signatures).set({ personalData: dropped }).where(eq(signatures.id, orphan!.id));
    const [hook] = await engine.db.db.select().from(webhookSubscriptions);
    await engine.db.db.update(webhookSubscriptions).set({ secret: hook!.secret.replace(/\.[^.]+$/, '.AAAAAAAAAAAAAAAAAAAAAA') });

    engine.deps.keys = (await rotatedKeys(before, { PII_KEY: b64(crypto.getRandomValues(new Uint8Array(32))), PII_KEY_ID: 'pii-3', PII_KEYS_PREVIOUS: JSON.stringify({ 'pii-2': b64(current.key) }) })).keys;
    const reseal = personalDataResealer(engine.deps, { batch: 2 });
    const lines = engine.logLines.length;
    // 7 signatures in all, 2 of which cannot be opened: pages of 2, 2, 2 and 1, the last one ending the pass (and reporting).
    let resealed = 0;
    for (let i = 0; i < 3; i++) resealed += (await reseal(engine.clock.now())).signatures;
    expect(engine.logLines.slice(lines).join('\n')).not.toContain('cannot open');
    resealed += (await reseal(engine.clock.now())).signatures;
    expect(resealed).toBe(5);
    const kids = (await engine.db.db.select({ personalData: signatures.personalData }).from(signatures)).map((r) => kidOf(r.personalData!)).sort();
    expect(kids).toEqual(['pii-0', 'pii-2', 'pii-3', 'pii-3', 'pii-3', 'pii-3', 'pii-3']);
    const logged = engine.logLines.slice(lines).join('\n');
    expect(logged).toContain('personal data that the configured keys cannot open was left as it is');
    expect(logged).toContain('"byKey":{"pii-0":1,"pii-2":1,"pii-2/webhooks":1}');
    expect(logged).not.toContain('they may be removed');
    // The readable ones are opened under the new key; the others answer a clear problem naming the missing key.
    const clerk = await engine.subjectToken('clerk-of-paris');
    const read = (id: string) => engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/${id}/personal-data`, { token: clerk });
    expect((await read(rows[2]!.id)).body).toMatchObject(people[2]!);
    const missing = await read(orphan!.id);
    expect(missing.status).toBe(500);
    expect(missing.body).toMatchObject({ type: '/problems/personal-data-key-missing' });
    expect(missing.body.detail).toContain('"pii-0"');
  });

  it('refuses a malformed PII_KEYS_PREVIOUS or PII_KEY, naming the variable', () => {
    const key = b64(new Uint8Array(32).fill(7));
    expect(() => loadConfig({ PII_KEYS_PREVIOUS: 'not json' })).toThrow(/^PII_KEYS_PREVIOUS: must be JSON/);
    expect(() => loadConfig({ PII_KEYS_PREVIOUS: JSON.stringify({ 'pii-0': 'c2hvcnQ=' }) })).toThrow(/PII_KEYS_PREVIOUS: key "pii-0" must be base64 of 32 bytes/);
    expect(() => loadConfig({ PII_KEYS_PREVIOUS: JSON.stringify({ 'bad id!': key }) })).toThrow(ConfigError);
    expect(() => loadConfig({ PII_KEY: key, PII_KEY_ID: 'pii-1', PII_KEYS_PREVIOUS: JSON.stringify({ 'pii-1': key }) })).toThrow(/current key id "pii-1"/);
    expect(() => loadConfig({ PII_KEY: 'c2hvcnQ=' })).toThrow(/^PII_KEY: must be base64 of 32 bytes/);
    expect(loadConfig({ PII_KEYS_PREVIOUS: JSON.stringify({ 'pii-0': key }) }).previousPiiKeys['pii-0']).toHaveLength(32);
  });
});

describe('rotating the engine signing key (SIGNING_KEY, SIGNING_KEYS_PREVIOUS)', () => {
  let engine: TestEngine;
  let before: KeyMaterial;

  beforeAll(async () => {
    engine = await createTestEngine();
    before = engine.keyMaterial;
  });
  afterAll(() => engine.close());

  it('receipts and tree heads signed with the retired key still check against the served keys, on the API and on the receipt page', async () => {
    const { initiativeId } = await openParisInitiative(engine);
    const signAs = async (person: (typeof people)[number]) => {
      const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(person), body: { district: '75111', consent: true } });
      expect(res.status).toBe(201);
      return res.body.receipt as string;
    };
    const oldReceipt = await signAs(people[0]!);
    await engine.scheduler.tick();
    const oldHead = (await engine.request('GET', `/v1/initiatives/${initiativeId}/log`)).body;
    expect(oldHead.size).toBe(1);
    const oldKid = engine.deps.keys.signing.kid;
    const session = await engine.request('POST', '/v1/session', { body: { idToken: await engine.tokenFor(people[1]!) } });
    expect(session.status).toBe(201);
    const mine = () => engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: session.body.token });
    expect((await mine()).status).toBe(404);

    // The operator rotates: SIGNING_KEY=<new>, SIGNING_KEYS_PREVIOUS=[<old>] (its private part, pasted by mistake, is dropped).
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const newJwk = { ...(await exportJWK(privateKey)), kid: 'engine-2' };
    engine.deps.keys = (await rotatedKeys(before, { SIGNING_KEY: JSON.stringify(newJwk), SIGNING_KEYS_PREVIOUS: JSON.stringify([{ ...before.signingJwk, kid: oldKid }]) })).keys;

    const jwks = (await engine.request('GET', '/.well-known/jwks.json')).body as { keys: JWK[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(['engine-2', oldKid]);
    expect(jwks.keys.every((k) => k.d === undefined && k.alg === 'EdDSA' && k.use === 'sig')).toBe(true);
    const keySet = createLocalJWKSet(jwks);
    expect((await jwtVerify(oldReceipt, keySet, { typ: 'receipt+jwt' })).protectedHeader.kid).toBe(oldKid);
    expect((await jwtVerify(oldHead.signature, keySet)).payload).toMatchObject({ size: 1, root: oldHead.root });
    const newReceipt = await signAs(people[2]!);
    expect((await jwtVerify(newReceipt, keySet, { typ: 'receipt+jwt' })).protectedHeader.kid).toBe('engine-2');

    // The citizen's receipt page still calls the old receipt genuine, and checks its proof against the head the old key signed.
    const page = await engine.request('GET', `/receipt?r=${encodeURIComponent(oldReceipt)}`, { headers: { 'accept-language': 'en' } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('This receipt is genuine');
    expect(page.body).toContain('The inclusion proof was checked against the signed log head.');

    // Sessions do not depend on the signing key (they are encrypted under a key derived from PII_KEY): the holder is still signed in.
    expect((await mine()).status).toBe(404);

    // The standalone verifier, against the engine on a port: the old receipt and the old head still check, the log grew consistently.
    await engine.scheduler.tick();
    const newHead = (await engine.request('GET', `/v1/initiatives/${initiativeId}/log`)).body;
    expect(newHead.size).toBe(2);
    const folder = await mkdtemp(join(tmpdir(), 'civic-rotation-'));
    const server = serve({ fetch: engine.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const verify = async (...args: string[]) => {
      const lines: string[] = [];
      const code = await runVerifier([...args, '--server', url], (line) => lines.push(line));
      return { code, output: lines.join('\n') };
    };
    try {
      await writeFile(join(folder, 'old-head.json'), JSON.stringify(oldHead));
      await writeFile(join(folder, 'new-head.json'), JSON.stringify(newHead));
      for (const receipt of [oldReceipt, newReceipt]) expect((await verify('receipt', receipt)).code).toBe(0);
      const grown = await verify('consistency', join(folder, 'old-head.json'), join(folder, 'new-head.json'));
      expect(grown.code, grown.output).toBe(0);

      // Keys saved after the retired key was taken off the JWKS: what it signed fails, naming the key missing.
      await writeFile(join(folder, 'jwks.json'), JSON.stringify({ keys: jwks.keys.filter((k) => k.kid !== oldKid) }));
      const withoutOld = await verify('receipt', oldReceipt, '--jwks', join(folder, 'jwks.json'));
      expect(withoutOld.code, withoutOld.output).toBe(1);
      expect(withoutOld.output).toContain(`FAILED: the receipt's signature does not verify: its key "${oldKid}" is not in the key set`);
      const headWithoutOld = await verify('consistency', join(folder, 'old-head.json'), join(folder, 'new-head.json'), '--jwks', join(folder, 'jwks.json'));
      expect(headWithoutOld.code, headWithoutOld.output).toBe(1);
      expect(headWithoutOld.output).toContain(`its key "${oldKid}" is not in the key set`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('refuses a malformed SIGNING_KEYS_PREVIOUS, or one repeating the current key', async () => {
    expect(() => loadConfig({ SIGNING_KEYS_PREVIOUS: '[1' })).toThrow(/^SIGNING_KEYS_PREVIOUS: must be JSON/);
    expect(() => loadConfig({ SIGNING_KEYS_PREVIOUS: JSON.stringify([{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }]) })).toThrow(/SIGNING_KEYS_PREVIOUS: must list Ed25519 JWKs/);
    // A JWKS is accepted too; only the public half is kept.
    const { kty, crv, x } = before.signingJwk;
    expect(loadConfig({ SIGNING_KEYS_PREVIOUS: JSON.stringify({ keys: [before.signingJwk] }) }).previousSigningKeys).toEqual([{ kty, crv, x }]);
    const repeated = configuredKeyMaterial(loadConfig({ SIGNING_KEYS_PREVIOUS: JSON.stringify([before.signingJwk]) }), before);
    await expect(loadEngineKeys(repeated)).rejects.toThrow(/SIGNING_KEYS_PREVIOUS: key ".+" appears twice/);
  });
});

describe('key material from configuration alone (Workers: no generated keys)', () => {
  it('carries every key setting, earlier keys included, and names a missing secret', async () => {
    const material = await generateKeyMaterial('v2');
    const old = await generateKeyMaterial('v1');
    const env = {
      SIGNING_KEY: JSON.stringify(material.signingJwk),
      SIGNING_KEYS_PREVIOUS: JSON.stringify([old.signingJwk]),
      IDENTITY_PEPPER: b64(material.pepper.secret),
      IDENTITY_PEPPER_VERSION: 'v2',
      IDENTITY_PEPPERS_PREVIOUS: JSON.stringify({ v1: b64(old.pepper.secret) }),
      PII_KEY: b64(material.piiKey),
      PII_KEY_ID: 'pii-2',
      PII_KEYS_PREVIOUS: JSON.stringify({ 'pii-1': b64(old.piiKey) }),
    };
    const keys = await loadEngineKeys(configuredKeyMaterial(loadConfig(env)));
    expect(keys.keyring.currentVersion).toBe('v2');
    expect(keys.keyring.keyFor('v1', 'x')).toEqual((await loadEngineKeys(old)).keyring.keyFor('v1', 'x'));
    expect(keys.pii).toEqual({ key: material.piiKey, kid: 'pii-2', previous: { 'pii-1': old.piiKey } });
    expect(keys.jwks.keys).toHaveLength(2);

    const required = (variable: string) => `is required on Workers (wrangler secret put ${variable})`;
    const { SIGNING_KEY: _signing, ...withoutSigningKey } = env;
    expect(() => configuredKeyMaterial(loadConfig(withoutSigningKey), undefined, required)).toThrow('SIGNING_KEY: is required on Workers (wrangler secret put SIGNING_KEY)');
    expect(() => configuredKeyMaterial(loadConfig({ ...env, SIGNING_KEY: '{' }))).toThrow(/^SIGNING_KEY: must be a private Ed25519 JWK/);
  });

  it('names SIGNING_KEY when its x is not the public half of its d (Node refused it only as "Invalid keyData")', async () => {
    const one = await generateKeyMaterial('v1');
    const other = await generateKeyMaterial('v1');
    const env = { SIGNING_KEY: JSON.stringify({ ...one.signingJwk, x: other.signingJwk.x }), IDENTITY_PEPPER: b64(one.pepper.secret), PII_KEY: b64(one.piiKey) };
    const refused = loadEngineKeys(configuredKeyMaterial(loadConfig(env)));
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow('SIGNING_KEY: x is not the public key of d (a key pair pasted from two keys?)');
  });
});

describe('the identity pepper a database was keyed with (IDENTITY_PEPPER, IDENTITY_PEPPER_VERSION)', () => {
  let engine: TestEngine;
  let before: KeyMaterial;

  beforeAll(async () => {
    engine = await createTestEngine({ pepperVersion: 'v1' });
    before = engine.keyMaterial;
  });
  afterAll(() => engine.close());

  /** What a restart with these settings checks before it serves anything. */
  const start = async (env: Record<string, string>) => {
    const keys = (await rotatedKeys(before, env)).keys;
    await checkIdentityPeppers(engine.db.db, keys.keyring, engine.clock.now());
    return keys;
  };

  it('a new pepper under the version name of the old one is refused at start, naming both settings; the engine keeps counting each person once', async () => {
    await checkIdentityPeppers(engine.db.db, engine.deps.keys.keyring, engine.clock.now());
    const { initiativeId } = await openParisInitiative(engine);
    const signAs = async (person: (typeof people)[number]) =>
      engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(person), body: { district: '75111', consent: true } });
    expect((await signAs(people[0]!)).status).toBe(201);

    // The operator changes IDENTITY_PEPPER and leaves IDENTITY_PEPPER_VERSION at v1: the engine does not start.
    const start1 = start({ IDENTITY_PEPPER: b64(crypto.getRandomValues(new Uint8Array(32))), IDENTITY_PEPPER_VERSION: 'v1' });
    await expect(start1).rejects.toThrow(ConfigError);
    await expect(start1).rejects.toThrow(/^IDENTITY_PEPPER: .*IDENTITY_PEPPER_VERSION "v1"/);
    // Restarted as before, the person who signed gets their signature back: one count.
    engine.deps.keys = await start({ IDENTITY_PEPPER: b64(before.pepper.secret), IDENTITY_PEPPER_VERSION: 'v1' });
    expect((await signAs(people[0]!)).status).toBe(200);
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(1);

    // Rotated as docs/identity.md says (a new version, the old pepper listed): it starts, and still counts once.
    const v2 = b64(crypto.getRandomValues(new Uint8Array(32)));
    engine.deps.keys = await start({ IDENTITY_PEPPER: v2, IDENTITY_PEPPER_VERSION: 'v2', IDENTITY_PEPPERS_PREVIOUS: JSON.stringify({ v1: b64(before.pepper.secret) }) });
    expect((await signAs(people[0]!)).status).toBe(200);
    // A wrong earlier pepper is refused too, naming the setting it came from.
    await expect(start({ IDENTITY_PEPPER: v2, IDENTITY_PEPPER_VERSION: 'v2', IDENTITY_PEPPERS_PREVIOUS: JSON.stringify({ v1: v2 }) })).rejects.toThrow(
      /^IDENTITY_PEPPERS_PREVIOUS: pepper "v1" is not/,
    );
    await expect(start({ IDENTITY_PEPPER: b64(before.pepper.secret), IDENTITY_PEPPER_VERSION: 'v2', IDENTITY_PEPPERS_PREVIOUS: JSON.stringify({ v1: v2 }) })).rejects.toThrow(
      /^IDENTITY_PEPPER: .*IDENTITY_PEPPER_VERSION "v2"/,
    );

    // What the database keeps is a keyed check value per version, never a pepper.
    const stored = await engine.db.db.select().from(pepperChecks);
    expect(stored.map((r) => r.keyVersion).sort()).toEqual(['v1', 'v2']);
    for (const row of stored) {
      expect(row.checkValue).toHaveLength(32);
      expect(Buffer.from(row.checkValue).toString('base64')).not.toBe(row.keyVersion === 'v1' ? b64(before.pepper.secret) : v2);
    }
  });

  it('engines starting at once with a new version record one check value; one with another pepper under that version is refused', async () => {
    const pepper = b64(crypto.getRandomValues(new Uint8Array(32)));
    const v1 = JSON.stringify({ v1: b64(before.pepper.secret) });
    const env = { IDENTITY_PEPPER: pepper, IDENTITY_PEPPER_VERSION: 'v7', IDENTITY_PEPPERS_PREVIOUS: v1 };
    const results = await Promise.allSettled([start(env), start(env), start(env), start(env)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(await engine.db.db.select().from(pepperChecks).where(eq(pepperChecks.keyVersion, 'v7'))).toHaveLength(1);

    const racing = await Promise.allSettled([
      start({ IDENTITY_PEPPER: b64(crypto.getRandomValues(new Uint8Array(32))), IDENTITY_PEPPER_VERSION: 'v8', IDENTITY_PEPPERS_PREVIOUS: v1 }),
      start({ IDENTITY_PEPPER: b64(crypto.getRandomValues(new Uint8Array(32))), IDENTITY_PEPPER_VERSION: 'v8', IDENTITY_PEPPERS_PREVIOUS: v1 }),
    ]);
    expect(racing.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});

describe('an engine restarted with another pepper under the same version', () => {
  it('does not start, and says which settings to change', async () => {
    const data = await tempDir('civic-pepper-');
    const pepper = () => b64(crypto.getRandomValues(new Uint8Array(32)));
    let engine: EngineProcess | undefined;
    try {
      engine = await startEngineProcess({ dataDir: data.path, env: { IDENTITY_PEPPER: pepper() } });
      engine.kill('SIGINT');
      expect((await engine.exited).code).toBe(0);
      const refused = await startEngineExpectingExit({ DATA_DIR: data.path, PORT: String(await freePort()), IDENTITY_PEPPER: pepper() });
      expect(refused.code).toBe(1);
      expect(refused.output).toContain('Configuration error: IDENTITY_PEPPER: ');
      expect(refused.output).toContain('IDENTITY_PEPPER_VERSION "v1"');
      expect(refused.output).not.toMatch(/\n\s+at /);
    } finally {
      await stopEngine(engine);
      await data.remove();
    }
  }, 120_000);
});

describe('an earlier pepper removed while something still uses it', () => {
  let engine: TestEngine;
  let before: KeyMaterial;
  let initiativeId: string;
  let clerk: string;
  let sponsor: string;
  const v2 = b64(crypto.getRandomValues(new Uint8Array(32)));

  beforeAll(async () => {
    engine = await createTestEngine({ pepperVersion: 'v1' });
    before = engine.keyMaterial;
    ({ initiativeId, clerk, sponsor } = await openParisInitiative(engine));
    // A draft written under v1 and left aside: it keeps v1 when it is opened, months later.
    expect((await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT })).status).toBe(201);
    expect((await putRoll(engine, clerk, rollCsv([['Dupont', 'Élodie', '1990-04-12', '75111']]))).status).toBe(200);
    const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(people[0]!), body: { district: '75111', consent: true } });
    expect(signed.status).toBe(201);
  });
  afterAll(() => engine.close());

  const keysFor = async (env: Record<string, string>) => (await rotatedKeys(before, env)).keys;

  it('the engine does not start, naming the versions, how many unfinished initiatives and which rolls use them', async () => {
    const withoutV1 = await keysFor({ IDENTITY_PEPPER: v2, IDENTITY_PEPPER_VERSION: 'v2' });
    const refusal = checkIdentityPeppers(engine.db.db, withoutV1.keyring, engine.clock.now());
    await expect(refusal).rejects.toThrow(ConfigError);
    await expect(refusal).rejects.toThrow(/^IDENTITY_PEPPERS_PREVIOUS: .*"v1".*2 initiatives.*roll of paris/);
    // Listed as docs/identity.md says, it starts.
    const withV1 = await keysFor({ IDENTITY_PEPPER: v2, IDENTITY_PEPPER_VERSION: 'v2', IDENTITY_PEPPERS_PREVIOUS: JSON.stringify({ v1: b64(before.pepper.secret) }) });
    await expect(checkIdentityPeppers(engine.db.db, withV1.keyring, engine.clock.now())).resolves.toBeUndefined();
  });

  it('a process that runs without it answers a clear 503 of its own type, not an internal error, and the log names the version', async () => {
    // As a process of a cluster started with other settings would, or a Worker before its check.
    engine.deps.keys = await keysFor({ IDENTITY_PEPPER: v2, IDENTITY_PEPPER_VERSION: 'v2' });
    const lines = engine.logLines.length;
    const sign = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(people[1]!), body: { district: '75111', consent: true } });
    const mine = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: await engine.tokenFor(people[0]!) });
    const paper = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
      token: clerk,
      body: { entries: [{ familyName: 'Benali', givenNames: 'Karim', birthdate: '1985-11-03', district: '75118', sheet: 'S', collector: 'C' }] },
    });
    for (const res of [sign, mine, paper]) {
      expect(res.status).toBe(503);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body).toMatchObject({ type: '/problems/identity-key-missing', status: 503 });
      expect(`${res.body.title} ${res.body.detail}`).not.toMatch(/v1|pepper|Error/);
    }
    const logged = engine.logLines.slice(lines).filter((l) => l.includes('"level":"error"'));
    expect(logged).toHaveLength(3);
    for (const line of logged) expect(JSON.parse(line).error).toContain('no pepper is configured for key version "v1"');
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`)).body.signatures).toBe(1);
  });
});

describe('an earlier pepper whose last initiative closed below its goal', () => {
  let engine: TestEngine;
  afterAll(() => engine.close());

  it('may be removed once that initiative’s personal data is destroyed: nothing can be signed, keyed in or verified under it any more', async () => {
    engine = await createTestEngine({ pepperVersion: 'v1' });
    const before = engine.keyMaterial;
    const { initiativeId, sponsor } = await openParisInitiative(engine);
    const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(people[0]!), body: { district: '75111', consent: true } });
    expect(signed.status).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor })).status).toBe(200);
    const withoutV1 = (await rotatedKeys(before, { IDENTITY_PEPPER: b64(crypto.getRandomValues(new Uint8Array(32))), IDENTITY_PEPPER_VERSION: 'v2' })).keys;
    // Closed below its goal, its verification may still start: v1 is needed.
    await expect(checkIdentityPeppers(engine.db.db, withoutV1.keyring, engine.clock.now())).rejects.toThrow(/"v1".*1 initiative not yet finished/);

    engine.clock.advance(95 * 86_400_000);
    await engine.scheduler.tick();
    expect((await engine.db.db.select({ p: signatures.personalData }).from(signatures).where(eq(signatures.initiativeId, initiativeId)))[0]!.p).toBeNull();
    await expect(checkIdentityPeppers(engine.db.db, withoutV1.keyring, engine.clock.now())).resolves.toBeUndefined();

    // Removed: the signer asking for their signature is told it can no longer be looked up (410), not that the service fails.
    engine.deps.keys = withoutV1;
    const lines = engine.logLines.length;
    const mine = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: await engine.tokenFor(people[0]!) });
    expect(mine.status).toBe(410);
    expect(mine.body).toMatchObject({ type: '/problems/signer-key-retired', status: 410 });
    expect(mine.body.detail).toMatch(/receipt still proves it/);
    const web = browserRequests(engine);
    const page = await web.page(`/initiatives/${initiativeId}/signature`, { cookie: await web.sessionFor('signer-0', { givenNames: people[0]!.givenNames, familyName: people[0]!.familyName, birthdate: people[0]!.birthdate }) });
    expect(page.status).toBe(200);
    expect(page.text).toContain('nous ne pouvons plus retrouver votre signature');
    expect(page.text).not.toContain('Vous n’avez pas signé cette initiative.');
    expect(engine.logLines.slice(lines).filter((l) => l.includes('"level":"error"'))).toEqual([]);
  });
});
