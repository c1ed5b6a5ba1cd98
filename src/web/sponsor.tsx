import { canTransition, type InitiativeStatus } from '../core/lifecycle';
import { DEFAULT_TEXT_LANGUAGE, isTextLanguage, languageAutonym, OFFERED_TEXT_LANGUAGES } from '../core/language';
import { requirePrincipal } from '../features/auth/access';
import { dashboardFor } from '../features/monitoring/dashboard';
import { CreateInitiativeSchema, UpdateInitiativeSchema } from '../features/initiatives/schema';
import {
  closeBySponsor,
  committeeHashOf,
  committeeSize,
  createInitiative,
  getInitiativeWithJurisdiction,
  isCommitteeMember,
  joinCommittee,
  submit,
  updateDraft,
  withdraw,
  type InitiativeRow,
} from '../features/initiatives/service';
import { takesPaperForms } from '../features/paper/forms';
import { sponsoredBy, supportedBy } from '../features/initiatives/sponsored';
import { jurisdictionLabels, listJurisdictions, type JurisdictionRow } from '../features/jurisdictions/service';
import { createRouter } from '../platform/http';
import { Problem, problems } from '../platform/problems';
import { HistoryChart } from './charts';
import { fieldErrors, problemFieldErrors, problemMessage, type FieldIssue } from './problems';
import { visibleInitiative } from './citizen';
import { errorPage } from './errors';
import { PaperFormBatch } from './paper-form';
import { CsrfField, describedBy, ErrorSummary, Field, fieldsInError, NamingInitiative, Notice, renderPage, titleAbout } from './layout';
import { formFields, formLimit, isUuid, loginUrl, uuidParam, verifyCsrf, webRequest, type WebContext, type WebRequest } from './request';
import { closingLine, daysLeft, DistrictTable, Milestones, ProgressBlock, StatusTag } from './views';

type DraftValues = { jurisdictionId?: string; kind?: string; language?: string; title?: string; summary?: string; text?: string; question?: string };

/** Field errors of a draft, from the schema's issues: the schema's custom rules are the referendum's question and the language. */
function draftErrors(w: WebRequest, issues: readonly FieldIssue[], values: DraftValues): Record<string, string> {
  return fieldErrors(w.t, issues, values, { question: w.t.m.fields.questionRequired, language: w.t.m.fields.choose });
}

/** Field errors of the engine's own checks of a draft (jurisdiction, kind, question). */
function draftProblemErrors(w: WebRequest, problem: Problem): Record<string, string> {
  const f = w.t.m.fields;
  return problemFieldErrors(problem, { jurisdictionId: f.unknownJurisdiction, kind: f.kindNotTaken, question: f.questionRequired });
}

function draftInput(form: Record<string, string>) {
  const text = (k: string) => (form[k] ?? '').trim();
  return {
    jurisdictionId: text('jurisdictionId'),
    kind: text('kind'),
    // Left out of the form: French, as through the API.
    language: text('language') || undefined,
    title: text('title'),
    summary: text('summary'),
    text: text('text'),
    // The field is on the form for either kind (no script switches it): an agenda petition puts no question to the vote.
    question: text('kind') === 'agenda' ? undefined : text('question') || undefined,
  };
}

async function requireSponsorOf(c: WebContext, w: WebRequest) {
  const found = await visibleInitiative(c, w);
  if (found.initiative.sponsorSubject !== w.principal?.subject) throw new Problem({ status: 403, code: 'forbidden', title: 'Not allowed' });
  return found;
}

/**
 * The initiative of the path, found whether or not the caller may see it: drafts are hidden from the
 * public, but whoever holds the link and the code may join their committee, and the dashboard
 * service decides itself who reads a dashboard (the sponsor, the committee, the jurisdiction's clerks).
 */
async function initiativeOfPath(c: WebContext) {
  return getInitiativeWithJurisdiction(c.var.deps.db.db, uuidParam(c, 'Initiative'));
}

export const sponsorPages = createRouter()
  .get('/initiatives/new', async (c) => {
    const w = await webRequest(c);
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    return draftForm(c, w, { jurisdictions: await listJurisdictions(c.var.deps.db.db), values: { kind: 'agenda' }, errors: {}, formId: crypto.randomUUID() });
  })
  .post('/initiatives/new', formLimit, async (c) => {
    const w = await webRequest(c);
    const form = await formFields(c);
    verifyCsrf(c, form);
    const principal = requirePrincipal(c);
    const jurisdictions = await listJurisdictions(c.var.deps.db.db);
    const values = draftInput(form);
    // The form's one-time id, kept through previews and corrections; a form from before it existed gets one now.
    const sentFormId = isUuid(form.formId) ? form.formId.toLowerCase() : undefined;
    const formId = sentFormId ?? crypto.randomUUID();
    const parsed = CreateInitiativeSchema.safeParse(values);
    if (!parsed.success) return draftForm(c, w, { jurisdictions, values, errors: draftErrors(w, parsed.error.issues, values), formId }, 400);
    if (form.action === 'preview') return draftForm(c, w, { jurisdictions, values, errors: {}, preview: true, formId });
    try {
      const deps = c.var.deps;
      // The same form sent again leads to the draft it created first.
      let row = await createInitiative(deps.db.db, parsed.data, principal, deps.keys.keyring, deps.clock(), sentFormId);
      const input = parsed.data;
      const question = input.question ?? null;
      // Sent again with other words (back to the form after saving, changed, saved): that draft takes them, as its
      // edit form would; or, once it is no draft any more or the kind or jurisdiction changed, they make a new one.
      if (row.title !== input.title || row.summary !== input.summary || row.text !== input.text || row.question !== question || row.language !== input.language || row.kind !== input.kind || row.jurisdictionId !== input.jurisdictionId) {
        row =
          row.status === 'draft' && row.kind === input.kind && row.jurisdictionId === input.jurisdictionId
            ? await updateDraft(deps.db.db, row.id, { title: input.title, summary: input.summary, text: input.text, question, language: input.language }, principal, deps.clock())
            : await createInitiative(deps.db.db, input, principal, deps.keys.keyring, deps.clock());
      }
      return c.redirect(`/initiatives/${row.id}/manage?saved=1`, 303);
    } catch (error) {
      if (error instanceof Problem && error.code === 'validation') return draftForm(c, w, { jurisdictions, values, errors: draftProblemErrors(w, error), formId }, 400);
      throw error;
    }
  })
  .get('/initiatives/:id/edit', async (c) => {
    const w = await webRequest(c);
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    const { initiative } = await requireSponsorOf(c, w);
    // Only a draft changes: anything else is told so at once, rather than once the sponsor has typed and saved.
    if (initiative.status !== 'draft') return notEditablePage(c, w, initiative);
    const values: DraftValues = { ...initiative, question: initiative.question ?? '' };
    return draftForm(c, w, { jurisdictions: await listJurisdictions(c.var.deps.db.db), values, errors: {}, editing: initiative });
  })
  .post('/initiatives/:id/edit', formLimit, async (c) => {
    const w = await webRequest(c);
    const form = await formFields(c);
    verifyCsrf(c, form);
    const principal = requirePrincipal(c);
    const { initiative } = await requireSponsorOf(c, w);
    const jurisdictions = await listJurisdictions(c.var.deps.db.db);
    const values = { ...draftInput({ ...form, kind: initiative.kind }), jurisdictionId: initiative.jurisdictionId, kind: initiative.kind };
    const patch = {
      title: values.title,
      summary: values.summary,
      text: values.text,
      question: values.question ?? null,
      ...(values.language === undefined ? {} : { language: values.language }),
    };
    const parsed = UpdateInitiativeSchema.safeParse(patch);
    const kindErrors: Record<string, string> = initiative.kind === 'referendum' && !values.question ? { question: w.t.m.fields.questionRequired } : {};
    if (!parsed.success || Object.keys(kindErrors).length) {
      const errors = { ...(parsed.success ? {} : draftErrors(w, parsed.error.issues, values)), ...kindErrors };
      return draftForm(c, w, { jurisdictions, values, errors, editing: initiative }, 400);
    }
    if (form.action === 'preview') return draftForm(c, w, { jurisdictions, values, errors: {}, editing: initiative, preview: true });
    try {
      await updateDraft(c.var.deps.db.db, initiative.id, parsed.data, principal, c.var.deps.clock());
    } catch (error) {
      // Submitted from another tab meanwhile: the draft can no longer change.
      if (error instanceof Problem && error.status === 409) {
        return draftForm(c, w, { jurisdictions, values, errors: { form: problemMessage(w.t, error, { action: 'edit' }) }, editing: initiative }, 409);
      }
      if (error instanceof Problem && error.code === 'validation') return draftForm(c, w, { jurisdictions, values, errors: draftProblemErrors(w, error), editing: initiative }, 400);
      throw error;
    }
    return c.redirect(`/initiatives/${initiative.id}/manage?saved=1`, 303);
  })
  .get('/initiatives/:id/manage', async (c) => {
    const w = await webRequest(c);
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    // Read by the sponsor, the committee and the jurisdiction's clerks (dashboardFor refuses anyone else); the actions stay the sponsor's.
    const { initiative, jurisdiction } = await initiativeOfPath(c);
    w.t = w.t.of(jurisdiction);
    return managePage(c, w, initiative, jurisdiction);
  })
  // Asked at an address of its own, so that Back after confirming comes to a page and not to a form to send again.
  .get('/initiatives/:id/close', (c) => confirmStep(c, 'close'))
  .get('/initiatives/:id/withdraw', (c) => confirmStep(c, 'withdraw'))
  .post('/initiatives/:id/submit', formLimit, (c) => lifecycleAction(c, 'submit'))
  .post('/initiatives/:id/close', formLimit, (c) => lifecycleAction(c, 'close'))
  .post('/initiatives/:id/withdraw', formLimit, (c) => lifecycleAction(c, 'withdraw'))
  .get('/initiatives/:id/join', async (c) => {
    const w = await webRequest(c);
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    const { initiative } = await initiativeOfPath(c);
    // After joining (the form redirects here, so that reloading sends nothing again): said only to a member.
    if (c.req.query('joined') === '1' && (await isCommitteeMember(c.var.deps.db.db, initiative.id, w.principal.subject, committeeHashOf(c.var.deps.keys.keyring, initiative, w.principal)))) {
      return joinForm(c, w, initiative, '', undefined, 200, true);
    }
    return joinForm(c, w, initiative, c.req.query('code') ?? '', undefined);
  })
  .post('/initiatives/:id/join', formLimit, async (c) => {
    const w = await webRequest(c);
    const form = await formFields(c);
    verifyCsrf(c, form);
    const principal = requirePrincipal(c);
    const { initiative } = await initiativeOfPath(c);
    const code = (form.code ?? '').trim();
    if (!code) return joinForm(c, w, initiative, code, w.t.m.fields.required, 400);
    try {
      await joinCommittee(c.var.deps.db.db, c.var.deps.keys.keyring, initiative.id, code, principal, c.var.deps.clock());
    } catch (error) {
      if (error instanceof Problem && error.status < 500) return joinForm(c, w, initiative, code, problemMessage(w.t, error, { action: 'join' }), error.status);
      throw error;
    }
    return c.redirect(`/initiatives/${initiative.id}/join?joined=1`, 303);
  })
  .get('/me', async (c) => {
    const w = await webRequest(c);
    if (!w.principal) return c.redirect(loginUrl(w.path), 303);
    const { t } = w;
    const { m } = t;
    const [mine, committees, nameOf] = await Promise.all([
      sponsoredBy(c.var.deps.db.db, w.principal.subject),
      supportedBy(c.var.deps.db.db, w.principal.subject),
      jurisdictionLabels(c.var.deps.db.db, w.clerkOf),
    ]);
    return renderPage(c, w, {
      title: m.my.title,
      body: (
        <>
          <h1>{m.my.title}</h1>
          <h2>{m.my.sponsored}</h2>
          {mine.length === 0 ? <p>{m.my.none}</p> : null}
          <DashboardLinks t={t} initiatives={mine} now={c.var.deps.clock()} />
          <p><a class="button" href="/initiatives/new">{m.site.newInitiative}</a></p>
          {committees.length ? (
            <>
              <h2>{m.my.committees}</h2>
              <DashboardLinks t={t} initiatives={committees} now={c.var.deps.clock()} />
            </>
          ) : null}
          {w.clerkOf.length ? (
            <>
              <h2>{m.my.clerkOf}</h2>
              <ul>{w.clerkOf.map((j) => <li><a href={`/clerk?jurisdiction=${encodeURIComponent(j)}`}>{nameOf.get(j)?.name ?? j}</a></li>)}</ul>
            </>
          ) : null}
          {/* With a real provider the subject is pairwise, known to nobody beforehand: the person reads it here for a clerk grant or ADMIN_SUBJECTS. */}
          <h2>{m.my.identifier}</h2>
          <p>{m.my.identifierHelp}</p>
          <p><code id="my-subject">{w.principal.subject}</code></p>
        </>
      ),
    });
  })
  .onError(errorPage);

/** The sponsor's lifecycle buttons; a refusal (committee too small, wrong state) shows on the dashboard. */
async function lifecycleAction(c: WebContext, action: 'submit' | 'close' | 'withdraw') {
  const w = await webRequest(c);
  const form = await formFields(c);
  verifyCsrf(c, form);
  const principal = requirePrincipal(c);
  const { initiative, jurisdiction } = await requireSponsorOf(c, w);
  const deps = c.var.deps;
  // Closing and withdrawing cannot be undone: only the confirmed post acts; another (a dashboard of before) is led to the question.
  if (action !== 'submit' && form.confirm !== 'yes') return c.redirect(`/initiatives/${initiative.id}/${action}`, 303);
  try {
    if (action === 'submit') await submit(deps.db.db, initiative.id, principal, deps.clock());
    if (action === 'close') await closeBySponsor(deps.db.db, initiative.id, principal, deps.clock);
    if (action === 'withdraw') await withdraw(deps.db.db, initiative.id, principal, undefined, deps.clock());
  } catch (error) {
    if (error instanceof Problem && error.status === 409) return managePage(c, w, initiative, jurisdiction, problemMessage(w.t, error, { action, timeZone: jurisdiction.timeZone }), 409);
    throw error;
  }
  return c.redirect(`/initiatives/${initiative.id}/manage?done=${action}`, 303);
}

/** The question before closing or withdrawing; once the initiative's status allows it no more (done already, from here or elsewhere), the dashboard says so. */
async function confirmStep(c: WebContext, action: 'close' | 'withdraw') {
  const w = await webRequest(c);
  if (!w.principal) return c.redirect(loginUrl(w.path), 303);
  const { initiative, jurisdiction } = await requireSponsorOf(c, w);
  if (!canTransition(initiative.status as InitiativeStatus, action)) {
    const refusal = problemMessage(w.t, problems.illegalTransition(initiative.status, action), { action });
    return managePage(c, w, initiative, jurisdiction, refusal, 409);
  }
  return confirmPage(c, w, initiative, action);
}

function confirmPage(c: WebContext, w: WebRequest, initiative: InitiativeRow, action: 'close' | 'withdraw') {
  const { m } = w.t;
  const words = action === 'close' ? m.manage.confirmClose : m.manage.confirmWithdraw;
  return renderPage(c, w, {
    title: words.titleOf(initiative.title),
    body: (
      <>
        <p><a href={`/initiatives/${initiative.id}/manage`} lang={initiative.language}>{initiative.title}</a></p>
        <h1>{words.title}</h1>
        <p>{words.text}</p>
        <form method="post" action={`/initiatives/${initiative.id}/${action}`} class="actions">
          <CsrfField w={w} />
          <input type="hidden" name="confirm" value="yes" />
          <button type="submit" class="danger" data-confirm={action}>{words.confirm}</button>{' '}
          <a class="button secondary" href={`/initiatives/${initiative.id}/manage`}>{m.manage.cancel}</a>
        </form>
      </>
    ),
  });
}

/** The edit page of an initiative no longer a draft: what saving would answer, and the way to its dashboard. */
function notEditablePage(c: WebContext, w: WebRequest, initiative: InitiativeRow) {
  const { t } = w;
  const { m } = t;
  const naming = (title: string) => titleAbout(t, m.draft.editTitle, title);
  return renderPage(c, w, {
    title: naming(initiative.title),
    status: 409,
    body: (
      <>
        <p><PublicPageLink w={w} initiative={initiative} /></p>
        <h1><NamingInitiative message={naming} initiative={initiative} /></h1>
        <Notice kind="error">{problemMessage(t, problems.illegalTransition(initiative.status, 'edit'), { action: 'edit' })}</Notice>
        <p><a class="button" href={`/initiatives/${initiative.id}/manage`}>{m.initiative.manage}</a></p>
      </>
    ),
  });
}

function draftForm(
  c: WebContext,
  w: WebRequest,
  view: { jurisdictions: JurisdictionRow[]; values: DraftValues; errors: Record<string, string>; editing?: InitiativeRow; preview?: boolean; formId?: string },
  status = 200,
) {
  const { t } = w;
  const { m } = t;
  const { values, errors, editing } = view;
  const title = editing ? m.draft.editTitle : m.draft.newTitle;
  // Which draft is being edited is in the title too: the preview may show other words than the saved ones.
  const pageTitle = editing ? titleAbout(t, title, editing.title) : title;
  const jurisdiction = view.jurisdictions.find((j) => j.id === values.jurisdictionId);
  const language = values.language ?? DEFAULT_TEXT_LANGUAGE;
  // The fields hold the sponsors' words: in their language once it is one (a refused value is not).
  const textLang = isTextLanguage(language) ? language : undefined;
  return renderPage(c, w, {
    title: pageTitle,
    status,
    body: (
      <>
        <h1>{title}</h1>
        {Object.keys(errors).length ? (
          <ErrorSummary
            t={t}
            intro={errors.form}
            errors={fieldsInError(errors, [
              ['jurisdictionId', 'jurisdictionId', m.draft.jurisdiction],
              ['kind', `kind-${values.kind === 'referendum' ? 'referendum' : 'agenda'}`, m.draft.kind],
              ['language', 'language', m.draft.language],
              ['title', 'title', m.draft.title],
              ['summary', 'summary', m.draft.summary],
              ['text', 'text', m.draft.text],
              ['question', 'question', m.draft.question],
            ])}
          />
        ) : null}
        <form method="post" action={editing ? `/initiatives/${editing.id}/edit` : '/initiatives/new'} novalidate>
          <CsrfField w={w} />
          {editing ? null : (
            <>
              <input type="hidden" name="formId" value={view.formId} />
              <Field id="jurisdictionId" label={m.draft.jurisdiction} error={errors.jurisdictionId}>
                <select {...describedBy('jurisdictionId', errors.jurisdictionId)} required>
                  {view.jurisdictions.map((j) => <option value={j.id} selected={j.id === values.jurisdictionId}>{j.name}</option>)}
                </select>
              </Field>
              <fieldset class={errors.kind ? 'field invalid' : 'field'} aria-describedby={errors.kind ? 'kind-error' : undefined}>
                <legend>{m.draft.kind}</legend>
                {(['agenda', 'referendum'] as const).map((k) => (
                  <div>
                    <input type="radio" id={`kind-${k}`} name="kind" value={k} checked={values.kind === k} />{' '}
                    <label for={`kind-${k}`}>{m.kinds[k]}</label>
                  </div>
                ))}
                {errors.kind ? <p class="field-error" id="kind-error">{errors.kind}</p> : null}
              </fieldset>
            </>
          )}
          <Field id="language" label={m.draft.language} error={errors.language} help={m.draft.languageHelp}>
            <select {...describedBy('language', errors.language, m.draft.languageHelp)} required>
              {languageOptions(language).map((l) => (
                <option value={l.tag} lang={l.tag} selected={l.tag === language}>{l.name}</option>
              ))}
            </select>
          </Field>
          <Field id="title" label={m.draft.title} error={errors.title}>
            <input type="text" {...describedBy('title', errors.title)} lang={textLang} value={values.title ?? ''} required maxlength={200} />
          </Field>
          <Field id="summary" label={m.draft.summary} error={errors.summary}>
            <textarea {...describedBy('summary', errors.summary)} lang={textLang} rows={3} required>{values.summary ?? ''}</textarea>
          </Field>
          <Field id="text" label={m.draft.text} error={errors.text}>
            <textarea {...describedBy('text', errors.text)} lang={textLang} rows={10} required>{values.text ?? ''}</textarea>
          </Field>
          {editing?.kind === 'agenda' ? null : (
            <Field id="question" label={m.draft.question} error={errors.question} help={m.draft.questionHelp}>
              <input type="text" {...describedBy('question', errors.question, m.draft.questionHelp)} lang={textLang} value={values.question ?? ''} />
            </Field>
          )}
          <div class="actions">
            <button type="submit" name="action" value="preview" class="secondary">{m.draft.preview}</button>
            <button type="submit" name="action" value="save">{m.draft.save}</button>
          </div>
        </form>
        {view.preview ? (
          <section class="preview" aria-labelledby="preview-title">
            <h2 id="preview-title">{m.draft.previewTitle}</h2>
            <p class="muted">{jurisdiction?.name} · {m.kinds[values.kind ?? 'agenda']}</p>
            {/* Under the preview's heading: a level below it, drawn as large as the public page's title. */}
            <h3 class="title" lang={textLang}>{values.title}</h3>
            <p lang={textLang}>{values.summary}</p>
            {values.question ? <blockquote class="question" lang={textLang}>{values.question}</blockquote> : null}
            <div class="text" lang={textLang}>{values.text}</div>
          </section>
        ) : null}
      </>
    ),
  });
}

/** The languages offered, each named in itself, with the draft's own when it was set to another through the API. */
function languageOptions(current: string) {
  if (!isTextLanguage(current) || OFFERED_TEXT_LANGUAGES.some((l) => l.tag === current)) return OFFERED_TEXT_LANGUAGES;
  return [...OFFERED_TEXT_LANGUAGES, { tag: current, name: languageAutonym(current) }];
}

async function managePage(c: WebContext, w: WebRequest, initiative: InitiativeRow, jurisdiction: JurisdictionRow, error?: string, status = 200) {
  const { t } = w;
  const { m } = t;
  const deps = c.var.deps;
  const now = deps.clock();
  const dashboard = await dashboardFor(deps.db.db, initiative.id, w.principal!, 'day', now, deps.keys.keyring);
  const size = await committeeSize(deps.db.db, initiative.id);
  const done = c.req.query('done');
  const tz = jurisdiction.timeZone;
  // The code in the link, so that a member needs one message, not two; the code alone, said over the phone, still works.
  const joinUrl = `${deps.config.publicUrl}/initiatives/${initiative.id}/join?code=${encodeURIComponent(initiative.committeeCode ?? '')}`;
  const goal = dashboard.progress.criteria.find((x) => x.kind === 'goal')?.required ?? 0;
  const collecting = initiative.status === 'open';
  const isSponsor = initiative.sponsorSubject === w.principal!.subject;
  return renderPage(c, w, {
    title: m.manage.title(initiative.title),
    status,
    body: (
      <>
        <p><PublicPageLink w={w} initiative={initiative} /></p>
        <h1><NamingInitiative message={m.manage.title} initiative={initiative} /></h1>
        <p><StatusTag t={t} status={initiative.status} opensAt={initiative.opensAt} now={now} /></p>
        {c.req.query('saved') ? <Notice outcome>{m.draft.saved}</Notice> : null}
        {done === 'submit' ? <Notice outcome>{m.manage.submitted}</Notice> : null}
        {done === 'close' ? <Notice outcome>{m.manage.closed}</Notice> : null}
        {done === 'withdraw' ? <Notice outcome>{m.manage.withdrawn}</Notice> : null}
        {error ? <Notice kind="error">{error}</Notice> : null}
        {initiative.reason ? <p><strong>{m.initiative.reason}{m.colon}</strong> {initiative.reason}</p> : null}

        {initiative.status === 'draft' || initiative.status === 'submitted' ? (
          <section aria-labelledby="committee-title">
            <h2 id="committee-title">{m.manage.committee}</h2>
            <p>{m.manage.committeeSize(size, jurisdiction.committeeMinimum)}</p>
            {isSponsor ? (
              <dl class="facts">
                <dt>{m.manage.code}</dt>
                <dd><code data-committee-code="">{initiative.committeeCode}</code></dd>
                <dt>{m.manage.joinLink}</dt>
                <dd><code>{joinUrl}</code></dd>
              </dl>
            ) : null}
          </section>
        ) : null}

        {isSponsor ? (
          <SponsorActions w={w} initiative={initiative} collecting={collecting} />
        ) : (
          <p class="help">{m.manage.readOnly}</p>
        )}

        {takesPaperForms(initiative, now) ? (
          <section aria-labelledby="paper-forms-title">
            <h2 id="paper-forms-title">{m.paperForm.manage}</h2>
            <p>{m.paperForm.manageHelp}</p>
            <PaperFormBatch w={w} initiative={initiative} submit={m.paperForm.print} />
          </section>
        ) : null}

        <ProgressBlock t={t} progress={dashboard.progress} live={collecting ? `/v1/initiatives/${initiative.id}/progress/stream` : undefined} />
        {dashboard.timeLeft ? (
          <p>
            {/* As the initiative's public page says it. */}
            {closingLine(t, dashboard.timeLeft.closesAt, tz)} — <strong>{m.initiative.daysLeft(daysLeft(dashboard.timeLeft.closesAt, now, tz)!)}</strong>
          </p>
        ) : null}
        {/* The pace and where it leads: only while signatures come in. */}
        {collecting ? (
          <section aria-labelledby="velocity-title">
            <h2 id="velocity-title">{m.manage.velocity}</h2>
            <dl class="facts">
              <dt>{m.manage.lastHour}</dt>
              <dd data-velocity-hour="">{t.number(dashboard.velocity.lastHour.net)}</dd>
              <dt>{m.manage.lastDay}</dt>
              <dd data-velocity-day="">{t.number(dashboard.velocity.lastDay.net)}</dd>
            </dl>
            <h2>{m.manage.projection}</h2>
            <p data-projection="">
              {dashboard.progress.goalMet
                ? m.manage.projectionMet
                : dashboard.projection && dashboard.projection.beforeClose !== false
                  ? m.manage.projectionAt(t.date(dashboard.projection.goalAt, tz))
                  : m.manage.projectionNever}
            </p>
          </section>
        ) : null}
        {/* How signatures came in: once the collection has opened. */}
        {initiative.opensAt ? (
          <section aria-labelledby="history-title">
            <h2 id="history-title">{m.manage.history}</h2>
            <HistoryChart
              t={t}
              title={m.manage.historyChart}
              goal={goal}
              timeZone={tz}
              points={dashboard.history.points.map((p) => ({ at: p.start, net: p.net, cumulative: p.cumulative }))}
            />
          </section>
        ) : null}
        {dashboard.districtsBehind.length ? (
          <section aria-labelledby="behind-title">
            <h2 id="behind-title">{m.manage.furthest}</h2>
            <ul>
              {dashboard.districtsBehind.map((d) => (
                <li>{d.name}{m.colon} {t.number(d.signatures)} / {t.number(d.required)}</li>
              ))}
            </ul>
          </section>
        ) : null}
        <Milestones t={t} progress={dashboard.progress} timeZone={tz} />
        <DistrictTable t={t} progress={dashboard.progress} />
      </>
    ),
  });
}

/** What only the sponsor may do: edit, submit, close, withdraw. */
/** Initiatives, each linked to its dashboard, with its status. */
function DashboardLinks(props: { t: WebRequest['t']; initiatives: Pick<InitiativeRow, 'id' | 'title' | 'language' | 'status' | 'opensAt'>[]; now: Date }) {
  return (
    <ul>
      {props.initiatives.map((i) => (
        <li>
          <a href={`/initiatives/${i.id}/manage`} lang={i.language}>{i.title}</a> — <StatusTag t={props.t} status={i.status} opensAt={i.opensAt} now={props.now} />
        </li>
      ))}
    </ul>
  );
}

function SponsorActions(props: { w: WebRequest; initiative: InitiativeRow; collecting: boolean }) {
  const { w, initiative, collecting } = props;
  const { m } = w.t;
  return (
    <>
      <div class="actions">
        {initiative.status === 'draft' ? <a class="button secondary" href={`/initiatives/${initiative.id}/edit`}>{m.manage.edit}</a> : null}
        {initiative.status === 'draft' ? (
          <form method="post" action={`/initiatives/${initiative.id}/submit`} class="inline">
            <CsrfField w={w} />
            <button type="submit">{m.manage.submit}</button>
          </form>
        ) : null}
        {/* Each leads to its question (a page of its own); only the answer posts. */}
        {collecting ? (
          <a class="button danger" href={`/initiatives/${initiative.id}/close`} aria-describedby="close-help">{m.manage.close}</a>
        ) : null}
        {canTransition(initiative.status as InitiativeStatus, 'withdraw') ? (
          <a class="button secondary" href={`/initiatives/${initiative.id}/withdraw`}>{m.manage.withdraw}</a>
        ) : null}
      </div>
      {initiative.status === 'draft' ? <p class="help">{m.manage.submitHelp}</p> : null}
      {collecting ? <p class="help" id="close-help">{m.manage.closeHelp}</p> : null}
    </>
  );
}

/** The initiative's title, linked to its public page when the reader may see it: a draft's is its sponsor's alone. */
function PublicPageLink(props: { w: WebRequest; initiative: InitiativeRow }) {
  const { initiative } = props;
  if (initiative.status === 'draft' && initiative.sponsorSubject !== props.w.principal?.subject) return <span lang={initiative.language}>{initiative.title}</span>;
  return <a href={`/initiatives/${initiative.id}`} lang={initiative.language}>{initiative.title}</a>;
}

function joinForm(c: WebContext, w: WebRequest, initiative: InitiativeRow, code: string, error: string | undefined, status = 200, joined = false) {
  const { m } = w.t;
  return renderPage(c, w, {
    title: titleAbout(w.t, m.join.title, initiative.title),
    status,
    body: (
      <>
        <p><PublicPageLink w={w} initiative={initiative} /></p>
        <h1>{m.join.title}</h1>
        {joined ? <Notice outcome>{m.join.joined}</Notice> : null}
        {/* The committee reads the dashboard; a draft has no public page yet. */}
        {joined ? <p><a class="button" href={`/initiatives/${initiative.id}/manage`}>{m.initiative.manage}</a></p> : null}
        {error ? <ErrorSummary t={w.t} errors={[{ id: 'code', label: m.join.code, message: error }]} /> : null}
        {joined ? null : (
          <form method="post" action={`/initiatives/${initiative.id}/join`} novalidate>
            <CsrfField w={w} />
            <Field id="code" label={m.join.code} error={error}>
              <input type="text" {...describedBy('code', error)} value={code} required autocomplete="off" />
            </Field>
            <button type="submit">{m.join.submit}</button>
          </form>
        )}
      </>
    ),
  });
}
