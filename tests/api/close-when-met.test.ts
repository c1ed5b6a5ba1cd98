import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineTasks } from '../../src/app';
import { outbox, signatures } from '../../src/db/schema';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisWithClerk } from '../support/identity';
import { REFERENDUM_DRAFT } from '../support/paris';

/** Rules that close the collection as soon as the goal is met (5 signatures, no district rule). */
const closingRules = { referendum: { goal: { signatures: 5 }, collectionDays: 270, closeWhenMet: true } };

describe('an initiative whose rules close it when the goal is met', () => {
  let engine: TestEngine;
  let clerk: string;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine();
    ({ clerk, sponsor } = await parisWithClerk(engine, { rules: closingRules }));
  });
  afterAll(() => engine.close());

  async function opened(closesAt: string) {
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor })).status).toBe(200);
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: clerk, body: { decision: 'open', closesAt } })).status).toBe(200);
    return draft.body.id as string;
  }
  let people = 0;
  const sign = async (id: string) =>
    engine.request('POST', `/v1/initiatives/${id}/signatures`, {
      token: await engine.tokenFor({ givenNames: 'Signataire', familyName: `Numero${'x'.repeat(++people)}`, birthdate: '1980-01-01' }),
      body: { district: '75111', consent: true },
    });
  const closedEvents = async (id: string) => (await engine.db.db.select().from(outbox).where(and(eq(outbox.initiativeId, id), eq(outbox.type, 'initiative.closed')))).length;

  it('closes once, after every counted signature: none is dated at or after the close', async () => {
    const id = await opened('2027-06-30T22:00:00Z');
    const signed = await Promise.all(Array.from({ length: 6 }, () => sign(id)));
    expect(signed.map((r) => r.status)).toEqual(Array(6).fill(201));
    await Promise.all([engine.scheduler.tick(), engine.scheduler.tick()]);
    await engine.scheduler.tick();

    const detail = await engine.request('GET', `/v1/initiatives/${id}`);
    expect(detail.body.status).toBe('closed');
    expect(await closedEvents(id)).toBe(1);
    const closesAt = Date.parse(detail.body.closesAt);
    const counted = await engine.db.db.select({ createdAt: signatures.createdAt }).from(signatures).where(eq(signatures.initiativeId, id));
    expect(counted).toHaveLength(6);
    for (const { createdAt } of counted) expect(createdAt.getTime()).toBeLessThan(closesAt);
    // Nothing more is taken.
    const late = await sign(id);
    expect(late.status).toBe(409);
    expect(late.body.type).toBe('/problems/invalid-state/closed');
  });

  it('never moves the close after the deadline set at admissibility', async () => {
    const deadline = new Date(engine.clock.now().getTime() + 60_000).toISOString();
    const id = await opened(deadline);
    for (let i = 0; i < 5; i++) expect((await sign(id)).status).toBe(201);
    // The goal's crossing is seen after the deadline passed, before the deadline's own close.
    const crossings = engineTasks(engine.deps).find((task) => task.name === 'record-crossings')!;
    await crossings.run(new Date(Date.parse(deadline) + 30_000));
    const detail = await engine.request('GET', `/v1/initiatives/${id}`);
    expect(detail.body.status).toBe('closed');
    expect(detail.body.closesAt).toBe(new Date(deadline).toISOString());
  });
});
