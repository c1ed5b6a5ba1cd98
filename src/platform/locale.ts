/** The reader's language, as pages and the login's own pages choose it. */
export type Locale = 'fr' | 'en';
/** The cookie the language switch sets. */
export const LANG_COOKIE = 'lang';

/** The `lang` cookie wins, then the first of fr/en in Accept-Language by weight; French otherwise. */
export function negotiateLocale(cookie: string | undefined, acceptLanguage: string | undefined): Locale {
  if (cookie === 'fr' || cookie === 'en') return cookie;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { lang: tag.toLowerCase().split('-')[0], q: q === undefined ? 1 : Number(q), index };
    })
    .filter((l) => l.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { lang } of ranked) if (lang === 'fr' || lang === 'en') return lang;
  return 'fr';
}
