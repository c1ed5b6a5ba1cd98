import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENDUM_DRAFT } from '../support/paris';
import { createWorld, type World } from '../support/world';

/** An initiative's text carries the language its sponsors wrote it in, set at drafting and edited with the text. */
describe('the language of an initiative’s text', () => {
  let world: World;
  let sponsor: string;
  beforeAll(async () => {
    world = await createWorld();
    sponsor = await world.engine.tokenFor({ givenNames: 'Greta', familyName: 'Bern', birthdate: '1982-02-02', subject: 'sponsor-in-german' });
  });
  afterAll(() => world.engine.close());

  const GERMAN_DRAFT = {
    ...REFERENDUM_DRAFT,
    title: 'Schulstrassen für alle',
    summary: 'Die Strassen vor den Schulen werden zu Schulbeginn und -ende gesperrt.',
    text: 'Einziger Artikel. Die Strassen vor den Schulen sind von 8 bis 9 Uhr für den Verkehr gesperrt.',
    question: 'Sind Sie für die Sperrung der Strassen vor den Schulen?',
    language: 'de',
  };

  it('is given when the draft is created, read back, and edited while the text may change (the edit audited)', async () => {
    const { engine, tokens } = world;
    const created = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: GERMAN_DRAFT });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.language).toBe('de');
    const id = created.body.id as string;
    expect((await engine.request('GET', `/v1/initiatives/${id}`, { token: sponsor })).body.language).toBe('de');
    expect((await engine.request('GET', '/v1/initiatives?status=draft', { token: sponsor })).body.items).toContainEqual(expect.objectContaining({ id, language: 'de' }));

    const edited = await engine.request('PATCH', `/v1/initiatives/${id}`, { token: sponsor, body: { language: 'de-CH' } });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body).toMatchObject({ language: 'de-CH', title: GERMAN_DRAFT.title });
    expect((await engine.request('GET', `/v1/initiatives/${id}`, { token: sponsor })).body.language).toBe('de-CH');
    const audit = await engine.request('GET', `/v1/audit?initiative=${id}&action=initiative.edited`, { token: tokens.admin });
    expect(audit.body.items).toEqual([expect.objectContaining({ details: { fields: ['language'] } })]);

    // Once submitted, the language is as fixed as the text.
    expect((await engine.request('POST', `/v1/initiatives/${id}/committee`, { token: tokens.committee, body: { code: created.body.committeeCode } })).status).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor })).status).toBe(200);
    const late = await engine.request('PATCH', `/v1/initiatives/${id}`, { token: sponsor, body: { language: 'fr' } });
    expect(late.status).toBe(409);
    expect((await engine.request('GET', `/v1/initiatives/${id}`)).body.language).toBe('de-CH');
  });

  it('is French when the draft does not say', async () => {
    const created = await world.engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    expect(created.status).toBe(201);
    expect(created.body.language).toBe('fr');
    // What the engine held before the field existed reads the same: the open initiative of the world.
    expect((await world.engine.request('GET', `/v1/initiatives/${world.targetId}`)).body.language).toBe('fr');
  });

  it('refuses anything but an ISO 639-1 language with an optional region, naming the field', async () => {
    const { engine } = world;
    for (const language of ['german', 'DE', 'de-ch', 'xx', 'deu', '', 'de-CH-1901', 42]) {
      const refused = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...GERMAN_DRAFT, language } });
      expect(refused.status, `language ${JSON.stringify(language)}`).toBe(400);
      expect(refused.contentType).toContain('application/problem+json');
      expect(refused.body).toMatchObject({ type: '/problems/validation', errors: [expect.objectContaining({ field: 'body.language' })] });
    }
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: GERMAN_DRAFT });
    const refused = await engine.request('PATCH', `/v1/initiatives/${draft.body.id}`, { token: sponsor, body: { language: 'Deutsch' } });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'body.language' })]);
    expect((await engine.request('GET', `/v1/initiatives/${draft.body.id}`, { token: sponsor })).body.language).toBe('de');
  });
});
