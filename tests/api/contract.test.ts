import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isForEveryone } from '../../src/app';
import { contractChecker, type OpenApiDocument } from '../support/contract';
import { createTestEngine, type TestEngine, type TestResponse } from '../support/engine';
import { PARISIANS, parisJurisdiction, REFERENDUM_DRAFT } from '../support/paris';
import { browserRequests } from '../web/browser-requests';
import { EVENT_TYPES } from '../../src/platform/outbox';
import type { WebhookRequest } from '../../src/features/webhooks/sender';

type Init = Parameters<TestEngine['request']>[2];

/**
 * The API's contract held against its behaviour: a whole story (jurisdiction, roll, draft,
 * committee, review, online and paper signatures, progress, log, close, sample and full
 * verification, certification, webhooks, audit) and the refusals along the way, every answer
 * checked against the OpenAPI document the engine serves — the status declared for the
 * operation, the body valid against the schema declared for that status and media type, every
 * refusal a problem document. Then sweeps over every operation of the document for the refusals
 * any of them can give (no token, a bad token, a bad id, malformed, mistyped or oversized bodies).
 */
describe('the engine answers as its OpenAPI document says', () => {
  let engine: TestEngine;
  let checker: ReturnType<typeof contractChecker>;
  let reported = 0;

  let admin: string;
  let clerk: string;
  let sponsor: string;
  let initiativeId: string;
  let committeeCode: string;
  let signatureId: string;
  let webhookId: string;
  let itemId: string;
  const delivered: WebhookRequest[] = [];
  const citizens = {
    ...PARISIANS,
    tom: { givenNames: 'Tom', familyName: 'Nguyen', birthdate: '1999-12-01' },
    young: { givenNames: 'Hugo', familyName: 'Petit', birthdate: '2012-05-05' },
  };

  /** A request whose answer is checked against the document. */
  async function call(method: string, url: string, init: Init = {}): Promise<TestResponse> {
    const res = await engine.request(method, url, init);
    checker.check(method, url, res);
    return res;
  }
  const expectStatus = (res: TestResponse, status: number) => expect(res.status, JSON.stringify(res.body)).toBe(status);

  beforeAll(async () => {
    // Webhook examples name hooks.example.org; with no DNS here, it resolves to example.org's public address.
    // Deliveries are kept here, never sent: no test reaches an address beyond this machine.
    engine = await createTestEngine({
      deps: {
        webhooks: {
          resolve: async () => ['93.184.215.14'],
          send: async (request) => {
            delivered.push(request);
            return { status: 204 };
          },
        },
      },
    });
    const doc = await engine.request('GET', '/openapi.json');
    checker = contractChecker(doc.body as OpenApiDocument);
    checker.check('GET', '/openapi.json', doc);
    admin = await engine.adminToken();
    clerk = await engine.subjectToken('clerk-of-paris');
    sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01', subject: 'sponsor' });
  });
  afterAll(() => engine.close());
  // Each step answers for the faults of its own requests.
  afterEach(() => {
    const faults = checker.faults.slice(reported);
    reported = checker.faults.length;
    expect(faults).toEqual([]);
  });

  it('operations: probes, keys, metrics, the document itself', async () => {
    for (const path of ['/healthz', '/readyz', '/.well-known/jwks.json', '/metrics', '/openapi.json']) expectStatus(await call('GET', path), 200);
  });

  it('probes, metrics, keys and the API description answer alike with a bearer token that is none of theirs', async () => {
    // A scraper or a proxy in front of the engine may send its own credentials along.
    for (const path of ['/healthz', '/readyz', '/.well-known/jwks.json', '/metrics', '/openapi.json']) {
      expect((await call('GET', path, { token: 'a-proxy-credential' })).status, path).toBe(200);
    }
    // The interactive documentation, left out of the document on purpose.
    expect((await engine.request('GET', '/docs', { token: 'a-proxy-credential' })).status).toBe(200);
  });

  it('an admin creates Paris, changes it and grants a clerk', async () => {
    expectStatus(await call('POST', '/v1/jurisdictions', { body: parisJurisdiction() }), 401);
    expectStatus(await call('POST', '/v1/jurisdictions', { token: sponsor, body: parisJurisdiction() }), 403);
    expectStatus(await call('POST', '/v1/jurisdictions', { token: admin, body: { ...parisJurisdiction(), id: 'Not A Slug', extra: 1 } }), 400);
    expectStatus(await call('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction() }), 201);
    expectStatus(await call('POST', '/v1/jurisdictions', { token: admin, body: parisJurisdiction() }), 409);
    expectStatus(await call('GET', '/v1/jurisdictions'), 200);
    expectStatus(await call('GET', '/v1/jurisdictions/paris'), 200);
    expectStatus(await call('GET', '/v1/jurisdictions/nowhere'), 404);
    expectStatus(await call('PATCH', '/v1/jurisdictions/paris', { token: admin, body: { electorate: 2110000 } }), 200);
    expectStatus(await call('PATCH', '/v1/jurisdictions/paris', { token: admin, body: {} }), 400);
    expectStatus(await call('PATCH', '/v1/jurisdictions/nowhere', { token: admin, body: { electorate: 10 } }), 404);
    expectStatus(await call('PATCH', '/v1/jurisdictions/paris', { token: admin, body: { requireRoll: true } }), 409);

    expectStatus(await call('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk-of-paris' } }), 201);
    // Every event of Paris from now on, for the deliveries to be held to the document's webhooks.
    expectStatus(await call('POST', '/v1/webhooks', { token: admin, body: { url: 'https://hooks.example.org/all', events: [...EVENT_TYPES], jurisdictionId: 'paris' } }), 201);
    expectStatus(await call('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'clerk-of-paris' } }), 200);
    expectStatus(await call('POST', '/v1/jurisdictions/paris/clerks', { token: admin, body: { subject: 'short-lived-clerk' } }), 201);
    expectStatus(await call('GET', '/v1/jurisdictions/paris/clerks', { token: clerk }), 200);
    expectStatus(await call('GET', '/v1/jurisdictions/paris/clerks', { token: sponsor }), 403);
    expectStatus(await call('DELETE', '/v1/jurisdictions/paris/clerks/short-lived-clerk', { token: admin }), 204);
    expectStatus(await call('DELETE', '/v1/jurisdictions/paris/clerks/short-lived-clerk', { token: admin }), 404);
    expectStatus(await call('POST', '/v1/jurisdictions/nowhere/clerks', { token: admin, body: { subject: 'x' } }), 404);
  });

  it('the clerk imports the electoral roll as CSV', async () => {
    const csv = 'family_name,given_names,birthdate,district\nDupont,Élodie Marie,1990-04-12,75111\nBenali,Karim,1985-11-03,75111\nnot,a,date,75111\n';
    const put = (init: Init) => call('PUT', '/v1/jurisdictions/paris/roll', { token: clerk, ...init });
    expectStatus(await put({ rawBody: csv, headers: { 'content-type': 'text/csv' } }), 200);
    expectStatus(await put({ body: { rows: [] } }), 415);
    expectStatus(await put({ rawBody: csv, headers: { 'content-type': 'text/csv' }, token: sponsor }), 403);
    expectStatus(await call('GET', '/v1/jurisdictions/paris/roll', { token: clerk }), 200);
    expectStatus(await call('GET', '/v1/jurisdictions/paris/roll', { token: sponsor }), 403);
  });

  it('a citizen drafts an initiative, edits it and gathers the committee', async () => {
    expectStatus(await call('POST', '/v1/initiatives', { body: REFERENDUM_DRAFT }), 401);
    // Anonymous with a body that would not do either: told to sign in first, not what the body lacks.
    expectStatus(await call('POST', '/v1/initiatives', { body: { title: '' } }), 401);
    expectStatus(await call('POST', `/v1/initiatives/${randomUUID()}/signatures`, { body: { consent: 'maybe' } }), 401);
    expectStatus(await call('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, question: undefined } }), 400);
    const nowhere = await call('POST', '/v1/initiatives', { token: sponsor, body: { ...REFERENDUM_DRAFT, jurisdictionId: 'nowhere' } });
    expectStatus(nowhere, 400);
    expect(nowhere.body.errors).toContainEqual(expect.objectContaining({ field: 'body.jurisdictionId' }));
    const draft = await call('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    expectStatus(draft, 201);
    initiativeId = draft.body.id;
    committeeCode = draft.body.committeeCode;

    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}`), 404);
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}`, { token: sponsor }), 200);
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/progress`, { token: sponsor }), 200);

    const edit = (body: unknown, token = sponsor) => call('PATCH', `/v1/initiatives/${initiativeId}`, { token, body });
    expectStatus(await edit({ title: 'Des rues aux écoles, partout' }), 200);
    const unknown = await edit({ title: 'Des rues', colour: 'blue' });
    expectStatus(unknown, 400);
    expect(unknown.body.errors).toContainEqual(expect.objectContaining({ field: 'body.colour' }));
    const nullTitle = await edit({ title: null });
    expectStatus(nullTitle, 400);
    expect(nullTitle.body.errors).toContainEqual(expect.objectContaining({ field: 'body.title' }));
    const noQuestion = await edit({ question: null });
    expectStatus(noQuestion, 400);
    expect(noQuestion.body.errors).toContainEqual(expect.objectContaining({ field: 'body.question' }));
    expectStatus(await edit({ title: 'Volé' }, await engine.tokenFor(citizens.tom)), 403);
    // Nothing to change (an undefined field dropped by the client's serializer): said so, nothing recorded as an edit.
    const before = await call('GET', `/v1/audit?initiative=${initiativeId}&action=initiative.edited`, { token: admin });
    const empty = await edit({});
    expectStatus(empty, 400);
    expect(empty.body.errors).toEqual([expect.objectContaining({ field: 'body' })]);
    const after = await call('GET', `/v1/audit?initiative=${initiativeId}&action=initiative.edited`, { token: admin });
    expect(after.body.items).toHaveLength(before.body.items.length);

    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/submit`, { token: sponsor }), 409);
    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/committee`, { token: await engine.tokenFor(citizens.karim), body: { code: 'WRONGCODE1' } }), 403);
    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/committee`, { token: sponsor, body: { code: committeeCode } }), 409);
    for (const member of [citizens.karim, citizens.lea]) {
      expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/committee`, { token: await engine.tokenFor(member), body: { code: committeeCode } }), 201);
    }
    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/committee`, { token: await engine.tokenFor(citizens.lea), body: { code: committeeCode } }), 200);
  });

  it('the sponsor submits; a submitted initiative is no longer edited (409 naming its state)', async () => {
    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/submit`, { token: await engine.tokenFor(citizens.tom) }), 403);
    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/submit`, { token: sponsor }), 200);
    const late = await call('PATCH', `/v1/initiatives/${initiativeId}`, { token: sponsor, body: { title: 'Trop tard' } });
    expectStatus(late, 409);
    expect(late.body).toMatchObject({ type: '/problems/invalid-state/submitted', currentStatus: 'submitted' });
    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/submit`, { token: sponsor }), 409);
  });

  it('the clerk opens it; citizens sign online, with refusals', async () => {
    const review = (body: unknown, token = clerk) => call('POST', `/v1/initiatives/${initiativeId}/review`, { token, body });
    expectStatus(await review({ decision: 'open' }, sponsor), 403);
    expectStatus(await review({ decision: 'reject' }), 400);
    expectStatus(await review({ decision: 'open', closesAt: '2027-06-30T22:00:00Z' }), 200);
    expectStatus(await review({ decision: 'open' }), 409);

    const sign = async (who: keyof typeof citizens, district: string, body: unknown = { district, consent: true }) =>
      call('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(citizens[who]), body });
    const first = await sign('elodie', '75111');
    expectStatus(first, 201);
    signatureId = first.body.signature.id;
    expectStatus(await sign('elodie', '75111'), 200);
    for (const [who, district] of [['karim', '75111'], ['lea', '75118'], ['jean', '75118'], ['sofia', '75120']] as const) expectStatus(await sign(who, district), 201);
    expectStatus(await sign('young', '75111'), 403);
    expectStatus(await sign('tom', '92012'), 403);
    expectStatus(await sign('tom', '75111', { district: '75111', consent: false }), 400);
    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/signatures`, { body: { district: '75111', consent: true } }), 401);

    const elodie = await engine.tokenFor(citizens.elodie);
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: elodie }), 200);
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: await engine.tokenFor(citizens.tom) }), 404);
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: clerk }), 403);

    // Tom signs and withdraws; withdrawing again finds nothing to withdraw.
    expectStatus(await sign('tom', '75101'), 201);
    const tom = await engine.tokenFor(citizens.tom);
    expectStatus(await call('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token: tom }), 200);
    const again = await call('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token: tom });
    expect([404, 409]).toContain(again.status);
  });

  it('a clerk keys in paper signatures: accepted, duplicate, ineligible', async () => {
    const entry = (familyName: string, givenNames: string, birthdate: string, district: string) => ({ familyName, givenNames, birthdate, district, sheet: 'F-001', collector: 'C-01' });
    const batch = {
      entries: [entry('Durand', 'Paul', '1960-03-03', '75101'), entry('DUPONT', 'Elodie', '1990-04-12', '75111'), entry('Petit', 'Hugo', '2012-05-05', '75111')],
    };
    const res = await call('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: clerk, body: batch });
    expectStatus(res, 200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'duplicate', 'ineligible']);
    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: sponsor, body: batch }), 403);
    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: clerk, body: { entries: [] } }), 400);
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/paper-signatures/anomalies`, { token: clerk }), 200);
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/signatures/${signatureId}/personal-data`, { token: clerk }), 200);
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/signatures/${signatureId}/personal-data`, { token: sponsor }), 403);
  });

  it('progress, history, dashboard and the transparency log', async () => {
    await engine.scheduler.tick();
    const base = `/v1/initiatives/${initiativeId}`;
    expectStatus(await call('GET', `${base}`), 200);
    expectStatus(await call('GET', `${base}/progress`), 200);
    expectStatus(await call('GET', `${base}/progress/history`), 200);
    expectStatus(await call('GET', `${base}/progress/history?bucket=hour&district=75111`), 200);
    expectStatus(await call('GET', `${base}/progress/history?district=99999`), 400);
    expectStatus(await call('GET', `${base}/progress/history?bucket=week`), 400);
    expectStatus(await call('GET', `${base}/dashboard`, { token: sponsor }), 200);
    expectStatus(await call('GET', `${base}/dashboard`, { token: clerk }), 200);
    expectStatus(await call('GET', `${base}/dashboard`, { token: await engine.tokenFor(citizens.tom) }), 403);
    expectStatus(await call('GET', `${base}/dashboard`), 401);

    const head = await call('GET', `${base}/log`);
    expectStatus(head, 200);
    const size = head.body.size as number;
    expect(size).toBeGreaterThan(2);
    expectStatus(await call('GET', `${base}/log/entries`), 200);
    expectStatus(await call('GET', `${base}/log/entries?start=1&end=2`), 200);
    expectStatus(await call('GET', `${base}/log/entries?start=x`), 400);
    expectStatus(await call('GET', `${base}/log/inclusion?index=0&size=${size}`), 200);
    expectStatus(await call('GET', `${base}/log/inclusion?ref=${signatureId}`), 200);
    expectStatus(await call('GET', `${base}/log/inclusion?index=${size}&size=${size}`), 400);
    expectStatus(await call('GET', `${base}/log/inclusion?index=0&size=${size + 100}`), 400);
    expectStatus(await call('GET', `${base}/log/consistency?from=1&to=${size}`), 200);
    expectStatus(await call('GET', `${base}/log/consistency?from=${size}&to=1`), 400);
    expectStatus(await call('GET', `${base}/log/consistency`), 400);
  });

  it('webhooks: subscribe, list, deliveries, enable, delete', async () => {
    const created = await call('POST', '/v1/webhooks', { token: sponsor, body: { url: 'https://hooks.example.org/civic', events: ['initiative.closed'], initiativeId } });
    expectStatus(created, 201);
    webhookId = created.body.id;
    expectStatus(await call('POST', '/v1/webhooks', { token: admin, body: { url: 'https://hooks.example.org/civic', events: ['initiative.closed'], jurisdictionId: 'paris' } }), 201);
    expectStatus(await call('POST', '/v1/webhooks', { token: sponsor, body: { url: 'ftp://x', events: [] } }), 400);
    expectStatus(await call('POST', '/v1/webhooks', { token: await engine.tokenFor(citizens.tom), body: { url: 'https://hooks.example.org/civic', events: ['initiative.closed'], initiativeId } }), 403);
    expectStatus(await call('POST', '/v1/webhooks', { token: admin, body: { url: 'https://hooks.example.org/civic', events: ['initiative.closed'], jurisdictionId: 'nowhere' } }), 400);
    expectStatus(await call('GET', '/v1/webhooks', { token: sponsor }), 200);
    expectStatus(await call('GET', `/v1/webhooks/${webhookId}/deliveries`, { token: sponsor }), 200);
    expectStatus(await call('GET', `/v1/webhooks/${webhookId}/deliveries?status=failed&limit=1`, { token: sponsor }), 200);
    expectStatus(await call('GET', `/v1/webhooks/${webhookId}/deliveries?cursor=nonsense`, { token: sponsor }), 400);
    expectStatus(await call('GET', `/v1/webhooks/${webhookId}/deliveries`, { token: clerk }), 404);
    expectStatus(await call('POST', `/v1/webhooks/${webhookId}/enable`, { token: sponsor }), 200);
    const spare = await call('POST', '/v1/webhooks', { token: sponsor, body: { url: 'https://hooks.example.org/spare', events: ['initiative.closed'], initiativeId } });
    expectStatus(await call('DELETE', `/v1/webhooks/${spare.body.id}`, { token: sponsor }), 204);
    expectStatus(await call('DELETE', `/v1/webhooks/${spare.body.id}`, { token: sponsor }), 404);
  });

  it('sessions: an ID token for a session token, never a session for another', async () => {
    const session = await call('POST', '/v1/session', { token: sponsor });
    expectStatus(session, 201);
    expectStatus(await call('POST', '/v1/session', { body: { idToken: sponsor } }), 201);
    expectStatus(await call('POST', '/v1/session', { token: session.body.token }), 401);
    expectStatus(await call('POST', '/v1/session', {}), 401);
    expectStatus(await call('POST', '/v1/session', { body: { idToken: '' } }), 400);
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/dashboard`, { token: session.body.token }), 200);
    expectStatus(await call('DELETE', '/v1/session', { token: sponsor }), 401);
    expectStatus(await call('DELETE', '/v1/session', { token: session.body.token }), 204);
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/dashboard`, { token: session.body.token }), 401);
    expectStatus(await call('POST', '/dev/oidc/tokens', { body: { givenNames: 'Zoé', familyName: 'Test', birthdate: '1990-01-01' } }), 201);
    expectStatus(await call('POST', '/dev/oidc/tokens', { body: { givenNames: 'Zoé' } }), 400);
  });

  it('the sponsor closes; the live stream sends the last progress and ends', async () => {
    engine.clock.advance(86_400_000);
    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/close`, { token: await engine.tokenFor(citizens.karim) }), 403);
    expectStatus(await call('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor }), 200);
    const again = await call('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor });
    expectStatus(again, 409);
    expect(again.body.type).toBe('/problems/invalid-state/closed');
    const late = await call('POST', `/v1/initiatives/${initiativeId}/signatures`, { token: await engine.tokenFor(citizens.tom), body: { district: '75111', consent: true } });
    expectStatus(late, 409);

    const stream = await call('GET', `/v1/initiatives/${initiativeId}/progress/stream`);
    expectStatus(stream, 200);
    const version = /^id: (.+)$/m.exec(String(stream.body))?.[1];
    expect(version).toBeDefined();
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/progress/stream`, { headers: { 'last-event-id': version! } }), 204);
  });

  it('the clerk verifies by sample, then in full, and certifies', async () => {
    const base = `/v1/initiatives/${initiativeId}/verification`;
    expectStatus(await call('GET', base, { token: clerk }), 404);
    expectStatus(await call('POST', base, { token: sponsor, body: { method: 'full' } }), 403);
    expectStatus(await call('POST', base, { token: clerk, body: { method: 'full', seed: 'x' } }), 400);
    // The method's minimum for the 6 signatures counted: every one of them.
    const sample = await call('POST', base, { token: clerk, body: { method: 'sample', sampleSize: 6, seed: 'tirage public' } });
    expectStatus(sample, 201);
    expectStatus(await call('POST', base, { token: clerk, body: { method: 'sample' } }), 409);
    const report = await call('GET', `${base}?limit=2`, { token: clerk });
    expectStatus(report, 200);
    expectStatus(await call('GET', `${base}?cursor=${encodeURIComponent(report.body.signatures.nextCursor ?? 'x')}`, { token: clerk }), 200);
    expectStatus(await call('GET', `${base}?filter=nonsense`, { token: clerk }), 400);
    const sampled: string[] = sample.body.signatures.items.map((s: { id: string }) => s.id);
    expectStatus(await call('POST', `${base}/decisions`, { token: clerk, body: { decisions: sampled.map((signatureId) => ({ signatureId, decision: 'valid' })) } }), 200);
    expectStatus(await call('POST', `${base}/decisions`, { token: clerk, body: { decisions: [{ signatureId: sampled[1], decision: 'invalid' }] } }), 400);
    const stranger = await call('POST', `${base}/decisions`, { token: clerk, body: { decisions: [{ signatureId: '0192f0c4-6f7d-7a51-9c35-2b1f6c0c7e11', decision: 'valid' }] } });
    expectStatus(stranger, 400);
    expect(stranger.body.errors[0]).toMatchObject({ field: 'body.decisions.0.signatureId', code: 'unknown-signature' });
    expectStatus(await call('GET', `${base}/export`, { token: clerk }), 200);
    expectStatus(await call('GET', `${base}/districts`, { token: clerk }), 200);

    // A full count replaces the sample; every pending signature is ruled valid, then certified.
    expectStatus(await call('POST', base, { token: clerk, body: { method: 'full' } }), 201);
    // Refused while the roll check runs, as while signatures await a decision.
    expectStatus(await call('POST', `${base}/complete`, { token: clerk }), 409);
    await engine.scheduler.tick();
    expectStatus(await call('POST', `${base}/complete`, { token: clerk }), 409);
    for (;;) {
      const page = await call('GET', `${base}?filter=pending&personalData=false`, { token: clerk });
      expectStatus(page, 200);
      const ids: string[] = page.body.signatures.items.map((s: { id: string }) => s.id);
      if (ids.length === 0) break;
      expectStatus(await call('POST', `${base}/decisions`, { token: clerk, body: { decisions: ids.map((signatureId) => ({ signatureId, decision: 'valid' })) } }), 200);
    }
    // The paper form turns out unreadable: a valid decision may later be found invalid.
    const all = await call('GET', `${base}?personalData=false`, { token: clerk });
    const paper = all.body.signatures.items.find((s: { channel: string }) => s.channel === 'paper');
    expectStatus(await call('POST', `${base}/decisions`, { token: clerk, body: { decisions: [{ signatureId: paper.id, decision: 'invalid', reason: 'formulaire illisible' }] } }), 200);
    const done = await call('POST', `${base}/complete`, { token: clerk, body: { reason: 'Décompte intégral.' } });
    expectStatus(done, 200);
    expect(done.body.outcome).toBe('certified');
    itemId = done.body.referendumItemId;
    expectStatus(await call('POST', `${base}/complete`, { token: clerk }), 409);
    expectStatus(await call('GET', base, { token: clerk }), 200);

    expectStatus(await call('GET', '/v1/referendum-items'), 200);
    expectStatus(await call('GET', '/v1/referendum-items?jurisdiction=paris&limit=1'), 200);
    expectStatus(await call('GET', '/v1/referendum-items?cursor=nonsense'), 400);
    expectStatus(await call('GET', `/v1/referendum-items/${itemId}`), 200);
    expectStatus(await call('GET', '/v1/referendum-items/0192f0c4-6f7d-7a51-9c35-2b1f6c0c7e11'), 404);
    expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/progress/stream`), 200);
  });

  it('other ends: withdrawal by the sponsor, rejection by the clerk, a verification that finds too few', async () => {
    const draft = async () => (await call('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT })).body.id as string;
    const withdrawn = await draft();
    expectStatus(await call('POST', `/v1/initiatives/${withdrawn}/withdraw`, { token: sponsor, body: { reason: 'Abandon.' } }), 200);
    expectStatus(await call('POST', `/v1/initiatives/${withdrawn}/withdraw`, { token: sponsor }), 409);

    const rejected = await draft();
    const { committeeCode: code } = (await call('GET', `/v1/initiatives/${rejected}`, { token: sponsor })).body;
    for (const member of [citizens.karim, citizens.lea]) {
      expectStatus(await call('POST', `/v1/initiatives/${rejected}/committee`, { token: await engine.tokenFor(member), body: { code } }), 201);
    }
    expectStatus(await call('POST', `/v1/initiatives/${rejected}/submit`, { token: sponsor }), 200);
    expectStatus(await call('POST', `/v1/initiatives/${rejected}/review`, { token: clerk, body: { decision: 'reject', reason: 'Hors compétence.' } }), 200);
    expectStatus(await call('POST', `/v1/initiatives/${rejected}/withdraw`, { token: sponsor }), 409);

    // Opened, closed by its sponsor without a signature, verified: too few.
    const unsigned = await draft();
    const { committeeCode: unsignedCode } = (await call('GET', `/v1/initiatives/${unsigned}`, { token: sponsor })).body;
    for (const member of [citizens.karim, citizens.lea]) {
      expectStatus(await call('POST', `/v1/initiatives/${unsigned}/committee`, { token: await engine.tokenFor(member), body: { code: unsignedCode } }), 201);
    }
    expectStatus(await call('POST', `/v1/initiatives/${unsigned}/submit`, { token: sponsor }), 200);
    expectStatus(await call('POST', `/v1/initiatives/${unsigned}/review`, { token: clerk, body: { decision: 'open' } }), 200);
    expectStatus(await call('POST', `/v1/initiatives/${unsigned}/close`, { token: sponsor, body: { reason: 'Fin de la campagne.' } }), 200);
    expectStatus(await call('POST', `/v1/initiatives/${unsigned}/verification`, { token: clerk, body: { method: 'full' } }), 201);
    await engine.scheduler.tick(); // the check against the roll, in the background
    const insufficient = await call('POST', `/v1/initiatives/${unsigned}/verification/complete`, { token: clerk, body: { reason: 'Aucune signature déposée.' } });
    expectStatus(insufficient, 200);
    expect(insufficient.body.outcome).toBe('insufficient');
  });

  it("every webhook delivery is as the document's webhooks describe its event", async () => {
    await engine.scheduler.tick();
    const doc = (await engine.request('GET', '/openapi.json')).body as OpenApiDocument;
    expect(Object.keys(doc.webhooks ?? {}).sort()).toEqual([...EVENT_TYPES].sort());
    const all = delivered.filter((d) => d.url === 'https://hooks.example.org/all');
    // Every event type, each checked against its description.
    expect(new Set(all.map((d) => JSON.parse(d.body).type))).toEqual(new Set(EVENT_TYPES));
    expect(all.flatMap((d) => checker.checkWebhook(d.body))).toEqual([]);
  });

  it('the audit trail, page by page, for clerks and admins only', async () => {
    const first = await call('GET', '/v1/audit?limit=3', { token: clerk });
    expectStatus(first, 200);
    expectStatus(await call('GET', `/v1/audit?limit=3&before=${first.body.nextBefore}`, { token: clerk }), 200);
    expectStatus(await call('GET', `/v1/audit?initiative=${initiativeId}&action=initiative.open&actor=clerk-of-paris&from=2027-01-01T00:00:00Z`, { token: admin }), 200);
    expectStatus(await call('GET', '/v1/audit?from=yesterday', { token: admin }), 400);
    expectStatus(await call('GET', '/v1/audit', { token: sponsor }), 403);
    expectStatus(await call('GET', '/v1/audit'), 401);
    expectStatus(await call('GET', '/v1/audit/head'), 200);
    expectStatus(await call('GET', '/v1/audit/head', { token: 'not-a-token' }), 401);
  });

  it('the web login’s documented routes', async () => {
    const login = await call('GET', '/auth/login?returnTo=/');
    expect([302, 503]).toContain(login.status);
    expectStatus(await call('GET', '/auth/login?returnTo=https://evil.example/'), 400);
    const callback = await call('GET', '/auth/callback?code=x&state=y', { headers: { accept: 'application/json' } });
    expect(callback.status).toBeGreaterThanOrEqual(400);
    await call('POST', '/auth/logout', { headers: { accept: 'application/json' } });
  });

  describe('list endpoints', () => {
    it('pages initiatives newest first, without duplicates or omissions when rows are added between pages', async () => {
      const lyon = parisJurisdiction({ id: 'lyon', name: 'Ville de Lyon', districts: [{ code: '69381', name: 'Lyon 1er', electorate: 20000 }], rules: { agenda: { goal: { signatures: 5 }, collectionDays: 30 } }, committeeMinimum: 0 });
      expectStatus(await call('POST', '/v1/jurisdictions', { token: admin, body: lyon }), 201);
      expectStatus(await call('POST', '/v1/jurisdictions/lyon/clerks', { token: admin, body: { subject: 'clerk-of-lyon' } }), 201);
      const lyonClerk = await engine.subjectToken('clerk-of-lyon');
      const open = async (title: string) => {
        const created = await call('POST', '/v1/initiatives', { token: sponsor, body: { jurisdictionId: 'lyon', kind: 'agenda', title, summary: 'Résumé.', text: 'Texte.' } });
        expectStatus(created, 201);
        expectStatus(await call('POST', `/v1/initiatives/${created.body.id}/submit`, { token: sponsor }), 200);
        expectStatus(await call('POST', `/v1/initiatives/${created.body.id}/review`, { token: lyonClerk, body: { decision: 'open' } }), 200);
        return created.body.id as string;
      };
      for (let i = 0; i < 5; i++) {
        await open(`Pétition lyonnaise ${i}`);
        // Two of them at the same instant: the id breaks the tie.
        if (i !== 2) engine.clock.advance(1000);
      }
      const whole = await call('GET', '/v1/initiatives?jurisdiction=lyon&status=open&limit=100');
      expect(whole.body.items).toHaveLength(5);
      const expected = whole.body.items.map((i: { id: string }) => i.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: TestResponse = await call('GET', `/v1/initiatives?jurisdiction=lyon&status=open&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expectStatus(page, 200);
        seen.push(...page.body.items.map((i: { id: string }) => i.id));
        cursor = page.body.nextCursor;
        // A newer initiative appears meanwhile: it belongs before the first page, not in the next ones.
        if (pages++ === 0) await open('Arrivée entre deux pages');
      } while (cursor);
      expect(seen).toEqual(expected);

      expectStatus(await call('GET', '/v1/initiatives?q=lyonnaise&limit=100'), 200);
      expectStatus(await call('GET', '/v1/initiatives?cursor=nonsense'), 400);
      expectStatus(await call('GET', `/v1/initiatives?cursor=${Buffer.from('["2027-01-01T00:00:00.000Z","x"]').toString('base64url')}`), 400);
      expectStatus(await call('GET', '/v1/initiatives?status=sleeping'), 400);
      expectStatus(await call('GET', '/v1/initiatives?limit=0'), 400);
      expectStatus(await call('GET', '/v1/initiatives?q='), 400);
      const drafts = await call('GET', '/v1/initiatives?status=draft');
      expect(drafts.body.items).toEqual([]);
    });
  });

  it('each rate-limited operation answers 429 with Retry-After once over its limit', async () => {
    const limited = await createTestEngine({
      config: { rateLimits: { windowSeconds: 60, sign: { perAddress: 1, perIdentity: 0 }, login: { perAddress: 1, perIdentity: 0 }, paper: { perAddress: 1, perIdentity: 0 }, addressHeader: 'x-client' } },
    });
    try {
      const requests: [string, string, Init][] = [
        ['POST', `/v1/initiatives/${initiativeId}/signatures`, { body: { district: '75111', consent: true } }],
        ['POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { body: { entries: [] } }],
        ['POST', '/v1/session', { body: { idToken: sponsor } }],
        ['GET', '/auth/login?returnTo=/', {}],
      ];
      for (const [method, url, init] of requests) {
        const from = { ...init, headers: { 'x-client': `client of ${url}` } };
        await limited.request(method, url, from);
        const refused = await limited.request(method, url, from);
        checker.check(method, url, refused);
        expect(refused.status, url).toBe(429);
        expect(refused.headers.get('retry-after'), url).toMatch(/^\d+$/);
      }
    } finally {
      await limited.close();
    }
  });

  describe('protocol: methods, HEAD, media types, sizes', () => {
    it('a known path with another method is 405 with Allow; an unknown path is 404', async () => {
      const res = await call('PUT', `/v1/initiatives/${initiativeId}`, { token: sponsor, body: {} });
      expectStatus(res, 405);
      expect(res.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'PATCH']);
      expectStatus(await call('DELETE', '/v1/jurisdictions'), 405);
      expectStatus(await call('GET', '/v1/nothing-here'), 404);
      expectStatus(await call('GET', `/v1/initiatives/${initiativeId}/nothing`), 404);
    });

    it('HEAD on every GET operation answers as GET, without a body', async () => {
      for (const path of ['/v1/jurisdictions', '/v1/jurisdictions/paris', '/v1/initiatives', `/v1/initiatives/${initiativeId}`, `/v1/initiatives/${initiativeId}/progress`, `/v1/initiatives/${initiativeId}/log`, '/v1/referendum-items', '/healthz', '/openapi.json']) {
        const get = await engine.request('GET', path);
        const head = await call('HEAD', path);
        expect(head.status, path).toBe(get.status);
        expect(head.contentType, path).toBe(get.contentType);
        expect(head.body, path).toBe('');
      }
    });
  });

  describe('every operation of the document', () => {
    const UNKNOWN = '0192f0c4-6f7d-7a51-9c35-2b1f6c0c7e11';
    type Op = { method: string; template: string; op: { security?: unknown[]; requestBody?: { content: Record<string, unknown> }; parameters?: { in: string; name: string }[] } };
    let ops: Op[];

    beforeAll(async () => {
      const doc = (await engine.request('GET', '/openapi.json')).body as { paths: Record<string, Record<string, Op['op']>> };
      ops = Object.entries(doc.paths).flatMap(([template, item]) => Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), template, op })));
    });

    /** A real path for a template: the story's own objects. */
    const concrete = (template: string, replace: Record<string, string> = {}) =>
      template.replace(/\{([^}]+)\}/g, (_, name: string) => {
        if (replace[name]) return replace[name]!;
        if (name === 'signatureId') return signatureId;
        if (name === 'subject') return 'clerk-of-paris';
        if (template.startsWith('/v1/jurisdictions/')) return 'paris';
        if (template.startsWith('/v1/webhooks/')) return webhookId;
        if (template.startsWith('/v1/referendum-items/')) return itemId;
        return initiativeId;
      });

    it('operations that need a token: 401 without one', async () => {
      for (const { method, template, op } of ops.filter((o) => o.op.security)) {
        // The session exchange may take its ID token from the body instead.
        const res = await call(method, concrete(template), op.requestBody ? { body: validBodyFor(template) } : {});
        if (template !== '/v1/session') expect(res.status, `${method} ${template}`).toBe(401);
      }
    });

    it('every other operation: 401 for a bearer token that is not valid, public reads too', async () => {
      for (const { method, template } of ops.filter((o) => !isForEveryone(o.template))) {
        const res = await call(method, concrete(template), { token: 'not.a.token' });
        expect(res.status, `${method} ${template}`).toBe(401);
      }
    });

    it('every change under /v1: 403 for the session cookie sent by a page of another origin', async () => {
      const cookie = await browserRequests(engine).sessionFor('sponsor', { givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
      for (const { method, template, op } of ops.filter((o) => o.template.startsWith('/v1/') && o.method !== 'GET')) {
        const res = await call(method, concrete(template), { headers: { cookie, origin: 'https://blog.engine.test' }, ...(op.requestBody ? { body: validBodyFor(template) } : {}) });
        expect(res.status, `${method} ${template}`).toBe(403);
      }
    });

    it('operations naming a resource by uuid: 400 for a malformed id, 404 for an unknown one', async () => {
      for (const { method, template, op } of ops.filter((o) => /\{id\}/.test(o.template) && !o.template.startsWith('/v1/jurisdictions/'))) {
        const token = template.startsWith('/v1/webhooks/') ? sponsor : template.includes('verification') || template.includes('paper') || template.includes('personal-data') ? clerk : sponsor;
        const body = op.requestBody?.content['application/json'] ? {} : undefined;
        const query = template.endsWith('/log/consistency') ? '?from=1' : '';
        const malformed = await call(method, concrete(template, { id: 'not-a-uuid' }) + query, { token, body });
        expect(malformed.status, `${method} ${template}`).toBe(400);
        const unknown = await call(method, concrete(template, { id: UNKNOWN }) + query, { token, body: body && validBodyFor(template) });
        expect(unknown.status, `${method} ${template}`).toBe(404);
      }
    });

    it('operations taking a JSON body: 400 for malformed JSON, 415 for another media type, 413 beyond the API’s limit', async () => {
      for (const { method, template, op } of ops.filter((o) => o.op.requestBody?.content['application/json'])) {
        const name = `${method} ${template}`;
        const url = concrete(template);
        const malformed = await call(method, url, { token: admin, rawBody: '{"oops', headers: { 'content-type': 'application/json' } });
        expect(malformed.status, name).toBe(400);
        const typed = await call(method, url, { token: admin, rawBody: 'decision=open', headers: { 'content-type': 'text/plain' } });
        expect(typed.status, name).toBe(415);
        if (!template.startsWith('/v1/')) continue;
        const huge = await call(method, url, { token: admin, rawBody: JSON.stringify({ padding: 'x'.repeat(9 * 1024 * 1024) }), headers: { 'content-type': 'application/json' } });
        expect(huge.status, name).toBe(413);
      }
    });

    it('every operation of the document was seen answering its success status', () => {
      // Its success needs a browser's round trip through the provider: tests/api/oidc-dev-login.test.ts.
      const missing = checker
        .coverage()
        .filter((o) => o.name !== 'GET /auth/callback')
        .filter((o) => !o.seen.some((s) => s.startsWith('2') || s.startsWith('3')))
        .map((o) => o.name);
      expect(missing).toEqual([]);
    });
  });

  /** A body the route accepts, so that only the unknown id is wrong. */
  function validBodyFor(template: string): unknown {
    if (template.endsWith('/committee')) return { code: committeeCode };
    if (template.endsWith('/review')) return { decision: 'open' };
    if (template.endsWith('/signatures')) return { district: '75111', consent: true };
    if (template.endsWith('/paper-signatures')) return { entries: [{ familyName: 'A', givenNames: 'B', birthdate: '1990-01-01', district: '75111', sheet: 'S', collector: 'C' }] };
    if (template.endsWith('/verification')) return { method: 'full' };
    if (template.endsWith('/decisions')) return { decisions: [{ signatureId, decision: 'valid' }] };
    if (template === '/v1/initiatives/{id}') return { title: 'Un titre' };
    if (template === '/v1/initiatives') return REFERENDUM_DRAFT;
    if (template === '/v1/jurisdictions') return parisJurisdiction({ id: 'marseille' });
    if (template === '/v1/jurisdictions/{id}') return { electorate: 10 };
    if (template === '/v1/jurisdictions/{id}/clerks') return { subject: 'someone' };
    if (template === '/v1/webhooks') return { url: 'https://hooks.example.org/civic', events: ['initiative.closed'], jurisdictionId: 'paris' };
    return {};
  }
});
