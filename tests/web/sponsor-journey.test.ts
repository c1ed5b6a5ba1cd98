import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sponsoredBy } from '../../src/features/initiatives/sponsored';
import { createWorld, type World } from '../support/world';
import { browserRequests } from './browser-requests';

/** What a sponsor meets between drafting and closing, page by page. */
describe('the sponsor’s journey in the web front', () => {
  let world: World;
  let web: ReturnType<typeof browserRequests>;

  beforeAll(async () => {
    world = await createWorld();
    web = browserRequests(world.engine);
  });
  afterAll(() => world?.engine.close());

  it('offers no edit form for an initiative that is no longer a draft: says why, and leads to the dashboard', async () => {
    const cookie = await web.sessionFor(world.people.sponsor.subject);
    const edit = `/initiatives/${world.targetId}/edit`;
    const french = await web.page(edit, { cookie });
    expect(french.status).toBe(409);
    expect(french.text).toContain('Ce brouillon ne peut plus être modifié (état actuel de l’initiative\u00a0: «\u00a0ouverte aux signatures\u00a0»).');
    expect(french.html).toContain('<title>Erreur\u00a0: Modifier le brouillon\u00a0: Des rues aux écoles · ');
    expect(french.html).not.toContain('name="title"');
    expect(french.html).not.toContain(`action="${edit}"`);
    expect(french.html).toContain(`href="/initiatives/${world.targetId}/manage"`);

    const english = await web.page(edit, { cookie, lang: 'en' });
    expect(english.status).toBe(409);
    expect(english.text).toContain('This draft can no longer be edited (the initiative is now “open for signatures”).');
    expect(english.html).toMatch(new RegExp(`<a class="button" href="/initiatives/${world.targetId}/manage">Sponsor(&#39;|')s dashboard</a>`));
    expect(english.html).not.toContain('name="title"');

    // A draft's form is still there for its sponsor.
    const draft = await web.page(`/initiatives/${world.otherDraftId}/edit`, { cookie: await web.sessionFor(world.people.otherSponsor.subject) });
    expect(draft.status).toBe(200);
    expect(draft.html).toContain('name="title"');
  });

  it('creates one draft from one form, however often it is sent: one after the other, or both at once', async () => {
    const person = { givenNames: 'Hélène', familyName: 'Doublon', birthdate: '1985-08-08' };
    const subject = 'journey-double-send';
    const cookie = await web.sessionFor(subject, person);
    const draft = { jurisdictionId: 'paris', kind: 'agenda', title: 'Des fontaines à chaque square', summary: 'Des fontaines.', text: 'Installer une fontaine dans chaque square.', action: 'save' };
    const formIdOf = async () => {
      const form = await web.page('/initiatives/new', { cookie });
      return /<input type="hidden" name="formId" value="([0-9a-f-]{36})"\/>/.exec(form.html)![1]!;
    };

    // A double click: the second send leads to the draft of the first.
    const formId = await formIdOf();
    const first = await web.page('/initiatives/new', { cookie, form: { ...draft, formId } });
    expect(first.status).toBe(303);
    const again = await web.page('/initiatives/new', { cookie, form: { ...draft, formId } });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect((await web.page(again.headers.get('location')!, { cookie })).text).toContain('Brouillon enregistré.');

    // Back to the form after saving, a word changed, saved again: the same draft, with the change.
    const changed = await web.page('/initiatives/new', { cookie, form: { ...draft, title: 'Des fontaines dans chaque square', formId } });
    expect(changed.headers.get('location')).toBe(first.headers.get('location'));
    expect((await web.page(changed.headers.get('location')!, { cookie })).text).toContain('Des fontaines dans chaque square');

    // A preview first keeps the form's id: saving after it is still that one form.
    const previewed = await web.page('/initiatives/new', { cookie, form: { ...draft, action: 'preview', formId: await formIdOf() } });
    expect(previewed.html).toContain('Aperçu de la page publique');
    const keptId = /<input type="hidden" name="formId" value="([0-9a-f-]{36})"\/>/.exec(previewed.html)![1]!;
    const [one, two] = await Promise.all([
      web.page('/initiatives/new', { cookie, form: { ...draft, formId: keptId } }),
      web.page('/initiatives/new', { cookie, form: { ...draft, formId: keptId } }),
    ]);
    expect([one.status, two.status]).toEqual([303, 303]);
    expect(one.headers.get('location')).toBe(two.headers.get('location'));
    expect(one.headers.get('location')).not.toBe(first.headers.get('location'));

    // Two drafts in all: one per form. A new form is another draft, even with the same words.
    expect(await sponsoredBy(world.engine.db.db, subject)).toHaveLength(2);
    expect((await web.page('/initiatives/new', { cookie, form: { ...draft, formId: await formIdOf() } })).status).toBe(303);
    expect(await sponsoredBy(world.engine.db.db, subject)).toHaveLength(3);
    // The form's id is the sponsor's own: the same id sent by someone else makes them a draft of their own.
    const other = await web.page('/initiatives/new', { cookie: await web.sessionFor('journey-other-sponsor', { ...person, givenNames: 'Irène' }), form: { ...draft, formId } });
    expect(other.status).toBe(303);
    expect(other.headers.get('location')).not.toBe(first.headers.get('location'));
  });

  it('refuses a title of invisible characters or with a bidirectional control, next to the field, in either language', async () => {
    const cookie = await web.sessionFor('journey-invisible', { givenNames: 'Jade', familyName: 'Invisible', birthdate: '1991-09-09' });
    const draft = { jurisdictionId: 'paris', kind: 'referendum', title: 'Des bancs partout', summary: 'Des bancs.', text: 'Installer des bancs.', question: 'Approuvez-vous les bancs ?', action: 'save' };
    const fieldError = (html: string, field: string) => new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`).exec(html)?.[1];

    const invisible = await web.page('/initiatives/new', { cookie, form: { ...draft, title: '\u200b\u200b\u200b' } });
    expect(invisible.status).toBe(400);
    expect(fieldError(invisible.html, 'title')).toBe('Au moins 3 caractères visibles\u00a0: les espaces et les caractères invisibles ne comptent pas.');
    const reversed = await web.page('/initiatives/new', { cookie, lang: 'en', form: { ...draft, title: 'Vote \u202Eevil\u202C now', summary: '\u200b' } });
    expect(reversed.status).toBe(400);
    expect(fieldError(reversed.html, 'title')).toBe(
      'Remove the bidirectional control characters (U+202A to U+202E, U+2066 to U+2069): they would change the order in which the text is displayed.',
    );
    expect(fieldError(reversed.html, 'summary')).toBe('Write at least one visible character: spaces and invisible characters do not count.');
    // The question's own rule (a referendum needs one) does not hide what is wrong with the one written.
    const question = await web.page('/initiatives/new', { cookie, form: { ...draft, question: 'Approuvez-vous \u2066ceci\u2069 ?' } });
    expect(fieldError(question.html, 'question')).toBe(
      'Retirez les caractères de contrôle bidirectionnel (U+202A à U+202E, U+2066 à U+2069)\u00a0: ils changeraient l’ordre dans lequel le texte s’affiche.',
    );
    expect(await sponsoredBy(world.engine.db.db, 'journey-invisible')).toHaveLength(0);

    // Editing a draft is held to the same.
    const saved = await web.page('/initiatives/new', { cookie, form: draft });
    expect(saved.status).toBe(303);
    const id = saved.headers.get('location')!.split('/')[2]!;
    const edited = await web.page(`/initiatives/${id}/edit`, { cookie, form: { ...draft, title: '\u200b\u200b\u200b' } });
    expect(edited.status).toBe(400);
    expect(fieldError(edited.html, 'title')).toBe('Au moins 3 caractères visibles\u00a0: les espaces et les caractères invisibles ne comptent pas.');
    expect((await sponsoredBy(world.engine.db.db, 'journey-invisible'))[0]!.title).toBe('Des bancs partout');
  });
});
