import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../src/db/schema';
import type { Database } from '../../src/db/client';
import type { DevPerson } from '../../src/features/auth/dev-provider';
import { verifyAuditChain } from '../../src/features/audit/service';
import type { TestEngine, TestResponse } from './engine';
import { PARISIANS, parisJurisdiction, REFERENDUM_DRAFT } from './paris';
import { decideRemainingValid } from './verification';

/** What the API story needs of an engine: the same story runs in-process on Node and over HTTP against a Worker. */
export interface StoryTarget {
  request<T = any>(
    method: string,
    path: string,
    init?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<TestResponse<T>>;
  /** An ID token of the engine's identity provider for a made-up person (eidas2 unless said otherwise). */
  tokenFor(person: DevPerson): Promise<string>;
  /** An ID token with only a subject: enough for admins and clerks, not for signing. */
  subjectToken(subject: string): Promise<string>;
  adminToken(): Promise<string>;
  /** Runs the engine's periodic tasks once, as its timer (Node) or cron trigger (Workers) would. */
  tick(): Promise<void>;
  /** The engine's database, for what the API does not show (outbox, audit chain). */
  db: Database;
  /** When the story started, by the engine's clock. */
  startedAt: Date;
  /** Moves the engine's clock forward where it can be moved; a real clock just goes on. */
  advance(ms: number): void;
  /** Asserts that an instant the engine stamped is its "now" during the story. */
  expectNow(instant: string): void;
  close(): Promise<void>;
}

/** The collection period the story asks for: the Node story opens 2027-01-15T10:00Z and closes 2027-06-30T22:00Z. */
const COLLECTION_MS = Date.parse('2027-06-30T22:00:00Z') - Date.parse('2027-01-15T10:00:00Z');

/** The in-process engine of tests/support/engine.ts as a story target (its clock is moved by hand). */
export function inProcessTarget(engine: TestEngine): StoryTarget {
  const startedAt = engine.clock.now();
  return {
    request: engine.request,
    tokenFor: engine.tokenFor,
    subjectToken: engine.subjectToken,
    adminToken: engine.adminToken,
    tick: () => engine.scheduler.tick(),
    db: engine.db.db,
    startedAt,
    advance: (ms) => engine.clock.advance(ms),
    expectNow: (instant) => expect(instant).toBe(engine.clock.now().toISOString()),
    close: () => engine.close(),
  };
}

/**
 * The whole life of a referendum initiative in Paris, through the HTTP API only:
 * jurisdiction, draft, committee, review, signatures (with refusals), close, certification.
 */
export function describeApiStory(title: string, createTarget: () => Promise<StoryTarget>) {
  describe(title, () => {
    let engine: StoryTarget;
    let sponsor: string;
    let clerk: string;
    let initiativeId: string;
    let committeeCode: string;
    let closesAt: string;

    const citizens = {
      ...PARISIANS,
      tom: { givenNames: 'Tom', familyName: 'Nguyen', birthdate: '1999-12-01' },
      young: { givenNames: 'Hugo', familyName: 'Petit', birthdate: '2012-05-05' },
      late: { givenNames: 'Chloé', familyName: 'Bernard', birthdate: '1970-01-20' },
    };

    beforeAll(async () => {
      engine = await createTarget();
      closesAt = new Date(engine.startedAt.getTime() + COLLECTION_MS).toISOString();
      sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
      clerk = await engine.subjectToken('clerk-of-paris');
    });
    afterAll(() => engine?.close());

    it('an admin creates Ville de Paris with its 20 arrondissements', async () => {
      const refused = await engine.request('POST', '/v1/jurisdictions', { token: sponsor, body: parisJurisdiction() });
      expect(refused.status).toBe(403);

      const res = await engine.request('POST', '/v1/jurisdictions', { token: await engine.adminToken(), body: parisJurisdiction() });
      expect(res.status).toBe(201);
      expect(res.body.districts).toHaveLength(20);

      const again = await engine.request('POST', '/v1/jurisdictions', { token: await engine.adminToken(), body: parisJurisdiction() });
      expect(again.status).toBe(409);

      const list = await engine.request('GET', '/v1/jurisdictions');
      expect(list.body.items.map((j: { id: string }) => j.id)).toEqual(['paris']);
    });

    it('the admin grants the clerk role', async () => {
      const res = await engine.request('POST', '/v1/jurisdictions/paris/clerks', { token: await engine.adminToken(), body: { subject: 'clerk-of-paris' } });
      expect(res.status).toBe(201);
    });

    it('a citizen drafts an initiative and becomes its sponsor', async () => {
      const res = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: 'draft', kind: 'referendum', roles: ['sponsor'] });
      expect(res.body.committeeCode).toMatch(/^[A-Z0-9]{10}$/);
      initiativeId = res.body.id;
      committeeCode = res.body.committeeCode;

      const publicView = await engine.request('GET', `/v1/initiatives/${initiativeId}`);
      expect(publicView.status).toBe(404);

      const edited = await engine.request('PATCH', `/v1/initiatives/${initiativeId}`, { token: sponsor, body: { title: 'Des rues aux écoles, partout' } });
      expect(edited.status).toBe(200);
      expect(edited.body.title).toBe('Des rues aux écoles, partout');
    });

    it('submitting needs the committee minimum; two citizens join with the code', async () => {
      const early = await engine.request('POST', `/v1/initiatives/${initiativeId}/submit`, { token: sponsor });
      expect(early.status).toBe(409);
      expect(early.body.type).toBe('/problems/committee-too-small');

      const wrong = await engine.request('POST', `/v1/initiatives/${initiativeId}/committee`, { token: await engine.tokenFor(citizens.karim), body: { code: 'WRONGCODE1' } });
      expect(wrong.status).toBe(403);

      for (const member of [citizens.karim, citizens.lea]) {
        const joined = await engine.request('POST', `/v1/initiatives/${initiativeId}/committee`, { token: await engine.tokenFor(member), body: { code: committeeCode } });
        expect(joined.status).toBe(201);
      }
      const submitted = await engine.request('POST', `/v1/initiatives/${initiativeId}/submit`, { token: sponsor });
      expect(submitted.status).toBe(200);
      expect(submitted.body.status).toBe('submitted');
      expect(submitted.body.committeeSize).toBe(2);
      const listed = await engine.request('GET', '/v1/initiatives?status=submitted');
      expect(listed.body.items.find((i: { id: string }) => i.id === initiativeId)).toMatchObject({ status: 'submitted', committeeSize: 2 });
    });

    it('only a clerk of Paris rules on admissibility; opening freezes the rules', async () => {
      const bySponsor = await engine.request('POST', `/v1/initiatives/${initiativeId}/review`, { token: sponsor, body: { decision: 'open' } });
      expect(bySponsor.status).toBe(403);

      const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/review`, {
        token: clerk,
        body: { decision: 'open', closesAt },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'open', closesAt });
      engine.expectNow(res.body.opensAt);
      expect(res.body.rules.goal).toEqual({ signatures: 5 });
    });

    it('citizens of several arrondissements sign; signing twice returns the same signature', async () => {
      const signers: [keyof typeof citizens, string][] = [
        ['elodie', '75111'],
        ['karim', '75111'],
        ['lea', '75118'],
        ['jean', '75118'],
        ['sofia', '75120'],
      ];
      for (const [who, district] of signers) {
        const res = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
          token: await engine.tokenFor(citizens[who]),
          body: { district, consent: true },
        });
        expect(res.status, who).toBe(201);
        expect(res.body.signature).toMatchObject({ status: 'counted', district, channel: 'online' });
        expect(res.body.receipt.split('.')).toHaveLength(3);
      }

      // Élodie again, spelled differently by another provider session: same person, same signature.
      const first = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token: await engine.tokenFor(citizens.elodie) });
      const again = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
        token: await engine.tokenFor({ givenNames: 'ELODIE', familyName: 'dupont', birthdate: '1990-04-12', subject: 'another-sub' }),
        body: { district: '75111', consent: true },
      });
      expect(again.status).toBe(200);
      expect(again.body.signature.id).toBe(first.body.signature.id);
    });

    it('refuses the too young, a district outside the city and a weak identity, storing nothing', async () => {
      const young = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
        token: await engine.tokenFor(citizens.young),
        body: { district: '75111', consent: true },
      });
      expect(young.status).toBe(403);
      expect(young.body.type).toBe('/problems/ineligible/age');

      const outside = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
        token: await engine.tokenFor(citizens.tom),
        body: { district: '92012', consent: true },
      });
      expect(outside.status).toBe(403);
      expect(outside.body.type).toBe('/problems/ineligible/district');

      const weak = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
        token: await engine.tokenFor({ ...citizens.tom, acr: 'eidas1' }),
        body: { district: '75111', consent: true },
      });
      expect(weak.status).toBe(403);
      expect(weak.body.type).toBe('/problems/ineligible/assurance');

      const noConsent = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
        token: await engine.tokenFor(citizens.tom),
        body: { district: '75111', consent: false },
      });
      expect(noConsent.status).toBe(400);
      expect(noConsent.body.errors[0].field).toBe('body.consent');

      const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
      expect(progress.body.signatures).toBe(5);
    });

    it('progress shows the goal and the district rule met; each crossing is recorded once', async () => {
      const res = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ signatures: 5, goalMet: true, status: 'open', closesAt });
      expect(res.body.criteria).toEqual([
        { kind: 'goal', required: 5, current: 5, met: true },
        { kind: 'districts', required: 2, current: 2, met: true },
      ]);
      expect(res.body.districts).toHaveLength(20);
      expect(res.body.districts.find((d: { code: string }) => d.code === '75111')).toMatchObject({ signatures: 2, required: 2, met: true });
      expect(res.body.districts.find((d: { code: string }) => d.code === '75120')).toMatchObject({ signatures: 1, required: 2, met: false });

      await engine.tick();
      await engine.tick();
      const events = await engine.db.select().from(outbox);
      const types = events.map((e) => e.type);
      expect(types.filter((t) => t === 'initiative.goal_reached')).toHaveLength(1);
      expect(types.filter((t) => t === 'initiative.milestone_reached')).toHaveLength(1);

      const after = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
      expect(after.body.milestones).toEqual([{ signatures: 3, label: 'premier palier', reached: true, reachedAt: expect.any(String) }]);
      engine.expectNow(after.body.milestones[0].reachedAt);
    });

    it('a citizen withdraws their signature while open and the count drops', async () => {
      const token = await engine.tokenFor(citizens.tom);
      const signed = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, { token, body: { district: '75101', consent: true } });
      expect(signed.status).toBe(201);
      const withdrawn = await engine.request('DELETE', `/v1/initiatives/${initiativeId}/signatures/me`, { token });
      expect(withdrawn.status).toBe(200);
      expect(withdrawn.body.status).toBe('withdrawn');
      const mine = await engine.request('GET', `/v1/initiatives/${initiativeId}/signatures/me`, { token });
      expect(mine.status).toBe(404);
      const progress = await engine.request('GET', `/v1/initiatives/${initiativeId}/progress`);
      expect(progress.body.signatures).toBe(5);
    });

    it('the sponsor closes; a signature after that is refused', async () => {
      engine.advance(86_400_000);
      const closed = await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor });
      expect(closed.status).toBe(200);
      expect(closed.body.status).toBe('closed');

      const late = await engine.request('POST', `/v1/initiatives/${initiativeId}/signatures`, {
        token: await engine.tokenFor(citizens.late),
        body: { district: '75111', consent: true },
      });
      expect(late.status).toBe(409);
      expect(late.body.type).toMatch(/^\/problems\/(collection-closed|invalid-state\/closed)$/);

      const again = await engine.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor });
      expect(again.status).toBe(409);
      expect(again.body.type).toBe('/problems/invalid-state/closed');
    });

    it('the clerk verifies in full and certifies; the certificate verifies against the JWKS', async () => {
      const start = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'full' } });
      expect(start.status).toBe(201);
      expect(start.body).toMatchObject({ status: 'verifying', method: 'full', counts: { valid: 5 } });
      // Every signature is checked before a full count can be certified.
      const early = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: clerk });
      expect(early.status).toBe(409);
      expect(early.body).toMatchObject({ type: '/problems/verification-pending', pending: 5 });
      expect(await decideRemainingValid(engine.request, initiativeId, clerk)).toBe(5);

      const done = await engine.request('POST', `/v1/initiatives/${initiativeId}/verification/complete`, { token: clerk });
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ status: 'certified', outcome: 'certified', goalMet: true });

      const items = await engine.request('GET', '/v1/referendum-items');
      expect(items.body.items).toHaveLength(1);
      const item = items.body.items[0];
      expect(item).toMatchObject({ initiativeId, jurisdictionId: 'paris', kind: 'referendum', validSignatures: 5, method: 'full' });

      const jwks = await engine.request('GET', '/.well-known/jwks.json');
      const { payload, protectedHeader } = await jwtVerify(item.certificate, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'] });
      expect(protectedHeader.typ).toBe('certificate+jwt');
      expect(payload).toMatchObject({
        referendumItem: item.id,
        initiative: { id: initiativeId, question: REFERENDUM_DRAFT.question },
        jurisdiction: { id: 'paris' },
        counts: { valid: 5 },
        method: 'full',
      });
      const one = await engine.request('GET', `/v1/referendum-items/${item.id}`);
      expect(one.body.certificate).toBe(item.certificate);
    });

    it('every step is in the hash-chained audit trail, readable by the clerk only', async () => {
      const res = await engine.request('GET', '/v1/audit?limit=500', { token: clerk });
      expect(res.status).toBe(200);
      const actions = res.body.items.map((e: { action: string }) => e.action).reverse();
      expect(actions).toEqual(
        expect.arrayContaining(['initiative.submit', 'initiative.open', 'initiative.close', 'initiative.startVerification', 'initiative.certify']),
      );
      expect((await verifyAuditChain(engine.db)).ok).toBe(true);
      const citizen = await engine.request('GET', '/v1/audit', { token: sponsor });
      expect(citizen.status).toBe(403);

      const events = (await engine.db.select().from(outbox)).map((e) => e.type);
      expect(events).toEqual(
        expect.arrayContaining(['initiative.submitted', 'initiative.opened', 'initiative.closed', 'initiative.certified', 'referendum_item.created']),
      );
    });
  });
}
