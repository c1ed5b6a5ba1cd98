import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, PUBLIC_URL, type TestEngine } from '../support/engine';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { browserRequests } from './browser-requests';

/** The names of the districts a page lists, in its order (the rows of its tables). */
const listedNames = (html: string) => [...html.matchAll(/<tr><th scope="row">([^<]+)<\/th><td class="mono" data-district-code="">([^<]+)<\/td><\/tr>/g)].map((r) => `${r[1]} (${r[2]})`);

/**
 * The public list of a jurisdiction's districts (`/jurisdictions/{id}`): where a signer holding a
 * paper form, or signing in a jurisdiction of thousands of communes, finds the name and code of theirs.
 */
describe('the list of a jurisdiction’s districts', () => {
  let engine: TestEngine;
  let web: ReturnType<typeof browserRequests>;
  let initiativeId: string;
  // 2,000 communes, in the jurisdiction's order (not alphabetical), a few of them bearing the same name or accents.
  const districts = [
    ...Array.from({ length: 1995 }, (_, i) => ({ code: String(10_000 + i), name: `Commune ${1995 - i}`, electorate: 4700 })),
    { code: '42218', name: 'Saint-Étienne', electorate: 110_000 },
    { code: '76575', name: 'Saint-Étienne-du-Rouvray', electorate: 18_000 },
    { code: '01340', name: 'Sainte-Colombe', electorate: 400 },
    { code: '05135', name: 'Sainte-Colombe', electorate: 300 },
    { code: '69189', name: 'Sainte Colombe', electorate: 1500 },
  ];

  beforeAll(async () => {
    engine = await createTestEngine();
    web = browserRequests(engine);
    const admin = await engine.adminToken();
    for (const body of [
      parisJurisdiction({ id: 'loire', name: 'Communes de la Loire', districtTerm: 'circonscription', committeeMinimum: 0, electorate: 9_600_000, districts }),
      parisJurisdiction({ committeeMinimum: 0 }),
    ]) {
      const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    await engine.request('POST', '/v1/jurisdictions/loire/clerks', { token: admin, body: { subject: 'clerk-of-loire' } });
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    initiativeId = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, jurisdictionId: 'loire' } })).body.id;
    await engine.request('POST', `/v1/initiatives/${initiativeId}/submit`, { token: sponsor });
    const opened = await engine.request('POST', `/v1/initiatives/${initiativeId}/review`, { token: await engine.subjectToken('clerk-of-loire'), body: { decision: 'open' } });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
  });
  afterAll(() => engine?.close());

  it('names the jurisdiction and its districts in its own word, and lists the first 200 with their codes, in the jurisdiction’s order', async () => {
    const page = await web.page('/jurisdictions/loire');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>Liste des circonscriptions\u00a0: Communes de la Loire · Initiatives citoyennes</title>');
    expect(page.html).toContain('<h1>Liste des circonscriptions\u00a0: Communes de la Loire</h1>');
    expect(page.text).toContain('2\u202f000\u00a0circonscriptions dans la collectivité (Communes de la Loire).');
    expect(page.text).toContain('indiquez le nom ou le code de votre circonscription.');
    expect(page.html).toContain('<th scope="col">Nom</th><th scope="col">Code</th>');
    const names = listedNames(page.html);
    expect(names).toHaveLength(200);
    expect(names.slice(0, 2)).toEqual(['Commune 1995 (10000)', 'Commune 1994 (10001)']);
    expect(names.at(-1)).toBe('Commune 1796 (10199)');
    expect(page.text).toContain('1 à 200 sur 2\u202f000');
    expect(page.text).toContain('Page 1 sur 10');
    expect(page.html).not.toContain('rel="prev"');
    expect(page.html).toContain('<a href="/jurisdictions/loire?page=2" rel="next">Page suivante</a>');
    expect(page.html.length).toBeLessThan(60_000);
  });

  it('goes through the 2,000 districts page by page, each once, the last page holding the last districts', async () => {
    const seen: string[] = [];
    for (let n = 1; n <= 10; n++) {
      const page = await web.page(n === 1 ? '/jurisdictions/loire' : `/jurisdictions/loire?page=${n}`);
      expect(page.status, `page ${n}`).toBe(200);
      seen.push(...listedNames(page.html));
      if (n > 1) expect(page.html).toContain(`<a href="${n === 2 ? '/jurisdictions/loire' : `/jurisdictions/loire?page=${n - 1}`}" rel="prev">Page précédente</a>`);
    }
    expect(seen).toEqual(districts.map((d) => `${d.name} (${d.code})`));
    const last = await web.page('/jurisdictions/loire?page=10');
    expect(last.text).toContain('1\u202f801 à 2\u202f000 sur 2\u202f000');
    expect(last.text).toContain('Page 10 sur 10');
    expect(last.html).not.toContain('rel="next"');
    // The search form's empty page field is the first page.
    expect(listedNames((await web.page('/jurisdictions/loire?page=&q=')).html)[0]).toBe('Commune 1995 (10000)');
  });

  it('refuses a page that does not exist with a 400 page saying how many there are, and listing none', async () => {
    for (const bad of ['0', '11', 'deux', '2.5', '-1']) {
      const page = await web.page(`/jurisdictions/loire?page=${bad}`);
      expect(page.status, bad).toBe(400);
      expect(page.html, bad).toContain('<title>Erreur\u00a0: Liste des circonscriptions');
      expect(page.text, bad).toContain('Cette page n’existe pas\u00a0: la liste compte 10\u00a0pages.');
      expect(page.html, bad).toContain('<a href="/jurisdictions/loire">Aller à la première page</a>');
      expect(listedNames(page.html), bad).toEqual([]);
    }
    const paris = await web.page('/jurisdictions/paris?page=2');
    expect(paris.status).toBe(400);
    expect(paris.text).toContain('la liste tient sur une seule page');
  });

  it('finds a district by its name whatever its case, accents and hyphens, or by its code, as the sign form does', async () => {
    const byName = await web.page(`/jurisdictions/loire?q=${encodeURIComponent('SAINT etienne')}`);
    expect(byName.status).toBe(200);
    expect(byName.html).toContain('<h2 id="results-title">Recherche\u00a0: «\u00a0SAINT etienne\u00a0»</h2>');
    expect(listedNames(byName.html)).toEqual(['Saint-Étienne (42218)']);
    expect(byName.html).toContain('value="SAINT etienne"');
    expect(byName.html).toContain('<a href="/jurisdictions/loire">Toute la liste</a>');
    expect(listedNames((await web.page('/jurisdictions/loire?q=76575')).html)).toEqual(['Saint-Étienne-du-Rouvray (76575)']);
    expect(listedNames((await web.page(`/jurisdictions/loire?q=${encodeURIComponent('commune  1995')}`)).html)).toEqual(['Commune 1995 (10000)']);
  });

  it('lists every district of the name searched when several bear it, and names close to one that matches none', async () => {
    const several = await web.page(`/jurisdictions/loire?q=${encodeURIComponent('sainte-colombe')}`);
    expect(several.status).toBe(200);
    expect(several.text).toContain('Plusieurs circonscriptions portent ce nom.');
    expect(listedNames(several.html)).toEqual(['Sainte-Colombe (01340)', 'Sainte-Colombe (05135)', 'Sainte Colombe (69189)']);

    const close = await web.page(`/jurisdictions/loire?q=${encodeURIComponent('saint-éti')}`);
    expect(close.text).toContain('Aucune circonscription ne porte ce nom ou ce code.');
    expect(close.text).toContain('Noms proches\u00a0:');
    expect(listedNames(close.html)).toEqual(['Saint-Étienne (42218)', 'Saint-Étienne-du-Rouvray (76575)']);

    const none = await web.page('/jurisdictions/loire?q=Atlantide');
    expect(none.status).toBe(200);
    expect(none.text).toContain('Aucune circonscription ne porte ce nom ou ce code.');
    expect(none.text).not.toContain('Noms proches');
    expect(listedNames(none.html)).toEqual([]);
  });

  it('refuses words longer than a search takes, with the field’s error', async () => {
    const page = await web.page(`/jurisdictions/loire?q=${'a'.repeat(201)}`);
    expect(page.status).toBe(400);
    expect(page.html).toContain('<p class="field-error" id="q-error">Au plus 200 caractères.</p>');
    expect(page.html).toContain('<a href="#q">Nom ou code de la circonscription\u00a0: Au plus 200 caractères.</a>');
    expect(listedNames(page.html)).toEqual([]);
  });

  it('answers the page "not found" for a jurisdiction that does not exist', async () => {
    for (const path of ['/jurisdictions/atlantide', '/jurisdictions/atlantide?q=x', '/jurisdictions/%20']) {
      const page = await web.page(path);
      expect(page.status, path).toBe(404);
      expect(page.html, path).toContain('<h1>Page introuvable</h1>');
    }
  });

  it('speaks English to an English reader, and says "arrondissement" in French for a jurisdiction that has no word of its own', async () => {
    const en = await web.page('/jurisdictions/loire?page=2', { lang: 'en' });
    expect(en.status).toBe(200);
    expect(en.html).toContain('<h1>List of districts: Communes de la Loire</h1>');
    expect(en.text).toContain('2,000 districts in the jurisdiction (Communes de la Loire).');
    expect(en.text).toContain('201 to 400 of 2,000');
    expect(en.text).toContain('Page 2 of 10');
    expect(en.html).toContain('rel="prev">Previous page</a>');
    expect(en.html).toContain('<label for="q">Name or code of the district</label>');
    expect(en.text).not.toMatch(/circonscription|Suivante|\s:/i);
    const search = await web.page('/jurisdictions/loire?q=sainte%20colombe', { lang: 'en' });
    expect(search.text).toContain('Search: “sainte colombe” Several districts bear this name. Name Code Sainte-Colombe 01340 Sainte-Colombe 05135');

    const paris = await web.page('/jurisdictions/paris');
    expect(paris.html).toContain('<h1>Liste des arrondissements\u00a0: Ville de Paris</h1>');
    expect(paris.text).toContain('20\u00a0arrondissements dans la collectivité (Ville de Paris).');
    expect(listedNames(paris.html)).toHaveLength(20);
    expect(paris.html).not.toContain('aria-label="Pages de la liste"');
  });

  it('is where the paper form, the initiative’s page and its sign form send a signer looking for their district', async () => {
    const form = await web.page(`/initiatives/${initiativeId}/paper-form`);
    expect(form.status).toBe(200);
    expect(form.text).toContain(`Inscrivez le nom ou le code de votre circonscription\u00a0; pour le trouver, consultez la liste à l’adresse ${PUBLIC_URL}/jurisdictions/loire`);
    expect(form.html).toContain(`<a href="${PUBLIC_URL}/jurisdictions/loire">${PUBLIC_URL}/jurisdictions/loire</a>`);
    expect(form.html).not.toContain('/v1/jurisdictions');
    const english = await web.page(`/initiatives/${initiativeId}/paper-form`, { lang: 'en' });
    expect(english.text).toContain(`Write the name or the code of your district; to find it, see the list at ${PUBLIC_URL}/jurisdictions/loire`);

    const link = '<a href="/jurisdictions/loire">Liste des circonscriptions et de leurs codes</a>';
    expect((await web.page(`/initiatives/${initiativeId}`)).html).toContain(link);
    const signer = await web.sessionFor('signer-of-loire', { givenNames: 'Camille', familyName: 'Signataire', birthdate: '1980-05-05' });
    expect((await web.page(`/initiatives/${initiativeId}/sign`, { cookie: signer })).html).toContain(link);
  });
});
