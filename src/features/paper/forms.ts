import { z } from '@hono/zod-openapi';

/** Sheets one printing numbers at most: a sponsor's batch, not a print shop's run. */
export const PAPER_FORM_SHEETS_MAX = 200;
/** Highest first sheet number: references stay short (an initiative's prefix and at most six digits). */
export const PAPER_FORM_FIRST_MAX = 99_999;
/** Signature rows on one sheet: room enough to write by hand, with the notice, on one printed page. */
export const PAPER_FORM_ROWS = 10;

/** A field left empty in the page's own form means its default. */
const wholeNumber = (max: number) =>
  z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).max(max).default(1));

export const PaperFormQuerySchema = z.object({
  sheets: wholeNumber(PAPER_FORM_SHEETS_MAX),
  from: wholeNumber(PAPER_FORM_FIRST_MAX),
});
export type PaperFormQuery = z.infer<typeof PaperFormQuerySchema>;

/**
 * The reference printed on sheet `n` of an initiative's paper form, keyed in by the clerk as the
 * entry's `sheet`: the initiative id's first eight hex digits (random, so two initiatives rarely
 * share them and a sheet of another initiative stands out) and the sheet's number. Well within the
 * 64 characters a paper entry's `sheet` takes.
 */
export function paperSheetReference(initiativeId: string, n: number): string {
  return `${initiativeId.slice(0, 8).toUpperCase()}-${String(n).padStart(4, '0')}`;
}

/**
 * Sheets may be printed while the initiative takes signatures, and before its opening once admitted
 * (to hand them out on the first day); not once its closing has passed, even before the scheduler closes it.
 */
export function takesPaperForms(initiative: { status: string; closesAt: Date | null }, now: Date): boolean {
  return initiative.status === 'open' && (!initiative.closesAt || now.getTime() < initiative.closesAt.getTime());
}

/**
 * What one A4 sheet has room for besides its notice and its rows, at the longest the schema allows
 * (a 200-character title, 2,000 of summary, 1,000 of question): a longer summary or question is cut,
 * the sheet giving the address of the public page where the whole is read.
 */
export const PAPER_SUMMARY_MAX = 200;
export const PAPER_QUESTION_MAX = 200;
/** A jurisdiction's name, said three times on the sheet (Ville de Paris, Communes de la Loire: a few dozen characters). */
export const PAPER_JURISDICTION_NAME_MAX = 60;

/** `text` whole when it is at most `max` characters; else cut after its last whole word that fits, with an ellipsis, `max` characters at most. */
export function printedExcerpt(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const cut = chars.slice(0, max - 1).join('');
  // The last space of the cut, unless the words are so long that it leaves less than half.
  const space = cut.search(/\s\S*$/u);
  const head = space >= max / 2 ? cut.slice(0, space) : cut;
  return `${head.replace(/[\s,;:.…-]+$/u, '')}…`;
}
