import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config';
import { rollHashFor } from '../../src/features/roll/service';
import { configuredKeyMaterial, loadEngineKeys } from '../../src/platform/keys';
import { lockWaiters } from '../support/barrier';
import { createTestEngine, type TestEngine } from '../support/engine';
import { openParisInitiative, putRoll, rollCsv } from '../support/identity';
import { PARISIANS } from '../support/paris';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/**
 * A jurisdiction that requires its roll, right after a pepper rotation: the clerk imports the roll again
 * under the new pepper while people sign. The signing path reads the roll in force, hashes the person
 * under that roll's pepper, then looks the hash up.
 */
describe('signing while the roll is replaced by one under a new pepper', () => {
  let engine: TestEngine;
  let initiativeId: string;

  beforeAll(async () => {
    engine = await createTestEngine({ pepperVersion: 'v1' });
    let clerk: string;
    ({ initiativeId, clerk } = await openParisInitiative(engine, { requireRoll: true }));
    const { elodie, karim } = PARISIANS;
    expect((await putRoll(engine, clerk, rollCsv([elodie, karim].map((p) => [p.familyName, p.givenNames, p.birthdate, '75111'])))).status).toBe(200);
    // The operator rotates the pepper (a new version, the old one listed): the roll in force stays under v1.
    const env = { IDENTITY_PEPPER: b64(crypto.getRandomValues(new Uint8Array(32))), IDENTITY_PEPPER_VERSION: 'v2', IDENTITY_PEPPERS_PREVIOUS: JSON.stringify({ v1: b64(engine.keyMaterial.pepper.secret) }) };
    engine.deps.keys = await loadEngineKeys(configuredKeyMaterial(loadConfig(env), engine.keyMaterial));
  });
  afterAll(() => engine?.close());

  it('a person on both rolls is counted, even when the new roll comes into force between reading the roll and looking them up', async () => {
    const person = PARISIANS.elodie;
    const sql = engine.db.postgres!;
    const { signing } = await sql.begin(async (hold) => {
      // The lookup in the roll's entries waits here, after the engine has read which roll is in force.
      await hold`lock table roll_entries in access exclusive mode`;
      const signing = engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(person), body: { district: '75111', consent: true } });
      await lockWaiters(sql, 1, 'the signature did not reach the roll lookup');
      // The new import comes into force (as the import's last step does), its entries hashed under v2.
      const [old] = await hold<{ id: string }[]>`update roll_imports set status = 'replaced' where jurisdiction_id = 'paris' and status = 'current' returning id`;
      const id = crypto.randomUUID();
      const now = engine.clock.now().toISOString();
      await hold`insert into roll_imports (id, jurisdiction_id, key_version, status, imported_by, started_at, completed_at, imported, rejected, duplicates)
        values (${id}, 'paris', 'v2', 'current', 'clerk', ${now}, ${now}, 1, 0, 0)`;
      await hold`insert into roll_entries (import_id, roll_hash, district) values (${id}, ${rollHashFor(engine.deps.keys, 'paris', person, 'v2')}, '75111')`;
      expect(old).toBeDefined();
      // Not awaited here: it goes on once this transaction ends.
      return { signing };
    });
    const res = await signing;
    expect(res.body).toMatchObject({ signature: { status: 'counted', district: '75111' } });
    expect(res.status).toBe(201);
    // Someone on neither roll is still refused.
    const stranger = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
      token: await engine.tokenFor({ givenNames: 'Inconnu', familyName: 'Absent', birthdate: '1970-01-01' }),
      body: { district: '75111', consent: true },
    });
    expect(stranger.status).toBe(403);
    expect(stranger.body.type).toMatch(/roll/);
  });
});
