import { beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/db/client';
import { engineProcessSuite } from '../support/engine-processes';
import { everyStoredText, findNeedles, needlesFor } from '../support/privacy';
import { parisDay } from '../support/paris';
import { openInitiativeOver, type EngineProcess } from '../support/process';
import { decideRemainingValid } from '../support/verification';

/** People with names and birth dates that appear nowhere else, so any occurrence is a leak. */
const PEOPLE = {
  online: { givenNames: 'Gwendoline Ysaline', familyName: 'Zabrowska', birthdate: '1983-11-27' },
  accented: { givenNames: 'Ermengarde', familyName: 'Quéménéur', birthdate: '1961-02-19' },
  withdrawn: { givenNames: 'Théodoric', familyName: 'Vasquelinne', birthdate: '1995-07-23' },
  young: { givenNames: 'Philibertine', familyName: 'Oxandaburu', birthdate: '2013-03-14' },
  paper: { givenNames: 'Radegonde', familyName: 'Kerbrividic', birthdate: '1948-10-05' },
};

/**
 * A full story through a real engine process with debug logging on a real database, then everything
 * it stored and everything it wrote to its output is searched for the people's names, birth dates
 * and tokens in clear.
 */
describe('no personal data in clear, at rest or in the logs', () => {
  const suite = engineProcessSuite('civic-privacy-');
  let engine: EngineProcess;

  beforeAll(async () => {
    engine = await suite.start({ DATABASE_URL: suite.databaseUrl, LOG_LEVEL: 'debug' });
  });

  it('after signing, refusals, withdrawal, sessions, paper, personal-data reads and verification', async () => {
    const { initiativeId, clerk, sponsor } = await openInitiativeOver(engine);
    const tokens: string[] = [clerk, sponsor];
    const sign = async (person: (typeof PEOPLE)[keyof typeof PEOPLE], district = '75111') => {
      const token = await engine.token(person);
      tokens.push(token);
      return engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district, consent: true } });
    };
    expect((await sign(PEOPLE.online)).status).toBe(201);
    expect((await sign(PEOPLE.accented, '75118')).status).toBe(201);
    expect((await sign(PEOPLE.withdrawn)).status).toBe(201);
    expect((await sign(PEOPLE.young)).status).toBe(403);
    expect((await sign(PEOPLE.online, 'not-a-district')).status).toBe(403);

    const withdrawn = tokens[tokens.length - 3]!;
    expect((await engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token: withdrawn })).status).toBe(200);
    const session = await engine.request('POST', '/v1/session', { body: { idToken: tokens[2] } });
    expect(session.status).toBe(201);
    tokens.push(session.body.token);
    expect((await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: session.body.token })).status).toBe(200);

    const today = parisDay(new Date());
    const paper = await engine.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, {
      token: clerk,
      body: { entries: [{ ...PEOPLE.paper, district: '75120', sheet: 'F-0001', collector: 'C-01', signedOn: today }] },
    });
    expect(paper.status, JSON.stringify(paper.body)).toBeLessThan(300);
    expect(paper.body.results[0].status, JSON.stringify(paper.body)).toBe('accepted');
    const mine = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: tokens[2] });
    const read = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/${mine.body.signature.id}/personal-data`, { token: clerk });
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).toContain('Zabrowska'); // the clerk may read it; nobody else may find it stored

    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor })).status).toBe(200);
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    await decideRemainingValid(engine.request, initiativeId, clerk);
    expect([200, 409]).toContain((await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: clerk })).status);
    // Exports are for the clerk's eyes; they are read here so their logging is covered too.
    await engine.request('GET', `/v1/initiatives/${initiativeId}/verification/export`, { token: clerk });
    await engine.request('GET', `/v1/audit`, { token: clerk });

    const needles = needlesFor(Object.values(PEOPLE));
    const db = await openPostgres(suite.databaseUrl, { max: 2, migrate: false });
    try {
      const stored = await everyStoredText(db.db);
      expect(stored.length).toBeGreaterThan(50);
      expect(findNeedles(stored, needles)).toEqual([]);
      // Tokens are credentials: none is stored either.
      expect(findNeedles(stored, tokens.map((t) => t.split('.')[2]!.slice(0, 40)))).toEqual([]);
    } finally {
      await db.close();
    }

    const logged = engine.output.map((line, i) => ({ where: `output line ${i + 1}`, text: line }));
    expect(logged.filter((l) => l.text.includes('"level":"debug"') || l.text.includes('"level":"info"')).length).toBeGreaterThan(10);
    expect(findNeedles(logged, needles)).toEqual([]);
    expect(findNeedles(logged, tokens.map((t) => t.split('.')[2]!.slice(0, 40)))).toEqual([]);
  });
});
