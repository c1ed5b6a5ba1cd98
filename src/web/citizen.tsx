import { jwtVerify } from 'jose';
import { setCookie } from 'hono/cookie';
import { requireIdentity, requirePrincipal } from '../features/auth/access';
import { isSafeReturnTo } from '../features/auth/login';
import { ListQuerySchema } from '../features/initiatives/schema';
import { isCollecting as isCollectingAt, type InitiativeStatus } from '../core/lifecycle';
import { rateLimit } from '../features/rate-limit/middleware';
import { committeeHashOf, getInitiative, getVisibleInitiative, isCommitteeMember, listInitiatives, type InitiativeRow } from '../features/initiatives/service';
import { DISTRICT_LIST_MAX, lookUpDistrictOf } from '../features/jurisdictions/districts';
import { listJurisdictions, type JurisdictionRow } from '../features/jurisdictions/service';
import { buildProgress, crossingsOf, tallyMany, tallySignatures } from '../features/progress/service';
import { hasSigned, mySignature, sign, withdrawMySignature, type SignatureRow } from '../features/signatures/service';
import { laterLogEntry, mergeDelayMs } from '../features/transparency/service';
import { takesPaperForms } from '../features/paper/forms';
import { referendumItemOf } from '../features/verification/service';
import { createRouter } from '../platform/http';
import { engineKeySet } from '../platform/keys';
import { Problem } from '../platform/problems';
import { errorPage } from './errors';
import { districtListPath } from './jurisdiction';
import { problemMessage } from './problems';
import { LANG_COOKIE, type Translator } from './i18n';
import { CsrfField, describedBy, ErrorSummary, Field, fieldsInError, NamingInitiative, Notice, renderPage, titleAbout } from './layout';
import { formFields, formLimit, loginUrl, uuidParam, verifyCsrf, webRequest, type WebContext, type WebRequest } from './request';
import { closingLine, daysLeft, DistrictTable, goalOf, Milestones, opensLater, ProgressBlock, StatusTag } from './views';
import { receiptInclusion, transparencyHead, type ReceiptInclusion } from './transparency';

/** The initiative of the path, visible to the caller (a draft only to its sponsor), or a 404. */
/** The initiative of the path as the caller may see it; from then on the page names districts as its jurisdiction does. */
export async function visibleInitiative(c: WebContext, w: WebRequest) {
  const found = await getVisibleInitiative(c.var.deps.db.db, uuidParam(c, 'Initiative'), w.principal);
  w.t = w.t.of(found.jurisdiction);
  return found;
}

export async function progressOf(c: WebContext, initiative: InitiativeRow, jurisdiction: JurisdictionRow, options: { allDistricts?: boolean } = {}) {
  const db = c.var.deps.db.db;
  const [tally, crossings] = await Promise.all([tallySignatures(db, initiative.id), crossingsOf(db, initiative.id)]);
  return buildProgress(initiative, jurisdiction, tally, crossings, c.var.deps.clock(), options);
}

const isCollecting = (initiative: InitiativeRow, now: Date) => isCollectingAt({ ...initiative, status: initiative.status as InitiativeStatus }, now);

/** Only same-site paths are followed after a language switch, as after a login ('/\t/evil' is '//evil' to a browser). */
export function safeReturnPath(path: string | undefined): string {
  return path !== undefined && isSafeReturnTo(path) ? path : '/';
}

export const citizenPages = createRouter()
  .get('/', async (c) => {
    const w = await webRequest(c);
    const { t } = w;
    const { m } = t;
    const deps = c.var.deps;
    const raw = c.req.query();
    const status = raw.status === undefined ? 'open' : raw.status;
    const parsed = ListQuerySchema.safeParse({
      q: raw.q || undefined,
      jurisdiction: raw.jurisdiction || undefined,
      status: status === 'all' || status === '' ? undefined : status,
      cursor: raw.cursor || undefined,
      limit: 20,
    });
    const query = parsed.success ? parsed.data : ListQuerySchema.parse({ status: 'open', limit: 20 });
    const [page, jurisdictions] = await Promise.all([listInitiatives(deps.db.db, query, w.principal), listJurisdictions(deps.db.db)]);
    const tallies = await tallyMany(deps.db.db, page.items.map((i) => i.id));
    const byId = new Map(jurisdictions.map((j) => [j.id, j]));
    const now = deps.clock();
    const next = page.nextCursor ? `/?${new URLSearchParams({ ...raw, cursor: page.nextCursor }).toString()}` : null;
    return renderPage(c, w, {
      title: m.home.title,
      body: (
        <>
          <h1>{m.home.title}</h1>
          <p>{m.home.intro}</p>
          <form method="get" action="/" class="filters" role="search">
            <div class="field">
              <label for="q">{m.home.searchLabel}</label>
              <input type="search" id="q" name="q" value={query.q ?? ''} />
            </div>
            <div class="field">
              <label for="jurisdiction">{m.home.jurisdiction}</label>
              <select id="jurisdiction" name="jurisdiction">
                <option value="">{m.home.all}</option>
                {jurisdictions.map((j) => <option value={j.id} selected={j.id === query.jurisdiction}>{j.name}</option>)}
              </select>
            </div>
            <div class="field">
              <label for="status">{m.home.status}</label>
              <select id="status" name="status">
                <option value="all" selected={!query.status}>{m.home.all}</option>
                {['open', 'submitted', 'closed', 'verifying', 'certified', 'insufficient', 'rejected', 'withdrawn'].map((s) => (
                  <option value={s} selected={s === query.status}>{m.statuses[s]}</option>
                ))}
              </select>
            </div>
            <button type="submit">{m.home.filter}</button>
          </form>
          <h2 id="results">{m.home.results}</h2>
          {page.items.length === 0 ? <p>{m.home.none}</p> : null}
          <ul class="cards" aria-labelledby="results">
            {page.items.map((i) => {
              const j = byId.get(i.jurisdictionId)!;
              const progress = buildProgress(i, j, tallies.get(i.id)!, [], now);
              const goal = goalOf(progress);
              const left = daysLeft(i.closesAt, now, j.timeZone);
              return (
                <li class="card">
                  <h3><a href={`/initiatives/${i.id}`} lang={i.language}>{i.title}</a></h3>
                  <p class="muted">
                    {j.name} · {m.kinds[i.kind]} · <StatusTag t={t} status={i.status} opensAt={i.opensAt} now={now} />
                  </p>
                  <p lang={i.language}>{i.summary}</p>
                  <p>
                    <strong>{t.number(progress.signatures)}</strong> {m.initiative.of(t.number(goal), progress.signatures)}
                    {isCollecting(i, now) && left !== null ? (
                      <> · {m.initiative.daysLeft(left)}</>
                    ) : opensLater(i, now) ? (
                      <> · {m.initiative.opensAt(t.dateTime(i.opensAt!, j.timeZone))}</>
                    ) : null}
                  </p>
                  <progress max={goal} value={Math.min(progress.signatures, goal)} aria-label={`${i.title} — ${m.initiative.progress}`}>
                    {t.percent(goal ? progress.signatures / goal : 0)}
                  </progress>
                </li>
              );
            })}
          </ul>
          {next ? <p><a href={next}>{m.home.more}</a></p> : null}
        </>
      ),
    });
  })
  .get('/initiatives/:id', async (c) => {
    const w = await webRequest(c);
    const { initiative, jurisdiction } = await visibleInitiative(c, w);
    const { t } = w;
    const { m } = t;
    const now = c.var.deps.clock();
    const identity = w.principal?.identity;
    const [progress, certifiedAs, member, signed] = await Promise.all([
      progressOf(c, initiative, jurisdiction),
      initiative.status === 'certified' ? referendumItemOf(c.var.deps.db.db, initiative.id) : null,
      // By sub, or as the same person under another sub (the dashboard admits them both).
      w.principal ? isCommitteeMember(c.var.deps.db.db, initiative.id, w.principal.subject, committeeHashOf(c.var.deps.keys.keyring, initiative, w.principal)) : false,
      identity && initiative.status !== 'draft' ? hasSigned(c.var.deps, initiative, identity).catch(() => false) : false,
    ]);
    const tz = jurisdiction.timeZone;
    const left = daysLeft(initiative.closesAt, now, tz);
    const collecting = isCollecting(initiative, now);
    // Closed or withdrawn before its opening, the collection never took place.
    const opened = !!initiative.opensAt && initiative.opensAt <= now && (!initiative.closesAt || initiative.opensAt < initiative.closesAt);
    const isSponsor = w.principal?.subject === initiative.sponsorSubject;
    const isClerk = w.clerkOf.includes(jurisdiction.id);
    // Who may read the dashboard: the sponsor, the committee, the jurisdiction's clerks.
    const readsDashboard = isSponsor || isClerk || member;
    return renderPage(c, w, {
      title: initiative.title,
      body: (
        <article>
          <p class="muted">
            {jurisdiction.name} · {m.kinds[initiative.kind]} · <StatusTag t={t} status={initiative.status} opensAt={initiative.opensAt} now={now} />
          </p>
          <h1 lang={initiative.language}>{initiative.title}</h1>
          {initiative.status === 'draft' ? <Notice kind="info">{m.initiative.sponsorOnly}</Notice> : null}
          <p lang={initiative.language}>{initiative.summary}</p>
          {initiative.reason ? <p><strong>{m.initiative.reason}{m.colon}</strong> {initiative.reason}</p> : null}
          {certifiedAs ? (
            <p>
              <a class="button" href={`/results/${certifiedAs}`}>{m.results.link}</a>
            </p>
          ) : null}
          {initiative.question ? (
            <>
              <h2>{m.initiative.question}</h2>
              <blockquote class="question" lang={initiative.language}>{initiative.question}</blockquote>
            </>
          ) : null}
          {signed ? <p data-signed="">{m.initiative.youSigned}</p> : null}
          <div class="actions">
            {collecting && !signed ? <a class="button" href={`/initiatives/${initiative.id}/sign`}>{m.initiative.sign}</a> : null}
            {/* Nobody has signed an initiative whose collection never opened. */}
            {w.principal && opened ? <a class={signed ? 'button' : 'button secondary'} href={`/initiatives/${initiative.id}/signature`}>{m.initiative.mySignature}</a> : null}
            {readsDashboard ? <a class="button secondary" href={`/initiatives/${initiative.id}/manage`}>{m.initiative.manage}</a> : null}
            {isClerk ? <a class="button secondary" href={`/clerk/initiatives/${initiative.id}`}>{m.initiative.clerkTools}</a> : null}
          </div>
          {/* For those without an online identity: a sheet to sign by hand, keyed in later by the elections office. */}
          {takesPaperForms(initiative, now) ? (
            <p>
              <a href={`/initiatives/${initiative.id}/paper-form`}>{m.paperForm.link}</a>
              <br />
              <span class="help">{m.paperForm.linkHelp}</span>
            </p>
          ) : null}
          {opensLater(initiative, now) ? (
            <p>{m.initiative.opensAt(t.dateTime(initiative.opensAt!, tz))}</p>
          ) : opened ? (
            <p>{m.initiative.openedAt(t.date(initiative.opensAt!, tz))}</p>
          ) : null}
          {/* Signing stops at an hour of that day (the opening's, by default), not at its end: the hour is said. A withdrawn initiative's no longer holds. */}
          {initiative.closesAt && (initiative.status === 'open' || (opened && initiative.status !== 'withdrawn')) ? (
            <p>
              {closingLine(t, initiative.closesAt, tz)}
              {collecting && left !== null ? <> — <strong>{m.initiative.daysLeft(left)}</strong></> : null}
            </p>
          ) : null}
          <ProgressBlock t={t} progress={progress} live={collecting ? `/v1/initiatives/${initiative.id}/progress/stream` : undefined} />
          <Milestones t={t} progress={progress} timeZone={tz} />
          <DistrictTable t={t} progress={progress} />
          {/* Too many districts to choose from a list: where to find one's own, and its code. */}
          {typesDistrict(jurisdiction) ? <p><a href={districtListPath(jurisdiction)}>{m.districtList.link}</a></p> : null}
          <h2>{m.initiative.text}</h2>
          <div class="text" lang={initiative.language}>{initiative.text}</div>
          <p><a href={`/initiatives/${initiative.id}/transparency`}>{m.initiative.transparency}</a></p>
        </article>
      ),
    });
  })
  .get('/initiatives/:id/sign', async (c) => {
    const w = await webRequest(c);
    // No one is asked to log in for an initiative that does not exist or takes no signatures: the page says so first.
    const { initiative, jurisdiction } = await visibleInitiative(c, w);
    if (!isCollecting(initiative, c.var.deps.clock())) return signForm(c, w, initiative, jurisdiction, {}, {});
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    const signed = await mySignature(c.var.deps, initiative.id, requireIdentity(w.principal)).catch(() => undefined);
    if (signed) return c.redirect(`/initiatives/${initiative.id}/signature`, 303);
    return signForm(c, w, initiative, jurisdiction, {}, {});
  })
  // Counted with the API's signatures, per identity (and per address when set): one limit, whichever way one signs.
  .post('/initiatives/:id/sign', formLimit, rateLimit('sign'), async (c) => {
    const w = await webRequest(c);
    const form = await formFields(c);
    verifyCsrf(c, form);
    // A session that ended while the form was open: the page says nothing was signed, and keeps the choices to send again.
    const principal = requirePrincipal(c);
    const { initiative, jurisdiction } = await visibleInitiative(c, w);
    const { district, errors } = districtOfForm(w, jurisdiction, form);
    if (form.consent !== 'yes') errors.consent = w.t.m.sign.errors.consent;
    if (!district || Object.keys(errors).length) return signForm(c, w, initiative, jurisdiction, form, errors, 400);
    try {
      const outcome = await sign(c.var.deps, initiative.id, requireIdentity(principal), { district });
      return c.redirect(`/initiatives/${initiative.id}/signature?${outcome.created ? 'signed' : 'already'}=1`, 303);
    } catch (error) {
      // Ineligible, or the form was stale: the collection closed (or has not opened) since it was shown.
      if (error instanceof Problem && ((error.status === 403 && error.code.startsWith('ineligible/')) || error.status === 409)) {
        return signForm(c, w, initiative, jurisdiction, form, { form: problemMessage(w.t, error, { action: 'sign', timeZone: jurisdiction.timeZone }) }, error.status);
      }
      throw error;
    }
  })
  .get('/initiatives/:id/signature', async (c) => {
    const w = await webRequest(c);
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    const { initiative, jurisdiction } = await visibleInitiative(c, w);
    return signaturePage(c, w, initiative, jurisdiction, {});
  })
  .post('/initiatives/:id/signature/withdraw', formLimit, async (c) => {
    const w = await webRequest(c);
    verifyCsrf(c, await formFields(c));
    if (!w.principal) return c.redirect(loginUrl(`/initiatives/${c.req.param('id')}/signature`), 303);
    const { initiative, jurisdiction } = await visibleInitiative(c, w);
    try {
      await withdrawMySignature(c.var.deps, initiative.id, requireIdentity(w.principal));
    } catch (error) {
      // The page was stale: the collection closed since it was shown.
      if (error instanceof Problem && error.status === 409) {
        return signaturePage(c, w, initiative, jurisdiction, { error: problemMessage(w.t, error, { action: 'withdrawSignature', timeZone: jurisdiction.timeZone }), status: 409 });
      }
      throw error;
    }
    return c.redirect(`/initiatives/${initiative.id}/signature?withdrawn=1`, 303);
  })
  .get('/receipt', async (c) => {
    const w = await webRequest(c);
    const { t } = w;
    const { m } = t;
    const receipt = (c.req.query('r') ?? '').trim();
    const deps = c.var.deps;
    let claims: { initiative: string; signature: string; leaf: string; signedAt: string; mmd?: number } | undefined;
    if (receipt) {
      claims = await jwtVerify(receipt, engineKeySet(deps.keys), { issuer: deps.config.publicUrl, typ: 'receipt+jwt', algorithms: ['EdDSA'] })
        .then(({ payload }) => payload as unknown as typeof claims)
        .catch(() => undefined);
    }
    const [inclusion, later, initiative] = claims
      ? await Promise.all([
          receiptInclusion(deps, claims.initiative, claims.signature, claims.leaf),
          laterLogEntry(deps.db.db, claims.initiative, claims.signature),
          // Named by its title; by its id should the initiative be gone.
          getInitiative(deps.db.db, claims.initiative).then((i) => i, () => undefined),
        ])
      : [undefined, null, undefined];
    const mergeDelaySeconds = claims?.mmd ?? mergeDelayMs(deps) / 1000;
    // Past the receipt's promise (with the verifier's second of leeway) and still not in the log: said so, not "in a moment".
    const overdue = !!claims && !inclusion?.included && deps.clock().getTime() > Date.parse(claims.signedAt) + mergeDelaySeconds * 1000 + 1000;
    return renderPage(c, w, {
      title: m.receipt.title,
      status: receipt && !claims ? 400 : 200,
      body: (
        <>
          <h1>{m.receipt.title}</h1>
          {receipt && !claims ? <Notice kind="error">{m.receipt.invalid}</Notice> : null}
          {claims ? (
            <>
              <Notice outcome>{m.receipt.valid}</Notice>
              <dl class="facts">
                <dt>{m.receipt.initiative}</dt>
                <dd>
                  {initiative ? (
                    <a href={`/initiatives/${claims.initiative}`} lang={initiative.language}>{initiative.title}</a>
                  ) : (
                    <a href={`/initiatives/${claims.initiative}`}>{claims.initiative}</a>
                  )}
                </dd>
                <dt>{m.receipt.signature}</dt>
                <dd class="mono">{claims.signature}</dd>
                <dt>{m.receipt.signedAt}</dt>
                <dd>{t.dateTime(claims.signedAt)}</dd>
                <dt>{m.receipt.leaf}</dt>
                <dd class="mono">{claims.leaf}</dd>
              </dl>
              <ReceiptFindings t={t} inclusion={inclusion!} later={later} mergeDelaySeconds={mergeDelaySeconds} overdue={overdue} />
            </>
          ) : null}
          <form method="get" action="/receipt">
            <Field id="r" label={m.receipt.paste}>
              <textarea class="mono" rows={5} {...describedBy('r')}>{receipt}</textarea>
            </Field>
            <button type="submit">{m.receipt.verify}</button>
          </form>
        </>
      ),
    });
  })
  .get('/initiatives/:id/transparency', async (c) => {
    const w = await webRequest(c);
    const { initiative, jurisdiction } = await visibleInitiative(c, w);
    const { t } = w;
    const { m } = t;
    const head = initiative.status === 'draft' ? null : await transparencyHead(c.var.deps, initiative.id);
    const progress = await progressOf(c, initiative, jurisdiction);
    return renderPage(c, w, {
      title: titleAbout(t, m.transparency.title, initiative.title),
      body: (
        <>
          <p><a href={`/initiatives/${initiative.id}`} lang={initiative.language}>{initiative.title}</a></p>
          <h1>{m.transparency.title}</h1>
          <p>{m.transparency.intro}</p>
          <p>{m.transparency.publicCount}{m.colon} <strong>{t.number(progress.signatures)}</strong></p>
          <h2>{m.transparency.head}</h2>
          {head ? (
            <dl class="facts">
              <dt>{m.transparency.size}</dt>
              <dd data-log-size="">{t.number(head.size)}</dd>
              <dt>{m.transparency.root}</dt>
              <dd class="mono">{head.root}</dd>
              <dt>{m.transparency.timestamp}</dt>
              <dd>{t.dateTime(head.timestamp, jurisdiction.timeZone)}</dd>
              <dt>{m.transparency.signatureJws}</dt>
              <dd class="mono">{head.signature}</dd>
            </dl>
          ) : (
            <p>{m.transparency.unavailable}</p>
          )}
          <h2>{m.transparency.howTo}</h2>
          <ol>{m.transparency.howToSteps.map((s) => <li>{s}</li>)}</ol>
          <p>{m.transparency.command}</p>
          <pre><code>{`npm run verify -- log ${initiative.id} --server ${c.var.deps.config.publicUrl}`}</code></pre>
          <p>
            <a href={`/v1/initiatives/${initiative.id}/log`}>/v1/initiatives/{initiative.id}/log</a> ·{' '}
            <a href="/.well-known/jwks.json">/.well-known/jwks.json</a>
          </p>
        </>
      ),
    });
  })
  .get('/lang', (c) => {
    const to = c.req.query('to') === 'en' ? 'en' : 'fr';
    setCookie(c, LANG_COOKIE, to, { path: '/', sameSite: 'Lax', maxAge: 365 * 86_400 });
    return c.redirect(safeReturnPath(c.req.query('back')), 303);
  })
  .onError(errorPage);

/** "My signature": the caller's signature on the initiative with its receipt, or none. */
async function signaturePage(c: WebContext, w: WebRequest, initiative: InitiativeRow, jurisdiction: JurisdictionRow, view: { error?: string; status?: number }) {
  const { m } = w.t;
  let keyRetired = false;
  const mine = await mySignature(c.var.deps, initiative.id, requireIdentity(w.principal!)).catch((error) => {
    if (error instanceof Problem && error.status === 410) keyRetired = true;
    else if (!(error instanceof Problem && error.status === 404)) throw error;
    return undefined;
  });
  const q = c.req.query();
  const collecting = isCollecting(initiative, c.var.deps.clock());
  return renderPage(c, w, {
    title: titleAbout(w.t, m.mine.title, initiative.title),
    status: view.status,
    body: (
      <>
        <p><a href={`/initiatives/${initiative.id}`} lang={initiative.language}>{initiative.title}</a></p>
        <h1>{m.mine.title}</h1>
        {view.error ? <Notice kind="error">{view.error}</Notice> : null}
        {q.signed ? <Notice outcome>{m.sign.done}</Notice> : null}
        {q.already ? <Notice outcome>{m.sign.already}</Notice> : null}
        {mine ? (
          <SignatureDetails w={w} initiative={initiative} jurisdiction={jurisdiction} signature={mine.signature} receipt={mine.receipt} collecting={collecting} />
        ) : (
          <>
            {/* Just withdrawn: that, rather than "you have not signed". */}
            {q.withdrawn ? <Notice outcome>{m.mine.withdrawn}</Notice> : <p>{keyRetired ? m.mine.keyRetired : m.mine.none}</p>}
            {q.withdrawn && collecting ? <p>{m.mine.signAgain}</p> : null}
            {collecting ? <p><a class="button" href={`/initiatives/${initiative.id}/sign`}>{m.initiative.sign}</a></p> : null}
          </>
        )}
      </>
    ),
  });
}

/** Too many districts for a list: the sign form asks for a name or a code, and the district is looked up. */
const typesDistrict = (jurisdiction: JurisdictionRow) => jurisdiction.districts.length > DISTRICT_LIST_MAX;

/**
 * The district code of a sign form: chosen in the list, or, in a jurisdiction of many districts,
 * typed (a code, or a name whatever its accents, case and hyphens) and, when several districts bear
 * that name or none does, chosen among those the form then offered (`districtCode`).
 */
function districtOfForm(w: WebRequest, jurisdiction: JurisdictionRow, form: Record<string, string>): { district?: string; errors: Record<string, string> } {
  const { errors: say } = w.t.m.sign;
  if (!typesDistrict(jurisdiction)) {
    return jurisdiction.districts.some((d) => d.code === form.district) ? { district: form.district, errors: {} } : { errors: { district: say.district } };
  }
  const typed = (form.district ?? '').trim();
  if (!typed) return { errors: { district: say.districtTyped } };
  const found = lookUpDistrictOf(jurisdiction, typed);
  if (found.found === 'one') return { district: found.district.code, errors: {} };
  const offered = found.found === 'several' ? found.candidates : found.suggestions;
  // Only a choice among those the typed words lead to: a choice left from words typed before is not taken for the new ones.
  const chosen = offered.find((d) => d.code === form.districtCode);
  if (chosen) return { district: chosen.code, errors: {} };
  return { errors: found.found === 'several' ? { districtCode: say.districtSeveral } : { district: say.districtUnknown } };
}

/**
 * The district field of the sign form: the list of districts; or, for many districts, a text field,
 * followed (once sent) by the districts bearing the name typed, or the names close to it, to choose from.
 */
function DistrictField(props: { w: WebRequest; jurisdiction: JurisdictionRow; values: Record<string, string>; errors: Record<string, string> }) {
  const { w, jurisdiction, values, errors } = props;
  const { m } = w.t;
  if (!typesDistrict(jurisdiction)) {
    return (
      <Field id="district" label={m.sign.district} error={errors.district}>
        <select {...describedBy('district', errors.district)} required>
          <option value="">{m.sign.choose}</option>
          {jurisdiction.districts.map((d) => <option value={d.code} selected={values.district === d.code}>{d.name}</option>)}
        </select>
      </Field>
    );
  }
  const typed = (values.district ?? '').trim();
  const found = typed ? lookUpDistrictOf(jurisdiction, typed) : undefined;
  const offered = found?.found === 'several' ? found.candidates : found?.found === 'none' ? found.suggestions : [];
  return (
    <>
      <Field id="district" label={m.sign.district} error={errors.district} help={m.sign.districtHelp}>
        <input type="text" {...describedBy('district', errors.district, m.sign.districtHelp)} value={values.district ?? ''} required spellcheck={false} />
      </Field>
      <p class="help"><a href={districtListPath(jurisdiction)}>{m.districtList.link}</a></p>
      {offered.length ? (
        <fieldset class={errors.districtCode ? 'field invalid' : 'field'} aria-describedby={errors.districtCode ? 'districtCode-error' : undefined}>
          <legend>{found?.found === 'several' ? m.sign.whichDistrict : m.sign.didYouMean}</legend>
          {offered.map((d, i) => (
            <div>
              <input type="radio" id={`district-choice-${i}`} name="districtCode" value={d.code} checked={values.districtCode === d.code} />{' '}
              <label for={`district-choice-${i}`}>{d.name} ({d.code})</label>
            </div>
          ))}
          {errors.districtCode ? <p class="field-error" id="districtCode-error">{errors.districtCode}</p> : null}
        </fieldset>
      ) : null}
    </>
  );
}

/** Why the sign form takes no signature: not open yet (and when it opens), closed, or neither (a draft, a withdrawn initiative). */
function notTakingSignatures(t: WebRequest['t'], initiative: InitiativeRow, now: Date, timeZone: string): string {
  if (opensLater(initiative, now)) return t.m.problems.collectionNotStarted(t.dateTime(initiative.opensAt!, timeZone));
  const opened = !!initiative.opensAt && initiative.opensAt <= now;
  if (opened && initiative.status !== 'withdrawn' && initiative.status !== 'rejected') return t.m.problems.collectionClosed;
  return t.m.sign.notOpen;
}

function signForm(
  c: WebContext,
  w: WebRequest,
  initiative: InitiativeRow,
  jurisdiction: JurisdictionRow,
  values: Record<string, string>,
  errors: Record<string, string>,
  status = 200,
) {
  const { m } = w.t;
  const collecting = isCollecting(initiative, c.var.deps.clock());
  return renderPage(c, w, {
    title: m.sign.title(initiative.title),
    status: collecting ? status : 409,
    body: (
      <>
        <p><a href={`/initiatives/${initiative.id}`} lang={initiative.language}>{initiative.title}</a></p>
        <h1><NamingInitiative message={m.sign.title} initiative={initiative} /></h1>
        {!collecting ? (
          <Notice kind="error">{errors.form ?? notTakingSignatures(w.t, initiative, c.var.deps.clock(), jurisdiction.timeZone)}</Notice>
        ) : (
          <>
            <p>{m.sign.intro}</p>
            {errors.form ? <Notice kind="error">{errors.form}</Notice> : null}
            {errors.district || errors.districtCode || errors.consent ? (
              <ErrorSummary
                t={w.t}
                errors={fieldsInError(errors, [
                  ['district', 'district', m.sign.district],
                  ['districtCode', 'district-choice-0', m.sign.district],
                  ['consent', 'consent'],
                ])}
              />
            ) : null}
            {initiative.question ? <blockquote class="question" lang={initiative.language}>{initiative.question}</blockquote> : null}
            <form method="post" action={`/initiatives/${initiative.id}/sign`} novalidate>
              <CsrfField w={w} />
              <DistrictField w={w} jurisdiction={jurisdiction} values={values} errors={errors} />
              <div class={errors.consent ? 'field check invalid' : 'field check'}>
                <input type="checkbox" value="yes" checked={values.consent === 'yes'} required {...describedBy('consent', errors.consent)} />{' '}
                <label for="consent">{m.sign.consent}</label>
                {errors.consent ? <p class="field-error" id="consent-error">{errors.consent}</p> : null}
              </div>
              <button type="submit">{m.sign.confirm}</button>
            </form>
          </>
        )}
      </>
    ),
  });
}

/**
 * What checking a receipt found: whether its signature is in the public log (said plainly when the
 * inclusion could not be checked, and when the merge delay the receipt promised has passed), and whether it was withdrawn or invalidated since. Entries are
 * numbered from 1 for people (the log's index + 1).
 */
export function ReceiptFindings(props: { t: Translator; inclusion: ReceiptInclusion; later: 'withdraw' | 'invalidate' | null; mergeDelaySeconds: number; overdue?: boolean }) {
  const { t, inclusion, later } = props;
  const { m } = t;
  const entry = t.number(inclusion.index + 1);
  const size = t.number(inclusion.size);
  const delay = t.number(props.mergeDelaySeconds);
  return (
    <>
      <p data-inclusion={inclusion.included && inclusion.proofChecked ? 'checked' : inclusion.included ? 'unchecked' : props.overdue ? 'overdue' : 'pending'}>
        <strong>
          {!inclusion.included
            ? props.overdue
              ? m.receipt.overdue(delay)
              : m.receipt.pending(delay)
            : inclusion.proofChecked
              ? m.receipt.included(entry, size)
              : m.receipt.unchecked(entry, size)}
        </strong>
      </p>
      {inclusion.included && inclusion.proofChecked ? <p>{m.receipt.proofChecked}</p> : null}
      {later ? (
        <p data-signature-later={later}>
          <strong>{later === 'withdraw' ? m.receipt.withdrawn : m.receipt.invalidated}</strong>
        </p>
      ) : null}
    </>
  );
}

function SignatureDetails(props: {
  w: WebRequest;
  initiative: InitiativeRow;
  jurisdiction: JurisdictionRow;
  signature: SignatureRow;
  receipt: string;
  collecting: boolean;
}) {
  const { w, signature, jurisdiction } = props;
  const { t } = w;
  const { m } = t;
  const district = jurisdiction.districts.find((d) => d.code === signature.district)?.name ?? signature.district;
  return (
    <>
      <dl class="facts">
        <dt>{m.mine.status}</dt>
        <dd>{m.mine.statuses[signature.status]}</dd>
        <dt>{m.sign.district}</dt>
        <dd>{district}</dd>
        <dt>{m.mine.channel}</dt>
        <dd>{m.mine.channels[signature.channel]}</dd>
        <dt>{m.receipt.signedAt}</dt>
        <dd>{t.dateTime(signature.createdAt, jurisdiction.timeZone)}</dd>
      </dl>
      <h2>{m.sign.receipt}</h2>
      <p>{m.sign.receiptHelp}</p>
      <p><textarea class="mono" readonly rows={5} aria-label={m.sign.receipt} id="receipt">{props.receipt}</textarea></p>
      <p><a class="button secondary" href={`/receipt?r=${encodeURIComponent(props.receipt)}`}>{m.sign.check}</a></p>
      {props.collecting && signature.channel === 'online' ? (
        <form method="post" action={`/initiatives/${props.initiative.id}/signature/withdraw`}>
          <CsrfField w={w} />
          <p class="help">{m.mine.withdrawHelp}</p>
          <button type="submit" class="danger">{m.mine.withdraw}</button>
        </form>
      ) : null}
    </>
  );
}
