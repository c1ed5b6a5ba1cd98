import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSession } from '../../src/features/auth/session';
import { createTestEngine, type TestEngine } from '../support/engine';

describe('the session cookie', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await createTestEngine();
  });
  afterAll(() => engine.close());

  it('an expired session cookie is a logged-out visitor, and the cookie is cleared', async () => {
    const verified = await engine.deps.identity.verify(await engine.tokenFor({ givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28' }));
    const { token } = await issueSession(engine.deps, verified);
    engine.clock.advance(2 * 3600 * 1000);
    const res = await engine.request('GET', '/v1/initiatives', { headers: { cookie: `session=${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/^session=;/);
  });

  it('the same expired token sent as a bearer token is refused with 401', async () => {
    engine.clock.set('2027-01-15T10:00:00Z');
    const verified = await engine.deps.identity.verify(await engine.tokenFor({ givenNames: 'Léa', familyName: 'Martin', birthdate: '2001-02-28' }));
    const { token } = await issueSession(engine.deps, verified);
    engine.clock.advance(2 * 3600 * 1000);
    const res = await engine.request('GET', '/v1/initiatives', { token });
    expect(res.status).toBe(401);
    expect(res.contentType).toBe('application/problem+json');
  });
});
