import { parse } from 'csv-parse/sync';
import { isUuid } from '../platform/cursor';
import { eq } from 'drizzle-orm';
import { verifications } from '../db/schema';
import { districtsByCode } from '../core/districts';
import { minimumSampleSize } from '../core/sampling';
import { electorateOf, RulesSchema } from '../core/rules';
import { instantOfWallClock, localDateTimeField } from '../core/calendar';
import { canonicalName } from '../core/identity';
import { listAudit } from '../features/audit/service';
import { requirePrincipal } from '../features/auth/access';
import { ReviewSchema } from '../features/initiatives/schema';
import { latestClosesAt, listInitiatives, review, type InitiativeRow } from '../features/initiatives/service';
import { jurisdictionLabels, type JurisdictionRow } from '../features/jurisdictions/service';
import { PAPER_BATCH_MAX, PaperEntrySchema, type PaperEntry } from '../features/paper/schema';
import { keyInPaperBatch, type PaperResult } from '../features/paper/service';
import { PersonalDataKeyError, personalDataDestroyed } from '../features/personal-data/service';
import { rateLimit } from '../features/rate-limit/middleware';
import { CSV_BOM, csvDownloadHeaders, csvLine } from '../features/verification/csv';
import { DecisionSchema, StartVerificationSchema } from '../features/verification/schema';
import { completeVerification, firstPendingPosition, recordDecisions, signatureByReference, startVerification, verificationReport } from '../features/verification/service';
import { createRouter } from '../platform/http';
import { Problem } from '../platform/problems';
import { visibleInitiative, progressOf } from './citizen';
import { errorPage } from './errors';
import type { Translator } from './i18n';
import { fieldErrors, problemMessage } from './problems';
import { CsrfField, describedBy, ErrorSummary, Field, fieldsInError, NamingInitiative, Notice, renderPage, TableScroll, titleAbout } from './layout';
import { formFields, formLimit, loginUrl, verifyCsrf, webRequest, type WebContext, type WebRequest } from './request';
import { closingLine, DistrictTable, MinimumCells, StatusTag } from './views';

const SECTIONS = [
  ['queue', ['submitted']],
  ['open', ['open']],
  ['toVerify', ['closed']],
  ['verifying', ['verifying']],
  ['done', ['certified', 'insufficient']],
] as const;

/** Signatures listed at a time on the verification page, and decided ones kept above the first undecided one. */
const LIST_SIZE = 500;
const LIST_CONTEXT = 50;

const notAllowed = () => new Problem({ status: 403, code: 'forbidden', title: 'Not allowed' });

/** Pages for clerks of any jurisdiction. */
function requireClerk(w: WebRequest) {
  if (w.clerkOf.length === 0) throw notAllowed();
}

async function requireClerkPage(c: WebContext, w: WebRequest) {
  const found = await visibleInitiative(c, w);
  if (!w.clerkOf.includes(found.jurisdiction.id)) throw notAllowed();
  return found;
}

/** A clerk's form post on one initiative: the form with its CSRF token checked, the clerk, and the initiative in their jurisdiction. */
async function clerkFormPost(c: WebContext) {
  const w = await webRequest(c);
  const form = await formFields(c);
  verifyCsrf(c, form);
  const principal = requirePrincipal(c);
  const { initiative, jurisdiction } = await requireClerkPage(c, w);
  return { w, form, principal, initiative, jurisdiction };
}

/** A local date-time field (YYYY-MM-DDTHH:mm, in the jurisdiction's time zone) as an ISO instant. */
export function zonedInstant(local: string, timeZone: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/.exec(local.trim());
  if (!match) return undefined;
  const [, y, mo, d, h = '00', mi = '00'] = match;
  const asUtc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi));
  // A day, month, hour or minute out of range (30 February, 25:00) is refused, not carried into the next.
  const read = new Date(asUtc);
  if (read.getUTCMonth() !== Number(mo) - 1 || read.getUTCDate() !== Number(d) || read.getUTCHours() !== Number(h) || read.getUTCMinutes() !== Number(mi)) return undefined;
  // The zone's offset of that day, also hours from a daylight-saving change (core/calendar.ts).
  const instant = instantOfWallClock(asUtc, timeZone);
  return Number.isNaN(instant.getTime()) ? undefined : instant.toISOString();
}

/** Family name, given names, birth date, district, sheet, collector and, optionally, the date signed. */
const PAPER_COLUMNS = 7;

/** A cell's letters, lower-cased and without accents: `Prénoms` and `given_names` read `prenoms` and `givennames`. */
const headerWord = (cell: string | undefined) => canonicalName(cell ?? '').toLowerCase();
const FAMILY_NAME_HEADERS = new Set(['familyname', 'surname', 'lastname', 'name', 'nom', 'nomdefamille', 'nomdenaissance', 'nomdusage']);
const GIVEN_NAMES_HEADERS = new Set(['givennames', 'givenname', 'firstname', 'firstnames', 'forename', 'forenames', 'prenom', 'prenoms']);

/**
 * A header line names its first two columns (`family_name,given_names`, `nom,prénoms`): a signer's
 * line is never taken for one, whatever their name (Nomura, Renom, even Nom) or a cell left empty.
 */
function isPaperHeader(cells: string[]): boolean {
  return FAMILY_NAME_HEADERS.has(headerWord(cells[0])) && GIVEN_NAMES_HEADERS.has(headerWord(cells[1])) && !/\d/.test(cells[2] ?? '');
}

/**
 * Pasted CSV lines (family name, given names, birth date, district, sheet, collector[, signed on]) as
 * paper entries; errors in the reader's words. Lines are numbered as pasted (an optional header line
 * and empty lines included), and `lines` gives each entry's, for the results.
 */
export function parsePaperCsv(text: string, t: Translator): { entries: PaperEntry[]; errors: string[]; lines: number[] } {
  const f = t.m.fields;
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true, bom: true, info: true }) as unknown as typeof rows;
  } catch (error) {
    const line = (error as { lines?: unknown }).lines;
    return { entries: [], errors: [f.unreadableCsv(typeof line === 'number' ? t.number(line) : '?')], lines: [] };
  }
  if (rows[0] && isPaperHeader(rows[0].record)) rows = rows.slice(1);
  const entries: PaperEntry[] = [];
  const errors: string[] = [];
  const lines: number[] = [];
  // The schema's own checks: names with letters, calendar dates.
  const rules = { familyName: f.noLetters, givenNames: f.noLetters, birthdate: f.calendarDate, signedOn: f.calendarDate };
  rows.slice(0, PAPER_BATCH_MAX + 1).forEach(({ record: cells, info }) => {
    // A cell too many shifts nothing silently: a name split by a stray comma would land in the wrong columns.
    if (cells.length > PAPER_COLUMNS) {
      errors.push(f.paperColumns(t.number(info.lines), t.number(cells.length), t.number(PAPER_COLUMNS)));
      return;
    }
    const [familyName, givenNames, birthdate, district, sheet, collector, signedOn] = cells;
    const values = { familyName, givenNames, birthdate, district, sheet, collector, signedOn };
    const parsed = PaperEntrySchema.safeParse({ familyName, givenNames, birthdate, district, sheet, collector, ...(signedOn ? { signedOn } : {}) });
    if (parsed.success) {
      entries.push(parsed.data);
      lines.push(info.lines);
    } else {
      for (const [field, message] of Object.entries(fieldErrors(t, parsed.error.issues, values, rules))) {
        errors.push(f.paperLine(t.number(info.lines), f.paperFields[field] ?? field, message));
      }
    }
  });
  if (rows.length > PAPER_BATCH_MAX) errors.push(f.tooManyLines(t.number(PAPER_BATCH_MAX)));
  return { entries, errors, lines };
}

/** A refusal that leaves the clerk on the initiative's page: a stale form (the initiative moved on) or the engine's own checks. */
function isRefusal(error: unknown): error is Problem {
  return error instanceof Problem && (error.status === 409 || error.code === 'validation');
}

interface ClerkView {
  review?: { values: Record<string, string>; errors: Record<string, string> };
  /** A batch keyed in: each result beside the line, the signer and the sheet it came from (the clerk matches them to the forms). */
  paper?: { csv: string; errors: string[]; results?: PaperResult[]; lines?: number[]; entries?: PaperEntry[] };
  verification?: { values: Record<string, string>; errors: Record<string, string> };
  /** A decision refused as written: its row keeps the reason or partner typed and says, beside that field, what is wrong. */
  decide?: { signatureId: string; reason: string; duplicateOf: string; field: 'reason' | 'duplicateOf'; error: string };
  error?: string;
  status?: number;
}

export const clerkPages = createRouter()
  .get('/clerk', async (c) => {
    const w = await webRequest(c);
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    const { t } = w;
    const { m } = t;
    requireClerk(w);
    const selected = c.req.query('jurisdiction');
    const jurisdictionIds = selected && w.clerkOf.includes(selected) ? [selected] : w.clerkOf;
    const db = c.var.deps.db.db;
    const sections: { key: (typeof SECTIONS)[number][0]; items: InitiativeRow[] }[] = [];
    for (const [key, statuses] of SECTIONS) {
      const items: InitiativeRow[] = [];
      for (const jurisdiction of jurisdictionIds) {
        for (const status of statuses) items.push(...(await listInitiatives(db, { status, jurisdiction, limit: 100 }, w.principal)).items);
      }
      sections.push({ key, items });
    }
    const nameOf = await jurisdictionLabels(db, jurisdictionIds);
    return renderPage(c, w, {
      title: m.clerk.title,
      body: (
        <>
          <h1>{m.clerk.title}</h1>
          <ul class="plain">
            {jurisdictionIds.map((id) => (
              <li data-jurisdiction={id}>
                {nameOf.get(id)?.name ?? id} · <a href={`/clerk/audit?jurisdiction=${encodeURIComponent(id)}`}>{m.clerk.audit}</a>
              </li>
            ))}
          </ul>
          {sections.map((s) => (
            <section aria-labelledby={`section-${s.key}`}>
              <h2 id={`section-${s.key}`}>{m.clerk[s.key]}</h2>
              {s.items.length === 0 ? <p class="muted">{m.clerk.empty}</p> : null}
              <ul>
                {s.items.map((i) => (
                  <li>
                    <a href={`/clerk/initiatives/${i.id}`} lang={i.language}>{i.title}</a> — <StatusTag t={t} status={i.status} opensAt={i.opensAt} now={c.var.deps.clock()} />
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </>
      ),
    });
  })
  .get('/clerk/initiatives/:id', async (c) => {
    const w = await webRequest(c);
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    const { initiative, jurisdiction } = await requireClerkPage(c, w);
    return clerkInitiativePage(c, w, initiative, jurisdiction, {});
  })
  .post('/clerk/initiatives/:id/review', formLimit, async (c) => {
    const { w, form, principal, initiative, jurisdiction } = await clerkFormPost(c);
    const tz = jurisdiction.timeZone;
    const f = w.t.m.fields;
    const errors: Record<string, string> = {};
    const opensAt = form.opensAt ? zonedInstant(form.opensAt, tz) : undefined;
    const closesAt = form.closesAt ? zonedInstant(form.closesAt, tz) : undefined;
    if (form.opensAt && !opensAt) errors.opensAt = f.invalidDate;
    if (form.closesAt && !closesAt) errors.closesAt = f.invalidDate;
    const input =
      form.decision === 'reject'
        ? { decision: 'reject', reason: form.reason?.trim() || undefined }
        : { decision: form.decision, ...(opensAt ? { opensAt } : {}), ...(closesAt ? { closesAt } : {}) };
    const parsed = ReviewSchema.safeParse(input);
    // The schema's own checks: a rejection's reason, dates only when opening, closing after opening.
    const rules = { reason: f.rejectionReason, decision: f.datesOnlyWhenOpening, closesAt: f.closesAfterOpens };
    if (!parsed.success) for (const [field, message] of Object.entries(fieldErrors(w.t, parsed.error.issues, form, rules))) errors[field] ??= message;
    if (closesAt && Date.parse(closesAt) <= c.var.deps.clock().getTime()) errors.closesAt ??= f.closesInFuture;
    if (!parsed.success || Object.keys(errors).length) return clerkInitiativePage(c, w, initiative, jurisdiction, { review: { values: form, errors }, status: 400 });
    try {
      await review(c.var.deps.db.db, initiative.id, parsed.data, principal, c.var.deps.clock());
    } catch (error) {
      if (error instanceof Problem && error.code === 'validation') {
        // The engine's date checks, by their code; without a closing date, the one it derived from the opening is in the past.
        const byCode: Record<string, () => [field: string, message: string]> = {
          'closes-in-past': () => (closesAt || !opensAt ? ['closesAt', f.closesInFuture] : ['opensAt', f.opensTooEarly]),
          'closes-before-opens': () => ['closesAt', f.closesAfterOpens],
          'opens-before-today': () => ['opensAt', f.opensBeforeToday],
          // The latest closing the rules allow, as the engine computed it from the opening.
          'closes-after-period': () => {
            const days = Number(error.extra.collectionDays);
            return ['closesAt', f.closesAfterPeriod(w.t.dateTime(String(error.extra.latestClosesAt), tz), days, w.t.number(days))];
          },
        };
        for (const e of error.errors ?? []) {
          const [field, message] = byCode[e.code ?? '']?.() ?? [e.field.replace(/^body\./, ''), e.message];
          errors[field] ??= message;
        }
        return clerkInitiativePage(c, w, initiative, jurisdiction, { review: { values: form, errors }, status: 400 });
      }
      // Reviewed already, from another tab or by another clerk.
      if (error instanceof Problem && error.status === 409) {
        return clerkInitiativePage(c, w, initiative, jurisdiction, { error: problemMessage(w.t, error, { action: 'review' }), status: 409 });
      }
      throw error;
    }
    return c.redirect(`/clerk/initiatives/${initiative.id}?done=${parsed.data.decision}`, 303);
  })
  // Counted with the API's paper batches, per clerk and per address.
  .post('/clerk/initiatives/:id/paper', formLimit, rateLimit('paper'), async (c) => {
    const { w, form, principal, initiative, jurisdiction } = await clerkFormPost(c);
    const csv = form.csv ?? '';
    const { entries, errors, lines } = parsePaperCsv(csv, w.t);
    if (errors.length || entries.length === 0) {
      return clerkInitiativePage(c, w, initiative, jurisdiction, { paper: { csv, errors: errors.length ? errors : [w.t.m.fields.required] }, status: 400 });
    }
    let outcome: Awaited<ReturnType<typeof keyInPaperBatch>>;
    try {
      outcome = await keyInPaperBatch(c.var.deps, initiative.id, principal, entries);
    } catch (error) {
      if (isRefusal(error)) {
        const message = error.code === 'validation' ? w.t.m.problems.validation : problemMessage(w.t, error, { action: 'paper' });
        return clerkInitiativePage(c, w, initiative, jurisdiction, { paper: { csv, errors: [message] }, status: error.status });
      }
      throw error;
    }
    return clerkInitiativePage(c, w, initiative, jurisdiction, { paper: { csv: '', errors: [], results: outcome.results as PaperResult[], lines, entries } });
  })
  .post('/clerk/initiatives/:id/verification/start', formLimit, async (c) => {
    const { w, form, principal, initiative, jurisdiction } = await clerkFormPost(c);
    const parsed = StartVerificationSchema.safeParse({
      method: form.method,
      ...(form.method === 'sample' && form.sampleSize ? { sampleSize: Number(form.sampleSize) } : {}),
      ...(form.method === 'sample' && form.seed?.trim() ? { seed: form.seed.trim() } : {}),
    });
    if (!parsed.success) {
      const f = w.t.m.fields;
      const errors = fieldErrors(w.t, parsed.error.issues, form, { sampleSize: f.onlySample, seed: f.onlySample });
      return clerkInitiativePage(c, w, initiative, jurisdiction, { verification: { values: form, errors }, status: 400 });
    }
    try {
      await startVerification(c.var.deps, initiative.id, principal, parsed.data);
    } catch (error) {
      // A size below the method's minimum for the signatures counted: said beside the field, with the minimum.
      const tooSmall = error instanceof Problem && error.errors?.some((e) => e.code === 'sample-too-small');
      if (tooSmall) {
        const minimum = Number(error.extra.minimumSampleSize);
        const population = Number(error.extra.population);
        const errors = { sampleSize: w.t.m.fields.sampleTooSmall(w.t.number(minimum), population, w.t.number(population)) };
        return clerkInitiativePage(c, w, initiative, jurisdiction, { verification: { values: form, errors }, status: 400 });
      }
      if (isRefusal(error)) return clerkInitiativePage(c, w, initiative, jurisdiction, { error: problemMessage(w.t, error, { action: 'startVerification' }), status: error.status });
      throw error;
    }
    return c.redirect(`/clerk/initiatives/${initiative.id}?done=started#verification`, 303);
  })
  .post('/clerk/initiatives/:id/verification/decide', formLimit, async (c) => {
    const { w, form, principal, initiative, jurisdiction } = await clerkFormPost(c);
    const f = w.t.m.fields;
    const typed = { signatureId: form.signatureId ?? '', reason: form.reason ?? '', duplicateOf: form.duplicateOf ?? '' };
    const refused = (field: 'reason' | 'duplicateOf', error: string, status = 400) =>
      clerkInitiativePage(c, w, initiative, jurisdiction, { error, decide: { ...typed, field, error }, status });
    // A duplicate's partner, by the reference the page shows beside each signature (the button pressed says whether it is one).
    let duplicateOf: string | undefined;
    if (form.decision === 'duplicate') {
      if (!typed.duplicateOf.trim()) return refused('duplicateOf', f.partnerRequired);
      const partner = await signatureByReference(c.var.deps.db.db, initiative.id, typed.duplicateOf);
      if (partner.found !== 'one') return refused('duplicateOf', partner.found === 'several' ? f.partnerAmbiguous : f.partnerUnknown);
      duplicateOf = partner.id;
    }
    const parsed = DecisionSchema.safeParse({
      signatureId: form.signatureId,
      decision: form.decision,
      ...(form.reason?.trim() ? { reason: form.reason.trim() } : {}),
      ...(duplicateOf ? { duplicateOf } : {}),
    });
    if (!parsed.success) {
      if (parsed.error.issues.some((issue) => issue.path[0] === 'duplicateOf')) return refused('duplicateOf', f.partnerItself);
      const onValid = parsed.error.issues.some((issue) => issue.code === 'custom' && issue.params?.code === 'reason-on-valid');
      const errors = fieldErrors(w.t, parsed.error.issues, form, { reason: onValid ? f.reasonOnValid : f.invalidReason });
      return refused('reason', [...new Set(Object.values(errors))].join(' '));
    }
    try {
      await recordDecisions(c.var.deps, initiative.id, principal, [parsed.data]);
    } catch (error) {
      if (error instanceof Problem && error.code === 'duplicate-partner') return refused('duplicateOf', problemMessage(w.t, error, { action: 'decide' }), 409);
      if (error instanceof Problem && error.code === 'validation') {
        const partnerError = (error.errors ?? []).find((e) => e.field.endsWith('.duplicateOf'));
        if (partnerError) {
          const message = partnerError.code === 'not-in-sample' ? f.partnerNotInSample : partnerError.code === 'signature-withdrawn' ? f.partnerWithdrawn : f.partnerUnknown;
          return refused('duplicateOf', message);
        }
        // The signature left the list meanwhile (withdrawn), or is not one of this sample.
        const withdrawn = (error.errors ?? []).some((e) => e.code === 'signature-withdrawn');
        return clerkInitiativePage(c, w, initiative, jurisdiction, { error: withdrawn ? w.t.m.fields.withdrawnSignature : w.t.m.fields.notASampleSignature, status: 400 });
      }
      if (isRefusal(error)) return clerkInitiativePage(c, w, initiative, jurisdiction, { error: problemMessage(w.t, error, { action: 'decide' }), status: error.status });
      throw error;
    }
    return c.redirect(`/clerk/initiatives/${initiative.id}?done=decided#sample`, 303);
  })
  .post('/clerk/initiatives/:id/verification/complete', formLimit, async (c) => {
    const { w, principal, initiative, jurisdiction } = await clerkFormPost(c);
    try {
      const outcome = await completeVerification(c.var.deps, initiative.id, principal, undefined);
      return c.redirect(`/clerk/initiatives/${initiative.id}?done=${outcome.outcome}`, 303);
    } catch (error) {
      if (error instanceof Problem && error.status === 409) return clerkInitiativePage(c, w, initiative, jurisdiction, { error: problemMessage(w.t, error, { action: 'certify' }), status: 409 });
      throw error;
    }
  })
  .get('/clerk/audit', async (c) => {
    const w = await webRequest(c);
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    const { t } = w;
    const { m } = t;
    requireClerk(w);
    const filters = auditFilters(c);
    const before = /^[1-9][0-9]{0,15}$/.test(c.req.query('before') ?? '') ? Number(c.req.query('before')) : undefined;
    const [entries, labels] = await Promise.all([
      listAudit(c.var.deps.db.db, { jurisdictionIds: w.clerkOf, ...filters, before, limit: AUDIT_PAGE }),
      jurisdictionLabels(c.var.deps.db.db, w.clerkOf),
    ]);
    const last = entries[entries.length - 1];
    const query = Object.fromEntries(Object.entries(filters).filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => [k === 'jurisdictionId' ? 'jurisdiction' : 'initiative', v]));
    const older = entries.length === AUDIT_PAGE && last ? `/clerk/audit?${new URLSearchParams({ ...query, before: String(last.seq) }).toString()}` : null;
    return renderPage(c, w, {
      title: m.clerk.auditTitle,
      body: (
        <>
          <h1 id="audit-title">{m.clerk.auditTitle}</h1>
          <p><a href={`/clerk/audit.csv?${new URLSearchParams(query).toString()}`}>{m.clerk.exportAudit}</a></p>
          <TableScroll labelledBy="audit-title">
            <table>
              <thead>
                <tr>
                  <th scope="col" class="num">{m.clerk.auditSeq}</th>
                  <th scope="col">{m.clerk.auditAt}</th>
                  <th scope="col">{m.clerk.auditActor}</th>
                  <th scope="col">{m.clerk.auditAction}</th>
                  <th scope="col">{m.clerk.auditDetails}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => {
                  const words = m.clerk.auditActions[e.action];
                  const action = words ?? e.action;
                  return (
                    <tr>
                      <td class="num">{e.seq}</td>
                      {/* To the second, in the jurisdiction's time: a clerk's actions often fall several to a minute. */}
                      <td>{t.instant(e.at, (e.jurisdictionId && labels.get(e.jurisdictionId)?.timeZone) || undefined)}</td>
                      <td class="mono">{e.actor}</td>
                      <td>
                        {/* In words, and the code the CSV and the API give, to match one record against the other. */}
                        {e.initiativeId ? <a href={`/clerk/initiatives/${e.initiativeId}`}>{action}</a> : action}
                        {words ? <><br /><code class="muted">{e.action}</code></> : null}
                      </td>
                      <td class="mono">{JSON.stringify(e.details)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableScroll>
          {older ? (
            <p>
              <a href={older}>{m.clerk.auditOlder}</a>
            </p>
          ) : null}
        </>
      ),
    });
  })
  .get('/clerk/audit.csv', async (c) => {
    const w = await webRequest(c);
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    requireClerk(w);
    const db = c.var.deps.db.db;
    const filters = auditFilters(c);
    const clerkOf = w.clerkOf;
    // Every entry, newest first, a page at a time: the entries added meanwhile have higher numbers and are left out whole.
    async function* lines() {
      yield ['seq', 'at', 'actor', 'action', 'jurisdiction', 'initiative', 'details', 'prev_hash', 'hash'];
      for (let before: number | undefined; ; ) {
        const entries = await listAudit(db, { jurisdictionIds: clerkOf, ...filters, before, limit: 1000 });
        // Each line carries what its hash covers and the hash before it: anyone can recompute it (npm run verify -- audit).
        for (const e of entries) yield [String(e.seq), e.at.toISOString(), e.actor, e.action, e.jurisdictionId ?? '', e.initiativeId ?? '', JSON.stringify(e.details), e.prevHash, e.hash];
        if (entries.length < 1000) return;
        before = entries[entries.length - 1]!.seq;
      }
    }
    return csvResponse(c, 'audit.csv', lines());
  })
  .get('/clerk/initiatives/:id/districts.csv', async (c) => {
    const w = await webRequest(c);
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    const { initiative, jurisdiction } = await requireClerkPage(c, w);
    const progress = await progressOf(c, initiative, jurisdiction, { allDistricts: true });
    const electorates = new Map(electorateOf(initiative, jurisdiction).districts.map((x) => [x.code, x.electorate]));
    const lines = [['district', 'name', 'electorate', 'signatures', 'required', 'met']].concat(
      progress.districts.map((d) => [
        d.code,
        d.name,
        String(electorates.get(d.code) ?? ''),
        String(d.signatures),
        d.required === null ? '' : String(d.required),
        d.met === null ? '' : String(d.met),
      ]),
    );
    return csvResponse(c, `districts-${initiative.id}.csv`, lines);
  })
  .onError(errorPage);

const AUDIT_PAGE = 200;

/** The audit filters of a clerk's page or export, as the API takes them; a malformed initiative id filters nothing out. */
function auditFilters(c: WebContext) {
  const initiativeId = c.req.query('initiative');
  return {
    jurisdictionId: c.req.query('jurisdiction') || undefined,
    initiativeId: initiativeId && isUuid(initiativeId) ? initiativeId : undefined,
  };
}

/** A CSV download, streamed line by line; cells a spreadsheet would run as a formula are defused (see csvCell). */
function csvResponse(c: WebContext, filename: string, lines: Iterable<string[]> | AsyncIterable<string[]>) {
  const iterator = Symbol.asyncIterator in lines ? lines[Symbol.asyncIterator]() : (lines as Iterable<string[]>)[Symbol.iterator]();
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(CSV_BOM));
    },
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(csvLine(next.value)));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  return c.body(body, 200, csvDownloadHeaders(filename));
}

async function clerkInitiativePage(c: WebContext, w: WebRequest, initiative: InitiativeRow, jurisdiction: JurisdictionRow, view: ClerkView) {
  const { t } = w;
  const { m } = t;
  const deps = c.var.deps;
  const tz = jurisdiction.timeZone;
  const status = initiative.status;
  const done = c.req.query('done');
  const progress = await progressOf(c, initiative, jurisdiction);
  const verifying = status === 'verifying';
  // Closed below its goal long enough ago: the retention schedule has left nothing to key in paper against, nor to verify.
  const destroyed = status === 'closed' && (await personalDataDestroyed(deps.db.db, initiative.id));
  // A full count under way lists what still awaits a decision (every signature is decided before certification); a sample, all of it.
  const [started] = verifying ? await deps.db.db.select({ method: verifications.method }).from(verifications).where(eq(verifications.initiativeId, initiative.id)) : [];
  // A sample is listed in draw order, 500 rows from a little before its first undecided signature, so that a large one can be worked through.
  const firstPending = started?.method === 'sample' ? await firstPendingPosition(deps.db.db, initiative.id) : null;
  const cursor = firstPending !== null && firstPending >= LIST_SIZE - LIST_CONTEXT ? String(firstPending - LIST_CONTEXT - 1) : undefined;
  const reportQuery = { filter: started?.method === 'full' ? ('pending' as const) : ('all' as const), limit: LIST_SIZE, cursor };
  const report = ['verifying', 'certified', 'insufficient'].includes(status)
    ? await verificationReport(deps, initiative.id, w.principal!, { ...reportQuery, personalData: verifying }).catch(async (error: unknown) => {
        // Personal data under a key the engine does not have has stopped the check against the roll: the page says so, listing the signatures without names.
        if (!(error instanceof PersonalDataKeyError)) throw error;
        const withoutNames = await verificationReport(deps, initiative.id, w.principal!, { ...reportQuery, personalData: false });
        if (withoutNames.rollCheck?.status !== 'stopped') throw error;
        return withoutNames;
      })
    : undefined;
  const reviewValues = view.review?.values ?? {};
  const reviewErrors = view.review?.errors ?? {};
  // The latest closing the rules allow from the opening given, or from now (the opening by default): the date picker's `max`. An opening typed later than now moves it only once the form comes back; the engine checks the closing against the opening sent either way.
  const kindRules = RulesSchema.safeParse(jurisdiction.rules[initiative.kind]);
  const collectionDays = kindRules.success ? kindRules.data.collectionDays : undefined;
  const opening = reviewValues.opensAt ? zonedInstant(reviewValues.opensAt, tz) : deps.clock().toISOString();
  const latestClosing = collectionDays && opening ? localDateTimeField(latestClosesAt(new Date(opening), { collectionDays }, tz), tz) : undefined;
  const verificationValues = view.verification?.values ?? {};
  const verificationErrors = view.verification?.errors ?? {};
  // The smallest sample the method allows for the signatures counted now (the engine checks it again when the sample is drawn).
  const minimumSample = Math.max(1, minimumSampleSize(progress.signatures));
  const sampleSizeHelp = m.clerk.sampleSizeHelp(t.number(minimumSample), progress.signatures, t.number(progress.signatures));
  const doneMessages: Record<string, string> = {
    open: m.clerk.opened,
    reject: m.clerk.rejected,
    started: m.clerk.started,
    decided: m.clerk.decided,
    certified: m.clerk.certified,
    insufficient: m.clerk.insufficient,
  };
  return renderPage(c, w, {
    title: titleAbout(t, m.clerk.title, initiative.title),
    status: view.status ?? 200,
    body: (
      <>
        <p><a href="/clerk">{m.clerk.title}</a> · <a href={`/initiatives/${initiative.id}`} lang={initiative.language}>{initiative.title}</a></p>
        <h1 lang={initiative.language}>{initiative.title}</h1>
        <p>
          {jurisdiction.name} · {m.kinds[initiative.kind]} · <StatusTag t={t} status={status} opensAt={initiative.opensAt} now={deps.clock()} />
        </p>
        {done && doneMessages[done] ? <Notice>{doneMessages[done]}</Notice> : null}
        {view.decide ? (
          <ErrorSummary
            t={t}
            errors={[
              view.decide.field === 'duplicateOf'
                ? { id: `duplicateOf-${view.decide.signatureId}`, label: m.clerk.duplicateOf, message: view.decide.error }
                : { id: `reason-${view.decide.signatureId}`, label: m.clerk.invalidReason, message: view.decide.error },
            ]}
          />
        ) : view.error ? (
          <Notice kind="error">{view.error}</Notice>
        ) : null}

        {status === 'submitted' ? (
          <section aria-labelledby="review-title">
            <h2 id="review-title"><NamingInitiative message={m.clerk.reviewTitle} initiative={initiative} /></h2>
            <p lang={initiative.language}>{initiative.summary}</p>
            {initiative.question ? <blockquote class="question" lang={initiative.language}>{initiative.question}</blockquote> : null}
            <details>
              <summary>{m.initiative.text}</summary>
              <div class="text" lang={initiative.language}>{initiative.text}</div>
            </details>
            {Object.keys(reviewErrors).length ? (
              <ErrorSummary
                t={t}
                errors={fieldsInError(reviewErrors, [
                  ['decision', reviewValues.decision === 'reject' ? 'decision-reject' : 'decision-open', m.clerk.decision],
                  ['reason', 'reason', m.clerk.reason],
                  ['opensAt', 'opensAt', m.clerk.opensAt],
                  ['closesAt', 'closesAt', m.clerk.closesAt],
                ])}
              />
            ) : null}
            <form method="post" action={`/clerk/initiatives/${initiative.id}/review`} novalidate>
              <CsrfField w={w} />
              <fieldset class={reviewErrors.decision ? 'field invalid' : 'field'} aria-describedby={reviewErrors.decision ? 'decision-error' : undefined}>
                <legend>{m.clerk.decision}</legend>
                <div>
                  <input type="radio" id="decision-open" name="decision" value="open" checked={reviewValues.decision !== 'reject'} />{' '}
                  <label for="decision-open">{m.clerk.admit}</label>
                </div>
                <div>
                  <input type="radio" id="decision-reject" name="decision" value="reject" checked={reviewValues.decision === 'reject'} />{' '}
                  <label for="decision-reject">{m.clerk.reject}</label>
                </div>
                {reviewErrors.decision ? <p class="field-error" id="decision-error">{reviewErrors.decision}</p> : null}
              </fieldset>
              <Field id="reason" label={m.clerk.reason} error={reviewErrors.reason}>
                <textarea {...describedBy('reason', reviewErrors.reason)} rows={3}>{reviewValues.reason ?? ''}</textarea>
              </Field>
              <p class="help" id="dates-help">{m.clerk.datesHelp} {m.clerk.datesZone(tz)}</p>
              <Field id="opensAt" label={m.clerk.opensAt} error={reviewErrors.opensAt}>
                <input type="datetime-local" {...describedBy('opensAt', reviewErrors.opensAt)} value={reviewValues.opensAt ?? ''} />
              </Field>
              <Field id="closesAt" label={m.clerk.closesAt} error={reviewErrors.closesAt} help={collectionDays ? m.clerk.closesAtHelp(collectionDays, t.number(collectionDays)) : undefined}>
                <input
                  type="datetime-local"
                  {...describedBy('closesAt', reviewErrors.closesAt, collectionDays ? 'help' : undefined)}
                  max={latestClosing}
                  value={reviewValues.closesAt ?? ''}
                />
              </Field>
              <button type="submit">{m.clerk.decide}</button>
            </form>
          </section>
        ) : null}

        {status === 'open' || status === 'closed' ? (
          <section aria-labelledby="paper-title" id="paper">
            <h2 id="paper-title">{m.clerk.paper}</h2>
            {view.paper?.results ? (
              <>
                <h3 id="paper-results-title">{m.clerk.paperResults}</h3>
                <TableScroll labelledBy="paper-results-title">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col" class="num">{m.clerk.paperLine}</th>
                        <th scope="col">{m.clerk.paperSigner}</th>
                        <th scope="col">{m.clerk.paperSheet}</th>
                        <th scope="col">{m.clerk.paperOutcome}</th>
                        <th scope="col">{m.initiative.reason}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {view.paper.results.map((r) => {
                        const entry = view.paper?.entries?.[r.index];
                        return (
                          <tr data-paper-outcome={r.status}>
                            <td class="num">{view.paper?.lines?.[r.index] ?? r.index + 1}</td>
                            <td>{entry ? `${entry.familyName} ${entry.givenNames}` : ''}</td>
                            <td>{entry?.sheet ?? ''}</td>
                            <td>{m.clerk.outcomes[r.status]}</td>
                            <td>{r.status === 'ineligible' ? (m.clerk.paperIneligible[r.rule] ?? r.detail) : ''}</td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </TableScroll>
              </>
            ) : null}
            {view.paper?.errors.length ? <ErrorSummary t={t} errors={view.paper.errors.map((message) => ({ id: 'csv', message }))} /> : null}
            {destroyed ? (
              <p>{m.problems.personalDataDestroyedPaper}</p>
            ) : (
              <form method="post" action={`/clerk/initiatives/${initiative.id}/paper`} novalidate>
                <CsrfField w={w} />
                <Field id="csv" label={m.clerk.paperCsv} help={m.clerk.paperHelp} error={view.paper?.errors.join(' · ') || undefined}>
                  <textarea class="mono" rows={8} {...describedBy('csv', view.paper?.errors.length ? 'x' : undefined, m.clerk.paperHelp)} placeholder="Dupont,Élodie Marie,1990-04-12,75111,3F2A9C1B-0042,C-07">
                    {view.paper?.csv ?? ''}
                  </textarea>
                </Field>
                <button type="submit">{m.clerk.paperSubmit}</button>
              </form>
            )}
          </section>
        ) : null}

        {status === 'closed' ? (
          <section aria-labelledby="verification-title" id="verification">
            <h2 id="verification-title">{m.clerk.verification}</h2>
            {Object.keys(verificationErrors).length ? (
              <ErrorSummary
                t={t}
                errors={fieldsInError(verificationErrors, [
                  ['method', verificationValues.method === 'full' ? 'method-full' : 'method-sample', m.clerk.method],
                  ['sampleSize', 'sampleSize', m.clerk.sampleSize],
                  ['seed', 'seed', m.clerk.seed],
                ])}
              />
            ) : null}
            {destroyed ? (
              <p>{m.problems.personalDataDestroyedVerification}</p>
            ) : (
              <form method="post" action={`/clerk/initiatives/${initiative.id}/verification/start`} novalidate>
                <CsrfField w={w} />
                <fieldset class={verificationErrors.method ? 'field invalid' : 'field'} aria-describedby={verificationErrors.method ? 'method-error' : undefined}>
                  <legend>{m.clerk.method}</legend>
                  <div>
                    <input type="radio" id="method-sample" name="method" value="sample" checked={verificationValues.method !== 'full'} />{' '}
                    <label for="method-sample">{m.clerk.sample}</label>
                  </div>
                  <div>
                    <input type="radio" id="method-full" name="method" value="full" checked={verificationValues.method === 'full'} /> <label for="method-full">{m.clerk.full}</label>
                  </div>
                  {verificationErrors.method ? <p class="field-error" id="method-error">{verificationErrors.method}</p> : null}
                </fieldset>
                <Field id="sampleSize" label={m.clerk.sampleSize} help={sampleSizeHelp} error={verificationErrors.sampleSize}>
                  <input
                    type="number"
                    min={String(minimumSample)}
                    {...describedBy('sampleSize', verificationErrors.sampleSize, sampleSizeHelp)}
                    value={verificationValues.sampleSize ?? ''}
                  />
                </Field>
                <Field id="seed" label={m.clerk.seed} error={verificationErrors.seed}>
                  <input type="text" {...describedBy('seed', verificationErrors.seed)} value={verificationValues.seed ?? ''} />
                </Field>
                <button type="submit">{m.clerk.start}</button>
              </form>
            )}
          </section>
        ) : null}

        {report ? (
          <section aria-labelledby="verification-title" id="verification">
            <h2 id="verification-title"><NamingInitiative message={m.clerk.verificationTitle} initiative={initiative} /></h2>
            <dl class="facts">
              <dt>{m.clerk.method}</dt>
              <dd>{report.method === 'sample' ? m.clerk.sample : m.clerk.full}</dd>
              <dt>{m.clerk.raw}</dt>
              <dd>{t.number(report.counts.raw)}</dd>
              {report.method === 'sample' ? (
                <>
                  {/* A sample: how many were drawn, and how many of them were found valid one by one (the projection comes below). */}
                  <dt>{m.clerk.sampleDrawn}</dt>
                  <dd data-sample-size="">{t.number(report.sampleSize ?? 0)}</dd>
                </>
              ) : (
                <>
                  {/* Until every signature of a full count is decided, those still counted are not yet valid: they are only not struck out. */}
                  <dt>{report.tallies.pending === 0 ? m.clerk.validCount : m.clerk.keptCount}</dt>
                  <dd data-valid-count="">{t.number(report.counts.valid)}</dd>
                </>
              )}
              {report.tallies.pending > 0 ? (
                <>
                  <dt>{m.clerk.ofWhichPending}</dt>
                  <dd data-pending-count="">{t.number(report.tallies.pending)}</dd>
                </>
              ) : null}
              {report.method === 'sample' ? (
                <>
                  <dt>{m.clerk.verifiedInSample}</dt>
                  <dd data-verified-count="">{t.number(report.counts.verified)}</dd>
                </>
              ) : null}
              {/* What the count is measured against, on the page where the clerk certifies. */}
              <dt>{m.initiative.criterionGoal}</dt>
              <dd data-goal="">{t.number(report.criteria.find((x) => x.kind === 'goal')?.required ?? 0)}</dd>
              {report.seed ? (
                <>
                  <dt>{m.clerk.seedUsed}</dt>
                  <dd class="mono">{report.seed}</dd>
                </>
              ) : null}
            </dl>
            {/* The scheduler checks a full count against the roll page by page: the page says how far, and reloading it tells more. */}
            {report.rollCheck?.status === 'running' ? (
              <p data-roll-check="running">
                {m.clerk.rollCheckRunning(t.number(report.rollCheck.checked), t.number(report.rollCheck.toCheck))} {m.clerk.rollCheckReload}
              </p>
            ) : report.rollCheck?.status === 'stopped' ? (
              <p data-roll-check="stopped">{m.clerk.rollCheckStopped(report.rollCheck.missingKey ?? '')}</p>
            ) : report.roll ? (
              <p data-roll-check="done">
                {m.clerk.rollCheckDone(t.number(report.roll.onRoll), t.number(report.roll.notOnRoll), t.number(report.roll.otherDistrict), t.number(report.roll.noPersonalData))}
              </p>
            ) : null}
            {/* A full count, once decided: each rule on the valid signatures, so that pressing "certify" holds no surprise. */}
            {report.method === 'full' && report.tallies.pending === 0 ? (
              <ul data-criteria="">
                {report.criteria.map((x) => (
                  <li>
                    {x.kind === 'goal' ? m.initiative.criterionGoal : m.initiative.criterionDistricts}{m.colon} {t.number(x.current)} / {t.number(x.required)} (
                    {x.met ? m.initiative.yes : m.initiative.no})
                  </li>
                ))}
              </ul>
            ) : null}
            {report.projection ? (
              <>
                <h3>{m.clerk.projection}</h3>
                {/* Undecided signatures count as not valid in the projection: no conclusion before the sample is decided. */}
                {report.tallies.pending > 0 ? (
                  <p data-conclusion-pending="">{m.clerk.conclusionPending(report.tallies.pending, t.number(report.tallies.pending))}</p>
                ) : (
                  <>
                    <p data-projected="">{m.clerk.projected(t.number(Math.floor(report.projection.projectedValid)))}</p>
                    <p>
                      <strong>{m.clerk.band}{m.colon}</strong> <span data-band={report.projection.band}>
                        {/* A sample of every signature is a count: its conclusion is the threshold met or not, with no band of 110 % or 95 %. */}
                        {(report.projection.sampleSize >= report.projection.population ? m.clerk.exactBands : m.clerk.bands)[report.projection.band]}
                      </span>
                    </p>
                  </>
                )}
              </>
            ) : null}
            {status === 'verifying' ? (
              <>
                <h3 id="sample">{report.method === 'sample' ? m.clerk.sampleList : m.clerk.pendingList(t.number(report.tallies.pending))}</h3>
                <p class="help">{m.clerk.decideHelp}</p>
                <TableScroll labelledBy="sample">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">#</th>
                        <th scope="col">{m.receipt.signature}</th>
                        <th scope="col">{m.initiative.district}</th>
                        <th scope="col">{m.mine.channel}</th>
                        <th scope="col">{m.clerk.decision}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {report.signatures.items.map((s, i) => {
                        const refusedHere = view.decide?.signatureId === s.id && view.decide.field === 'reason';
                        const partnerRefused = view.decide?.signatureId === s.id && view.decide.field === 'duplicateOf';
                        return (
                          <tr data-sample-row="" data-pending={s.decision ? undefined : ''} tabindex={-1} id={`s-${s.id}`}>
                            <td>{(s.position ?? i) + 1}</td>
                            <td id={`who-${s.id}`}>
                              {s.personalData ? (
                                <>
                                  {s.personalData.familyName} {s.personalData.givenNames} ({s.personalData.birthdate})
                                  <br />
                                </>
                              ) : null}
                              <span class="mono muted">{s.id.slice(0, 8)}</span>
                              {s.sheet ? <> · {s.sheet}</> : null}
                            </td>
                            <td>{districtsByCode(jurisdiction.districts).get(s.district)?.name ?? s.district}</td>
                            <td>{m.mine.channels[s.channel]}</td>
                            <td>
                              {s.decision ? (
                                <strong data-decision={s.decision.decision}>
                                  {s.decision.decision === 'valid' ? m.clerk.valid : s.decision.decision === 'invalid' ? m.clerk.invalid : m.clerk.duplicate}
                                  {s.decision.duplicateOf ? <> {m.clerk.duplicateOfShown} <span class="mono" data-duplicate-of={s.decision.duplicateOf}>{s.decision.duplicateOf.slice(0, 8)}</span></> : null}
                                  {s.decision.reason ? ` — ${s.decision.reason}` : ''}
                                </strong>
                              ) : (
                                <form method="post" action={`/clerk/initiatives/${initiative.id}/verification/decide`} class="decide">
                                  <CsrfField w={w} />
                                  <input type="hidden" name="signatureId" value={s.id} />
                                  {/* Enter in the reason submits the form with its first button: "invalid", as the reason says (unseen, out of the tab order). */}
                                  <button type="submit" name="decision" value="invalid" hidden tabindex={-1} aria-hidden="true" />
                                  <label for={`reason-${s.id}`} class="muted">{m.clerk.invalidReason}</label>{' '}
                                  {/* Each row's field and buttons are described by whose signature they decide: a screen reader listing the buttons tells them apart. */}
                                  <input
                                    type="text"
                                    id={`reason-${s.id}`}
                                    name="reason"
                                    size={14}
                                    value={refusedHere ? view.decide!.reason : undefined}
                                    aria-invalid={refusedHere ? 'true' : undefined}
                                    aria-describedby={refusedHere ? `who-${s.id} reason-${s.id}-error` : `who-${s.id}`}
                                  />{' '}
                                  <button type="submit" name="decision" value="valid" aria-describedby={`who-${s.id}`}>{m.clerk.valid}</button>{' '}
                                  <button type="submit" name="decision" value="invalid" class="secondary" aria-describedby={`who-${s.id}`}>{m.clerk.invalid}</button>
                                  {refusedHere ? <p class="field-error" id={`reason-${s.id}-error`}>{view.decide!.error}</p> : null}
                                </form>
                              )}
                              {s.decision ? null : (
                                // A form of its own, so that Enter in the partner's reference records a duplicate of it.
                                <form method="post" action={`/clerk/initiatives/${initiative.id}/verification/decide`} class="decide-duplicate">
                                  <CsrfField w={w} />
                                  <input type="hidden" name="signatureId" value={s.id} />
                                  <label for={`duplicateOf-${s.id}`} class="muted">{m.clerk.duplicateOf}</label>{' '}
                                  <input
                                    type="text"
                                    id={`duplicateOf-${s.id}`}
                                    name="duplicateOf"
                                    size={10}
                                    autocomplete="off"
                                    value={partnerRefused ? view.decide!.duplicateOf : undefined}
                                    aria-invalid={partnerRefused ? 'true' : undefined}
                                    aria-describedby={partnerRefused ? `who-${s.id} duplicateOf-${s.id}-error` : `who-${s.id}`}
                                  />{' '}
                                  <button type="submit" name="decision" value="duplicate" class="secondary" aria-describedby={`who-${s.id}`}>{m.clerk.duplicate}</button>
                                  {partnerRefused ? <p class="field-error" id={`duplicateOf-${s.id}-error`}>{view.decide!.error}</p> : null}
                                </form>
                              )}
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </TableScroll>
                {/* A sample between 95 % and 110 %: certifying is refused, the one way on is a full count in its place. */}
                {report.projection?.band === 'full-count' && report.tallies.pending === 0 ? (
                  <form method="post" action={`/clerk/initiatives/${initiative.id}/verification/start`} data-full-count="">
                    <CsrfField w={w} />
                    <input type="hidden" name="method" value="full" />
                    <p class="help">{m.clerk.fullCountHelp}</p>
                    <button type="submit">{m.clerk.fullCountInstead}</button>
                  </form>
                ) : report.rollCheck && report.rollCheck.status !== 'done' ? null : (
                  <form method="post" action={`/clerk/initiatives/${initiative.id}/verification/complete`}>
                    <CsrfField w={w} />
                    <p class="help">{m.clerk.certifyHelp}</p>
                    <button type="submit">{m.clerk.certify}</button>
                  </form>
                )}
              </>
            ) : null}
            {report.counts.districts.length > 0 ? <VerifiedDistricts t={t} initiativeId={initiative.id} jurisdiction={jurisdiction} report={report} /> : null}
            {report.referendumItemId ? (
              <p>
                <strong>{m.clerk.referendumItem[initiative.kind]}{m.colon}</strong>{' '}
                <a href={`/results/${report.referendumItemId}`}>{m.clerk.certificate}</a>
              </p>
            ) : null}
          </section>
        ) : null}

        <section aria-labelledby="exports-title">
          <h2 id="exports-title">{m.clerk.exports}</h2>
          <ul>
            <li><a href={`/clerk/initiatives/${initiative.id}/districts.csv`}>{m.clerk.exportDistricts}</a></li>
            <li><a href={`/clerk/audit.csv?initiative=${initiative.id}`}>{m.clerk.exportAudit}</a></li>
            <li><a href={`/clerk/audit?initiative=${initiative.id}`}>{m.clerk.audit}</a></li>
            {report ? <li><a href={`/v1/initiatives/${initiative.id}/verification/export`}>{m.clerk.exportDecisions}</a></li> : null}
          </ul>
        </section>
        <DistrictTable t={t} progress={progress} />
        {initiative.closesAt ? <p class="muted">{closingLine(t, initiative.closesAt, tz)}</p> : null}
      </>
    ),
  });
}

/**
 * The verified count of each district the report lists: every one up to 1,000 districts; beyond, the
 * page says which it lists, and the CSV gives them all (the rules and the certificate take them all).
 */
function VerifiedDistricts(props: { t: Translator; initiativeId: string; jurisdiction: JurisdictionRow; report: Awaited<ReturnType<typeof verificationReport>> }) {
  const { t, report } = props;
  const { m } = t;
  const { districts, districtCount } = report.counts;
  const names = districtsByCode(props.jurisdiction.districts);
  const hasRequired = districts.some((d) => d.required !== null);
  // As the count above: a sample's are projections, a full count's are valid once nothing awaits a decision.
  const validLabel = report.method === 'sample' ? m.clerk.projection : report.tallies.pending === 0 ? m.clerk.validCount : m.clerk.keptCount;
  return (
    <>
      <h3 id="verified-districts-title">{m.clerk.verifiedDistricts}</h3>
      {districts.length < districtCount ? <p class="muted">{m.clerk.verifiedDistrictsListed(t.number(districts.length), t.number(districtCount))}</p> : null}
      <p>
        <a href={`/v1/initiatives/${props.initiativeId}/verification/districts`}>{m.clerk.exportVerifiedDistricts}</a>
      </p>
      <TableScroll labelledBy="verified-districts-title">
        <table>
          <thead>
            <tr>
              <th scope="col">{m.initiative.district}</th>
              <th scope="col" class="num">{m.clerk.raw}</th>
              <th scope="col" class="num">{validLabel}</th>
              {hasRequired ? <th scope="col" class="num">{m.initiative.districtRequired}</th> : null}
              {hasRequired ? <th scope="col">{m.initiative.districtMet}</th> : null}
            </tr>
          </thead>
          <tbody>
            {districts.map((d) => (
              <tr data-verified-district={d.code}>
                <th scope="row">{names.get(d.code)?.name ?? d.code}</th>
                <td class="num">{t.number(d.raw)}</td>
                <td class="num">{t.number(d.valid)}</td>
                {hasRequired ? <MinimumCells t={t} district={d} /> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </>
  );
}
