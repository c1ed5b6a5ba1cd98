import { describe, expect, it } from 'vitest';
import { engineProcessSuite } from '../support/engine-processes';
import { citizen } from '../support/process';

/** Two engine processes behind one load balancer: a session ended through one is refused by the other at once. */
describe('logging out with two engine processes', () => {
  const suite = engineProcessSuite('civic-logout-');

  it('a session ended through one process is refused by the other, by the API and by the web', async () => {
    // One public URL and one data folder, as behind a load balancer: a session of one is valid on both.
    const env = { DATABASE_URL: suite.databaseUrl, PUBLIC_URL: 'http://engine.test' };
    const [a, b] = [await suite.start(env), await suite.start(env)];

    const idToken = await a.token(citizen(1, 'Sortie'));
    const api = await a.request('POST', '/v1/session', { token: idToken });
    expect(api.status).toBe(201);
    expect((await b.request('GET', '/v1/webhooks', { token: api.body.token })).status).toBe(200);
    expect((await a.request('DELETE', '/v1/session', { token: api.body.token })).status).toBe(204);
    const refused = await b.request('GET', '/v1/webhooks', { token: api.body.token });
    expect(refused.status).toBe(401);
    expect(refused.contentType).toContain('application/problem+json');

    const web = await b.request('POST', '/v1/session', { token: idToken });
    const cookie = `session=${web.body.token}`;
    const home = () => a.request<string>('GET', '/', { headers: { cookie, accept: 'text/html' } });
    const before = await home();
    expect(before.status).toBe(200);
    expect(before.body).toContain('action="/auth/logout"');
    expect((await b.request('POST', '/auth/logout', { headers: { cookie, accept: 'application/json' } })).status).toBe(204);
    // The other process shows the page to a logged-out visitor, and clears the stale cookie.
    const after = await home();
    expect(after.status).toBe(200);
    expect(after.body).not.toContain('action="/auth/logout"');
    expect(after.headers.getSetCookie().find((c) => c.startsWith('session='))).toMatch(/Max-Age=0/);
    expect((await a.request('GET', '/v1/webhooks', { headers: { cookie } })).status).toBe(401);
  });
});
