import { z } from '@hono/zod-openapi';
import { DEFAULT_TEXT_LANGUAGE, isTextLanguage } from '../../core/language';
import { UNSTORABLE_TEXT } from '../../platform/http';
import { Instant } from '../../platform/openapi';

/** Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they reorder how the text around them is displayed ("\u202Eevil" shows "live"). */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/u;
/** Control characters a one-line text may not hold; a text of several lines keeps its line breaks and tabs. */
const CONTROLS_ONE_LINE = /\p{Cc}/u;
const CONTROLS_LINES = /(?![\t\n\r])\p{Cc}/u;
/** What takes no visible place: format and control characters, and white space. */
// Also, what shows nothing of its own: default-ignorable characters (Hangul fillers, variation selectors,
// the combining grapheme joiner), the blank braille pattern, and combining marks, which show on a letter
// before them (é written e + U+0301 is one visible character).
const INVISIBLE = /[\p{Cf}\p{Cc}\p{White_Space}\p{Default_Ignorable_Code_Point}\p{M}\u2800]/u;

/** How many characters of a text show: neither spaces nor format or control characters (zero-width spaces, joiners...). */
export function visibleLength(value: string): number {
  let n = 0;
  for (const char of value) if (!INVISIBLE.test(char)) n++;
  return n;
}

/**
 * A text that people write and others read (an initiative's words, a reason): at least `min` characters
 * that show, so that a title of zero-width spaces is no title, and no bidirectional control, which would
 * display it otherwise than it reads. Each refusal names its case (`params.code`) for the web's words.
 */
export function shownText(options: { min: number; max: number; lines?: boolean }) {
  const { min, max, lines = false } = options;
  return z
    .string()
    .trim()
    .max(max)
    .superRefine((value, ctx) => {
      // Refused by name, as in every field, once the rest of the request is valid (createRouter).
      if (UNSTORABLE_TEXT.test(value)) return;
      if (BIDI_CONTROLS.test(value)) {
        ctx.addIssue({
          code: 'custom',
          message: 'Contains a bidirectional control character (U+202A–U+202E, U+2066–U+2069), which would change the order in which the text is displayed.',
          params: { code: 'bidi-control' },
        });
      }
      if ((lines ? CONTROLS_LINES : CONTROLS_ONE_LINE).test(value)) {
        ctx.addIssue({
          code: 'custom',
          message: lines ? 'Contains a control character other than a line break or a tab.' : 'Contains a control character (a line break or a tab too): this text is one line.',
          params: { code: 'control-character' },
        });
      }
      if (visibleLength(value) < min) {
        ctx.addIssue({
          code: 'custom',
          message: `Needs at least ${min} visible character(s): spaces, invisible and control characters do not count.`,
          params: { code: 'too-few-visible', minimum: min },
        });
      }
    });
}

const Title = shownText({ min: 3, max: 200 });
const Summary = shownText({ min: 1, max: 2000, lines: true });
const Text = shownText({ min: 1, max: 100_000, lines: true });
const Question = shownText({ min: 3, max: 1000 });
/** A rejection's or a withdrawal's reason, shown on the initiative's page. */
export const Reason = shownText({ min: 1, max: 2000, lines: true });
/** One check (a custom issue), so that a form has one message for any value not offered. */
const Language = z
  .string()
  .refine(isTextLanguage, 'A language tag: an ISO 639-1 language, optionally with a region (fr, de, fr-CH).')
  .openapi({
    description: 'The language the title, summary, text and question are written in: a BCP 47 tag, an ISO 639-1 language optionally with a region.',
    pattern: '^[a-z]{2}(-[A-Z]{2})?$',
    example: 'fr',
  });

export const AGENDA_HAS_NO_QUESTION = 'An agenda initiative has no ballot question: it is put on the council’s agenda as it stands. Only a referendum initiative has one.';

export const CreateInitiativeSchema = z
  .strictObject({
    jurisdictionId: z.string().min(1).max(64),
    kind: z.enum(['agenda', 'referendum']),
    title: Title,
    summary: Summary,
    text: Text,
    question: Question.optional(),
    language: Language.default(DEFAULT_TEXT_LANGUAGE),
  })
  .superRefine((v, ctx) => {
    if (v.kind === 'referendum' && !v.question) ctx.addIssue({ code: 'custom', path: ['question'], message: 'A referendum initiative needs its ballot question.' });
    if (v.kind === 'agenda' && v.question) ctx.addIssue({ code: 'custom', path: ['question'], message: AGENDA_HAS_NO_QUESTION });
  })
  .openapi('CreateInitiative', {
    example: {
      jurisdictionId: 'paris',
      kind: 'referendum',
      title: 'Des rues aux écoles',
      summary: 'Fermer à la circulation les rues devant les écoles.',
      text: 'Texte complet…',
      question: 'Approuvez-vous la fermeture des rues aux écoles ?',
      language: 'fr',
    },
  });
export type CreateInitiative = z.infer<typeof CreateInitiativeSchema>;

export const UpdateInitiativeSchema = z
  .strictObject({ title: Title.optional(), summary: Summary.optional(), text: Text.optional(), question: Question.nullable().optional(), language: Language.optional() })
  .refine((u) => Object.keys(u).length > 0, 'Give at least one field to change.')
  .openapi('UpdateInitiative', { example: { title: 'Des rues aux écoles, partout' } });
export type UpdateInitiative = z.infer<typeof UpdateInitiativeSchema>;

export const JoinCommitteeSchema = z.strictObject({ code: z.string().trim().min(1).max(64) }).openapi('JoinCommittee', { example: { code: 'K7Q2M9XW4B' } });

export const ReasonSchema = z
  .strictObject({ reason: Reason.optional() })
  .openapi('Reason', { example: { reason: 'Le conseil municipal a adopté la mesure.' } });

export const ReviewSchema = z
  .strictObject({
    decision: z.enum(['open', 'reject']),
    reason: Reason.optional(),
    opensAt: Instant.optional().openapi({ description: 'When signing opens (default: now); not before today in the jurisdiction’s time zone.' }),
    closesAt: Instant.optional().openapi({
      description:
        'When signing stops, excluded (default and latest allowed: the same local hour `collectionDays` calendar days after the opening, in the jurisdiction’s time zone). A later one is refused (400, code `closes-after-period`, with `latestClosesAt`).',
    }),
  })
  .superRefine((v, ctx) => {
    if (v.decision === 'reject' && !v.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'A rejection needs a reason.' });
    if (v.decision === 'reject' && (v.opensAt || v.closesAt)) ctx.addIssue({ code: 'custom', path: ['decision'], message: 'Dates only apply when opening.' });
    if (v.opensAt && v.closesAt && Date.parse(v.closesAt) <= Date.parse(v.opensAt)) {
      ctx.addIssue({ code: 'custom', path: ['closesAt'], message: 'closesAt must be after opensAt.', params: { code: 'closes-before-opens' } });
    }
  })
  .openapi('Review', { example: { decision: 'open', closesAt: '2027-06-30T22:00:00Z' } });
export type Review = z.infer<typeof ReviewSchema>;

export const ListQuerySchema = z.object({
  status: z.enum(['draft', 'submitted', 'open', 'closed', 'rejected', 'withdrawn', 'verifying', 'certified', 'insufficient']).optional(),
  jurisdiction: z.string().min(1).max(64).optional(),
  q: z.string().trim().min(1).max(200).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type ListQuery = z.infer<typeof ListQuerySchema>;

export const IdParam = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example: '0192f0c4-6f7d-7a51-9c35-2b1f6c0c7e11' }),
});

const CriterionSchema = z.object({ kind: z.enum(['goal', 'districts']), required: z.number(), current: z.number(), met: z.boolean() });

export const ProgressSchema = z
  .object({
    initiativeId: z.string(),
    status: z.string(),
    signatures: z.number().int(),
    goalMet: z.boolean(),
    criteria: z.array(CriterionSchema),
    districtCount: z.number().int().openapi({ description: 'How many districts there are; `districts` lists them all when there are at most 1,000.' }),
    districts: z
      .array(z.object({ code: z.string(), name: z.string(), signatures: z.number().int(), required: z.number().nullable(), met: z.boolean().nullable() }))
      .openapi({
        description:
          "Up to 1,000 districts, every one in the jurisdiction's order. Beyond (France's 34,969 communes), at most 1,000: those meeting their minimum, then those with the most signatures, of those with any: a district not listed ranks after the last one listed.",
      }),
    milestones: z.array(z.object({ signatures: z.number(), label: z.string(), reached: z.boolean(), reachedAt: z.string().nullable() })),
    closesAt: z.string().nullable(),
    updatedAt: z.string(),
  })
  .openapi('Progress');

export const InitiativeSchema = z
  .object({
    id: z.string(),
    jurisdictionId: z.string(),
    kind: z.enum(['agenda', 'referendum']),
    title: z.string(),
    summary: z.string(),
    text: z.string(),
    question: z.string().nullable(),
    language: z.string().openapi({ description: 'The language of the title, summary, text and question (BCP 47).', example: 'fr' }),
    status: z.string(),
    rules: z.record(z.string(), z.unknown()).nullable(),
    opensAt: z.string().nullable(),
    closesAt: z.string().nullable(),
    reason: z.string().nullable(),
    committeeSize: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    /** Only for the sponsor. */
    committeeCode: z.string().optional(),
    /** The caller's roles on this initiative. */
    roles: z.array(z.enum(['sponsor', 'committee', 'clerk'])).optional(),
    progress: ProgressSchema.optional(),
  })
  .openapi('Initiative');
