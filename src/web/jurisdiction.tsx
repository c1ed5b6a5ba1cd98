import { DISTRICT_PAGE_SIZE, districtPages, DistrictListQuerySchema, lookUpDistrictOf } from '../features/jurisdictions/districts';
import { getJurisdiction, type JurisdictionRow } from '../features/jurisdictions/service';
import type { District } from '../db/schema';
import { createRouter } from '../platform/http';
import { errorPage } from './errors';
import type { Translator } from './i18n';
import { describedBy, ErrorSummary, Field, fieldsInError, Notice, renderPage, TableScroll, titleAbout } from './layout';
import { fieldErrors } from './problems';
import { webRequest } from './request';

/** The address of a jurisdiction's public list of districts (the paper form prints it whole). */
export const districtListPath = (jurisdiction: Pick<JurisdictionRow, 'id'>) => `/jurisdictions/${encodeURIComponent(jurisdiction.id)}`;

/**
 * A jurisdiction's districts for people: their names and codes in the jurisdiction's order, a page
 * at a time, and a search by name or code matching as the sign form does. The paper form sends
 * signers here to find the code of their district.
 */
export const jurisdictionPages = createRouter()
  .get('/jurisdictions/:id', async (c) => {
    const w = await webRequest(c);
    const jurisdiction = await getJurisdiction(c.var.deps.db.db, c.req.param('id'));
    w.t = w.t.of(jurisdiction);
    const { t } = w;
    const { m } = t;
    const l = m.districtList;
    const path = districtListPath(jurisdiction);
    const raw = { page: c.req.query('page'), q: c.req.query('q') };
    const parsed = DistrictListQuerySchema.safeParse(raw);
    const errors = parsed.success ? {} : fieldErrors(t, parsed.error.issues, raw);
    const last = districtPages(jurisdiction.districts);
    // A page past the last is no more a page of the list than "two" is.
    if (parsed.success && parsed.data.page > last) errors.page = l.noSuchPage(last, t.number(last));
    else if (errors.page) errors.page = l.noSuchPage(last, t.number(last));
    const refused = Object.keys(errors).length > 0;
    const query = parsed.success && !refused ? parsed.data : undefined;
    return renderPage(c, w, {
      title: titleAbout(t, l.title, jurisdiction.name),
      status: refused ? 400 : 200,
      body: (
        <>
          <h1>{titleAbout(t, l.title, jurisdiction.name)}</h1>
          {errors.page ? (
            <Notice kind="error">
              <p>{errors.page}</p>
              <p><a href={path}>{l.firstPage}</a></p>
            </Notice>
          ) : errors.q ? (
            <ErrorSummary t={t} errors={fieldsInError(errors, [['q', 'q', l.searchLabel]])} />
          ) : null}
          <p>{l.intro(l.count(jurisdiction.districts.length, t.number(jurisdiction.districts.length)), jurisdiction.name)} {l.usage}</p>
          <form method="get" action={path} class="filters" role="search" novalidate>
            <Field id="q" label={l.searchLabel} help={l.searchHelp} error={errors.q}>
              <input type="search" {...describedBy('q', errors.q, l.searchHelp)} value={raw.q ?? ''} spellcheck={false} />
            </Field>
            <button type="submit">{l.search}</button>
          </form>
          {!query ? null : query.q ? (
            <SearchResults t={t} jurisdiction={jurisdiction} typed={query.q} path={path} />
          ) : (
            <ListPage t={t} districts={jurisdiction.districts} page={query.page} last={last} path={path} />
          )}
        </>
      ),
    });
  })
  .onError(errorPage);

/** What the words typed designate, found as the sign form finds them: one district, those of that name, or names close to it. */
function SearchResults(props: { t: Translator; jurisdiction: JurisdictionRow; typed: string; path: string }) {
  const { t, typed } = props;
  const l = t.m.districtList;
  const found = lookUpDistrictOf(props.jurisdiction, typed);
  return (
    <section aria-labelledby="results-title">
      <h2 id="results-title">{l.results(typed)}</h2>
      {found.found === 'one' ? (
        <DistrictTable t={t} districts={[found.district]} caption={l.count(1, t.number(1))} />
      ) : found.found === 'several' ? (
        <DistrictTable t={t} districts={found.candidates} caption={l.several} />
      ) : (
        <>
          <p data-district-search="none">{t.m.sign.errors.districtUnknown}</p>
          {found.suggestions.length ? <DistrictTable t={t} districts={found.suggestions} caption={l.close} /> : null}
        </>
      )}
      <p><a href={props.path}>{l.whole}</a></p>
    </section>
  );
}

/** One page of the list, with links to the pages on either side. */
function ListPage(props: { t: Translator; districts: District[]; page: number; last: number; path: string }) {
  const { t, page, last, path } = props;
  const l = t.m.districtList;
  const from = (page - 1) * DISTRICT_PAGE_SIZE;
  const shown = props.districts.slice(from, from + DISTRICT_PAGE_SIZE);
  const at = (n: number) => (n === 1 ? path : `${path}?page=${n}`);
  if (shown.length === 0) return null;
  return (
    <>
      <DistrictTable t={t} districts={shown} caption={l.shown(t.number(from + 1), t.number(from + shown.length), t.number(props.districts.length))} />
      {last > 1 ? (
        <nav aria-label={l.pages}>
          <ul class="pager">
            {page > 1 ? <li><a href={at(page - 1)} rel="prev">{l.previous}</a></li> : null}
            <li aria-current="page">{l.page(t.number(page), t.number(last))}</li>
            {page < last ? <li><a href={at(page + 1)} rel="next">{l.next}</a></li> : null}
          </ul>
        </nav>
      ) : null}
    </>
  );
}

function DistrictTable(props: { t: Translator; districts: readonly District[]; caption: string }) {
  const l = props.t.m.districtList;
  return (
    <TableScroll labelledBy="districts-caption">
      <table class="district-list">
        <caption id="districts-caption">{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{l.name}</th>
            <th scope="col">{l.code}</th>
          </tr>
        </thead>
        <tbody>
          {props.districts.map((d) => (
            <tr>
              <th scope="row">{d.name}</th>
              <td class="mono" data-district-code="">{d.code}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}
