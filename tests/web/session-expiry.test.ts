import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/features/demo/seed';
import { listInitiatives } from '../../src/features/initiatives/service';
import { createTestEngine, type TestEngine } from '../support/engine';
import { browserRequests, CSRF, visibleText } from './browser-requests';

/** The fields of the page's form that posts to `action`, as the browser would send them. */
function formFieldsOf(html: string, action: string): Record<string, string> {
  const form = new RegExp(`<form[^>]*action="${action.replace(/[/.]/g, '\\$&')}"[^>]*>([\\s\\S]*?)</form>`).exec(html)?.[1];
  expect(form, `a form posting to ${action}`).toBeDefined();
  const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const fields: Record<string, string> = {};
  for (const match of form!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"/g)) fields[decode(match[1]!)] = decode(match[2]!);
  return fields;
}

/** A session ends (SESSION_TTL_SECONDS) while someone fills a long form: what they wrote must not be lost. */
describe('a session that ends while a form is being filled in', () => {
  let engine: TestEngine;
  let web: ReturnType<typeof browserRequests>;
  let openId: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    engine.clock.set(new Date());
    await seedDemo(engine.deps);
    openId = (await listInitiatives(engine.db.db, { status: 'open', limit: 1 }, undefined)).items[0]!.id;
    web = browserRequests(engine);
  });
  afterAll(() => engine?.close());

  const SPONSOR = { givenNames: 'Nadia', familyName: 'Roux', birthdate: '1984-05-17' };

  it("a sponsor's draft written past the session's end is kept, sent again once logged in, and saved", async () => {
    const cookie = await web.sessionFor('sponsor-slow', SPONSOR);
    expect((await web.page('/initiatives/new', { cookie })).status).toBe(200);
    // Two hours of writing: the session (one hour) has ended when the form is sent.
    engine.clock.advance(2 * 3600 * 1000);
    const draft = {
      jurisdictionId: 'paris',
      kind: 'agenda',
      title: 'Des fontaines « à boire » dans chaque square',
      summary: 'Installer une fontaine d’eau potable dans chaque square de Paris.',
      text: 'Considérant les étés caniculaires <et> la nécessité d’accès à l’eau & l’ombre,\nnous demandons au Conseil de Paris…',
      action: 'save',
    };
    const ended = await web.page('/initiatives/new', { cookie, form: draft });
    expect(ended.status).toBe(401);
    expect(ended.text).toContain('Votre session a pris fin');
    // What was written is on the page, in a form that sends it again as it was.
    const kept = formFieldsOf(ended.html, '/initiatives/new');
    expect(kept).toMatchObject(draft);
    expect(kept._csrf).toBe(CSRF);
    // Logging in again opens in another tab, so that this page and its form stay.
    expect(ended.html).toMatch(/<a href="\/auth\/login\?returnTo=%2Finitiatives%2Fnew" target="_blank" rel="noopener"/);

    // Logged in again (the other tab set a new session cookie): the same form is sent and saved.
    const again = await web.page('/initiatives/new', { cookie: await web.sessionFor('sponsor-slow', SPONSOR), form: kept });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toMatch(/^\/initiatives\/[0-9a-f-]{36}\/manage\?saved=1$/);
  });

  it('a signature sent past the session’s end: nothing signed, the page says so, and the same choices are signed once logged in', async () => {
    const SIGNER = { givenNames: 'Lina', familyName: 'Lenteur', birthdate: '1990-07-07' };
    const cookie = await web.sessionFor('signer-slow', SIGNER);
    expect((await web.page(`/initiatives/${openId}/sign`, { cookie })).status).toBe(200);
    engine.clock.advance(2 * 3600 * 1000);
    const ended = await web.page(`/initiatives/${openId}/sign`, { cookie, form: { district: '75111', consent: 'yes' } });
    expect(ended.status).toBe(401);
    expect(ended.text).toContain('Votre session a pris fin avant l’envoi du formulaire\u00a0: il n’a pas été pris en compte.');
    const kept = formFieldsOf(ended.html, `/initiatives/${openId}/sign`);
    expect(kept).toMatchObject({ district: '75111', consent: 'yes' });
    const again = await web.page(`/initiatives/${openId}/sign`, { cookie: await web.sessionFor('signer-slow', SIGNER), form: kept });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(`/initiatives/${openId}/signature?signed=1`);
  });

  it("a clerk's paper batch keyed in past the session's end is kept, in English for an English reader", async () => {
    const cookie = await web.sessionFor('dev-clerk');
    engine.clock.advance(2 * 3600 * 1000);
    const csv = 'Dupuis,Jeanne Marie,1950-02-03,75111,F-7,C-2,2027-01-15\nMartin,Paul,1962-09-23,75120,F-7,C-2,2027-01-15';
    const ended = await web.page(`/clerk/initiatives/${openId}/paper`, { cookie, lang: 'en', form: { csv } });
    expect(ended.status).toBe(401);
    expect(ended.text).toContain('Your session has ended');
    expect(formFieldsOf(ended.html, `/clerk/initiatives/${openId}/paper`).csv).toBe(csv);
    // Nothing of the clerk's page itself is shown to a logged-out reader.
    expect(visibleText(ended.html)).not.toMatch(/anomal/i);
  });

  it('a logged-out reader posting without a form token still gets the refusal, with nothing echoed back', async () => {
    const res = await engine.app.request('/initiatives/new', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', accept: 'text/html' },
      body: new URLSearchParams({ title: 'Injected' }).toString(),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('Injected');
  });
});
