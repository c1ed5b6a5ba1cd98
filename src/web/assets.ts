/**
 * The stylesheet, the one script and the icon of the web front, served from /assets/* (the CSP allows
 * scripts and styles from the site itself only). Kept as modules so every runtime can serve them.
 */
export const SITE_CSS = `
:root { --ink: #1b1f24; --muted: #4a5360; --accent: #0a4fa6; --accent-ink: #fff; --ok: #17643a; --bad: #a3141a; --line: #c9ced6; --bg: #fff; --soft: #f2f4f7; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); overflow-wrap: break-word; }
a { color: var(--accent); }
/* Focus: a dark ring (over 3:1 on every background of the site) around a yellow one, so it shows on light and dark alike. */
a:focus, button:focus, input:focus, select:focus, textarea:focus, [tabindex]:focus { outline: 3px solid var(--ink); outline-offset: 2px; box-shadow: 0 0 0 2px #f5b400; }
.skip { position: absolute; left: -999px; top: 0; background: var(--ink); color: #fff; padding: .5rem 1rem; }
.skip:focus { left: .5rem; }
.dev-banner { margin: 0; padding: .4rem 1rem; background: #fff3c4; color: #4d3b00; border-bottom: 1px solid #e0c766; font-size: .9rem; }
header.site { border-bottom: 1px solid var(--line); }
header.site .bar { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem 2rem; padding: .75rem 1.5rem; }
header.site nav a[aria-current=page] { font-weight: 700; color: var(--ink); }
header.site .brand { font-weight: 700; font-size: 1.15rem; color: var(--ink); text-decoration: none; }
ul.plain { list-style: none; padding: 0; }
header.site ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: 0; padding: 0; align-items: center; }
main { max-width: 62rem; margin: 0 auto; padding: 1.5rem; }
footer.site { max-width: 62rem; margin: 2rem auto; padding: 1rem 1.5rem; border-top: 1px solid var(--line); color: var(--muted); }
h1 { font-size: 1.8rem; line-height: 1.25; margin: .5rem 0 1rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .75rem; }
.muted, .help { color: var(--muted); }
.help { margin: .1rem 0 .3rem; font-size: .92rem; }
form.inline { display: inline; }
button, .button { display: inline-block; font: inherit; padding: .55rem 1.1rem; border-radius: 4px; border: 2px solid var(--accent); background: var(--accent); color: var(--accent-ink); cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger, .button.danger { background: var(--bad); border-color: var(--bad); }
button.link { background: none; border: 0; padding: 0; color: var(--accent); text-decoration: underline; }
.field { margin: 0 0 1rem; }
.field label { display: block; font-weight: 600; margin-bottom: .2rem; }
.field.check label { display: inline; font-weight: 400; }
.field input[type=radio] + label, .field input[type=checkbox] + label { display: inline; font-weight: 400; margin-bottom: 0; }
input[type=text], input[type=search], input[type=date], input[type=datetime-local], input[type=number], select, textarea { font: inherit; padding: .45rem .55rem; border: 1px solid #6b7480; border-radius: 4px; max-width: 100%; }
input[type=text], textarea { width: 100%; }
.field.invalid input, .field.invalid select, .field.invalid textarea { border: 2px solid var(--bad); }
.field-error { color: var(--bad); font-weight: 600; margin: .25rem 0 0; }
.notice { padding: .75rem 1rem; border-radius: 4px; margin: 1rem 0; }
.notice.ok { background: #e6f4ea; color: #0d4a27; border: 1px solid #9fd0af; }
.notice.error { background: #fdecec; color: #7a0f13; border: 1px solid #eba3a6; }
.notice.info { background: var(--soft); color: var(--ink); border: 1px solid var(--line); }
.notice > p:first-child { margin-top: 0; }
.notice > :last-child { margin-bottom: 0; }
.notice.error a { color: inherit; font-weight: 600; }
.cards { list-style: none; padding: 0; display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; }
/* A long address or word in a summary breaks within its card rather than widening the grid, and the page, beyond a phone's screen. */
.card { border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; overflow-wrap: anywhere; }
.card h2, .card h3 { margin: 0 0 .4rem; font-size: 1.2rem; }
.tag { display: inline-block; font-size: .85rem; padding: .1rem .5rem; border-radius: 999px; background: var(--soft); color: var(--ink); border: 1px solid var(--line); }
.filters { display: flex; flex-wrap: wrap; gap: .75rem 1rem; align-items: flex-end; background: var(--soft); padding: 1rem; border-radius: 6px; }
.filters .field { margin: 0; min-width: 0; max-width: 100%; }
progress { width: 100%; height: 1.2rem; accent-color: var(--accent); }
.count { font-size: 1.4rem; font-weight: 700; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
.table-scroll { overflow-x: auto; margin: .5rem 0 1rem; }
.table-scroll > table { margin: 0; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
blockquote.question { margin: 1rem 0; padding: .75rem 1rem; border-left: 4px solid var(--accent); background: var(--soft); font-weight: 600; }
.text { white-space: pre-wrap; }
.chart { margin: .5rem 0 1rem; }
.chart svg { max-width: 100%; height: auto; }
.chart .bar { fill: var(--accent); }
.chart .required { stroke: var(--bad); stroke-width: 2; }
.chart .chart-label, .chart .chart-value { font-size: 12px; fill: var(--ink); }
.chart .axis { stroke: var(--muted); }
.chart .goal { stroke: var(--bad); stroke-dasharray: 6 4; }
.chart .line { fill: none; stroke: var(--accent); stroke-width: 2.5; }
.chart .point { fill: var(--accent); }
pre { white-space: pre-wrap; overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9rem; word-break: break-all; }
textarea.mono { min-height: 10rem; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin: 1rem 0; }
.preview { border: 2px dashed var(--line); padding: 1rem 1.25rem; border-radius: 6px; margin-top: 2rem; }
.preview h3.title { font-size: 1.8rem; line-height: 1.25; margin: .5rem 0 1rem; }
tr.current { background: #fff8d6; }
ul.pager { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; }
ul.pager [aria-current=page] { font-weight: 700; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .25rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
/* The paper form: on screen, each sheet framed as the page it prints on; printed, the sheets alone, each on a page of its own. */
.paper-sheet { border: 1px solid var(--line); padding: 1rem 1.25rem; margin: 2rem 0; }
.paper-sheet h2 { margin-top: 0; }
.sheet-head { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline; gap: 0 1.5rem; }
.sheet-ref strong { font-size: 1.1rem; border: 2px solid var(--ink); padding: .1rem .4rem; }
.district-codes { list-style: none; padding: 0; columns: 12rem; column-gap: 1.5rem; font-size: .85rem; }
.district-codes .mono { font-size: inherit; font-weight: 600; }
table.sheet-rows .col-line { width: 2.5rem; }
table.sheet-rows .col-date { width: 14%; }
table.sheet-rows .col-signature { width: 20%; }
.fill-line { display: flex; gap: .5rem; align-items: flex-end; }
.fill-line .blank { flex: 1; border-bottom: 1px solid var(--ink); min-height: 1.5rem; }
table.sheet-rows th, table.sheet-rows td { border: 1px solid var(--ink); }
table.sheet-rows tbody td, table.sheet-rows tbody th { height: 2.6rem; }
table.sheet-rows caption { text-align: left; font-weight: 600; }
@page paper-sheet { size: A4 portrait; margin: 10mm; }
@media print {
  header.site, footer.site, .skip, .screen-only { display: none; }
  main { max-width: none; padding: 0; }
  body { font-size: 10pt; }
  a { color: inherit; }
  .paper-sheet { page: paper-sheet; border: 0; padding: 0; margin: 0; break-after: page; line-height: 1.3; }
  .paper-sheet:last-child { break-after: auto; }
  .paper-sheet h2 { font-size: 13pt; }
  .paper-sheet h3 { font-size: 10.5pt; margin: .5rem 0 .2rem; }
  .paper-sheet p, .paper-sheet ul, .paper-sheet dl, .paper-sheet blockquote { margin: .3rem 0; }
  .paper-sheet dl.facts { gap: 0 .75rem; font-size: 9pt; }
  .paper-sheet blockquote.question { padding: .3rem .6rem; }
  .sheet-notice { font-size: 8pt; padding-left: 1.2rem; columns: 2; column-gap: 8mm; }
  .sheet-notice li { break-inside: avoid; }
  .district-codes { font-size: 7.5pt; columns: 3; line-height: 1.3; }
  table.sheet-rows { font-size: 8.5pt; }
  table.sheet-rows tr { break-inside: avoid; }
  table.sheet-rows tbody td, table.sheet-rows tbody th { height: 8mm; }
}
/* Narrow screens and pages zoomed to 400 %: each term above its value, nothing wider than the screen. */
@media (max-width: 36rem) {
  dl.facts { grid-template-columns: minmax(0, 1fr); gap: 0; }
  dl.facts dd { margin-bottom: .5rem; }
}
`;

export const SITE_JS = `'use strict';
// Live progress: follows the progress stream of the initiative page when the engine offers one.
(function () {
  var root = document.querySelector('[data-progress-stream]');
  if (!root || typeof EventSource === 'undefined') return;
  var lang = document.documentElement.lang === 'en' ? 'en-GB' : 'fr-FR';
  var fmt = new Intl.NumberFormat(lang);
  var plural = new Intl.PluralRules(lang);
  var collecting = true;
  function update(event) {
    var progress;
    try { progress = JSON.parse(event.data); } catch (e) { return; }
    if (!progress || typeof progress.signatures !== 'number') return;
    collecting = ['draft', 'submitted', 'open'].indexOf(progress.status) >= 0;
    // A stream may first replay a snapshot read before this page was: never go back in time.
    var shown = root.getAttribute('data-updated-at');
    if (shown && typeof progress.updatedAt === 'string' && progress.updatedAt < shown) return;
    if (typeof progress.updatedAt === 'string') root.setAttribute('data-updated-at', progress.updatedAt);
    document.querySelectorAll('[data-count]').forEach(function (el) { el.textContent = fmt.format(progress.signatures); });
    // "1 signature sur…", "2 signatures sur…": the words the server wrote for each plural form.
    var form = plural.select(progress.signatures) === 'one' ? 'data-one' : 'data-other';
    document.querySelectorAll('[data-count-words]').forEach(function (el) { el.textContent = el.getAttribute(form); });
    document.querySelectorAll('progress[data-progress]').forEach(function (el) { el.value = Math.min(progress.signatures, Number(el.max)); });
    (progress.districts || []).forEach(function (d) {
      document.querySelectorAll('[data-district-count="' + d.code + '"]').forEach(function (el) { el.textContent = fmt.format(d.signatures); });
    });
  }
  // EventSource gives up for good on an answer other than 200 (a 503 while the engine restarts, a 429):
  // while the collection runs, the page opens the stream again after 5 s, then 10, 20... up to 2 minutes.
  var delay = 5000;
  function connect() {
    var source = new EventSource(root.getAttribute('data-progress-stream'));
    source.addEventListener('open', function () { delay = 5000; });
    source.addEventListener('message', update);
    source.addEventListener('progress', update);
    source.addEventListener('error', function () {
      if (source.readyState !== EventSource.CLOSED) return;
      source.close();
      if (!collecting) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 120000);
    });
  }
  connect();
})();

// Keyboard shortcuts for deciding sampled signatures: J/K move, V/I/D decide the current one (I and D first
// ask for the reason or the partner's reference). They work within the list alone (WCAG 2.1.4): elsewhere
// on the page a V or a D, typed or spoken, does nothing.
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll('[data-sample-row]'));
  if (!rows.length) return;
  var list = rows[0].closest('.table-scroll') || rows[0].closest('table');
  var current = rows.findIndex(function (r) { return r.hasAttribute('data-pending'); });
  if (current < 0) current = 0;
  // The current row is the list's one tab stop (the others are reached with J and K).
  function mark(i) {
    rows[current].classList.remove('current');
    rows[current].setAttribute('tabindex', '-1');
    current = i;
    rows[current].classList.add('current');
    rows[current].setAttribute('tabindex', '0');
  }
  function focus(i) {
    if (i < 0 || i >= rows.length) return;
    mark(i);
    rows[current].focus();
  }
  mark(current);
  // Just started, or a decision just recorded: the focus is on the next signature to decide (once the
  // page has loaded, as the browser moves the focus to the address's #fragment before then).
  if (/[?&]done=(started|decided)(&|$)/.test(location.search)) {
    window.addEventListener('load', function () { rows[current].focus(); });
  }
  document.addEventListener('keydown', function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (!target || !list.contains(target)) return;
    // Enter in a reason for invalidity records the signature as invalid, for that reason.
    if (event.key === 'Enter' && target && target.name === 'reason' && target.form && target.form.classList.contains('decide')) {
      var invalid = target.form.querySelector('button[value="invalid"]:not([hidden])');
      if (invalid) { event.preventDefault(); invalid.click(); }
      return;
    }
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    var key = event.key.toLowerCase();
    if (key === 'j') { focus(current + 1); event.preventDefault(); return; }
    if (key === 'k') { focus(current - 1); event.preventDefault(); return; }
    var decision = { v: 'valid', i: 'invalid', d: 'duplicate' }[key];
    if (!decision) return;
    var button = rows[current].querySelector('button[value="' + decision + '"]');
    if (!button) return;
    event.preventDefault();
    if (decision === 'invalid') {
      var reason = rows[current].querySelector('input[name="reason"]');
      if (reason && !reason.value) { reason.focus(); return; }
    }
    // A duplicate names the signature it duplicates: D goes to that field; Enter there records the duplicate.
    if (decision === 'duplicate') {
      var partner = rows[current].querySelector('input[name="duplicateOf"]');
      if (partner && !partner.value) { partner.focus(); return; }
    }
    button.click();
  });
})();

// A data table wider than its box scrolls sideways and is a tab stop, so that the keyboard can scroll
// it (without this script every table box stays one); a table that fits is not, and stops no one.
(function () {
  var boxes = Array.prototype.slice.call(document.querySelectorAll('.table-scroll[tabindex]'));
  if (!boxes.length) return;
  function fit() {
    boxes.forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) box.setAttribute('tabindex', '0');
      else box.removeAttribute('tabindex');
    });
  }
  fit();
  window.addEventListener('resize', fit);
})();
`;

/** The site's icon: a check mark on the accent colour (browsers ask for one on every first visit). */
export const SITE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0a4fa6"/><path d="M8 16.5l5.5 5.5L24 10.5" fill="none" stroke="#fff" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/></svg>`;
