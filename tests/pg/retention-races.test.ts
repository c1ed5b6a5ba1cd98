import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, signatures } from '../../src/db/schema';
import { purgePersonalData } from '../../src/features/personal-data/service';
import { releasedTogether } from '../support/barrier';
import { createTestEngine, type TestEngine } from '../support/engine';
import { closedWithSignatures, parisWithClerk } from '../support/identity';

const DAY = 86_400_000;

/** The retention purge run by two engines (two machines, or a cron run that overlaps the last) on one PostgreSQL database. */
describe('two engines purging personal data at the same moment', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine({ poolSize: 10 });
    ({ clerk, sponsor } = await parisWithClerk(engine, { rules: { referendum: { goal: { signatures: 5 }, collectionDays: 30 } } }));
  });
  afterAll(() => engine.close());

  it('destroy the data once: the audit trail has one destruction, counting every signature', async () => {
    // Closed below its goal: its data goes 3 months after the close.
    const id = await closedWithSignatures(engine, { sponsor, clerk }, 3, 'Purgee');
    engine.clock.advance(95 * DAY);
    const now = engine.clock.now();
    const [first, second] = await Promise.all(
      await releasedTogether(engine.db.postgres!, id, [() => purgePersonalData(engine.db.db, now), () => purgePersonalData(engine.db.db, now)]),
    );
    expect(first + second).toBe(3);
    const held = await engine.db.db.select({ p: signatures.personalData }).from(signatures).where(eq(signatures.initiativeId, id));
    expect(held.map((s) => s.p)).toEqual([null, null, null]);
    const destructions = await engine.db.db
      .select({ details: auditLog.details })
      .from(auditLog)
      .where(and(eq(auditLog.initiativeId, id), eq(auditLog.action, 'personal-data.destroyed')));
    expect(destructions).toEqual([{ details: { signatures: 3, status: 'closed' } }]);
  });
});
