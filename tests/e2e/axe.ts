import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AxeResults, Result } from 'axe-core';
import type { Page } from 'playwright-core';

/**
 * The success criteria of WCAG 2.0 and 2.1, levels A and AA, and the rules axe maps to RGAA 4 (the
 * French reference, which adds a few: all content within landmarks, skip links that work).
 */
export const WCAG_AA_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'RGAAv4'];

let axeSource: Promise<string> | undefined;

/**
 * Runs axe-core in the page as it stands. The source goes in through page.evaluate, which the pages'
 * strict CSP (script-src 'self') does not apply to, so the page is checked under its real policy.
 */
export async function axeViolations(page: Page): Promise<Result[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(await axeSource);
  const results = await page.evaluate(
    (tags) => (window as unknown as { axe: { run(context: Document, options: object): Promise<AxeResults> } }).axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    }),
    WCAG_AA_TAGS,
  );
  return results.violations;
}

/** One line per violation and one per node, enough to find the element and the rule's explanation. */
export function describeViolations(where: string, violations: Result[]): string {
  if (violations.length === 0) return `${where}: no violations`;
  return [
    `${where}: ${violations.length} accessibility violation(s)`,
    ...violations.flatMap((v) => [
      `- ${v.id} (${v.impact ?? 'unknown impact'}): ${v.help} — ${v.helpUrl}`,
      ...v.nodes.map((n) => `    ${n.target.join(' ')}  ${n.html.slice(0, 160)}${n.failureSummary ? `\n      ${n.failureSummary.replace(/\n/g, '\n      ')}` : ''}`),
    ]),
  ].join('\n');
}

/**
 * What axe does not check, on the page as it stands: that it reflows at 320 CSS pixels (WCAG 1.4.10,
 * a 1280-pixel screen zoomed to 400 %) without scrolling sideways, tables apart; that it has one
 * level-1 heading and no skipped level (RGAA 9.1); that each field error is tied to its field by
 * aria-describedby (WCAG 3.3.1, 1.3.1); that a data table's box is a tab stop when it scrolls, and only then.
 * One line per problem.
 */
export async function layoutProblems(page: Page): Promise<string[]> {
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 720 });
  const reflow = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    // The outermost elements sticking out, tables' insides apart (a data table may scroll within its own box).
    const wide = [...document.querySelectorAll('body *')].filter(
      (e) => e.getBoundingClientRect().right > width + 1 && !e.parentElement?.closest('table, .table-scroll') && !(e.parentElement && e.parentElement.getBoundingClientRect().right > width + 1),
    );
    // Or text wider than its box (a long word, an id): the box fits, its content does not.
    const spilling = wide.length ? wide : [...document.querySelectorAll('body *')].filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible' && !e.closest('table'));
    return [`scrolls sideways at 320 px (${document.documentElement.scrollWidth} px wide): ${spilling.slice(0, 5).map((e) => `<${e.tagName.toLowerCase()}${e.className ? ` class="${e.className}"` : ''}> "${(e.textContent ?? '').trim().slice(0, 60)}"`).join(', ')}`];
  });
  // A table box that scrolls is a tab stop, so that the keyboard can scroll it (WCAG 2.1.1); one that fits is not.
  const tableStops = async (where: string) => {
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    return page.evaluate(
      (where) =>
        [...document.querySelectorAll<HTMLElement>('.table-scroll')].flatMap((box) => {
          const scrolls = box.scrollWidth > box.clientWidth + 1;
          const stop = box.getAttribute('tabindex') === '0';
          const name = document.getElementById(box.getAttribute('aria-labelledby') ?? '')?.textContent?.trim();
          if (scrolls && !stop) return [`table "${name}" scrolls sideways ${where} but the keyboard cannot reach it`];
          if (!scrolls && stop) return [`table "${name}" fits ${where} but is a tab stop`];
          return [];
        }),
      where,
    );
  };
  const narrowTables = await tableStops('at 320 px');
  if (viewport) await page.setViewportSize(viewport);
  const wideTables = await tableStops(`at ${viewport?.width ?? 'the usual'} px`);
  const structure = await page.evaluate(() => {
    const problems: string[] = [];
    const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map((h) => ({ level: Number(h.tagName[1]), text: h.textContent!.trim() }));
    const ones = headings.filter((h) => h.level === 1);
    if (ones.length !== 1) problems.push(`${ones.length} level-1 headings: ${ones.map((h) => `"${h.text}"`).join(', ')}`);
    headings.forEach((h, i) => {
      const before = headings[i - 1];
      if (before && h.level > before.level + 1) problems.push(`heading level skipped: h${before.level} "${before.text}" then h${h.level} "${h.text}"`);
    });
    for (const error of document.querySelectorAll('.field-error')) {
      const tied = error.id && [...document.querySelectorAll('[aria-describedby]')].some((e) => e.getAttribute('aria-describedby')!.split(/\s+/).includes(error.id));
      if (!tied) problems.push(`field error not tied to its field: "${error.textContent!.trim()}"`);
    }
    return problems;
  });
  return [...reflow, ...narrowTables, ...wideTables, ...structure];
}

/**
 * Moves through the page with Tab, `stops` times, and says which focused element's indicator a
 * person with low vision would miss: no outline, or one under 3:1 against the page (WCAG 2.4.7, 1.4.11).
 */
export async function weakFocusIndicators(page: Page, stops: number): Promise<string[]> {
  const problems: string[] = [];
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (let i = 0; i < stops; i++) {
    await page.keyboard.press('Tab');
    const problem = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const luminance = (css: string) => {
        const [r, g, b] = (css.match(/[\d.]+/g) ?? ['0', '0', '0']).slice(0, 3).map((v) => {
          const c = Number(v) / 255;
          return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      const style = getComputedStyle(el);
      const page = luminance(getComputedStyle(document.body).backgroundColor);
      const outline = luminance(style.outlineColor);
      const ratio = (Math.max(page, outline) + 0.05) / (Math.min(page, outline) + 0.05);
      const name = `<${el.tagName.toLowerCase()}> "${(el.textContent ?? '').trim().slice(0, 40)}"`;
      if (style.outlineStyle === 'none' || parseFloat(style.outlineWidth) < 2) return `${name}: no visible outline`;
      return ratio < 3 ? `${name}: outline ${style.outlineColor} is ${ratio.toFixed(2)}:1 against the page` : null;
    });
    if (problem) problems.push(problem);
  }
  return problems;
}
