import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, PUBLIC_URL, type TestEngine } from '../support/engine';
import { CLERK_SUBJECT, openParisInitiative } from '../support/identity';
import { parisDay, parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { PAPER_QUESTION_MAX, PAPER_SUMMARY_MAX, printedExcerpt } from '../../src/features/paper/forms';
import { browserRequests } from './browser-requests';

const sheetRefs = (html: string) => [...html.matchAll(/data-sheet-ref="">([^<]+)</g)].map((r) => r[1]!);

/** The printable paper form: sheets that people without an online identity sign by hand, keyed in later by a clerk. */
describe('the paper signature form', () => {
  let engine: TestEngine;
  let web: ReturnType<typeof browserRequests>;
  let id: string;
  let clerk: string;
  let sponsor: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    web = browserRequests(engine);
    ({ initiativeId: id, clerk, sponsor } = await openParisInitiative(engine));
  });
  afterAll(() => engine?.close());

  it('names the initiative, its jurisdiction and kind, the closing day in Paris, the minimum age, and where to read the whole text', async () => {
    const page = await web.page(`/initiatives/${id}/paper-form`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>Formulaire de signature papier\u00a0: Des rues aux écoles · Initiatives citoyennes</title>');
    expect(page.text).toContain(`Feuille n°\u00a01\u00a0: ${REFERENDUM_DRAFT.title}`);
    expect(page.text).toContain(REFERENDUM_DRAFT.summary);
    expect(page.text).toContain(REFERENDUM_DRAFT.question);
    expect(page.text).toContain('Ville de Paris');
    expect(page.text).toContain('initiative référendaire');
    // Closing at midnight in Paris (22:00 UTC): the last day, whole, as the public page says it.
    expect(page.text).toContain('Collecte jusqu’au 30 juin 2027 inclus');
    expect(page.text).toContain('au moins 16\u00a0ans');
    expect(page.text).toContain(`${PUBLIC_URL}/initiatives/${id}`);
    expect(page.text).toContain('une signature sur formulaire papier et une signature en ligne de la même personne ne comptent qu’une fois');
    // The retention schedule's defaults (SPEC §4).
    expect(page.text).toContain('effacés 3\u00a0mois après la certification du résultat');
    expect(page.text).toContain('1\u00a0mois après le retrait de l’initiative');
    expect(page.text).toContain('au porteur ou à la porteuse de l’initiative, ou au service des élections (Ville de Paris)');
    // Paris's 20 arrondissements, each code with its name.
    expect(page.text).toContain('75111 Paris 11e Arrondissement');
    expect(page.text).toContain('75120 Paris 20e Arrondissement');
  });

  it('lists Paris’s 20 arrondissements also when the text is too long to print, which the sheet leaves to the public page', async () => {
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, text: 'Article premier. '.repeat(100).trim() } });
    for (const familyName of ['Un', 'Deux']) {
      const member = await engine.tokenFor({ givenNames: 'Membre', familyName, birthdate: '1970-03-03' });
      expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/committee`, { token: member, body: { code: draft.body.committeeCode } })).status).toBe(201);
    }
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor })).status).toBe(200);
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: clerk, body: { decision: 'open' } })).status).toBe(200);
    const page = await web.page(`/initiatives/${draft.body.id}/paper-form`);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('sheet-text');
    expect(page.text).toContain('75111 Paris 11e Arrondissement');
    expect(page.text).toContain('75120 Paris 20e Arrondissement');
  });

  it('has the columns the clerk keys in, in their order, with headers for the screen reader, ten rows and a line for the collector', async () => {
    const { html } = await web.page(`/initiatives/${id}/paper-form`);
    const headers = [...html.matchAll(/<th scope="col"[^>]*>([^<]+)<\/th>/g)].map((h) => h[1]);
    expect(headers).toEqual(['N°', 'Nom de famille', 'Prénoms (tous)', 'Date de naissance (jj/mm/aaaa)', 'Arrondissement (code)', 'Date de signature (jj/mm/aaaa)', 'Signature']);
    expect(html.match(/<th scope="row"/g)).toHaveLength(10);
    expect(html).toContain('Nom du collecteur ou de la collectrice');
    expect(html.match(/<h1[ >]/g)).toHaveLength(1);
  });

  it('numbers a batch: three sheets from 5 bear three distinct references, for sheets 5, 6 and 7, each on a page of its own', async () => {
    const page = await web.page(`/initiatives/${id}/paper-form?sheets=3&from=5`);
    expect(page.status).toBe(200);
    const refs = sheetRefs(page.html);
    expect(refs).toHaveLength(3);
    expect(new Set(refs).size).toBe(3);
    expect(refs.map((r) => Number(r.split('-').at(-1)))).toEqual([5, 6, 7]);
    expect(page.text).toContain('Feuille n°\u00a05');
    expect(page.text).toContain('Feuille n°\u00a07');
    expect(page.text).not.toContain('Feuille n°\u00a04');
    // Another initiative's sheet 5 bears another reference.
    const other = await openParisInitiative(engine, { createJurisdiction: false });
    expect(sheetRefs((await web.page(`/initiatives/${other.initiativeId}/paper-form?from=5`)).html)).not.toContain(refs[0]);
    const css = await (await engine.app.request('/assets/site.css')).text();
    expect(css).toMatch(/@media print \{[\s\S]*\.paper-sheet \{[^}]*break-after: page/);
  });

  it('prints a reference the clerk’s paper entry takes as the sheet, through the API and on the clerk’s page', async () => {
    const [reference] = sheetRefs((await web.page(`/initiatives/${id}/paper-form?from=12`)).html);
    const keyed = await engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, {
      token: clerk,
      body: { entries: [{ familyName: 'Durand', givenNames: 'Paul Louis', birthdate: '1960-05-05', district: '75111', sheet: reference, collector: 'Camille Collecte', signedOn: parisDay(engine.clock.now()) }] },
    });
    expect(keyed.status, JSON.stringify(keyed.body)).toBe(200);
    expect(keyed.body.results[0].status).toBe('accepted');

    const cookie = await web.sessionFor(CLERK_SUBJECT);
    const [next] = sheetRefs((await web.page(`/initiatives/${id}/paper-form?from=13`)).html);
    const page = await web.page(`/clerk/initiatives/${id}/paper`, { cookie, form: { csv: `Moreau,Anne,1970-02-02,75112,${next},Camille Collecte` } });
    expect(page.status).toBe(200);
    expect(page.html).toContain('data-paper-outcome="accepted"');
    expect(page.text).toContain(next);
    // The clerk's help says where the sheet's reference is.
    expect(page.text).toContain('La feuille est la référence imprimée en haut de chaque feuille du formulaire papier');
  });

  it('is linked from the public page, for people without an online identity, and from the sponsor’s dashboard, to print numbered sheets', async () => {
    const publicPage = await web.page(`/initiatives/${id}`);
    expect(publicPage.html).toContain(`<a href="/initiatives/${id}/paper-form">Imprimer un formulaire de signature papier</a>`);
    // The sponsor's session: the subject of the ID token that drafted the initiative.
    const subject = JSON.parse(Buffer.from(sponsor.split('.')[1]!, 'base64url').toString()).sub as string;
    const dashboard = await web.page(`/initiatives/${id}/manage`, { cookie: await web.sessionFor(subject, { givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' }) });
    expect(dashboard.status).toBe(200);
    expect(dashboard.html).toContain(`<form method="get" action="/initiatives/${id}/paper-form"`);
    expect(dashboard.html).toContain('<label for="sheets">Nombre de feuilles</label>');
    expect(dashboard.html).toContain('<label for="from">Numéro de la première feuille</label>');
  });

  it('refuses a number of sheets it cannot print with a page saying so, in the reader’s words, and prints none', async () => {
    for (const sheets of ['0', '201', 'dix', '2.5']) {
      const page = await web.page(`/initiatives/${id}/paper-form?sheets=${sheets}`);
      expect(page.status, sheets).toBe(400);
      expect(sheetRefs(page.html), sheets).toEqual([]);
      expect(page.html).toContain('<title>Erreur\u00a0: Formulaire de signature papier');
      expect(page.html).toMatch(/<p class="field-error" id="sheets-error">[^<]+<\/p>/);
    }
    expect((await web.page(`/initiatives/${id}/paper-form?sheets=201`)).text).toContain('Au plus 200.');
    expect((await web.page(`/initiatives/${id}/paper-form?sheets=dix`, { lang: 'en' })).text).toContain('Enter a whole number.');
    expect((await web.page(`/initiatives/${id}/paper-form?from=0`)).status).toBe(400);
  });

  it('gives no form for an initiative that takes no signatures: a closed one, a draft', async () => {
    const other = await openParisInitiative(engine, { createJurisdiction: false });
    expect((await engine.request('POST', `/v1/initiatives/${other.initiativeId}/close`, { token: other.sponsor })).status).toBe(200);
    const closed = await web.page(`/initiatives/${other.initiativeId}/paper-form`);
    expect(closed.status).toBe(409);
    expect(sheetRefs(closed.html)).toEqual([]);
    expect(closed.text).toContain('Cette initiative ne reçoit pas de signatures en ce moment');
    expect((await web.page(`/initiatives/${other.initiativeId}`)).html).not.toContain('/paper-form');

    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    const hidden = await web.page(`/initiatives/${draft.body.id}/paper-form`);
    expect(hidden.status).toBe(404);
    expect(sheetRefs(hidden.html)).toEqual([]);
  });

  it('cuts a summary or a question too long for the sheet after its last whole word, with an ellipsis, and keeps a short one whole', () => {
    const sentence = 'Les habitants demandent au conseil municipal d’étudier la création de pistes cyclables protégées devant chaque école. ';
    const summary = sentence.repeat(20).trim();
    const cut = printedExcerpt(summary, PAPER_SUMMARY_MAX);
    expect(cut.length).toBeLessThanOrEqual(PAPER_SUMMARY_MAX);
    expect(cut.length).toBeGreaterThan(PAPER_SUMMARY_MAX - 20);
    expect(cut.endsWith('…')).toBe(true);
    expect(summary.startsWith(`${cut.slice(0, -1)} `)).toBe(true);
    expect(printedExcerpt(REFERENDUM_DRAFT.question, PAPER_QUESTION_MAX)).toBe(REFERENDUM_DRAFT.question);
    // One word longer than the room: cut inside it rather than print nothing.
    expect(printedExcerpt('x'.repeat(300), 200)).toBe(`${'x'.repeat(199)}…`);
  });

  it('speaks English to an English reader', async () => {
    const page = await web.page(`/initiatives/${id}/paper-form?sheets=2`, { lang: 'en' });
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>Paper signature form: Des rues aux écoles · Citizen initiatives</title>');
    expect(page.text).toContain('Sheet no. 1: Des rues aux écoles');
    expect(page.text).toContain('Sheet reference:');
    expect(page.text).toContain('at least 16 years old');
    expect(page.text).toContain('Collection until the end of 30 June 2027');
    expect(page.text).toContain('a paper signature and an online signature of the same person count once');
    expect(page.text).toContain('erased 3 months after the certification of the result');
    expect(page.text).toContain('District (code)');
    expect(page.text).not.toContain('Feuille');
    expect(page.text).not.toMatch(/\s:/);
  });
});

/** A jurisdiction of 2,000 districts that requires the electoral roll, on an engine keeping personal data 6 months after the result and none after a withdrawal. */
describe('the paper form of a jurisdiction of 2,000 districts, on the roll, with a retention schedule of its own', () => {
  let engine: TestEngine;
  let html: string;
  const districts = Array.from({ length: 2000 }, (_, i) => ({ code: String(10_000 + i), name: `Commune ${i + 1}`, electorate: 4700 }));

  beforeAll(async () => {
    engine = await createTestEngine({ config: { retention: { afterResultMonths: 6, afterWithdrawalMonths: 0 } } });
    const admin = await engine.adminToken();
    const created = await engine.request('POST', '/v1/jurisdictions', {
      token: admin,
      body: parisJurisdiction({ id: 'loire', name: 'Communes de la Loire', districtTerm: 'circonscription', requireRoll: true, committeeMinimum: 0, electorate: 9_400_000, districts }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await engine.request('POST', '/v1/jurisdictions/loire/clerks', { token: admin, body: { subject: 'clerk-of-loire' } });
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    const id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, jurisdictionId: 'loire' } })).body.id;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    expect((await engine.request('POST', `/v1/initiatives/${id}/review`, { token: await engine.subjectToken('clerk-of-loire'), body: { decision: 'open' } })).status).toBe(200);
    const res = await engine.app.request(`/initiatives/${id}/paper-form?sheets=3`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    html = await res.text();
  });
  afterAll(() => engine?.close());

  it('lists none of the districts, but asks for the name or the code and gives the address of the page listing them', () => {
    expect(html).not.toContain('Commune 1');
    expect(html).not.toContain('10000');
    expect(html).toContain('Circonscription (nom ou code)');
    expect(html).toContain(`Inscrivez le nom ou le code de votre circonscription\u00a0; pour le trouver, consultez la liste à l’adresse <a href="${PUBLIC_URL}/jurisdictions/loire">`);
    expect(html).toContain('si votre circonscription fait partie de la collectivité (Communes de la Loire)');
    expect(html.length).toBeLessThan(60_000);
  });

  it('says that signers must be on the electoral roll, and the retention schedule the engine is configured with', () => {
    expect(html).toContain('Vous devez être inscrit ou inscrite sur la liste électorale de la collectivité.');
    expect(html).toContain('puis effacés 6\u00a0mois après la certification du résultat');
    expect(html).toContain('et dès le retrait de l’initiative');
  });
});
