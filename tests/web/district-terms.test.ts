import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frenchFor } from '../../src/web/i18n/districts';
import { fr } from '../../src/web/i18n/fr';
import { createTestEngine, type TestEngine } from '../support/engine';
import { browserRequests } from './browser-requests';

/**
 * A jurisdiction says what its districts are called (GLOSSARY: arrondissement, circonscription,
 * canton, État membre), and its French pages use that word; English pages say "district".
 */
describe('the word for districts on the pages of a jurisdiction', () => {
  let engine: TestEngine;
  let web: ReturnType<typeof browserRequests>;
  let admin: string;
  let initiativeId: string;
  let sponsorCookie: string;
  let citizenCookie: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    web = browserRequests(engine);
    admin = await engine.adminToken();
    const created = await engine.request('POST', '/v1/jurisdictions', {
      token: admin,
      body: {
        id: 'vaud',
        name: 'Canton de Vaud',
        electorate: 1000,
        minimumAge: 18,
        minimumAssurance: 'eidas2',
        timeZone: 'Europe/Zurich',
        districtTerm: 'canton',
        districts: [
          { code: 'lausanne', name: 'Lausanne', electorate: 600 },
          { code: 'nyon', name: 'Nyon', electorate: 400 },
        ],
        rules: { referendum: { goal: { signatures: 10 }, collectionDays: 60, districts: { minCount: 2, each: { signatures: 3 } } } },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.districtTerm).toBe('canton');
    await engine.request('POST', '/v1/jurisdictions/vaud/clerks', { token: admin, body: { subject: 'clerk-of-vaud' } });
    const sponsor = { givenNames: 'Anne', familyName: 'Porteuse', birthdate: '1980-01-01', subject: 'sponsor-of-vaud' };
    const draft = await engine.request('POST', '/v1/initiatives', {
      token: await engine.tokenFor(sponsor),
      body: { jurisdictionId: 'vaud', kind: 'referendum', title: 'Des pistes cyclables', summary: 'Des pistes.', text: 'Le canton construit des pistes cyclables.', question: 'Acceptez-vous les pistes cyclables ?' },
    });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    initiativeId = draft.body.id;
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/submit`, { token: await engine.tokenFor(sponsor) })).status).toBe(200);
    const opened = await engine.request('POST', `/v1/initiatives/${initiativeId}/review`, { token: await engine.subjectToken('clerk-of-vaud'), body: { decision: 'open' } });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    sponsorCookie = await web.sessionFor('sponsor-of-vaud', sponsor);
    citizenCookie = await web.sessionFor('citizen-of-vaud', { givenNames: 'Louis', familyName: 'Citoyen', birthdate: '1990-01-01' });
  });
  afterAll(() => engine.close());

  it('names the cantons of a Swiss canton on every French page, and districts on English ones', async () => {
    const page = await web.page(`/initiatives/${initiativeId}`);
    expect(page.text).toContain('Signatures par canton');
    expect(page.text).toContain('Cantons ayant atteint leur minimum');
    expect(page.text).not.toMatch(/arrondissement/i);
    const english = await web.page(`/initiatives/${initiativeId}`, { lang: 'en' });
    expect(english.text).toContain('Signatures per district');

    const form = await web.page(`/initiatives/${initiativeId}/sign`, { cookie: citizenCookie });
    expect(form.text).toContain('Votre canton');
    const refused = await web.page(`/initiatives/${initiativeId}/sign`, { cookie: citizenCookie, form: { district: '', consent: 'yes' } });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('Choisissez votre canton.');

    const dashboard = await web.page(`/initiatives/${initiativeId}/manage`, { cookie: sponsorCookie });
    expect(dashboard.text).toContain('Cantons les plus éloignés de leur minimum');
    expect(dashboard.text).not.toMatch(/arrondissement/i);
  });

  it('follows a change of the word by the jurisdiction’s clerk, in agreement with its gender; an unknown word is refused', async () => {
    const clerk = await engine.subjectToken('clerk-of-vaud');
    const changed = await engine.request('PATCH', '/v1/jurisdictions/vaud', { token: clerk, body: { districtTerm: 'circonscription' } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.districtTerm).toBe('circonscription');
    const dashboard = await web.page(`/initiatives/${initiativeId}/manage`, { cookie: sponsorCookie });
    expect(dashboard.text).toContain('Circonscriptions les plus éloignées de leur minimum');
    expect((await web.page(`/initiatives/${initiativeId}/sign`, { cookie: citizenCookie })).text).toContain('Votre circonscription');
    const audit = await engine.request('GET', '/v1/audit?action=jurisdiction.updated&limit=1', { token: clerk });
    expect(JSON.stringify(audit.body.items[0].details)).toContain('circonscription');

    const unknown = await engine.request('PATCH', '/v1/jurisdictions/vaud', { token: clerk, body: { districtTerm: 'province' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.districtTerm']);
  });

  it('says "État membre" for the member states of a European initiative, and keeps the default words for arrondissements', () => {
    const eu = frenchFor('member-state');
    expect(eu.initiative.criterionDistricts).toBe('États membres ayant atteint leur minimum');
    expect(eu.ineligible.district).toBe('Cet État membre n’appartient pas à la collectivité.');
    expect(eu.clerk.paperHelp).toContain('code de l’État membre');
    expect(frenchFor('canton').clerk.paperHelp).toContain('code du canton');
    // The default words are the generated ones: nothing said of arrondissements changes.
    expect(frenchFor('arrondissement')).toEqual(fr);
  });
});
