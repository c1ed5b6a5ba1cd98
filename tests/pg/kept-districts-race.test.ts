import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getInitiativeWithJurisdiction } from '../../src/features/initiatives/service';
import { lockWaiters } from '../support/barrier';
import { createTestEngine, type TestEngine } from '../support/engine';
import { CLERK_SUBJECT, openParisInitiative } from '../support/identity';
import { PARIS_DISTRICTS, parisJurisdiction } from '../support/paris';

/**
 * Each process keeps a large jurisdiction's districts with the row version they were read at, and a
 * read sends the version it holds so that the database leaves the column out when it is unchanged.
 * A read that waited (for a lock) while the jurisdiction changed and another read kept the new
 * version must still get the districts of the version it was given.
 */
describe('a read of a large jurisdiction overtaken by a change and another read', () => {
  let engine: TestEngine;
  let initiativeId: string;
  const districts = [...PARIS_DISTRICTS, ...Array.from({ length: 150 }, (_, i) => ({ code: `99${String(i).padStart(3, '0')}`, name: `Quartier ${i}`, electorate: 1000 }))];

  beforeAll(async () => {
    engine = await createTestEngine();
    const admin = await engine.adminToken();
    const electorate = districts.reduce((sum, d) => sum + d.electorate, 0);
    expect((await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0, electorate, districts }) })).status).toBe(201);
    await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: CLERK_SUBJECT } });
    ({ initiativeId } = await openParisInitiative(engine, { createJurisdiction: false }));
  });
  afterAll(() => engine?.close());

  it('gets the districts as they were when it began, then the next read gets the new ones', async () => {
    const nameOf = (found: Awaited<ReturnType<typeof getInitiativeWithJurisdiction>>) => found.jurisdiction.districts.find((d) => d.code === '75101')?.name;
    expect(nameOf(await getInitiativeWithJurisdiction(engine.db.db, initiativeId))).toBe('Paris 1er Arrondissement');
    const sql = engine.db.postgres!;
    const { waiting } = await sql.begin(async (hold) => {
      await hold`select 1 from initiatives where id = ${initiativeId} for update`;
      // Its statement sees the jurisdiction as it is now, then waits for the initiative's row.
      const waiting = engine.db.db.transaction((tx) => getInitiativeWithJurisdiction(tx, initiativeId, 'update'));
      await lockWaiters(sql, 1, 'the locked read did not wait');
      // Meanwhile the jurisdiction changes (another process), and a read keeps its new version.
      await sql`update jurisdictions set districts = jsonb_set(districts, '{0,name}', '"Louvre"') where id = 'paris'`;
      expect(nameOf(await getInitiativeWithJurisdiction(engine.db.db, initiativeId))).toBe('Louvre');
      return { waiting };
    });
    const overtaken = await waiting;
    expect(overtaken.jurisdiction.districts).toHaveLength(districts.length);
    expect(nameOf(overtaken)).toBe('Paris 1er Arrondissement');
    expect(nameOf(await getInitiativeWithJurisdiction(engine.db.db, initiativeId))).toBe('Louvre');
  });
});
