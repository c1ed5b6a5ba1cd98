import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, committeeMembers, initiatives } from '../../src/db/schema';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisWithClerk } from '../support/identity';
import { REFERENDUM_DRAFT } from '../support/paris';

/** The sponsor of parisWithClerk. */
const SPONSOR = { givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' };
const CAMILLE = { givenNames: 'Camille Marie', familyName: 'Dupont', birthdate: '1985-05-05' };

/**
 * SPEC §2 and §4: `submit` needs `committeeMinimum` members besides the sponsor, and `sub` is no
 * person identifier. A committee counts persons (canonical identity), whatever `sub` they come with.
 */
describe('committee members are distinct persons, not distinct subs', () => {
  let engine: TestEngine;
  let sponsor: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    ({ sponsor } = await parisWithClerk(engine, { committeeMinimum: 2 }));
  });
  afterAll(() => engine?.close());

  async function draft() {
    const created = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    expect(created.status).toBe(201);
    return { id: created.body.id as string, code: created.body.committeeCode as string };
  }
  const join = async (id: string, code: string, token: string) => engine.request('POST', `/v1/initiatives/${id}/committee`, { token, body: { code } });
  const joins = async (id: string) => engine.db.db.select().from(auditLog).where(and(eq(auditLog.initiativeId, id), eq(auditLog.action, 'committee.joined')));

  it('counts one person once, though they come back with another sub', async () => {
    const { id, code } = await draft();
    const first = await join(id, code, await engine.tokenFor({ ...CAMILLE, subject: 'camille-at-service-a' }));
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ joined: true, committeeSize: 1 });
    // Another client registration of the provider, and her name written another way: the same person.
    const again = await join(id, code, await engine.tokenFor({ givenNames: 'camille', familyName: 'DUPONT', birthdate: '1985-05-05', subject: 'camille-at-service-b' }));
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ joined: false, committeeSize: 1 });
    expect(await joins(id)).toHaveLength(1);
    expect(await engine.db.db.select().from(committeeMembers).where(eq(committeeMembers.initiativeId, id))).toHaveLength(1);

    const tooSmall = await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    expect(tooSmall.status).toBe(409);
    expect(tooSmall.body).toMatchObject({ type: '/problems/committee-too-small', committeeSize: 1, committeeMinimum: 2 });
  });

  it('counts two different people twice, and then the initiative can be submitted', async () => {
    const { id, code } = await draft();
    expect((await join(id, code, await engine.tokenFor(CAMILLE))).body).toEqual({ joined: true, committeeSize: 1 });
    // Same first given name and birth date, another family: another person.
    const other = await join(id, code, await engine.tokenFor({ ...CAMILLE, familyName: 'Durand' }));
    expect(other.status).toBe(201);
    expect(other.body).toEqual({ joined: true, committeeSize: 2 });
    const submitted = await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    expect(submitted.status).toBe(200);
    expect(submitted.body.committeeSize).toBe(2);
  });

  it('refuses the sponsor, also under another sub', async () => {
    const { id, code } = await draft();
    const same = await join(id, code, sponsor);
    const other = await join(id, code, await engine.tokenFor({ ...SPONSOR, givenNames: 'ANNE Louise', familyName: 'sponsor', subject: 'anne-elsewhere' }));
    for (const refused of [same, other]) {
      expect(refused.status).toBe(409);
      expect(refused.body.type).toBe('/problems/already-sponsor');
    }
    expect(await engine.db.db.select().from(committeeMembers).where(eq(committeeMembers.initiativeId, id))).toHaveLength(0);
    expect(await joins(id)).toHaveLength(0);
  });

  it('refuses a caller whose token lacks the identity claims, and writes nothing', async () => {
    const { id, code } = await draft();
    const bare = await join(id, code, await engine.devProvider.mintRaw({ sub: 'no-names', acr: 'eidas2' }, engine.clock.now()));
    expect(bare.status).toBe(403);
    expect(bare.body).toMatchObject({ type: '/problems/missing-identity-claims', claims: ['given_name', 'family_name', 'birthdate'] });
    expect(await engine.db.db.select().from(committeeMembers).where(eq(committeeMembers.initiativeId, id))).toHaveLength(0);
    expect(await joins(id)).toHaveLength(0);
  });

  it('keeps a hash of the committee key and its key version on the row, never the signer hash', async () => {
    const { id, code } = await draft();
    await join(id, code, await engine.tokenFor(CAMILLE));
    const [row] = await engine.db.db.select().from(committeeMembers).where(eq(committeeMembers.initiativeId, id));
    expect(row!.memberHash).toBeInstanceOf(Uint8Array);
    expect(row!.memberHash!.length).toBe(32);
    expect(row!.keyVersion).toBe(engine.deps.keys.keyring.currentVersion);
    // Her signature's hash on the same initiative is another value: an exported committee list finds no signature.
    const { signerHashFor } = await import('../../src/features/signatures/service');
    const signer = signerHashFor(engine.deps, { id, pepperVersion: engine.deps.keys.keyring.currentVersion }, CAMILLE);
    expect(Buffer.from(row!.memberHash!).equals(Buffer.from(signer))).toBe(false);
  });

  it('keeps members and sponsors from before hashes were kept: each counted as before, known by their sub', async () => {
    const { id, code } = await draft();
    // As migration 0012 leaves them: no sponsor hash, a member row without hash nor key version.
    await engine.db.db.update(initiatives).set({ sponsorHash: null }).where(eq(initiatives.id, id));
    const earlier = { givenNames: 'Ancien', familyName: 'Membre', birthdate: '1960-06-06', subject: 'joined-before' };
    await engine.db.db.insert(committeeMembers).values({ initiativeId: id, subject: earlier.subject, joinedAt: engine.clock.now() });
    const again = await join(id, code, await engine.tokenFor(earlier));
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ joined: false, committeeSize: 1 });
    expect((await join(id, code, sponsor)).body.type).toBe('/problems/already-sponsor');
    expect((await join(id, code, await engine.tokenFor(CAMILLE))).body).toEqual({ joined: true, committeeSize: 2 });
    const submitted = await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    expect(submitted.status).toBe(200);
  });
});
