import { decodeProtectedHeader, jwtVerify } from 'jose';
import { getJurisdiction, listJurisdictions } from '../features/jurisdictions/service';
import { getReferendumItem, listReferendumItems } from '../features/verification/service';
import { listedDistricts, PROGRESS_DISTRICTS_MAX } from '../features/progress/service';
import { createRouter } from '../platform/http';
import { engineKeySet } from '../platform/keys';
import { Problem } from '../platform/problems';
import { errorPage } from './errors';
import { renderPage, TableScroll } from './layout';
import { uuidParam, webRequest } from './request';

const PAGE = 50;

interface CertifiedDistrict {
  code: string;
  raw: number;
  valid: number;
  required: number | null;
  met: boolean | null;
}

/** What the certificate itself says, once checked against the engine's published keys. */
interface CertificateClaims {
  counts?: { raw?: number; valid?: number; verified?: number };
  sample?: { population?: number; size?: number; valid?: number } | null;
  seed?: string | null;
  log?: { size?: number; root?: string } | null;
}

/**
 * The public side of certification: certified initiatives turned into a referendum question or a
 * council agenda item, each with its certificate of result, checked here against the engine's
 * published keys and verifiable by anyone with `npm run verify-certificate`.
 */
export const resultPages = createRouter()
  .get('/results', async (c) => {
    const w = await webRequest(c);
    const { t } = w;
    const { m } = t;
    const db = c.var.deps.db.db;
    const cursor = c.req.query('cursor') || undefined;
    const page = await listReferendumItems(db, { limit: PAGE, cursor }).catch((error: unknown) => {
      // A cursor this site did not give: the first page.
      if (error instanceof Problem && error.status === 400) return listReferendumItems(db, { limit: PAGE });
      throw error;
    });
    const names = new Map((await listJurisdictions(db)).map((j) => [j.id, j]));
    return renderPage(c, w, {
      title: m.results.title,
      body: (
        <section>
          <h1>{m.results.title}</h1>
          <p>{m.results.intro}</p>
          {page.items.length === 0 ? (
            <p>{m.results.none}</p>
          ) : (
            <ul class="cards">
              {page.items.map((item) => {
                const jurisdiction = names.get(item.jurisdictionId);
                return (
                  <li class="card">
                    <p class="muted">
                      {jurisdiction?.name ?? item.jurisdictionId} · {m.results.kinds[item.kind]}
                    </p>
                    <h2>
                      <a href={`/results/${item.id}`} lang={item.language}>{item.title}</a>
                    </h2>
                    <p>{m.results.certifiedOn(t.date(item.certifiedAt, jurisdiction?.timeZone), item.validSignatures, t.number(item.validSignatures))}</p>
                  </li>
                );
              })}
            </ul>
          )}
          {page.nextCursor ? (
            <p>
              <a href={`/results?cursor=${encodeURIComponent(page.nextCursor)}`}>{m.results.more}</a>
            </p>
          ) : null}
        </section>
      ),
    });
  })
  .get('/results/:id', async (c) => {
    const w = await webRequest(c);
    const deps = c.var.deps;
    const item = await getReferendumItem(deps.db.db, uuidParam(c, 'Referendum item'));
    const jurisdiction = await getJurisdiction(deps.db.db, item.jurisdictionId);
    const t = (w.t = w.t.of(jurisdiction));
    const { m } = t;
    const tz = jurisdiction.timeZone;
    const names = new Map(jurisdiction.districts.map((d) => [d.code, d.name]));
    let claims: CertificateClaims | undefined;
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(item.certificate).kid;
      claims = (await jwtVerify(item.certificate, engineKeySet(deps.keys), { issuer: deps.config.publicUrl, typ: 'certificate+jwt', algorithms: ['EdDSA'] }))
        .payload as CertificateClaims;
    } catch {
      claims = undefined;
    }
    const certified = item.districts as CertifiedDistrict[];
    // France's communes: every one has a minimum, 35,000 rows (2.6 MB); those a progress would list.
    const districts =
      certified.length > PROGRESS_DISTRICTS_MAX
        ? listedDistricts(certified.map((d) => ({ ...d, signatures: d.valid })))
        : certified.filter((d) => d.valid > 0 || d.required !== null);
    const apiUrl = `${deps.config.publicUrl}/v1/referendum-items/${item.id}`;
    return renderPage(c, w, {
      title: m.results.itemTitle(item.title),
      body: (
        <article>
          <p class="muted">
            {jurisdiction.name} · {m.results.kinds[item.kind]}
          </p>
          <h1 lang={item.language}>{item.title}</h1>
          {item.question ? <blockquote class="question" lang={item.language}>{item.question}</blockquote> : null}
          <p>{m.results.certifiedOn(t.dateTime(item.certifiedAt, tz), item.validSignatures, t.number(item.validSignatures))}</p>
          {/* A sample's count is projected: said, with the signatures drawn and those of them found valid one by one. */}
          {/* V from the sample's own summary, which certificates have always carried (their `counts.verified` meant the signatures left in the count before 2026-11-27). */}
          {item.method === 'sample' && claims?.sample?.size !== undefined && claims.sample.size < (claims.sample.population ?? 0) && claims.sample.valid !== undefined ? (
            <p data-sample-verified="">{m.results.projectedFrom(t.number(claims.sample.size), claims.sample.valid, t.number(claims.sample.valid))}</p>
          ) : null}
          <p>
            {m.results.method}
            {m.colon} {m.results.methods[item.method]}
            {claims?.counts?.raw !== undefined ? <> · {m.results.raw(claims.counts.raw, t.number(claims.counts.raw))}</> : null}
            {claims?.seed ? <> · {m.results.seed}{m.colon} <code>{claims.seed}</code></> : null}
          </p>
          {certified.length > PROGRESS_DISTRICTS_MAX ? <p class="muted">{m.initiative.districtsListed(t.number(districts.length), t.number(certified.length))}</p> : null}
          {districts.length > 0 ? (
            <TableScroll labelledBy="districts-caption">
              <table>
                <caption id="districts-caption">{m.results.districts}</caption>
                <thead>
                  <tr>
                    <th scope="col">{m.results.district}</th>
                    <th scope="col">{m.results.valid}</th>
                    <th scope="col">{m.results.required}</th>
                  </tr>
                </thead>
                <tbody>
                  {districts.map((d) => (
                    <tr>
                      <th scope="row">{names.get(d.code) ?? d.code}</th>
                      <td>{t.number(d.valid)}</td>
                      <td>{d.required === null ? '—' : `${t.number(d.required)} ${d.met ? m.results.met : m.results.notMet}`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          ) : null}
          <h2>{m.results.certificate}</h2>
          {claims ? (
            <p role="status">
              {m.results.authentic(kid ?? '—')}
              {claims.log?.size !== undefined ? <> {m.results.logHead(t.number(claims.log.size))}</> : null}
            </p>
          ) : (
            <p role="alert">{m.results.notAuthentic}</p>
          )}
          <p>{m.results.verifyYourself}</p>
          <pre>{`npm run verify-certificate ${apiUrl}`}</pre>
          <details>
            <summary>{m.results.showCertificate}</summary>
            <pre class="token">{item.certificate}</pre>
          </details>
          <p>
            <a href={`/initiatives/${item.initiativeId}`}>{m.results.initiative}</a> · <a href={`/initiatives/${item.initiativeId}/transparency`}>{m.results.log}</a>
          </p>
        </article>
      ),
    });
  })
  .onError(errorPage);
