import type { Child } from 'hono/jsx';
import type { Translator } from './i18n';
import { CSRF_FIELD, type WebContext, type WebRequest } from './request';

/** No inline script or style anywhere: scripts and styles come from /assets only. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** `titleSaysError`: an error page, whose own title says what went wrong, takes no "Error:" before it. */
export function renderPage(c: WebContext, w: WebRequest, page: { title: string; body: Child; status?: number; titleSaysError?: boolean }) {
  c.header('Content-Security-Policy', PAGE_CSP);
  c.header('Cache-Control', 'no-store');
  return c.html(
    '<!doctype html>' + (<Layout w={w} title={page.title} refused={(page.status ?? 200) >= 400 && !page.titleSaysError}>{page.body}</Layout>).toString(),
    (page.status ?? 200) as 200,
  );
}

function Layout(props: { w: WebRequest; title: string; refused: boolean; children: Child }) {
  const { w } = props;
  const { m } = w.t;
  const other = m.otherLanguage;
  const titled = props.title === m.site.name ? m.site.name : `${props.title} · ${m.site.name}`;
  // A form answered with what is wrong says so first in the title.
  const title = props.refused ? `${m.site.refused}${m.colon} ${titled}` : titled;
  /** The navigation marks the page the reader is on. */
  const here = (href: string) => (w.path.split('?')[0] === href ? 'page' : undefined);
  return (
    <html lang={m.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title}</title>
        <link rel="stylesheet" href="/assets/site.css" />
        <link rel="icon" href="/assets/icon.svg" type="image/svg+xml" />
        <script src="/assets/app.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">{m.site.skip}</a>
        <header class="site">
          {/* Inside the banner landmark, so that screen-reader users moving by landmarks meet it too. */}
          {w.devProvider ? <p class="dev-banner" role="note">{m.site.devProvider}</p> : null}
          <div class="bar">
            <a class="brand" href="/">{m.site.name}</a>
            <nav aria-label={m.site.nav}>
              <ul>
                <li><a href="/" aria-current={here('/')}>{m.site.home}</a></li>
                <li><a href="/results" aria-current={here('/results')}>{m.results.nav}</a></li>
                <li><a href="/initiatives/new" aria-current={here('/initiatives/new')}>{m.site.newInitiative}</a></li>
                {w.principal ? <li><a href="/me" aria-current={here('/me')}>{m.site.mySpace}</a></li> : null}
                {w.clerkOf.length > 0 ? <li><a href="/clerk" aria-current={here('/clerk')}>{m.site.clerk}</a></li> : null}
                <li>
                  <a href={`/lang?to=${other.code}&back=${encodeURIComponent(w.path)}`} hreflang={other.code} lang={other.code}>
                    {other.label}
                  </a>
                </li>
                <li>
                  {w.principal ? (
                    <form method="post" action="/auth/logout" class="inline">
                      <CsrfField w={w} />
                      <button type="submit" class="link">{m.site.logout}</button>
                    </form>
                  ) : (
                    <a href={`/auth/login?returnTo=${encodeURIComponent(w.path)}`}>{m.site.login}</a>
                  )}
                </li>
              </ul>
            </nav>
          </div>
        </header>
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
        <footer class="site">
          <a href="/docs">{m.site.api}</a>
        </footer>
      </body>
    </html>
  );
}

export function CsrfField(props: { w: WebRequest }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.w.csrf} />;
}

/**
 * A status message shown after an action (role=status so screen readers announce it). An error, and
 * the `outcome` of what the reader just did on a page that answers it (signed, saved, submitted...),
 * take the focus as the page loads (autofocus, no script needed): a screen reader reads it first,
 * where a message already on a page as it loads is not announced, and the next Tab goes on from it
 * rather than from the top of the page.
 */
export function Notice(props: { children: Child; kind?: 'ok' | 'error' | 'info'; outcome?: boolean }) {
  // A fact about the page (a draft only its sponsor sees), not the outcome of anything done.
  if (props.kind === 'info') return <p class="notice info">{props.children}</p>;
  return props.kind === 'error' ? (
    <div class="notice error" role="alert" tabindex={-1} autofocus>{props.children}</div>
  ) : (
    <div class="notice ok" role="status" tabindex={props.outcome ? -1 : undefined} autofocus={props.outcome}>{props.children}</div>
  );
}

/** A field in error, for the summary above its form: `id` is the control the link leads to. */
export interface FieldInError {
  id: string;
  label?: string;
  message: string;
}

/** What is wrong with a form just sent, above it: each error a link to its field (the Notice takes the focus). */
export function ErrorSummary(props: { t: Translator; intro?: string; errors: FieldInError[] }) {
  const { m } = props.t;
  return (
    <Notice kind="error">
      <p>{props.intro ?? m.errors.fix}</p>
      {props.errors.length ? (
        <ul>
          {props.errors.map((e) => (
            <li>
              <a href={`#${e.id}`}>{e.label ? `${e.label}${m.colon} ${e.message}` : e.message}</a>
            </li>
          ))}
        </ul>
      ) : null}
    </Notice>
  );
}

/** The errors of a form by field, in the order of `fields` (field name → its control's id and label); other keys are left out. */
export function fieldsInError(errors: Record<string, string>, fields: [name: string, id: string, label?: string][]): FieldInError[] {
  return fields.flatMap(([name, id, label]) => (errors[name] ? [{ id, label, message: errors[name] }] : []));
}

/** The title of a page about one initiative: what the page is, then which initiative, so that tabs and history tell them apart. */
export function titleAbout(t: Translator, page: string, initiativeTitle: string): string {
  return `${page}${t.m.colon} ${initiativeTitle}`;
}

/** Stands for the title in a message, to find where the title goes. */
const TITLE_MARK = '\u0000';

/**
 * A message that names an initiative ("Signer : …"), its title marked with the language of the
 * initiative's text (WCAG 3.1.2) while the message's own words stay in the page's. Wherever the
 * sponsors' words sit in an element of their own, that element carries `lang={initiative.language}`.
 */
export function NamingInitiative(props: { message: (title: string) => string; initiative: { title: string; language: string } }) {
  const [before = '', after = ''] = props.message(TITLE_MARK).split(TITLE_MARK);
  return (
    <>
      {before}
      <span lang={props.initiative.language}>{props.initiative.title}</span>
      {after}
    </>
  );
}

/** A labelled field with its error right next to it, tied by aria-describedby. */
export function Field(props: { id: string; label: string; error?: string; help?: string; children: Child }) {
  return (
    <div class={props.error ? 'field invalid' : 'field'}>
      <label for={props.id}>{props.label}</label>
      {props.help ? <p class="help" id={`${props.id}-help`}>{props.help}</p> : null}
      {props.children}
      {props.error ? <p class="field-error" id={`${props.id}-error`}>{props.error}</p> : null}
    </div>
  );
}

/**
 * A data table that scrolls sideways in its own box on a narrow screen or a page zoomed to 400 %,
 * while the page around it reflows (WCAG 1.4.10): focusable, so that a keyboard can scroll it, and named.
 */
export function TableScroll(props: { labelledBy: string; children: Child }) {
  return (
    <div class="table-scroll" role="group" tabindex={0} aria-labelledby={props.labelledBy}>
      {props.children}
    </div>
  );
}

/** aria attributes for an input inside <Field>. */
export function describedBy(id: string, error?: string, help?: string) {
  const ids = [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return { id, name: id, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': ids || undefined } as const;
}
