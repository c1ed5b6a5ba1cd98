import { en } from './en';
import { fr, type Messages } from './fr';

export type Locale = 'fr' | 'en';
export const LANG_COOKIE = 'lang';

const MESSAGES: Record<Locale, Messages> = { fr, en };
const INTL_LOCALE: Record<Locale, string> = { fr: 'fr-FR', en: 'en-GB' };

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

/** Words and formats of one locale; dates in the jurisdiction's time zone. */
export interface Translator {
  locale: Locale;
  m: Messages;
  number(n: number): string;
  percent(ratio: number): string;
  date(d: Date | string, timeZone?: string): string;
  dateTime(d: Date | string, timeZone?: string): string;
}

export function translator(locale: Locale): Translator {
  const tag = INTL_LOCALE[locale];
  const numbers = new Intl.NumberFormat(tag);
  const percents = new Intl.NumberFormat(tag, { style: 'percent', maximumFractionDigits: 1 });
  const asDate = (d: Date | string) => (typeof d === 'string' ? new Date(d) : d);
  return {
    locale,
    m: MESSAGES[locale],
    number: (n) => numbers.format(n),
    percent: (r) => percents.format(r),
    date: (d, timeZone = 'Europe/Paris') => new Intl.DateTimeFormat(tag, { dateStyle: 'long', timeZone }).format(asDate(d)),
    dateTime: (d, timeZone = 'Europe/Paris') =>
      new Intl.DateTimeFormat(tag, { dateStyle: 'long', timeStyle: 'short', timeZone }).format(asDate(d)),
  };
}
