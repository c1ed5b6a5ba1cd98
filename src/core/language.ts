/**
 * The language of an initiative's text, as its sponsors wrote it: a BCP 47 tag made of an ISO 639-1
 * language, optionally with an ISO 3166 region (`fr`, `de`, `fr-CH`). Pages put it in `lang` around
 * the sponsors' words, so that a screen reader reads them with the right voice (WCAG 3.1.2): the
 * language is checked against the ISO 639-1 list, as a `lang` no assistive technology knows is no help.
 */
export const DEFAULT_TEXT_LANGUAGE = 'fr';

/** ISO 639-1, without the codes it withdrew (in, iw, ji, jw, mo, sh). */
const ISO_639_1 = new Set(
  (
    'aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu ' +
    'fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko ' +
    'kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi ' +
    'pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ' +
    'ur uz ve vi vo wa wo xh yi yo za zh zu'
  ).split(' '),
);

const TAG = /^([a-z]{2})(?:-[A-Z]{2})?$/;

/** `fr`, `de`, `fr-CH`: lower-case language, upper-case region, as BCP 47 writes them. */
export function isTextLanguage(tag: string): boolean {
  const language = TAG.exec(tag)?.[1];
  return language !== undefined && ISO_639_1.has(language);
}

/** The languages the drafting form offers, each named in itself (a text in another is set through the API). */
export const OFFERED_TEXT_LANGUAGES: readonly { tag: string; name: string }[] = [
  { tag: 'de', name: 'Deutsch' },
  { tag: 'en', name: 'English' },
  { tag: 'es', name: 'Español' },
  { tag: 'fr', name: 'Français' },
  { tag: 'it', name: 'Italiano' },
  { tag: 'nl', name: 'Nederlands' },
  { tag: 'pt', name: 'Português' },
];

/** A language's name in itself ("Deutsch", "brezhoneg"); the tag when the runtime has no name for it. */
export function languageAutonym(tag: string): string {
  const offered = OFFERED_TEXT_LANGUAGES.find((l) => l.tag === tag);
  if (offered) return offered.name;
  try {
    const name = new Intl.DisplayNames([tag], { type: 'language', fallback: 'none' }).of(tag);
    return name ? name.charAt(0).toLocaleUpperCase(tag) + name.slice(1) : tag;
  } catch {
    return tag;
  }
}
