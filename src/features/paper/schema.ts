import { z } from '@hono/zod-openapi';
import { canonicalName, firstGivenName, isCalendarDate } from '../../core/identity';

export const PAPER_BATCH_MAX = 5000;

const name = (what: string) =>
  z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((s) => canonicalName(what === 'givenNames' ? firstGivenName(s) : s) !== '', `The ${what === 'givenNames' ? 'given names have' : 'family name has'} no letters.`);

const calendarDate = z.string().refine(isCalendarDate, 'A calendar date in YYYY-MM-DD.');

export const PaperEntrySchema = z
  .strictObject({
    familyName: name('familyName'),
    givenNames: name('givenNames'),
    birthdate: calendarDate,
    district: z.string().trim().min(1).max(32),
    sheet: z.string().trim().min(1).max(64).openapi({ description: 'Reference of the paper form.' }),
    collector: z.string().trim().min(1).max(64).openapi({ description: 'Reference of the person who collected the form.' }),
    signedOn: calendarDate.optional().openapi({ description: 'Date written on the form (default: today); must fall in the collection period.' }),
  })
  .openapi('PaperEntry');
export type PaperEntry = z.infer<typeof PaperEntrySchema>;

export const PaperBatchSchema = z
  .strictObject({ entries: z.array(PaperEntrySchema).min(1).max(PAPER_BATCH_MAX) })
  .openapi('PaperBatch', {
    example: {
      entries: [{ familyName: 'Dupont', givenNames: 'Élodie Marie', birthdate: '1990-04-12', district: '75111', sheet: '3F2A9C1B-0042', collector: 'C-07', signedOn: '2027-02-03' }],
    },
  });

export const PaperResultSchema = z
  .object({
    index: z.number().int().openapi({ description: 'Position of the entry in the batch.' }),
    status: z.enum(['accepted', 'duplicate', 'ineligible']),
    signatureId: z.string().optional().openapi({ description: 'The new signature, or the earlier one this entry duplicates.' }),
    channel: z.enum(['online', 'paper']).optional().openapi({ description: 'Channel of the signature (the earlier one for a duplicate).' }),
    district: z.string().optional().openapi({ description: 'District counted (the roll’s, where the jurisdiction requires one).' }),
    rule: z.string().optional().openapi({ description: 'For ineligible entries: age, district, roll, signing-date or withdrawn (this form\u2019s signature was withdrawn by its signer).' }),
    detail: z.string().optional(),
  })
  .openapi('PaperResult');

export const PaperBatchResultSchema = z
  .object({
    accepted: z.number().int(),
    duplicates: z.number().int(),
    ineligible: z.number().int(),
    results: z.array(PaperResultSchema),
  })
  .openapi('PaperBatchResult');

const GroupSchema = z.object({
  entries: z.number().int(),
  accepted: z.number().int(),
  duplicates: z.number().int(),
  ineligible: z.number().int(),
  rejectionRate: z.number(),
  duplicateRate: z.number(),
  reasons: z.record(z.string(), z.number().int()).openapi({ description: 'Ineligible entries by rule.' }),
  standsOut: z.array(z.enum(['rejections', 'duplicates'])),
});

export const PaperAnomaliesSchema = z
  .object({
    initiativeId: z.string(),
    entries: z.number().int(),
    rejectionRate: z.number(),
    duplicateRate: z.number(),
    criteria: z.object({ minimumEntries: z.number().int(), factor: z.number(), manyDistricts: z.number().int(), oldestPlausibleAge: z.number().int() }),
    collectors: z.array(GroupSchema.extend({ collector: z.string() })),
    sheets: z.array(GroupSchema.extend({ sheet: z.string(), collectors: z.array(z.string()) })),
    birthdatesOutOfRange: z.array(z.object({ sheet: z.string(), collector: z.string(), entries: z.number().int() })),
    sheetsWithManyDistricts: z.array(z.object({ sheet: z.string(), districts: z.number().int() })),
  })
  .openapi('PaperAnomalies');
