import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideRemainingValid } from '../support/verification';
import { createWorld, type World } from '../support/world';
import { browserRequests } from './browser-requests';

/** What the pages say, in both languages: typography, and messages in the reader's language rather than the API's. */
describe('web wording', () => {
  let world: World;
  let web: ReturnType<typeof browserRequests>;
  let rejectedId: string;

  beforeAll(async () => {
    world = await createWorld();
    web = browserRequests(world.engine);
    // An agenda initiative of the citizen, declared inadmissible with a reason.
    const { engine, tokens } = world;
    const draft = await engine.request('POST', '/v1/initiatives', {
      token: tokens.citizen,
      body: { jurisdictionId: 'paris', kind: 'agenda', title: 'Un banc par rue', summary: 'Des bancs.', text: 'Installer un banc dans chaque rue.' },
    });
    rejectedId = draft.body.id;
    expect((await engine.request('POST', `/v1/initiatives/${rejectedId}/committee`, { token: tokens.otherSponsor, body: { code: draft.body.committeeCode } })).status).toBe(201);
    expect((await engine.request('POST', `/v1/initiatives/${rejectedId}/submit`, { token: tokens.citizen })).status).toBe(200);
    const rejected = await engine.request('POST', `/v1/initiatives/${rejectedId}/review`, { token: tokens.clerk, body: { decision: 'reject', reason: 'Hors compétence.' } });
    expect(rejected.status).toBe(200);
  });
  afterAll(() => world?.engine.close());

  const HOUR = 3_600_000;
  /** A new agenda initiative of the citizen with one committee member, submitted, and opened with `dates` when given. */
  async function initiative(title: string, dates?: { opensAt?: string; closesAt?: string }) {
    const { engine, tokens } = world;
    const draft = await engine.request('POST', '/v1/initiatives', {
      token: tokens.citizen,
      body: { jurisdictionId: 'paris', kind: 'agenda', title, summary: 'Résumé.', text: 'Texte.' },
    });
    expect(draft.status).toBe(201);
    await engine.request('POST', `/v1/initiatives/${draft.body.id}/committee`, { token: tokens.otherSponsor, body: { code: draft.body.committeeCode } });
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: tokens.citizen })).status).toBe(200);
    if (dates) expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: tokens.clerk, body: { decision: 'open', ...dates } })).status).toBe(200);
    return draft.body.id as string;
  }
  const inHours = (hours: number) => new Date(world.engine.clock.now().getTime() + hours * HOUR).toISOString();

  it('puts a no-break space before a colon in French and none in English; the home page title says the site name once', async () => {
    const sponsor = await web.sessionFor(world.people.sponsor.subject);
    const fr = await web.page(`/initiatives/${world.targetId}`);
    expect(fr.text).toContain('Seuil de signatures\u00a0: 1 / 5');
    expect(fr.text).toContain('premier palier\u00a0: pas encore atteint');
    expect(fr.text).not.toMatch(/\p{L}:/u);

    const en = await web.page(`/initiatives/${world.targetId}`, { lang: 'en' });
    expect(en.text).toContain('Signature threshold: 1 / 5');
    // The count, then what it is out of: '1 of 5 signatures', never '1 signatures'.
    expect(en.text).toContain('1 of 5 signatures (signature threshold)');
    expect((await web.page('/', { lang: 'en' })).text).toMatch(/Des rues aux écoles .* \d+ of 5 signatures \(signature threshold\)/);
    expect(en.text).toContain('premier palier: not reached yet');
    const rejected = await web.page(`/initiatives/${rejectedId}`, { lang: 'en' });
    expect(rejected.text).toContain('Reason: Hors compétence.');
    expect((await web.page(`/initiatives/${rejectedId}`)).text).toContain('Motif\u00a0: Hors compétence.');
    const manage = await web.page(`/initiatives/${world.targetId}/manage`, { lang: 'en', cookie: sponsor });
    expect(manage.status).toBe(200);
    // The closing date, then the days left, as on the public page (it said 'Time left: 90 days left to sign. (Collection until …)').
    expect(manage.text).toMatch(/Collection until \d+ \w+ \d{4} at \d\d:\d\d — \d+ days left to sign\./);
    expect(manage.text).not.toContain('Time left');
    const transparency = await web.page(`/initiatives/${world.targetId}/transparency`, { lang: 'en' });
    expect(transparency.text).toContain('Public count (signatures minus withdrawals and invalidations): 1');
    // The glossary's 'sponsoring committee', on the committee member's own space too.
    const mySpace = await web.page('/me', { lang: 'en', cookie: await web.sessionFor(world.people.committee.subject) });
    expect(mySpace.text).toContain('Initiatives whose sponsoring committee I am on');
    expect(mySpace.text).not.toContain('support committee');
    // A clerk's jurisdictions by name, each leading to its own list.
    const clerkSpace = await web.page('/me', { lang: 'en', cookie: await web.sessionFor(world.people.clerk.subject) });
    expect(clerkSpace.html).toContain('<li><a href="/clerk?jurisdiction=paris">Ville de Paris</a></li>');
    for (const { text } of [en, rejected, manage, transparency]) expect(text).not.toMatch(/\s:/);

    expect((await web.page('/')).html).toContain('<title>Initiatives citoyennes</title>');
    expect((await web.page(`/initiatives/${world.targetId}`)).html).toContain('<title>Des rues aux écoles · Initiatives citoyennes</title>');
  });

  it('counts the days left to sign the same way on the public page, the list and the sponsor’s dashboard', async () => {
    // Opened just now for 270 days (the referendum rules of Paris).
    const sponsor = await web.sessionFor(world.people.sponsor.subject);
    const expected = 'Encore 270 jours pour signer.';
    expect((await web.page(`/initiatives/${world.targetId}`)).text).toContain(expected);
    expect((await web.page('/')).text).toContain(expected);
    expect((await web.page(`/initiatives/${world.targetId}/manage`, { cookie: sponsor })).text).toContain(expected);
  });

  it('says “1 signature” in French, and gives the live count the words of the next ones', async () => {
    // The target initiative holds one signature (see the world).
    const fr = await web.page(`/initiatives/${world.targetId}`);
    expect(fr.text).toContain('1 signature sur 5 (seuil de signatures)');
    expect(fr.text).not.toContain('1 signatures');
    expect(fr.html).toContain('data-other="signatures sur 5 (seuil de signatures)"');
    expect((await web.page('/')).text).toContain('1 signature sur 5 (seuil de signatures)');
    const en = await web.page(`/initiatives/${world.targetId}`, { lang: 'en' });
    expect(en.text).toContain('1 of 5 signatures (signature threshold)');
  });

  it('says what is wrong with a draft field in the reader’s words, not zod’s', async () => {
    const cookie = await web.sessionFor('wording-sponsor');
    const empty = await web.page('/initiatives/new', { cookie, form: { jurisdictionId: 'paris', kind: 'agenda', title: '', summary: '', text: '', action: 'save' } });
    expect(empty.status).toBe(400);
    expect(empty.html).toContain('<p class="field-error" id="title-error">Ce champ est obligatoire.</p>');
    expect(empty.html).toContain('<p class="field-error" id="summary-error">Ce champ est obligatoire.</p>');
    expect(empty.text).not.toMatch(/Too small|expected|characters/);
    const short = await web.page('/initiatives/new', { cookie, form: { jurisdictionId: 'paris', kind: 'agenda', title: 'x', summary: 'S', text: 'T', action: 'save' } });
    expect(short.html).toContain('id="title-error">Au moins 3 caractères.</p>');
    const shortEn = await web.page('/initiatives/new', { cookie, lang: 'en', form: { jurisdictionId: 'paris', kind: 'agenda', title: 'x', summary: 'S', text: 'T', action: 'save' } });
    expect(shortEn.html).toContain('id="title-error">At least 3 characters.</p>');
    // Limits are numbers as the reader writes them.
    const long = await web.page('/initiatives/new', { cookie, form: { jurisdictionId: 'paris', kind: 'agenda', title: 'Trop long', summary: 'S'.repeat(2001), text: 'T', action: 'save' } });
    expect(long.html).toContain('id="summary-error">Au plus 2\u202f000 caractères.</p>');
    const noQuestion = await web.page('/initiatives/new', { cookie, form: { jurisdictionId: 'paris', kind: 'referendum', title: 'Une question', summary: 'S', text: 'T', action: 'save' } });
    expect(noQuestion.html).toContain('id="question-error">Une initiative référendaire doit avoir sa question soumise au vote.</p>');
    const noKind = await web.page('/initiatives/new', { cookie, form: { jurisdictionId: 'paris', title: 'Sans type', summary: 'S', text: 'T', action: 'save' } });
    expect(noKind.html).toContain('id="kind-error">Choisissez une des valeurs proposées.</p>');
  });

  it('words the sponsor’s refusals: committee too small, wrong committee code, a form from an old tab', async () => {
    const cookie = await web.sessionFor('wording-sponsor');
    const saved = await web.page('/initiatives/new', { cookie, form: { jurisdictionId: 'paris', kind: 'agenda', title: 'Seul', summary: 'S', text: 'T', action: 'save' } });
    const id = saved.headers.get('location')!.split('/')[2]!;
    const tooSmall = await web.page(`/initiatives/${id}/submit`, { cookie, form: {} });
    expect(tooSmall.status).toBe(409);
    expect(tooSmall.text).toContain('Le comité de soutien compte 0 membre en plus du porteur ou de la porteuse\u00a0; il en faut 1 pour déposer l’initiative.');
    const tooSmallEn = await web.page(`/initiatives/${id}/submit`, { cookie, lang: 'en', form: {} });
    expect(tooSmallEn.text).toContain('The sponsoring committee has 0 members besides the sponsor; 1 is needed to submit the initiative.');
    const dashboardEn = await web.page(`/initiatives/${id}/manage`, { cookie, lang: 'en' });
    expect(dashboardEn.text).toContain('0 members besides the sponsor; 1 required.');
    expect(dashboardEn.text).not.toContain('member(s)');

    const wrongCode = await web.page(`/initiatives/${id}/join`, { cookie: await web.sessionFor('wording-member', { givenNames: 'Wanda', familyName: 'Membre', birthdate: '1991-01-01' }), form: { code: 'NOPE' } });
    expect(wrongCode.status).toBe(403);
    expect(wrongCode.html).toContain('id="code-error">Ce code ne correspond pas à ce comité de soutien\u00a0; demandez-le au porteur ou à la porteuse de l’initiative.</p>');

    // The target is open: its "submit" button is from a tab left open since it was a draft.
    const sponsor = await web.sessionFor(world.people.sponsor.subject);
    const stale = await web.page(`/initiatives/${world.targetId}/submit`, { cookie: sponsor, form: {} });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('Cette initiative ne peut pas être déposée (état actuel de l’initiative\u00a0: «\u00a0ouverte aux signatures\u00a0»).');
    const staleEn = await web.page(`/initiatives/${world.targetId}/submit`, { cookie: sponsor, lang: 'en', form: {} });
    expect(staleEn.text).toContain('This initiative cannot be submitted (the initiative is now “open for signatures”).');
    for (const page of [tooSmall, tooSmallEn, wrongCode, stale]) expect(page.text).not.toMatch(/is not possible now|are required|does not match/);
  });

  it('tells the clerk in which time zone the admissibility dates are read, and that signing stops at the closing minute itself', async () => {
    const id = await initiative('Dates à saisir');
    const cookie = await web.sessionFor(world.people.clerk.subject);
    const fr = await web.page(`/clerk/initiatives/${id}`, { cookie });
    expect(fr.text).toContain('Dates et heures du fuseau Europe/Paris.');
    expect(fr.text).toContain('La collecte s’arrête à l’heure de clôture elle-même\u00a0: pour la clore à la fin du 30 juin, indiquez le 1er juillet à 00:00.');
    const en = await web.page(`/clerk/initiatives/${id}`, { cookie, lang: 'en' });
    expect(en.text).toContain('Dates and times in the Europe/Paris time zone.');
    expect(en.text).toContain('Signing stops at the closing time itself: to close at the end of 30 June, enter 1 July at 00:00.');
  });

  it('words the clerk’s review errors, and a second review from an old tab', async () => {
    const id = await initiative('À examiner');
    const cookie = await web.sessionFor(world.people.clerk.subject);
    const review = (form: Record<string, string>, lang?: string) => web.page(`/clerk/initiatives/${id}/review`, { cookie, lang, form });
    const noReason = await review({ decision: 'reject', reason: ' ' });
    expect(noReason.status).toBe(400);
    expect(noReason.html).toContain('id="reason-error">Indiquez le motif de l’irrecevabilité.</p>');
    const noReasonEn = await review({ decision: 'reject', reason: '' }, 'en');
    expect(noReasonEn.html).toContain('id="reason-error">Give the reason the initiative is rejected.</p>');
    expect(noReasonEn.html).toContain('<label for="decision-open">Admitted (open the collection)</label>');
    const backwards = await review({ decision: 'open', opensAt: '2027-03-10T09:00', closesAt: '2027-03-01T09:00' });
    expect(backwards.html).toContain('id="closesAt-error">La clôture doit être postérieure à l’ouverture.</p>');
    const past = await review({ decision: 'open', closesAt: '2026-12-01T09:00' });
    expect(past.html).toContain('id="closesAt-error">La clôture doit être dans le futur.</p>');
    const earlier = await review({ decision: 'open', opensAt: '2027-01-10T09:00', closesAt: '2027-06-01T09:00' });
    expect(earlier.html).toContain('id="opensAt-error">L’ouverture ne peut pas précéder aujourd’hui\u00a0: les signatures comptent à partir de la recevabilité.</p>');
    // The rules' 365 days from an opening on 1 March 2027: 29 February 2028, said in the clerk's language, in the jurisdiction's time.
    const century = await review({ decision: 'open', opensAt: '2027-03-01T09:00', closesAt: '2099-12-31T23:00' });
    expect(century.status).toBe(400);
    expect(century.html).toContain('id="closesAt-error">La clôture ne peut pas être postérieure au 29 février 2028 à 09:00\u00a0: les règles limitent la collecte à 365\u00a0jours à compter de l’ouverture.</p>');
    expect(century.html).toContain('max="2028-02-29T09:00"');
    const centuryEn = await review({ decision: 'open', opensAt: '2027-03-01T09:00', closesAt: '2099-12-31T23:00' }, 'en');
    expect(centuryEn.html).toContain('id="closesAt-error">The closing cannot be later than 29 February 2028 at 09:00: the rules limit the collection to 365 days from the opening.</p>');
    const form = await web.page(`/clerk/initiatives/${id}`, { cookie });
    expect(form.text).toContain('Au plus tard 365\u00a0jours après l’ouverture\u00a0: la durée maximale de collecte fixée par les règles.');
    expect((await web.page(`/clerk/initiatives/${id}`, { cookie, lang: 'en' })).text).toContain('At most 365 days after the opening: the longest collection the rules allow.');
    const garbled = await review({ decision: 'open', opensAt: '10/03/2027' });
    expect(garbled.html).toContain('id="opensAt-error">Date invalide\u00a0: indiquez le jour, le mois, l’année et l’heure.</p>');
    // A date that does not exist is refused, not moved to another day.
    for (const closesAt of ['2027-02-30T09:00', '2027-13-45T99:00', '2027-06-01T24:30']) {
      const impossible = await review({ decision: 'open', closesAt });
      expect(impossible.status, closesAt).toBe(400);
      expect(impossible.html).toContain('id="closesAt-error">Date invalide\u00a0: indiquez le jour, le mois, l’année et l’heure.</p>');
    }

    expect((await review({ decision: 'open' })).status).toBe(303);
    const again = await review({ decision: 'reject', reason: 'Trop tard.' });
    expect(again.status).toBe(409);
    expect(again.text).toContain('La recevabilité de cette initiative ne peut plus être examinée (état actuel de l’initiative\u00a0: «\u00a0ouverte aux signatures\u00a0»).');
    for (const page of [noReason, backwards, past, earlier, century, centuryEn, again]) expect(page.text).not.toMatch(/needs a reason|closesAt|opensAt|not possible now|Une erreur est survenue/);

    const paper = await web.page(`/clerk/initiatives/${world.targetId}/paper`, { cookie, form: { csv: 'Dupont,,1990-13-45,75111,F-1,C-1' } });
    expect(paper.status).toBe(400);
    expect(paper.text).toContain('Ligne 1, prénoms\u00a0: Ce champ est obligatoire.');
    expect(paper.text).toContain('Ligne 1, date de naissance\u00a0: Une date au format AAAA-MM-JJ.');
    expect(paper.text).not.toMatch(/Too small|calendar date/);
    // Lines are numbered as pasted: the header line and an empty line count.
    const withHeader = await web.page(`/clerk/initiatives/${world.targetId}/paper`, {
      cookie,
      form: { csv: 'nom,prénoms,naissance,arrondissement,feuille,collecteur\nMartin,Léa,2001-02-28,75111,F-1,C-1\n\nDupont,Jean,1990-13-45,75111,F-1,C-1' },
    });
    expect(withHeader.status).toBe(400);
    expect(withHeader.text).toContain('Ligne 4, date de naissance\u00a0: Une date au format AAAA-MM-JJ.');
    // A batch keyed in: each result names the line, the signer and the sheet, so the clerk finds the form it speaks of.
    const keyed = await web.page(`/clerk/initiatives/${world.targetId}/paper`, {
      cookie,
      form: { csv: 'Lefort,Anne,1980-03-03,75111,F-7,C-1\nLefort,Anne Marie,1980-03-03,75111,F-9,C-2' },
    });
    expect(keyed.status).toBe(200);
    const rows = [...keyed.html.matchAll(/<tr data-paper-outcome="(\w+)">([\s\S]*?)<\/tr>/g)].map(([, outcome, cells]) => [outcome, [...cells!.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1])]);
    expect(rows).toEqual([
      ['accepted', ['1', 'Lefort Anne', 'F-7', 'acceptée', '']],
      ['duplicate', ['2', 'Lefort Anne Marie', 'F-9', 'doublon', '']],
    ]);
  });

  it('keys in a first pasted line whose family name holds “nom” (Nomura) as a signer, not as a header', async () => {
    const cookie = await web.sessionFor(world.people.clerk.subject);
    const keyed = await web.page(`/clerk/initiatives/${world.targetId}/paper`, {
      cookie,
      form: { csv: 'Nomura,Kenji,1975-05-05,75111,F-31,C-3\nRenom,Claire,1982-08-08,75112,F-31,C-3' },
    });
    expect(keyed.status).toBe(200);
    const rows = [...keyed.html.matchAll(/<tr data-paper-outcome="(\w+)">([\s\S]*?)<\/tr>/g)].map(([, outcome, cells]) => [outcome, [...cells!.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1])]);
    expect(rows).toEqual([
      ['accepted', ['1', 'Nomura Kenji', 'F-31', 'acceptée', '']],
      ['accepted', ['2', 'Renom Claire', 'F-31', 'acceptée', '']],
    ]);
    // A header line is still one, in either language.
    const withHeader = await web.page(`/clerk/initiatives/${world.targetId}/paper`, {
      cookie,
      form: { csv: 'family_name,given_names,birthdate,district,sheet,collector\nNomdedeu,Pau,1979-09-09,75111,F-32,C-3' },
    });
    expect([...withHeader.html.matchAll(/<tr data-paper-outcome="(\w+)">/g)].map((m) => m[1])).toEqual(['accepted']);
  });

  it('does not take a first line with a missing birth date for a header, nor drop the cells past the last column', async () => {
    const cookie = await web.sessionFor(world.people.clerk.subject);
    // A signer named Nomura whose form has no birth date: an error on line 1, not a header skipped in silence.
    const noDate = await web.page(`/clerk/initiatives/${world.targetId}/paper`, {
      cookie,
      form: { csv: 'Nomura,Ken,,75111,F-33,C-3\nSato,Yui,1980-01-01,75111,F-33,C-3' },
    });
    expect(noDate.status).toBe(400);
    expect(noDate.text).toContain('Ligne 1, date de naissance\u00a0: Une date au format AAAA-MM-JJ.');
    // A line of nine cells: refused, not keyed in with two cells dropped.
    const extra = await web.page(`/clerk/initiatives/${world.targetId}/paper`, {
      cookie,
      lang: 'en',
      form: { csv: 'Dupont,Anne,1981-01-01,75111,F-34,C-1,2027-01-20,EXTRA,MORE' },
    });
    expect(extra.status).toBe(400);
    expect(extra.text).toContain('Line 1: 9 columns, at most 7 (a comma inside a name? put the name between double quotes).');
    expect(extra.html).not.toContain('data-paper-outcome');
    // The name between quotes, as the message says: keyed in.
    const quoted = await web.page(`/clerk/initiatives/${world.targetId}/paper`, {
      cookie,
      form: { csv: 'nom,prénoms,naissance,arrondissement,feuille,collecteur\n"Dupont, dite Martin",Anne,1981-01-01,75111,F-34,C-1' },
    });
    expect(quoted.status).toBe(200);
    expect([...quoted.html.matchAll(/<tr data-paper-outcome="(\w+)">/g)].map((m) => m[1])).toEqual(['accepted']);
  });

  it('says in the reader’s language why a paper entry dated outside the collection period is not counted', async () => {
    const cookie = await web.sessionFor(world.people.clerk.subject);
    const csv = 'Datée,Avant,1970-01-01,75111,F-40,C-4,2020-01-01';
    const reason = (html: string) => [...html.matchAll(/<tr data-paper-outcome="ineligible">([\s\S]*?)<\/tr>/g)].map(([, cells]) => [...cells!.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]).at(-1));
    const fr = await web.page(`/clerk/initiatives/${world.targetId}/paper`, { cookie, form: { csv } });
    expect(reason(fr.html)).toEqual(['Date de signature hors de la période de collecte (avant l’ouverture, après la clôture ou à venir).']);
    expect(fr.text).not.toContain('Signed on');
    const en = await web.page(`/clerk/initiatives/${world.targetId}/paper`, { cookie, lang: 'en', form: { csv } });
    expect(reason(en.html)).toEqual(['Date signed outside the collection period (before it opened, after it closed, or in the future).']);
  });

  it('tells a signer under age the age required', async () => {
    const id = world.targetId;
    const cookie = await web.sessionFor('wording-young', { givenNames: 'Lucie', familyName: 'Jeune', birthdate: '2015-04-01' });
    const young = await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: '75111', consent: 'yes' } });
    expect(young.status).toBe(403);
    expect(young.text).toContain('Vous n’avez pas l’âge minimum requis pour signer\u00a0: 16\u00a0ans à la date de signature.');
    const youngEn = await web.page(`/initiatives/${id}/sign`, { cookie, lang: 'en', form: { district: '75111', consent: 'yes' } });
    expect(youngEn.text).toContain('You are under the minimum age to sign: you must be 16 or older on the day you sign.');
  });

  it('tells a signer the collection has not opened yet, with its date', async () => {
    const id = await initiative('Bientôt', { opensAt: '2027-01-16T09:00:00Z', closesAt: '2027-03-01T09:00:00Z' });
    const cookie = await web.sessionFor('wording-early', { givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28' });
    const early = await web.page(`/initiatives/${id}/sign`, { cookie, form: { district: '75111', consent: 'yes' } });
    expect(early.status).toBe(409);
    expect(early.text).toContain('La collecte n’a pas encore commencé\u00a0: elle ouvre le 16 janvier 2027 à 10:00.');
    // The public page says when signing starts and stops, to the hour: not 'Ouverte le' of a day still to come, nor a closing
    // day that reads as if the whole of it were left.
    const page = await web.page(`/initiatives/${id}`);
    expect(page.text).toContain('Ouverture de la collecte le 16 janvier 2027 à 10:00');
    expect(page.text).toContain('Collecte jusqu’au 1er mars 2027 à 10:00');
    expect(page.text).not.toContain('Ouverte le');
    const pageEn = await web.page(`/initiatives/${id}`, { lang: 'en' });
    expect(pageEn.text).toContain('Collection opens on 16 January 2027 at 10:00');
    expect(pageEn.text).toContain('Collection until 1 March 2027 at 10:00');
  });

  it('a collection closing at midnight, local time, is said to run until the end of its last day, not until the next day at 00:00', async () => {
    // Closes at 00:00 in Paris on 1 July: signatures are taken all through 30 June, none on 1 July.
    const id = await initiative('Jusqu’à minuit', { closesAt: '2027-06-30T22:00:00Z' });
    const manage = await web.sessionFor(world.people.citizen.subject);
    for (const path of [`/initiatives/${id}`, `/initiatives/${id}/manage`]) {
      const fr = await web.page(path, { cookie: manage });
      expect(fr.text).toContain('Collecte jusqu’au 30 juin 2027 inclus');
      expect(fr.text).not.toContain('1er juillet');
      const en = await web.page(path, { cookie: manage, lang: 'en' });
      expect(en.text).toContain('Collection until the end of 30 June 2027');
      expect(en.text).not.toContain('1 July');
    }
    const clerk = await web.page(`/clerk/initiatives/${id}`, { cookie: await web.sessionFor(world.people.clerk.subject) });
    expect(clerk.text).toContain('Collecte jusqu’au 30 juin 2027 inclus');
  });

  it('does not announce an opening still to come once the initiative was closed or withdrawn before it', async () => {
    const dates = { opensAt: '2027-01-20T09:00:00Z', closesAt: '2027-03-01T09:00:00Z' };
    const closed = await initiative('Close avant l’ouverture', dates);
    expect((await world.engine.request('POST', `/v1/initiatives/${closed}/close`, { token: world.tokens.citizen })).status).toBe(200);
    const withdrawn = await initiative('Retirée avant l’ouverture', dates);
    expect((await world.engine.request('POST', `/v1/initiatives/${withdrawn}/withdraw`, { token: world.tokens.citizen })).status).toBe(200);
    for (const id of [closed, withdrawn]) {
      const fr = await web.page(`/initiatives/${id}`);
      expect(fr.text).not.toMatch(/Ouverture de la collecte le|Ouverte le|Collecte jusqu’au 1er mars/);
      const en = await web.page(`/initiatives/${id}`, { lang: 'en' });
      expect(en.text).not.toMatch(/Collection opens on|Opened on|Collection until 1 March/);
    }
  });

  it('a form shown before the collection closed: signing or withdrawing then says the collection is closed, in the reader’s words', async () => {
    const id = await initiative('Bientôt clos', { closesAt: inHours(1) });
    const elodieIdentity = { givenNames: 'Élodie Marie', familyName: 'Dupont', birthdate: '1990-04-12' };
    expect((await web.page(`/initiatives/${id}/sign`, { cookie: await web.sessionFor('wording-elodie', elodieIdentity), form: { district: '75111', consent: 'yes' } })).status).toBe(303);
    world.engine.clock.advance(2 * HOUR); // past the closing; the scheduler has not closed it yet
    // Sessions are opened after the clock moved (they last an hour).
    const elodie = await web.sessionFor('wording-elodie', elodieIdentity);
    const karim = await web.sessionFor('wording-karim', { givenNames: 'Karim', familyName: 'Benali', birthdate: '1985-11-03' });

    const late = await web.page(`/initiatives/${id}/sign`, { cookie: karim, form: { district: '75111', consent: 'yes' } });
    expect(late.status).toBe(409);
    expect(late.text).toContain('La collecte est close\u00a0: cette initiative ne reçoit plus de signatures.');

    const withdraw = await web.page(`/initiatives/${id}/signature/withdraw`, { cookie: elodie, form: {} });
    expect(withdraw.status).toBe(409);
    expect(withdraw.html).toContain('<h1>Ma signature</h1>');
    expect(withdraw.text).toContain('La collecte est close\u00a0; vous ne pouvez plus retirer votre signature.');
    const withdrawEn = await web.page(`/initiatives/${id}/signature/withdraw`, { cookie: elodie, lang: 'en', form: {} });
    expect(withdrawEn.text).toContain('The collection is closed; you can no longer withdraw your signature.');
    for (const page of [late, withdraw, withdrawEn]) expect(page.text).not.toMatch(/"sign"|not possible now|Une erreur est survenue|Signatures were accepted/);
  });

  it('words the clerk’s verification refusals: an invalid decision without its reason, certifying with decisions pending', async () => {
    const id = await initiative('À vérifier', { closesAt: inHours(1) });
    for (const [subject, person] of [
      ['wording-lea', { givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28' }],
      ['wording-sofia', { givenNames: 'Sofia', familyName: 'Rossi', birthdate: '1978-09-30' }],
    ] as const) {
      expect((await web.page(`/initiatives/${id}/sign`, { cookie: await web.sessionFor(subject, person), form: { district: '75111', consent: 'yes' } })).status).toBe(303);
    }
    world.engine.clock.advance(2 * HOUR);
    await world.engine.scheduler.tick();
    const cookie = await web.sessionFor(world.people.clerk.subject);
    expect((await web.page(`/clerk/initiatives/${id}/verification/start`, { cookie, form: { method: 'full' } })).status).toBe(303);
    const listed = await web.page(`/clerk/initiatives/${id}`, { cookie });
    const signatureId = /name="signatureId" value="([^"]+)"/.exec(listed.html)![1]!;

    const noReason = await web.page(`/clerk/initiatives/${id}/verification/decide`, { cookie, form: { signatureId, decision: 'invalid', reason: '' } });
    expect(noReason.status).toBe(400);
    expect(noReason.text).toContain('Indiquez le motif d’invalidité.');
    // A reason beside "valid" is refused in the clerk's words, and nothing is recorded.
    const validWithReason = await web.page(`/clerk/initiatives/${id}/verification/decide`, { cookie, form: { signatureId, decision: 'valid', reason: 'illisible' } });
    expect(validWithReason.status).toBe(400);
    expect(validWithReason.text).toContain('Une signature valide n’a pas de motif d’invalidité\u00a0: videz le motif ou choisissez «\u00a0Invalide\u00a0».');
    expect(validWithReason.html).toContain(`name="signatureId" value="${signatureId}"`);
    // The reason typed is still in its row, with what is wrong beside it, to change the decision or clear the reason.
    expect(validWithReason.html).toMatch(new RegExp(`<input type="text" id="reason-${signatureId}" name="reason" size="14" value="illisible" aria-invalid="true" aria-describedby="who-${signatureId} reason-${signatureId}-error"/>`));
    expect(validWithReason.html).toContain(`<p class="field-error" id="reason-${signatureId}-error">Une signature valide n’a pas de motif d’invalidité\u00a0: videz le motif ou choisissez «\u00a0Invalide\u00a0».</p>`);
    const early = await web.page(`/clerk/initiatives/${id}/verification/complete`, { cookie, form: {} });
    expect(early.status).toBe(409);
    expect(early.text).toContain('2 signatures attendent encore la décision d’un agent.');
    const earlyEn = await web.page(`/clerk/initiatives/${id}/verification/complete`, { cookie, lang: 'en', form: {} });
    expect(earlyEn.text).toContain("2 signatures still await a clerk's decision.");
    const sampleOfFull = await web.page(`/clerk/initiatives/${id}/verification/start`, { cookie, form: { method: 'full' } });
    expect(sampleOfFull.status).toBe(409);
    expect(sampleOfFull.text).toContain('Une vérification intégrale est déjà en cours.');
    for (const page of [noReason, early]) expect(page.text).not.toMatch(/needs its reason|still await/);
  });
  it('shows an English clerk a sample’s conclusion with percentages written the English way, and the seed it was drawn with', async () => {
    const id = await initiative('Échantillon', { closesAt: inHours(1) });
    for (const [subject, person] of [
      ['wording-sample-jean', { givenNames: 'Jean-Pierre', familyName: 'de La Fontaine', birthdate: '1956-07-14' }],
      ['wording-sample-sofia', { givenNames: 'Sofia', familyName: 'Rossi', birthdate: '1978-09-30' }],
    ] as const) {
      expect((await web.page(`/initiatives/${id}/sign`, { cookie: await web.sessionFor(subject, person), form: { district: '75111', consent: 'yes' } })).status).toBe(303);
    }
    // 499 more on paper: 501 in all, of which the method's minimum sample (500) is a projection.
    const entries = Array.from({ length: 499 }, (_, n) => ({
      familyName: 'Papier',
      givenNames: `Paul${n.toString(26).split('').map((d) => String.fromCharCode(97 + parseInt(d, 26))).join('')}`,
      birthdate: '1970-01-01',
      district: '75111',
      sheet: `F-${Math.floor(n / 20)}`,
      collector: 'C-1',
    }));
    const keyed = await world.engine.request('POST', `/v1/initiatives/${id}/paper-signatures`, { token: world.tokens.clerk, body: { entries } });
    expect(keyed.body.accepted).toBe(499);
    world.engine.clock.advance(2 * HOUR);
    await world.engine.scheduler.tick();
    const cookie = await web.sessionFor(world.people.clerk.subject);
    // A size the engine refuses is said beside the field, and what the clerk typed is still there to correct.
    const refused = await web.page(`/clerk/initiatives/${id}/verification/start`, { cookie, form: { method: 'sample', sampleSize: '0', seed: 'tirage-en' } });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('id="sampleSize-error">Au moins 1.</p>');
    expect(refused.html).toMatch(/<input type="number"[^>]*id="sampleSize"[^>]*value="0"/);
    expect(refused.html).toMatch(/<input type="text"[^>]*id="seed"[^>]*value="tirage-en"/);
    expect(refused.html).toMatch(/<input type="radio" id="method-sample"[^>]*checked/);
    // Below the method's minimum for 501 signatures: the field says the minimum, in each language, and nothing is drawn.
    const tooSmall = await web.page(`/clerk/initiatives/${id}/verification/start`, { cookie, form: { method: 'sample', sampleSize: '499', seed: 'tirage-en' } });
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.html).toContain('id="sampleSize-error">Au moins 500 pour 501 signatures recueillies\u00a0: un échantillon plus petit ne suffit pas à conclure.</p>');
    expect(tooSmall.html).toMatch(/<input type="number" min="500"[^>]*id="sampleSize"[^>]*value="499"/);
    expect(tooSmall.text).toContain('Au moins 500 pour 501 signatures recueillies\u00a0: 500 ou 3\u202f% des signatures si c’est davantage');
    const tooSmallEn = await web.page(`/clerk/initiatives/${id}/verification/start`, { cookie, lang: 'en', form: { method: 'sample', sampleSize: '2', seed: 'tirage-en' } });
    expect(tooSmallEn.text).toContain('At least 500 for 501 signatures collected: a smaller sample is not enough to conclude.');
    expect((await world.engine.request('GET', `/v1/initiatives/${id}`)).body.status).toBe('closed');
    // 500 of the 501 drawn: a projection, so its conclusion is given against 95 % and 110 % of the threshold.
    expect((await web.page(`/clerk/initiatives/${id}/verification/start`, { cookie, form: { method: 'sample', sampleSize: '500', seed: 'tirage-en' } })).status).toBe(303);
    await decideRemainingValid(world.engine.request, id, world.tokens.clerk!);
    const en = await web.page(`/clerk/initiatives/${id}`, { cookie, lang: 'en' });
    expect(en.text).toContain('Conclusion: insufficient valid signatures (under 95% of the threshold)');
    expect(en.text).toContain('Sampling seed tirage-en');
    expect(en.text).not.toMatch(/\d %|optional, to reproduce/);
    expect((await web.page(`/clerk/initiatives/${id}`, { cookie })).text).toContain('Graine du tirage tirage-en');
  });
});
