import type { DistrictTerm } from '../../db/schema';
import { frenchFor } from './districts';
import { en } from './en';
import { fr, type Messages } from './fr';
import { LANG_COOKIE, negotiateLocale, type Locale } from '../../platform/locale';

export { LANG_COOKIE, negotiateLocale, type Locale };

const MESSAGES: Record<Locale, Messages> = { fr, en };
const FRENCH = new Map<DistrictTerm, Messages>([['arrondissement', fr]]);

/** English says "district" everywhere; French says what the jurisdiction calls its districts. */
function messagesOf(locale: Locale, districtTerm: DistrictTerm): Messages {
  if (locale !== 'fr') return MESSAGES[locale];
  let messages = FRENCH.get(districtTerm);
  if (!messages) FRENCH.set(districtTerm, (messages = frenchFor(districtTerm)));
  return messages;
}
const INTL_LOCALE: Record<Locale, string> = { fr: 'fr-FR', en: 'en-GB' };

/** Words and formats of one locale; dates in the jurisdiction's time zone. */
export interface Translator {
  locale: Locale;
  m: Messages;
  /** The same words, its districts named as a jurisdiction calls them (pages about one jurisdiction). */
  of(jurisdiction: { districtTerm: DistrictTerm }): Translator;
  number(n: number): string;
  percent(ratio: number): string;
  date(d: Date | string, timeZone?: string): string;
  dateTime(d: Date | string, timeZone?: string): string;
  /** To the second: for records where several entries fall in one minute (the audit trail). */
  instant(d: Date | string, timeZone?: string): string;
}

export function translator(locale: Locale, districtTerm: DistrictTerm = 'arrondissement'): Translator {
  const tag = INTL_LOCALE[locale];
  const numbers = new Intl.NumberFormat(tag);
  const percents = new Intl.NumberFormat(tag, { style: 'percent', maximumFractionDigits: 1 });
  const asDate = (d: Date | string) => (typeof d === 'string' ? new Date(d) : d);
  // French writes the first of the month as an ordinal: "1er mars", where Intl writes "1 mars".
  const dated = locale === 'fr' ? (s: string) => s.replace(/^1(?=\s)/, '1er') : (s: string) => s;
  const self: Translator = {
    locale,
    m: messagesOf(locale, districtTerm),
    of: (jurisdiction) => (jurisdiction.districtTerm === districtTerm ? self : translator(locale, jurisdiction.districtTerm)),
    number: (n) => numbers.format(n),
    // Short of the whole is never shown as the whole: 4,799,999 of 4,800,000 is 99.9 %, not 100 %.
    percent: (r) => percents.format(r < 1 ? Math.min(r, 0.999) : r),
    date: (d, timeZone = 'Europe/Paris') => dated(new Intl.DateTimeFormat(tag, { dateStyle: 'long', timeZone }).format(asDate(d))),
    dateTime: (d, timeZone = 'Europe/Paris') =>
      dated(new Intl.DateTimeFormat(tag, { dateStyle: 'long', timeStyle: 'short', timeZone }).format(asDate(d))),
    instant: (d, timeZone = 'Europe/Paris') =>
      dated(new Intl.DateTimeFormat(tag, { dateStyle: 'long', timeStyle: 'medium', timeZone }).format(asDate(d))),
  };
  return self;
}
