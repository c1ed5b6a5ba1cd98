import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../src/db/schema';
import { webhookSubscriptions } from '../../src/db/schema-webhooks';
import { isPublicAddress } from '../../src/features/webhooks/address';
import { purgeWebhookHistory, retryDelayMs } from '../../src/features/webhooks/dispatcher';
import { createTestEngine, type TestEngine } from '../support/engine';
import { openReferendum, signAs } from '../support/monitoring';
import { parisJurisdiction } from '../support/paris';
import { Receiver } from '../support/webhook-receiver';

describe('webhooks', () => {
  let engine: TestEngine;
  let receiver: Receiver;
  let admin: string;
  let jurisdictionHook: { id: string; secret: string };
  const minutes = (n: number) => engine.clock.advance(n * 60_000);
  const deliveries = (hookId: string, token = admin, query = '') => engine.request('GET', `/v1/webhooks/${hookId}/deliveries${query}`, { token });

  beforeAll(async () => {
    engine = await createTestEngine({ config: { webhookAllowPrivate: true } });
    receiver = await new Receiver().start();
    admin = await engine.adminToken();
    const created = await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 1 }) });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await receiver.kill().catch(() => {});
    await engine.close();
  });

  it('an administrator subscribes to a jurisdiction; the secret is shown once', async () => {
    const res = await engine.request('POST', '/v1/webhooks', {
      token: admin,
      body: {
        url: receiver.url,
        jurisdictionId: 'paris',
        events: ['initiative.submitted', 'initiative.opened', 'initiative.milestone_reached', 'initiative.goal_reached', 'initiative.closed', 'initiative.opened'],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ url: receiver.url, jurisdictionId: 'paris', initiativeId: null, status: 'active', disabledReason: null });
    expect(res.body.events).toHaveLength(5);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    jurisdictionHook = { id: res.body.id, secret: res.body.secret };

    const listed = await engine.request('GET', '/v1/webhooks', { token: admin });
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0].id).toBe(jurisdictionHook.id);
    expect(listed.body.items[0]).not.toHaveProperty('secret');
    // Not kept in clear either.
    const [row] = await engine.db.db.select().from(webhookSubscriptions);
    expect(row!.secret).not.toContain(jurisdictionHook.secret.slice(6));
  });

  it('delivers events signed per Standard Webhooks; a dead receiver gets everything once it is back', async () => {
    const { initiativeId, sponsor } = await openReferendum(engine, { closesAt: '2027-06-30T22:00:00Z' });
    const sponsorHook = await engine.request('POST', '/v1/webhooks', {
      token: sponsor,
      body: { url: receiver.url, initiativeId, events: ['initiative.goal_reached', 'initiative.closed'] },
    });
    expect(sponsorHook.status).toBe(201);

    await engine.scheduler.tick();
    const first = receiver.verified(jurisdictionHook.secret);
    expect(first.map((d) => d.payload.type).sort()).toEqual(['initiative.opened', 'initiative.submitted']);
    const opened = first.find((d) => d.payload.type === 'initiative.opened')!;
    expect(opened.payload.data).toMatchObject({ initiativeId, jurisdictionId: 'paris', status: 'open' });
    expect(new Date(opened.payload.timestamp).toISOString()).toBe(engine.clock.now().toISOString());

    // The receiver dies; the goal and a milestone are reached meanwhile.
    await receiver.kill();
    minutes(1);
    for (const [n, district] of [[1, '75111'], [2, '75111'], [3, '75118'], [4, '75118'], [5, '75120']] as const) {
      await signAs(engine, initiativeId, n, district);
    }
    await engine.scheduler.tick();
    const failing = await deliveries(jurisdictionHook.id);
    const pending = failing.body.items.filter((d: { status: string }) => d.status === 'pending');
    expect(pending.map((d: { eventType: string }) => d.eventType).sort()).toEqual(['initiative.goal_reached', 'initiative.milestone_reached']);
    for (const d of pending) {
      expect(d).toMatchObject({ attempts: 1, lastStatusCode: null, lastError: 'ECONNREFUSED', deliveredAt: null });
      const wait = Date.parse(d.nextAttemptAt) - Date.parse(d.lastAttemptAt);
      expect(wait).toBeGreaterThanOrEqual(2500);
      expect(wait).toBeLessThanOrEqual(5000);
    }

    // Still down a few retries later: the delay grows.
    minutes(1);
    await engine.scheduler.tick();
    minutes(1);
    await engine.scheduler.tick();
    const later = (await deliveries(jurisdictionHook.id, admin, '?status=pending')).body.items;
    expect(later.map((d: { attempts: number }) => d.attempts)).toEqual([3, 3]);

    // Back on the same port; nothing arrives before the next attempt is due, everything after.
    await receiver.start();
    await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor });
    await engine.scheduler.tick();
    const sent = receiver.received.length;
    minutes(2);
    await engine.scheduler.tick();
    expect(receiver.received.length).toBeGreaterThan(sent);

    const all = await deliveries(jurisdictionHook.id);
    expect(all.body.items.every((d: { status: string }) => d.status === 'delivered')).toBe(true);
    expect(all.body.items).toHaveLength(5);

    const toAdmin = receiver.received.filter((r) => all.body.items.some((d: { id: string }) => d.id === r.headers['webhook-id']));
    const verifier = new Webhook(jurisdictionHook.secret);
    const types = toAdmin.map((r) => (verifier.verify(r.body, r.headers) as { type: string }).type);
    expect(types.sort()).toEqual(['initiative.closed', 'initiative.goal_reached', 'initiative.milestone_reached', 'initiative.opened', 'initiative.submitted']);

    const toSponsor = receiver.received.filter((r) => !toAdmin.includes(r));
    const sponsorVerifier = new Webhook(sponsorHook.body.secret);
    expect(toSponsor.map((r) => (sponsorVerifier.verify(r.body, r.headers) as { type: string }).type).sort()).toEqual(['initiative.closed', 'initiative.goal_reached']);
    // Signed with another secret, the sponsor's deliveries do not verify with the administrator's.
    expect(() => verifier.verify(toSponsor[0]!.body, toSponsor[0]!.headers)).toThrow();
    // Each delivery keeps its webhook-id across retries: receivers can deduplicate on it.
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(receiver.received.length);

    // Events written at the same instant (submitted and opened; the milestone and the goal reached by
    // one scheduler pass) share their timestamp; their sequence numbers give the order they happened in.
    const events = toAdmin.map((r) => verifier.verify(r.body, r.headers) as { type: string; sequence: number; timestamp: string });
    const of = (type: string) => events.find((e) => e.type === type)!;
    expect(of('initiative.submitted').timestamp).toBe(of('initiative.opened').timestamp);
    expect(of('initiative.milestone_reached').timestamp).toBe(of('initiative.goal_reached').timestamp);
    const order = [...events].sort((a, b) => a.sequence - b.sequence).map((e) => e.type);
    expect(order).toEqual(['initiative.submitted', 'initiative.opened', 'initiative.milestone_reached', 'initiative.goal_reached', 'initiative.closed']);
    expect(events.every((e) => Number.isSafeInteger(e.sequence) && e.sequence > 0)).toBe(true);
  });

  it('after 24 hours of failures the subscription is disabled with a reason', async () => {
    const dead = await new Receiver().start();
    const deadUrl = dead.url;
    await dead.kill();
    const hook = await engine.request('POST', '/v1/webhooks', { token: admin, body: { url: deadUrl, jurisdictionId: 'paris', events: ['initiative.opened'] } });
    expect(hook.status).toBe(201);
    await openReferendum(engine, { sponsorName: 'Paul' });
    await engine.scheduler.tick();
    expect((await deliveries(hook.body.id)).body.items[0]).toMatchObject({ status: 'pending', attempts: 1 });

    // Retries every so often, then one last time at the 24-hour mark.
    for (let hours = 0; hours < 24; hours += 4) {
      engine.clock.advance(4 * 3_600_000);
      await engine.scheduler.tick();
    }
    engine.clock.advance(60_000);
    await engine.scheduler.tick();
    const [delivery] = (await deliveries(hook.body.id)).body.items;
    expect(delivery).toMatchObject({ status: 'failed', lastError: 'ECONNREFUSED', nextAttemptAt: null });
    expect(delivery.attempts).toBeGreaterThanOrEqual(7);
    const listed = (await engine.request('GET', '/v1/webhooks', { token: admin })).body.items.find((h: { id: string }) => h.id === hook.body.id);
    expect(listed).toMatchObject({ status: 'disabled' });
    expect(listed.disabledReason).toMatch(/failed for 24 hours.*ECONNREFUSED/);

    // An event while it is off is not sent.
    minutes(1);
    await openReferendum(engine, { sponsorName: 'Rose' });
    await engine.scheduler.tick();
    expect((await deliveries(hook.body.id)).body.items).toHaveLength(1);

    // The receiver is fixed; only its owner may turn the subscription back on.
    await dead.start();
    const stranger = await engine.tokenFor({ givenNames: 'Eve', familyName: 'Stranger', birthdate: '1990-01-01' });
    expect((await engine.request('POST', `/v1/webhooks/${hook.body.id}/enable`, { token: stranger })).status).toBe(404);
    // Its address is checked again: had private addresses been disallowed since, it would stay off.
    engine.deps.config.webhookAllowPrivate = false;
    const refused = await engine.request('POST', `/v1/webhooks/${hook.body.id}/enable`, { token: admin });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ field: 'url', message: expect.stringContaining('127.0.0.1') }]);
    engine.deps.config.webhookAllowPrivate = true;
    const enabled = await engine.request('POST', `/v1/webhooks/${hook.body.id}/enable`, { token: admin });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ id: hook.body.id, status: 'active', disabledReason: null, disabledAt: null });
    expect((await engine.request('POST', `/v1/webhooks/${hook.body.id}/enable`, { token: admin })).body).toEqual(enabled.body);

    // Events from now on arrive, signed with the same secret; the failed delivery stays in the log.
    minutes(1);
    const { initiativeId: next } = await openReferendum(engine, { sponsorName: 'Jules' });
    await engine.scheduler.tick();
    const arrived = dead.verified(hook.body.secret);
    expect(arrived.map((d) => [d.payload.type, d.payload.data.initiativeId])).toEqual([['initiative.opened', next]]);
    const log = (await deliveries(hook.body.id)).body.items;
    expect(log.map((d: { status: string }) => d.status)).toEqual(['delivered', 'failed']);
    await dead.kill();
  });

  it('only the owner sees, lists and deletes a subscription', async () => {
    const stranger = await engine.tokenFor({ givenNames: 'Eve', familyName: 'Stranger', birthdate: '1990-01-01' });
    expect((await engine.request('GET', '/v1/webhooks', { token: stranger })).body.items).toEqual([]);
    expect((await deliveries(jurisdictionHook.id, stranger)).status).toBe(404);
    expect((await engine.request('DELETE', `/v1/webhooks/${jurisdictionHook.id}`, { token: stranger })).status).toBe(404);

    const removed = await engine.request('DELETE', `/v1/webhooks/${jurisdictionHook.id}`, { token: admin });
    expect(removed.status).toBe(204);
    expect((await engine.request('DELETE', `/v1/webhooks/${jurisdictionHook.id}`, { token: admin })).status).toBe(404);
    expect((await deliveries(jurisdictionHook.id)).status).toBe(404);

    // Who sent which events where, and when that stopped, is in the jurisdiction's audit trail.
    const audit = await engine.request('GET', `/v1/audit?jurisdiction=paris&limit=500`, { token: admin });
    const trail = audit.body.items.filter((e: { details: { webhook?: string } }) => e.details.webhook === jurisdictionHook.id);
    expect(trail.map((e: { action: string }) => e.action)).toEqual(['webhook.deleted', 'webhook.created']);
    // Where, by origin and a digest of the address: receivers that take their address as a secret
    // (chat webhooks, /services/T…/B…/token) must not be postable by whoever reads the trail.
    const digest = createHash('sha256').update(receiver.url).digest('hex');
    expect(trail[1]).toMatchObject({ actor: 'admin-subject', jurisdictionId: 'paris', details: { destination: new URL(receiver.url).origin, urlSha256: digest } });
    expect(JSON.stringify(trail)).not.toContain('/hooks/civic');
    expect(JSON.stringify(trail)).not.toContain(jurisdictionHook.secret.slice(6));
    // A sponsor's subscription to their initiative, turned back on, is in its jurisdiction's trail too.
    const enabled = audit.body.items.filter((e: { action: string }) => e.action === 'webhook.enabled');
    expect(enabled.length).toBeGreaterThanOrEqual(1);
    expect(enabled[0].jurisdictionId).toBe('paris');
  });

  it('refuses bad input with problems', async () => {
    const { initiativeId } = await openReferendum(engine, { sponsorName: 'Inès' });
    const citizen = await engine.tokenFor({ givenNames: 'Eve', familyName: 'Stranger', birthdate: '1990-01-01' });
    const post = (body: unknown, token = admin) => engine.request('POST', '/v1/webhooks', { token, body });
    const valid = { url: 'https://hooks.example.org/x', jurisdictionId: 'paris', events: ['initiative.opened'] };

    const cases: [unknown, string][] = [
      [{ ...valid, url: 'ftp://hooks.example.org/x' }, 'body.url'],
      [{ ...valid, url: 'not a url' }, 'body.url'],
      [{ ...valid, url: 'https://user:pass@hooks.example.org/x' }, 'body.url'],
      [{ ...valid, events: [] }, 'body.events'],
      [{ ...valid, events: ['initiative.exploded'] }, 'body.events.0'],
      [{ ...valid, initiativeId }, 'body.jurisdictionId'],
      [{ url: valid.url, events: valid.events }, 'body.jurisdictionId'],
      [{ ...valid, jurisdictionId: 'atlantis' }, 'body.jurisdictionId'],
      [{ ...valid, secret: 'mine' }, 'body.secret'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.errors.map((e: { field: string }) => e.field), JSON.stringify(body)).toContain(field);
    }
    expect((await post(valid, citizen)).status).toBe(403);
    expect((await post({ url: valid.url, initiativeId, events: valid.events }, citizen)).status).toBe(403);
    expect((await post({ url: valid.url, initiativeId: crypto.randomUUID(), events: valid.events }, citizen)).status).toBe(400);
    // Someone else's draft is hidden: answered as an unknown initiative, as its own page answers 404, not as one that exists.
    const draftSponsor = await engine.tokenFor({ givenNames: 'Nadia', familyName: 'Brouillon', birthdate: '1985-05-05' });
    const draft = await engine.request('POST', '/v1/initiatives', { token: draftSponsor, body: { jurisdictionId: 'paris', kind: 'agenda', title: 'Un brouillon', summary: 'Pas encore soumis.', text: 'Texte.' } });
    expect(draft.status).toBe(201);
    const onDraft = await post({ url: valid.url, initiativeId: draft.body.id, events: valid.events }, citizen);
    expect(onDraft.status).toBe(400);
    expect(onDraft.body.errors[0].message).toBe(`Unknown initiative "${draft.body.id}".`);
    expect((await engine.request('POST', '/v1/webhooks', { body: valid })).status).toBe(401);
    const malformed = await engine.request('POST', '/v1/webhooks', { token: admin, rawBody: '{"url":', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect((await engine.request('DELETE', '/v1/webhooks/42', { token: admin })).status).toBe(400);
    const own = await post(valid);
    expect(own.status).toBe(201);
    const badCursor = await engine.request('GET', `/v1/webhooks/${own.body.id}/deliveries?cursor=zzz`, { token: admin });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.errors[0].field).toBe('query.cursor');
    expect((await engine.request('GET', `/v1/webhooks/${own.body.id}/deliveries?limit=0`, { token: admin })).status).toBe(400);
  });
});

describe('webhook history', () => {
  let engine: TestEngine;
  let receiver: Receiver;
  let admin: string;
  const DAY = 86_400_000;
  const subscribe = async (url: string) => {
    const res = await engine.request('POST', '/v1/webhooks', { token: admin, body: { url, jurisdictionId: 'paris', events: ['initiative.opened'] } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const log = async (hookId: string) => (await engine.request('GET', `/v1/webhooks/${hookId}/deliveries`, { token: admin })).body.items as { eventId: string; status: string }[];
  const events = async (initiativeId: string) => (await engine.db.db.select({ id: outbox.id, type: outbox.type }).from(outbox).where(eq(outbox.initiativeId, initiativeId))).map((e) => e.type).sort();

  beforeAll(async () => {
    engine = await createTestEngine({ config: { webhookAllowPrivate: true } });
    receiver = await new Receiver().start();
    admin = await engine.adminToken();
    expect((await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 1 }) })).status).toBe(201);
  });
  afterAll(async () => {
    await receiver.kill().catch(() => {});
    await engine.close();
  });

  it('keeps a delivery in its log, and its event in the outbox, for 30 days, then forgets them; an event still to be sent stays', async () => {
    const live = await subscribe(receiver.url);
    const { initiativeId: first } = await openReferendum(engine);
    await engine.scheduler.tick();
    expect((await log(live)).map((d) => d.status)).toEqual(['delivered']);

    engine.clock.advance(29 * DAY);
    await engine.scheduler.tick();
    expect(await log(live)).toHaveLength(1);
    expect(await events(first)).toEqual(['initiative.opened', 'initiative.submitted']);

    engine.clock.advance(2 * DAY);
    await engine.scheduler.tick();
    expect(await log(live)).toEqual([]);
    expect(await events(first)).toEqual([]);

    // A receiver that is down: its delivery is still pending when the purge comes (a scheduler that did not run for a month).
    const dead = await new Receiver().start();
    const down = await subscribe(dead.url);
    await dead.kill();
    const { initiativeId: second } = await openReferendum(engine, { sponsorName: 'Paul' });
    await engine.scheduler.tick();
    expect((await log(down)).map((d) => d.status)).toEqual(['pending']);
    engine.clock.advance(31 * DAY);
    expect(await purgeWebhookHistory(engine.db.db, engine.clock.now())).toEqual({ deliveries: 1, events: 1 });
    expect(await log(live)).toEqual([]);
    expect((await log(down)).map((d) => d.status)).toEqual(['pending']);
    expect(await events(second)).toEqual(['initiative.opened']);

    // Its last attempt fails it; then it goes the same way.
    await engine.scheduler.tick();
    expect(await log(down)).toEqual([]);
    expect(await engine.db.db.select().from(outbox)).toEqual([]);
  });
});

describe('webhook addresses', () => {
  let engine: TestEngine;
  let admin: string;

  beforeAll(async () => {
    engine = await createTestEngine();
    admin = await engine.adminToken();
    await engine.request('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction({ committeeMinimum: 1 }) });
  });
  afterAll(() => engine.close());

  it('refuses loopback, link-local and private hosts, by address or by name', async () => {
    for (const url of [
      'http://127.0.0.1:8080/x',
      'http://localhost/x',
      'http://[::1]/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/x',
      'https://192.168.1.1/x',
      'http://0x7f000001/x',
    ]) {
      const res = await engine.request('POST', '/v1/webhooks', { token: admin, body: { url, jurisdictionId: 'paris', events: ['initiative.opened'] } });
      expect(res.status, url).toBe(400);
      expect(res.body.errors[0].field, url).toBe('body.url');
      expect(res.body.errors[0].message, url).toMatch(/refused/);
    }
  });

  it('refuses at delivery time too, once private addresses are no longer allowed', async () => {
    const receiver = await new Receiver().start();
    try {
      engine.deps.config.webhookAllowPrivate = true;
      const hook = await engine.request('POST', '/v1/webhooks', { token: admin, body: { url: receiver.url, jurisdictionId: 'paris', events: ['initiative.opened'] } });
      expect(hook.status).toBe(201);
      engine.deps.config.webhookAllowPrivate = false;
      await openReferendum(engine);
      await engine.scheduler.tick();
      expect(receiver.received).toEqual([]);
      const [delivery] = (await engine.request('GET', `/v1/webhooks/${hook.body.id}/deliveries`, { token: admin })).body.items;
      expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastError: 'refused address 127.0.0.1 (loopback, link-local or private)' });
    } finally {
      engine.deps.config.webhookAllowPrivate = undefined;
      await receiver.kill();
    }
  });

  it('tells public addresses from the rest', () => {
    const publicOnes = ['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'];
    const others = [
      '0.0.0.0', '127.0.0.1', '127.255.0.1', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1',
      '224.0.0.1', '255.255.255.255', '::', '::1', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:10.0.0.1', '::ffff:7f00:1',
      '64:ff9b::a00:1', '2002:7f00:1::1', '2001:db8::1', 'fe80::1%eth0', 'garbage', '1.2.3', '1:2:3:4:5:6:7:8:9',
    ];
    for (const a of publicOnes) expect(isPublicAddress(a), a).toBe(true);
    for (const a of others) expect(isPublicAddress(a), a).toBe(false);
    expect(isPublicAddress('172.32.0.1')).toBe(true);
  });

  it('backs off exponentially with jitter, up to an hour', () => {
    expect(retryDelayMs(1, () => 0)).toBe(2500);
    expect(retryDelayMs(1, () => 1)).toBe(5000);
    expect(retryDelayMs(4, () => 1)).toBe(40_000);
    expect(retryDelayMs(30, () => 1)).toBe(3_600_000);
    expect(retryDelayMs(30, () => 0)).toBe(1_800_000);
  });
});
