import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { browserRequests } from './browser-requests';

/** A jurisdiction of thousands of districts (the schema takes up to 50,000): the public page of one of its initiatives. */
describe('the page of an initiative in a jurisdiction of 2,000 districts', () => {
  let engine: TestEngine;
  let html: string;
  const districts = Array.from({ length: 2000 }, (_, i) => ({ code: String(10_000 + i), name: `Commune ${i + 1}`, electorate: 4700 }));

  beforeAll(async () => {
    engine = await createTestEngine();
    const admin = await engine.adminToken();
    const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0, electorate: 9_400_000, districts }) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk-of-paris' } });
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    const id = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT })).body.id;
    await engine.request('POST', `/v1/initiatives/${id}/submit`, { token: sponsor });
    const opened = await engine.request('POST', `/v1/initiatives/${id}/review`, { token: await engine.subjectToken('clerk-of-paris'), body: { decision: 'open' } });
    expect(opened.status).toBe(200);
    html = await (await engine.app.request(`/initiatives/${id}`)).text();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('lists no district without a signature (more than 1,000), says so, and draws no bar chart 2,000 bars tall (44,000 units: a page of meters on a phone)', () => {
    expect(html.match(/<th scope="row">Commune \d+<\/th>/g)).toBeNull();
    expect(html).toContain('Liste\u00a0: les arrondissements ayant atteint leur minimum, puis ceux qui ont le plus de signatures (0 sur 2\u202f000).');
    expect(html).not.toContain('district-chart-title');
    // The chart made two thirds of the page: 868 kB with it for 2,000 districts (266 kB without), 4.4 MB for 10,000 (1.3 MB).
    expect(html.length).toBeLessThan(400_000);
  });
});

/**
 * Signing in a jurisdiction of thousands of communes: no list of thousands of options, but a text
 * field where the signer types the name or the code, looked up as people write it.
 */
describe('the sign form of a jurisdiction of 3,000 districts', () => {
  let engine: TestEngine;
  let web: ReturnType<typeof browserRequests>;
  let id: string;
  let small: string;
  const districts = [
    ...Array.from({ length: 2995 }, (_, i) => ({ code: String(10_000 + i), name: `Commune ${i + 1}`, electorate: 3000 })),
    { code: '42218', name: 'Saint-Étienne', electorate: 110_000 },
    { code: '76575', name: 'Saint-Étienne-du-Rouvray', electorate: 18_000 },
    { code: '01340', name: 'Sainte-Colombe', electorate: 400 },
    { code: '05135', name: 'Sainte-Colombe', electorate: 300 },
    { code: '69189', name: 'Sainte Colombe', electorate: 1500 },
  ];
  let signer = 0;
  // One person each: the name, not the session, makes the signer, and names are compared without their digits.
  const newSigner = () =>
    web.sessionFor(`signer-${++signer}`, { givenNames: 'Camille', familyName: `Signataire ${[...String(signer)].map((d) => 'abcdefghij'[Number(d)]).join('')}`, birthdate: '1980-05-05' });
  const districtOfSignature = async (cookie: string) => {
    const mine = await web.page(`/initiatives/${id}/signature`, { cookie });
    return /Votre circonscription (.+?) Canal/.exec(mine.text)?.[1];
  };

  async function openInitiative(jurisdiction: Record<string, unknown>) {
    const admin = await engine.adminToken();
    const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 0, electorate: 9_400_000, ...jurisdiction }) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await engine.request('POST', `/v1/jurisdictions/${created.body.id}/clerks`, { token: admin, body: { subject: `clerk-of-${created.body.id}` } });
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    const draft = (await engine.request('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, jurisdictionId: created.body.id } })).body.id;
    await engine.request('POST', `/v1/initiatives/${draft}/submit`, { token: sponsor });
    const opened = await engine.request('POST', `/v1/initiatives/${draft}/review`, { token: await engine.subjectToken(`clerk-of-${created.body.id}`), body: { decision: 'open' } });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    return draft as string;
  }

  beforeAll(async () => {
    engine = await createTestEngine();
    web = browserRequests(engine);
    id = await openInitiative({ id: 'loire', name: 'Communes de la Loire', districtTerm: 'circonscription', districts });
    // At the threshold: 100 districts are still a list.
    small = await openInitiative({ id: 'hundred', name: 'Cent arrondissements', districts: districts.slice(0, 100), rules: parisJurisdiction().rules });
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('asks for the name or the code in a text field, not in a list of 3,000 options', async () => {
    const form = await web.page(`/initiatives/${id}/sign`, { cookie: await newSigner() });
    expect(form.status).toBe(200);
    expect(form.html).not.toContain('<select');
    expect(form.html).not.toContain('Commune 1<');
    expect(form.html).toMatch(/<label for="district">Votre circonscription<\/label><p class="help" id="district-help">Tapez son nom ou son code.<\/p><input type="text" id="district" name="district" aria-describedby="district-help"/);
    expect(form.html.length).toBeLessThan(20_000);
    const english = await web.page(`/initiatives/${id}/sign`, { cookie: await newSigner(), lang: 'en' });
    expect(english.text).toContain('Your district Type its name or code.');
  });

  it('keeps the list of districts up to 100 of them', async () => {
    const form = await web.page(`/initiatives/${small}/sign`, { cookie: await newSigner() });
    expect(form.html).toContain('<select id="district" name="district" required=""><option value="">Choisissez…</option><option value="10000">Commune 1</option>');
    expect(form.html.match(/<option value="\d+">/g)).toHaveLength(100);
    expect(form.html).not.toContain('type="text" id="district"');
  });

  it('takes "saint etienne" for Saint-Étienne, and a code as it is typed: the signature goes to that district', async () => {
    const cookie = await newSigner();
    const signed = await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: '  saint   etienne ', consent: 'yes' } });
    expect(signed.status).toBe(303);
    expect(signed.headers.get('location')).toBe(`/initiatives/${id}/signature?signed=1`);
    expect(await districtOfSignature(cookie)).toBe('Saint-Étienne');

    const byCode = await newSigner();
    expect((await web.page(`/initiatives/${id}/sign`, { cookie: byCode, form: { district: '76575', consent: 'yes' } })).status).toBe(303);
    expect(await districtOfSignature(byCode)).toBe('Saint-Étienne-du-Rouvray');
    const progress = (await engine.request('GET', `/v1/initiatives/${id}/progress`, { headers: { 'cache-control': 'no-cache' } })).body;
    const count = (code: string) => progress.districts.find((d: { code: string }) => d.code === code).signatures;
    expect([count('42218'), count('76575')]).toEqual([1, 1]);
  });

  it('offers the districts of the same name to choose from, and signs only once one is chosen', async () => {
    const cookie = await newSigner();
    const several = await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: 'sainte colombe', consent: 'yes' } });
    expect(several.status).toBe(400);
    expect(several.text).toContain('Votre circonscription\u00a0: Plusieurs circonscriptions portent ce nom\u00a0: choisissez la vôtre.');
    expect(several.html).toContain('<a href="#district-choice-0">');
    expect(several.html).toContain('value="sainte colombe"');
    expect(several.text).toContain('Laquelle est la vôtre\u00a0? Sainte-Colombe (01340) Sainte-Colombe (05135) Sainte Colombe (69189)');
    expect(several.html).toContain('<input type="radio" id="district-choice-1" name="districtCode" value="05135"/>');
    expect((await web.page(`/initiatives/${id}/signature`, { cookie })).text).toContain('Vous n’avez pas signé cette initiative.');

    const chosen = await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: 'sainte colombe', districtCode: '05135', consent: 'yes' } });
    expect(chosen.status).toBe(303);
    const mine = await web.page(`/initiatives/${id}/signature`, { cookie });
    expect(mine.text).toContain('Votre circonscription Sainte-Colombe Canal');
    const progress = (await engine.request('GET', `/v1/initiatives/${id}/progress`, { headers: { 'cache-control': 'no-cache' } })).body;
    expect(progress.districts.find((d: { code: string }) => d.code === '05135').signatures).toBe(1);
  });

  it('says when no district has the name typed, keeps it, and offers the names that begin with it', async () => {
    const cookie = await newSigner();
    const none = await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: 'Saint-Eti', consent: 'yes' } });
    expect(none.status).toBe(400);
    expect(none.text).toContain('Votre circonscription\u00a0: Aucune circonscription ne porte ce nom ou ce code.');
    expect(none.html).toContain('<a href="#district">');
    expect(none.html).toContain('value="Saint-Eti"');
    expect(none.html).toMatch(/<input type="text" id="district" name="district" aria-invalid="true" aria-describedby="district-help district-error"/);
    expect(none.text).toContain('Vouliez-vous dire\u00a0: Saint-Étienne (42218) Saint-Étienne-du-Rouvray (76575)');

    const unknown = await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: 'Atlantide', consent: 'yes' } });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('Aucune circonscription ne porte ce nom ou ce code.');
    expect(unknown.text).not.toContain('Vouliez-vous dire');
    const empty = await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: ' ', consent: 'yes' } });
    expect(empty.text).toContain('Tapez le nom ou le code de votre circonscription.');
    expect((await web.page(`/initiatives/${id}/signature`, { cookie })).text).toContain('Vous n’avez pas signé cette initiative.');

    // A name close to the one typed, chosen, signs in it.
    expect((await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: 'Saint-Eti', districtCode: '76575', consent: 'yes' } })).status).toBe(303);
    expect(await districtOfSignature(cookie)).toBe('Saint-Étienne-du-Rouvray');
  });

  it('finds a district the jurisdiction’s clerk adds, and no longer one renamed', async () => {
    const clerk = await engine.subjectToken('clerk-of-loire');
    const before = await web.page(`/initiatives/${id}/sign`, { cookie: await newSigner(), form: { district: 'Firminy', consent: 'yes' } });
    expect(before.text).toContain('Aucune circonscription ne porte ce nom ou ce code.');
    const renamed = districts.map((d) => (d.code === '10000' ? { ...d, name: 'Chazelles-sur-Lyon' } : d));
    const changed = await engine.request('PATCH', '/v1/jurisdictions/loire', { token: clerk, body: { districts: [...renamed, { code: '42095', name: 'Firminy', electorate: 12_000 }] } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);

    expect((await web.page(`/initiatives/${id}/sign`, { cookie: await newSigner(), form: { district: 'Commune 1', consent: 'yes' } })).text).toContain(
      'Aucune circonscription ne porte ce nom ou ce code.',
    );
    const cookie = await newSigner();
    const signed = await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: 'firminy', consent: 'yes' } });
    expect(signed.status, signed.text).toBe(303);
    expect(await districtOfSignature(cookie)).toBe('Firminy');
  });
});
