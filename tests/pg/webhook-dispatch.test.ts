import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type DatabaseHandle } from '../../src/db/client';
import { webhookDeliveries } from '../../src/db/schema-webhooks';
import { dispatchWebhooks } from '../../src/features/webhooks/dispatcher';
import { emitEvent } from '../../src/platform/outbox';
import { createTestEngine, type TestEngine } from '../support/engine';
import { parisJurisdiction } from '../support/paris';

/**
 * Two engines share one PostgreSQL database and dispatch the same outbox at the same time:
 * SKIP LOCKED and the claim lease make every event reach the receiver once, not twice.
 */
describe('two dispatchers on one database', () => {
  let engine: TestEngine;
  let second: DatabaseHandle;
  let server: Server;
  const received: { id: string; body: string; headers: Record<string, string> }[] = [];

  beforeAll(async () => {
    engine = await createTestEngine({ config: { webhookAllowPrivate: true }, poolSize: 8 });
    second = await openPostgres((engine.db as { url?: string }).url!, { max: 8, migrate: false });
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      // A slow receiver keeps both dispatchers' sends in flight together.
      req.on('end', () =>
        setTimeout(() => {
          received.push({ id: String(req.headers['webhook-id']), body: Buffer.concat(chunks).toString('utf8'), headers: req.headers as Record<string, string> });
          res.writeHead(200).end();
        }, 15),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await second.close();
    await engine.close();
  });

  it('every event is delivered exactly once although both claim work concurrently', async () => {
    const admin = await engine.adminToken();
    await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction() });
    const hook = await engine.request('POST', '/v1/webhooks', {
      token: admin,
      body: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, jurisdictionId: 'paris', events: ['initiative.opened'] },
    });
    expect(hook.status).toBe(201);

    const events = 150;
    await engine.db.db.transaction(async (tx) => {
      for (let i = 0; i < events; i++) {
        await emitEvent(tx, { type: 'initiative.opened', at: engine.clock.now(), jurisdictionId: 'paris', data: { n: i } });
      }
    });

    const engines = [engine.deps, { ...engine.deps, db: second }];
    // Both dispatch side by side, tick after tick, until nothing is left.
    for (let round = 0; round < 40; round++) {
      const results = await Promise.all(engines.map((deps) => dispatchWebhooks(deps, engine.clock.now())));
      if (results.every((r) => r.attempted === 0 && r.fannedOut === 0)) break;
    }

    expect(received).toHaveLength(events);
    expect(new Set(received.map((r) => r.id)).size).toBe(events);
    const verifier = new Webhook(hook.body.secret);
    const numbers = received.map((r) => (verifier.verify(r.body, r.headers) as { data: { n: number } }).data.n).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: events }, (_, i) => i));
    const rows = await engine.db.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.subscriptionId, hook.body.id));
    expect(rows).toHaveLength(events);
    expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
  });
});
