import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referendumItems } from '../../src/db/schema';
import { createTestEngine, type TestEngine } from '../support/engine';
import { CLERK_SUBJECT, openParisInitiative } from '../support/identity';
import { decideRemainingValid } from '../support/verification';
import { browserRequests } from './browser-requests';

/** The public sees certified results in the web front, each with its certificate checked. */
describe('certified results in the web front', () => {
  let engine: TestEngine;
  let web: ReturnType<typeof browserRequests>;
  let initiativeId: string;
  let itemId: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    web = browserRequests(engine);
    const opened = await openParisInitiative(engine);
    initiativeId = opened.initiativeId;
    for (let i = 0; i < 6; i++) {
      const token = await engine.tokenFor({ givenNames: `Prenom${String.fromCharCode(65 + i)}`, familyName: 'Habitant', birthdate: '1980-01-01' });
      expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: i < 4 ? '75111' : '75112', consent: true } })).status).toBe(201);
    }
    engine.clock.set('2027-07-01T08:00:00Z');
    await engine.scheduler.tick();
    expect((await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: opened.clerk, body: { method: 'full' } })).status).toBe(201);
    await decideRemainingValid(engine.request, initiativeId, opened.clerk);
    const done = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: opened.clerk });
    expect(done.body.outcome).toBe('certified');
    itemId = done.body.referendumItemId;
  });
  afterAll(() => engine.close());

  it('lists it, with its kind in the glossary’s words, and links it from the initiative’s page', async () => {
    const list = await web.page('/results');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Résultats certifiés');
    expect(list.text).toContain('Ville de Paris · question soumise à référendum local');
    expect(list.text).toContain('Certifiée le 1er juillet 2027 avec 6 signatures valides.');
    expect(list.html).toContain(`href="/results/${itemId}"`);
    expect((await web.page('/results', { lang: 'en' })).text).toContain('Ville de Paris · referendum question');
    expect((await web.page(`/initiatives/${initiativeId}`)).html).toContain(`href="/results/${itemId}"`);
    // The clerk's page says what the certification made of this initiative, not both kinds the glossary has.
    const clerk = await web.page(`/clerk/initiatives/${initiativeId}`, { cookie: await web.sessionFor(CLERK_SUBJECT) });
    expect(clerk.html).toContain(`<strong>Question soumise à référendum local\u00a0:</strong> <a href="/results/${itemId}">Certificat de résultat</a>`);
    expect(clerk.text).not.toContain('ordre du jour');
    const clerkEn = await web.page(`/clerk/initiatives/${initiativeId}`, { lang: 'en', cookie: await web.sessionFor(CLERK_SUBJECT) });
    expect(clerkEn.html).toContain(`<strong>Referendum question:</strong> <a href="/results/${itemId}">`);
  });

  it('marks the French title and question as French on English pages', async () => {
    const item = await web.page(`/results/${itemId}`, { lang: 'en' });
    expect(item.html).toContain('<h1 lang="fr">Des rues aux écoles</h1>');
    expect(item.html).toMatch(/<blockquote class="question" lang="fr">Approuvez-vous /);
    expect((await web.page('/results', { lang: 'en' })).html).toContain(`<a href="/results/${itemId}" lang="fr">Des rues aux écoles</a>`);
  });

  it('shows the result and says the certificate is authentic, with the command to check it independently', async () => {
    const item = await web.page(`/results/${itemId}`);
    expect(item.status).toBe(200);
    // Not the initiative's public page's title: the result page says it is the result.
    const title = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1];
    expect(title(item.html)).toMatch(/^Résultat certifié\u00a0: .+ · Initiatives citoyennes$/);
    expect(title(item.html)).not.toBe(title((await web.page(`/initiatives/${initiativeId}`)).html));
    expect(title((await web.page(`/results/${itemId}`, { lang: 'en' })).html)).toMatch(/^Certified result: .+ · Citizen initiatives$/);
    expect(item.text).toContain('Vérification\u00a0: vérification intégrale · 6 signatures recueillies');
    expect(item.text).toContain('Paris 11e Arrondissement 4 2 (atteint) Paris 12e Arrondissement 2 2 (atteint)');
    expect(item.text).toContain('Il fige le registre public vérifiable de l’initiative à 6 entrées.');
    expect(item.text).toContain('Ce certificat est authentique');
    expect(item.text).toContain(`npm run verify-certificate http://engine.test/v1/referendum-items/${itemId}`);
    expect(item.html).toContain('role="status"');
  });

  it('says so when a certificate does not verify with the published keys', async () => {
    const [row] = await engine.db.db.select({ certificate: referendumItems.certificate }).from(referendumItems).where(eq(referendumItems.id, itemId));
    const [header, payload, signature] = row!.certificate.split('.');
    const forged = `${header}.${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
    await engine.db.db.update(referendumItems).set({ certificate: forged }).where(eq(referendumItems.id, itemId));
    const item = await web.page(`/results/${itemId}`);
    expect(item.text).toContain('La signature de ce certificat ne se vérifie pas');
    expect(item.text).not.toContain('Ce certificat est authentique');
    await engine.db.db.update(referendumItems).set({ certificate: row!.certificate }).where(eq(referendumItems.id, itemId));
  });

  it('an unknown result is the “page not found” page', async () => {
    for (const path of ['/results/not-an-id', '/results/00000000-0000-4000-8000-000000000000']) {
      const missing = await web.page(path);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toContain('text/html');
    }
  });
});
