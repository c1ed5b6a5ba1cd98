import { issueSession } from '../../src/features/auth/session';
import type { TestEngine } from '../support/engine';

/** The form token every test browser holds (double-submit cookie and field). */
export const CSRF = 'c'.repeat(43);

/** Requests as a browser makes them: pages (Accept: text/html), form posts with the CSRF token, a session cookie. */
export function browserRequests(engine: TestEngine) {
  async function sessionFor(subject: string, identity?: { givenNames: string; familyName: string; birthdate: string }) {
    const { token } = await issueSession(engine.deps, {
      subject,
      issuer: engine.devProvider.issuer,
      assurance: 'eidas2',
      identity,
      missingClaims: identity ? [] : ['given_name', 'family_name', 'birthdate'],
      expiresAt: undefined,
    });
    return `session=${token}; csrf=${CSRF}`;
  }

  async function page(path: string, init: { cookie?: string; lang?: string; form?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    if (init.cookie) headers.cookie = init.cookie;
    if (init.lang) headers['accept-language'] = init.lang;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = 'http://localhost';
    }
    const res = await engine.app.request(path, {
      method: init.form ? 'POST' : 'GET',
      headers,
      body: init.form ? new URLSearchParams({ _csrf: CSRF, ...init.form }).toString() : undefined,
    });
    const html = await res.text();
    return { status: res.status, headers: res.headers, html, text: visibleText(html) };
  }

  return { sessionFor, page };
}

/** What a reader sees of a page: the body's text, tags removed, entities decoded, spaces collapsed (no-break spaces kept). */
export function visibleText(html: string): string {
  const body = /<body[^>]*>([\s\S]*)<\/body>/.exec(html)?.[1] ?? html;
  return body
    .replace(/<(script|style|textarea)[^>]*>[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[ \t\r\n]+/g, ' ')
    .trim();
}
