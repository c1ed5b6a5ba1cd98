import {
  PAPER_FORM_FIRST_MAX,
  PAPER_FORM_ROWS,
  PAPER_FORM_SHEETS_MAX,
  PAPER_JURISDICTION_NAME_MAX,
  PAPER_QUESTION_MAX,
  PAPER_SUMMARY_MAX,
  PaperFormQuerySchema,
  paperSheetReference,
  printedExcerpt,
  takesPaperForms,
} from '../features/paper/forms';
import type { InitiativeRow } from '../features/initiatives/service';
import type { JurisdictionRow } from '../features/jurisdictions/service';
import { DEFAULT_RETENTION } from '../features/personal-data/service';
import { createRouter } from '../platform/http';
import { visibleInitiative } from './citizen';
import { errorPage } from './errors';
import { districtListPath } from './jurisdiction';
import { describedBy, ErrorSummary, Field, fieldsInError, NamingInitiative, Notice, renderPage, TableScroll, titleAbout } from './layout';
import { fieldErrors } from './problems';
import { webRequest, type WebContext, type WebRequest } from './request';
import { closingLine } from './views';

/** Up to this many districts, each sheet lists their codes; beyond, it says where the list is (35,000 communes fill no sheet). */
export const PAPER_FORM_DISTRICTS_LISTED = 24;
/** A district whose code and name are longer than this together takes two lines or more of the list: the sheet then says where the list is. */
const PAPER_FORM_DISTRICT_LINE_MAX = 32;
/** A text up to this long, in as many lines at most, is printed whole; a longer one leaves its summary and the address of the whole. */
const PAPER_FORM_TEXT_MAX = 200;
const PAPER_FORM_TEXT_LINES = 3;

/** Whether each sheet has room for the jurisdiction's districts, code and name. */
const listsDistricts = (jurisdiction: JurisdictionRow) =>
  jurisdiction.districts.length <= PAPER_FORM_DISTRICTS_LISTED && jurisdiction.districts.every((d) => d.code.length + 1 + d.name.length <= PAPER_FORM_DISTRICT_LINE_MAX);

/** Whether the whole text fits on the sheet, lines included (a line break takes a line whatever its length). */
const printsText = (text: string) => text.length <= PAPER_FORM_TEXT_MAX && text.split('\n').length <= PAPER_FORM_TEXT_LINES;

/**
 * Millimetres of an A4 sheet left for its title, summary, question, text and list of districts:
 * the rest (reference, facts, notice, collector, ten rows) takes about 196 of the 277 printed, as
 * measured in Chromium at the longest the schema allows (tests/e2e/accessibility.test.ts), and a
 * few are kept in hand for other browsers' fonts.
 */
const SHEET_ROOM_MM = 76;
/** Printed lines of a text at `perLine` characters a line, each line break starting one. */
const linesOf = (text: string, perLine: number) => text.split('\n').reduce((n, line) => n + Math.max(1, Math.ceil([...line].length / perLine)), 0);

/**
 * What a sheet prints beside what it always does: the whole text when short, the list of district
 * codes when the districts are few. Their heights are estimated from the lengths printed (per line:
 * the title 6 mm at 60 characters, the summary 4.5 at 95, the question 4.7 at 80 plus its frame,
 * the text 4.5 at 95, three district codes 3.5 under a 6 mm heading); what does not fit goes, the
 * list of codes first (the list page gives them), then the text (the public page gives it).
 */
function sheetContents(initiative: InitiativeRow, jurisdiction: JurisdictionRow): { text: boolean; districts: boolean } {
  const fixed =
    6 * linesOf(`Feuille n° 99 999 : ${initiative.title}`, 60) +
    4.5 * linesOf(printedExcerpt(initiative.summary, PAPER_SUMMARY_MAX), 95) +
    (initiative.question ? 3 + 4.7 * linesOf(printedExcerpt(initiative.question, PAPER_QUESTION_MAX), 80) : 0);
  // A text too long to print, or districts too many to list, take no room: the sheet gives their addresses.
  const text = printsText(initiative.text) ? 4.5 * linesOf(initiative.text, 95) : 0;
  const districts = listsDistricts(jurisdiction) ? 6 + 3.5 * Math.ceil(jurisdiction.districts.length / 3) : 0;
  const fits = fixed + text + districts <= SHEET_ROOM_MM;
  return { text: text > 0 && (fits || fixed + text <= SHEET_ROOM_MM), districts: districts > 0 && fits };
}

export const paperFormPages = createRouter()
  .get('/initiatives/:id/paper-form', async (c) => {
    const w = await webRequest(c);
    const { initiative, jurisdiction } = await visibleInitiative(c, w);
    const { t } = w;
    const { m } = t;
    const title = titleAbout(t, m.paperForm.title, initiative.title);
    const naming = (name: string) => titleAbout(t, m.paperForm.title, name);
    if (!takesPaperForms(initiative, c.var.deps.clock())) {
      return renderPage(c, w, {
        title,
        status: 409,
        body: (
          <>
            <p><a href={`/initiatives/${initiative.id}`} lang={initiative.language}>{initiative.title}</a></p>
            <h1><NamingInitiative message={naming} initiative={initiative} /></h1>
            <Notice kind="error">{m.paperForm.notOpen}</Notice>
          </>
        ),
      });
    }
    const raw = { sheets: c.req.query('sheets'), from: c.req.query('from') };
    const parsed = PaperFormQuerySchema.safeParse(raw);
    const errors = parsed.success ? {} : fieldErrors(t, parsed.error.issues, raw);
    const first = parsed.success ? parsed.data.from : 0;
    const numbers = parsed.success ? Array.from({ length: parsed.data.sheets }, (_, i) => first + i) : [];
    return renderPage(c, w, {
      title,
      status: parsed.success ? 200 : 400,
      body: (
        <>
          <div class="screen-only">
            <p><a href={`/initiatives/${initiative.id}`} lang={initiative.language}>{initiative.title}</a></p>
            <h1><NamingInitiative message={naming} initiative={initiative} /></h1>
            {parsed.success ? (
              <>
                <p>{m.paperForm.intro(t.number(numbers[0]!), t.number(numbers[numbers.length - 1]!))}</p>
                <p>{m.paperForm.printHelp}</p>
              </>
            ) : (
              <ErrorSummary
                t={t}
                errors={fieldsInError(errors, [
                  ['sheets', 'sheets', m.paperForm.sheets],
                  ['from', 'from', m.paperForm.from],
                ])}
              />
            )}
            <section aria-labelledby="paper-batch-title">
              <h2 id="paper-batch-title">{m.paperForm.batch}</h2>
              <PaperFormBatch w={w} initiative={initiative} submit={m.paperForm.prepare} values={{ sheets: raw.sheets ?? '1', from: raw.from ?? '1' }} errors={errors} />
            </section>
          </div>
          {numbers.map((n) => (
            <PaperSheet c={c} w={w} initiative={initiative} jurisdiction={jurisdiction} number={n} />
          ))}
        </>
      ),
    });
  })
  .onError(errorPage);

/** Which sheets to print: a form asking for the page of sheets (GET, no script), on that page and on the sponsor's dashboard. */
export function PaperFormBatch(props: { w: WebRequest; initiative: Pick<InitiativeRow, 'id'>; submit: string; values?: { sheets: string; from: string }; errors?: Record<string, string> }) {
  const { w, values = { sheets: '1', from: '1' }, errors = {} } = props;
  const { t } = w;
  const { m } = t;
  const sheetsHelp = m.paperForm.sheetsHelp(t.number(PAPER_FORM_SHEETS_MAX));
  return (
    <form method="get" action={`/initiatives/${props.initiative.id}/paper-form`} class="filters" novalidate>
      <Field id="sheets" label={m.paperForm.sheets} help={sheetsHelp} error={errors.sheets}>
        <input type="number" min="1" max={String(PAPER_FORM_SHEETS_MAX)} {...describedBy('sheets', errors.sheets, sheetsHelp)} value={values.sheets} />
      </Field>
      <Field id="from" label={m.paperForm.from} help={m.paperForm.fromHelp} error={errors.from}>
        <input type="number" min="1" max={String(PAPER_FORM_FIRST_MAX)} {...describedBy('from', errors.from, m.paperForm.fromHelp)} value={values.from} />
      </Field>
      <button type="submit">{props.submit}</button>
    </form>
  );
}

/** One printed sheet: what is signed, the notice a signer needs, its reference, the collector's line and the rows the clerk keys in. */
function PaperSheet(props: { c: WebContext; w: WebRequest; initiative: InitiativeRow; jurisdiction: JurisdictionRow; number: number }) {
  const { c, w, initiative, jurisdiction, number } = props;
  const { t } = w;
  const { m } = t;
  const f = m.paperForm;
  const publicUrl = c.var.deps.config.publicUrl;
  const pageUrl = `${publicUrl}/initiatives/${initiative.id}`;
  const listUrl = `${publicUrl}${districtListPath(jurisdiction)}`;
  const reference = paperSheetReference(initiative.id, number);
  const id = `sheet-${number}`;
  const retention = c.var.deps.config.retention ?? DEFAULT_RETENTION;
  const districtNoun = m.fields.paperFields.district!;
  const contents = sheetContents(initiative, jurisdiction);
  const many = !contents.districts;
  const districtColumn = f.columns.district(m.initiative.district, many);
  const tz = jurisdiction.timeZone;
  const jurisdictionName = printedExcerpt(jurisdiction.name, PAPER_JURISDICTION_NAME_MAX);
  return (
    <section class="paper-sheet" aria-labelledby={`${id}-title`} data-sheet={reference}>
      <div class="sheet-head">
        <h2 id={`${id}-title`}>
          <NamingInitiative message={(title) => f.sheetTitle(t.number(number), title)} initiative={initiative} />
        </h2>
        <p class="sheet-ref">
          {f.reference}{m.colon} <strong class="mono" data-sheet-ref="">{reference}</strong>
        </p>
      </div>
      <dl class="facts">
        <dt>{f.jurisdiction}</dt>
        <dd>{jurisdictionName}</dd>
        <dt>{f.kind}</dt>
        <dd>{m.kinds[initiative.kind]}</dd>
        <dt>{f.collection}</dt>
        <dd>
          {initiative.opensAt && initiative.opensAt > c.var.deps.clock() ? <>{m.initiative.opensAt(t.dateTime(initiative.opensAt, tz))} · </> : null}
          {initiative.closesAt ? closingLine(t, initiative.closesAt, tz) : null}
        </dd>
        <dt>{f.fullText}</dt>
        <dd><a href={pageUrl}>{pageUrl}</a></dd>
      </dl>
      <p lang={initiative.language}>{printedExcerpt(initiative.summary, PAPER_SUMMARY_MAX)}</p>
      {initiative.question ? <blockquote class="question" lang={initiative.language}>{printedExcerpt(initiative.question, PAPER_QUESTION_MAX)}</blockquote> : null}
      {contents.text ? <div class="text sheet-text" lang={initiative.language}>{initiative.text}</div> : null}
      <h3>{f.notice}</h3>
      <ul class="sheet-notice">
        <li>
          {f.whoMaySign(t.number(jurisdiction.minimumAge), districtNoun, jurisdictionName)}
          {jurisdiction.requireRoll ? <> {f.roll}</> : null}
        </li>
        <li>{f.onePerPerson}</li>
        <li>{f.checked}</li>
        <li>
          {f.personalData(
            f.monthsAfter(retention.afterResultMonths, t.number(retention.afterResultMonths)),
            f.monthsAfter(retention.afterWithdrawalMonths, t.number(retention.afterWithdrawalMonths)),
          )}
        </li>
        <li>{f.returnTo(jurisdictionName)}</li>
      </ul>
      {many ? (
        <p class="sheet-districts">
          {f.manyDistricts(districtNoun)} <a href={listUrl}>{listUrl}</a>
        </p>
      ) : (
        <div class="sheet-districts">
          <h3>{f.districtCodes(districtColumn)}</h3>
          <ul class="district-codes">
            {jurisdiction.districts.map((d) => (
              <li><span class="mono">{d.code}</span> {d.name}</li>
            ))}
          </ul>
        </div>
      )}
      <p class="fill-line">{f.collector}{m.colon} <span class="blank"></span></p>
      <TableScroll labelledBy={`${id}-rows`}>
        <table class="sheet-rows">
          <caption id={`${id}-rows`}>{f.signatures(reference)}</caption>
          <thead>
            <tr>
              <th scope="col" class="num col-line">{f.columns.line}</th>
              <th scope="col">{f.columns.familyName}</th>
              <th scope="col">{f.columns.givenNames}</th>
              <th scope="col" class="col-date">{f.columns.birthdate}</th>
              <th scope="col">{districtColumn}</th>
              <th scope="col" class="col-date">{f.columns.signedOn}</th>
              <th scope="col" class="col-signature">{f.columns.signature}</th>
            </tr>
          </thead>
          <tbody>
            {Array.from({ length: PAPER_FORM_ROWS }, (_, i) => (
              <tr>
                <th scope="row" class="num">{t.number(i + 1)}</th>
                <td></td>
                <td></td>
                <td></td>
                <td></td>
                <td></td>
                <td></td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </section>
  );
}
