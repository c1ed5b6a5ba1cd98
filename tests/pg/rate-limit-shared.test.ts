import { describe, expect, it } from 'vitest';
import { engineProcessSuite } from '../support/engine-processes';
import { citizen, openInitiativeOver, sleep, type EngineProcess } from '../support/process';

/** Two engine processes behind one load balancer share their rate-limit counters through PostgreSQL. */
describe('rate limits shared by two engine processes', () => {
  const suite = engineProcessSuite('civic-ratelimit-');

  it('counts requests to either process against one limit per identity and per address (the socket peer)', async () => {
    // Day-long windows: the test cannot straddle a window boundary unless it runs across midnight UTC.
    const untilMidnight = 86_400_000 - (Date.now() % 86_400_000);
    if (untilMidnight < 120_000) await sleep(untilMidnight + 1000);
    // One public URL, as behind a load balancer: the development provider's tokens are valid on both.
    const env = {
      DATABASE_URL: suite.databaseUrl,
      PUBLIC_URL: 'http://engine.test',
      RATE_LIMIT_WINDOW_SECONDS: '86400',
      RATE_LIMIT_SIGN_PER_IDENTITY: '4',
      RATE_LIMIT_SIGN_PER_ADDRESS: '12',
    };
    const [a, b] = [await suite.start(env), await suite.start(env)];
    const { initiativeId } = await openInitiativeOver(a);
    const sign = (e: EngineProcess, token: string) =>
      e.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75111', consent: true } });

    const token = await a.token(citizen(1, 'Partage'));
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await sign(i % 2 ? a : b, token)).status);
    expect(statuses).toEqual([201, 200, 200, 200]);
    for (const e of [a, b]) {
      const refused = await sign(e, token);
      expect(refused.status).toBe(429);
      expect(refused.contentType).toContain('application/problem+json');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }

    // Per address (both processes see 127.0.0.1): 4 + 2 refused so far counted, 6 more people fit, then 429.
    const others = await Promise.all(Array.from({ length: 7 }, (_, i) => a.token(citizen(10 + i, 'Partage'))));
    for (const [i, t] of others.slice(0, 6).entries()) expect((await sign(i % 2 ? a : b, t)).status).toBe(201);
    expect((await sign(b, others[6]!)).status).toBe(429);
    expect((await sign(a, others[6]!)).status).toBe(429);
  });
});
