import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committeeMembers } from '../../src/db/schema';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisWithClerk } from '../support/identity';
import { REFERENDUM_DRAFT } from '../support/paris';
import { browserRequests } from './browser-requests';

const CAMILLE = { givenNames: 'Camille', familyName: 'Dupont', birthdate: '1985-05-05' };

/** The committee join form: a committee counts persons, so joining needs the names and birth date, and a person is one member under any sub. */
describe('web: joining a sponsoring committee as a person', () => {
  let engine: TestEngine;
  let web: ReturnType<typeof browserRequests>;
  let id: string;
  let code: string;
  let sponsor: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    web = browserRequests(engine);
    ({ sponsor } = await parisWithClerk(engine, { committeeMinimum: 2 }));
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    ({ id, committeeCode: code } = draft.body);
  });
  afterAll(() => engine?.close());

  const members = () => engine.db.db.select().from(committeeMembers).where(eq(committeeMembers.initiativeId, id));

  it('refuses, in the reader’s words, someone whose identity lacks names and birth date; nothing is written', async () => {
    const cookie = await web.sessionFor('no-names');
    const fr = await web.page(`/initiatives/${id}/join`, { cookie, form: { code } });
    expect(fr.status).toBe(403);
    expect(fr.text).toContain('Pour rejoindre le comité de soutien, votre identité vérifiée doit transmettre vos nom, prénoms et date de naissance\u00a0:');
    const en = await web.page(`/initiatives/${id}/join`, { cookie, lang: 'en', form: { code } });
    expect(en.status).toBe(403);
    expect(en.text).toContain('To join the sponsoring committee, your verified identity must pass on your names and birth date');
    expect(await members()).toHaveLength(0);
  });

  it('tells a member who comes back under another sub that they are on the committee, counted once', async () => {
    const first = await web.page(`/initiatives/${id}/join`, { cookie: await web.sessionFor('camille-a', CAMILLE), form: { code } });
    expect(first.status).toBe(303);
    const otherSub = await web.sessionFor('camille-b', CAMILLE);
    const again = await web.page(`/initiatives/${id}/join`, { cookie: otherSub, form: { code } });
    expect(again.status).toBe(303);
    const confirmed = await web.page(again.headers.get('location')!, { cookie: otherSub });
    expect(confirmed.text).toContain('Vous faites partie du comité de soutien.');
    expect(await members()).toHaveLength(1);
    // Once submitted (a second person joins), the initiative's page offers them the dashboard, as it does to the sub they joined with.
    const second = await web.page(`/initiatives/${id}/join`, { cookie: await web.sessionFor('dominique', { givenNames: 'Dominique', familyName: 'Martin', birthdate: '1979-09-09' }), form: { code } });
    expect(second.status).toBe(303);
    expect((await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor })).status).toBe(200);
    const page = await web.page(`/initiatives/${id}`, { cookie: otherSub });
    expect(page.status).toBe(200);
    expect(page.html).toContain(`href="/initiatives/${id}/manage"`);
  });
});
