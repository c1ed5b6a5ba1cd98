import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, committeeMembers } from '../../src/db/schema';
import { releasedTogether } from '../support/barrier';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisWithClerk } from '../support/identity';
import { REFERENDUM_DRAFT } from '../support/paris';

/** One person joining a committee under two subs at the same instant, on one PostgreSQL database. */
describe('committee joins of one person racing under two subs', () => {
  let engine: TestEngine;
  let sponsor: string;
  beforeAll(async () => {
    engine = await createTestEngine({ poolSize: 10 });
    ({ sponsor } = await parisWithClerk(engine, { committeeMinimum: 2 }));
  });
  afterAll(() => engine.close());

  it('seats one member: one join answers joined, the other finds them there', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
      const id: string = draft.body.id;
      const person = { givenNames: 'Camille', familyName: `Course${String.fromCharCode(65 + attempt)}`, birthdate: '1985-05-05' };
      const tokens = [await engine.tokenFor({ ...person, subject: 'sub-a' }), await engine.tokenFor({ ...person, subject: 'sub-b' })];
      const join = (token: string) => () => engine.request('POST', `/v1/initiatives/${id}/committee`, { token, body: { code: draft.body.committeeCode } });
      const answers = await Promise.all(await releasedTogether(engine.db.postgres!, id, tokens.map(join)));
      expect(answers.map((a) => a.status).sort(), JSON.stringify(answers.map((a) => a.body))).toEqual([200, 201]);
      for (const answer of answers) expect(answer.body.committeeSize).toBe(1);
      expect(await engine.db.db.select().from(committeeMembers).where(eq(committeeMembers.initiativeId, id))).toHaveLength(1);
      expect(await engine.db.db.select().from(auditLog).where(and(eq(auditLog.initiativeId, id), eq(auditLog.action, 'committee.joined')))).toHaveLength(1);
    }
  });
});
