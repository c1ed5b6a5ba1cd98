import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestEngine, type TestEngine } from '../support/engine';
import { browserRequests } from '../web/browser-requests';
import { CLERK_SUBJECT, closedWithSignatures, parisWithClerk } from '../support/identity';
import { decideRemainingValid } from '../support/verification';
import { REFERENDUM_DRAFT } from '../support/paris';

let engine: TestEngine;
afterEach(async () => engine?.close());

/** Paris, whose referendum initiatives collect for `collectionDays`, and one initiative admitted at `start` with `review`. */
async function admittedAt(start: string, review: Record<string, unknown> = {}, collectionDays = 30) {
  engine = await createTestEngine({ start: new Date(start) });
  const { clerk, sponsor } = await parisWithClerk(engine, { rules: { referendum: { goal: { signatures: 5 }, collectionDays } } });
  const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
  expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor })).status).toBe(200);
  const opened = await engine.request('POST', `/v1/initiatives/${draft.body.id}/review`, { token: clerk, body: { decision: 'open', ...review } });
  expect(opened.status).toBe(200);
  return { id: draft.body.id as string, opened: opened.body };
}

const sign = async (id: string, familyName: string) =>
  engine.request('POST', `/v1/initiatives/${id}/signatures`, {
    token: await engine.tokenFor({ givenNames: 'Camille', familyName, birthdate: '1990-01-01' }),
    body: { district: '75111', consent: true },
  });

describe('collection periods in the jurisdiction’s local time', () => {
  it('counts collection days as calendar days of the jurisdiction: across the change to summer time, it closes at the local hour it opened', async () => {
    // Admitted on 1 March 2027 at 10:00 in Paris (09:00 UTC, winter time); 30 days later is 31 March at 10:00 in Paris, summer time (08:00 UTC).
    const { id, opened } = await admittedAt('2027-03-01T09:00:00Z');
    expect(opened.closesAt).toBe('2027-03-31T08:00:00.000Z');
    engine.clock.set('2027-03-31T08:30:00Z'); // 10:30 in Paris: the 30 days are over
    expect((await sign(id, 'Tardive')).status).toBe(409);
  });

  it('and across the change back to winter time, the same', async () => {
    // 15 October 2027 at 09:30 in Paris (07:30 UTC, summer time) + 30 days = 14 November at 09:30 in Paris (08:30 UTC).
    const { opened } = await admittedAt('2027-10-15T07:30:00Z');
    expect(opened.closesAt).toBe('2027-11-14T08:30:00.000Z');
  });
});

describe('days left to sign', () => {
  it('counts local days: on 30 October at 00:30 in Paris, a collection ending at midnight on 31 October has 2 days left, the change back to winter time notwithstanding', async () => {
    // Ends at 1 November 00:00 in Paris (winter time, 23:00 UTC on 31 October); 30 October 00:30 in Paris is 22:30 UTC on the 29th.
    const { id } = await admittedAt('2027-10-01T08:00:00Z', { closesAt: '2027-10-31T23:00:00Z' }, 31);
    engine.clock.set('2027-10-29T22:30:00Z');
    for (const path of [`/initiatives/${id}`, '/']) {
      const page = String((await engine.request('GET', path, { headers: { cookie: 'lang=fr' } })).body);
      expect(page).toContain('Encore 2 jours pour signer.');
    }
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    const dashboard = await engine.request('GET', `/v1/initiatives/${id}/dashboard`, { token: sponsor });
    expect(dashboard.status).toBe(200);
    expect(dashboard.body.timeLeft.days).toBe(2);
  });
});

describe('the last day to sign', () => {
  it('is the calendar day the collection ends on: ending tomorrow at 10:00, today is not the last day, however few hours remain', async () => {
    // Admitted on 1 March 2027 at 10:00 in Paris: it ends on 31 March at 10:00 in Paris (08:00 UTC).
    const { id } = await admittedAt('2027-03-01T09:00:00Z');
    const said = async () => String((await engine.request('GET', `/initiatives/${id}`, { headers: { cookie: 'lang=en' } })).body);

    engine.clock.set('2027-03-30T07:00:00Z'); // 30 March at 09:00 in Paris: 25 hours left
    expect(await said()).toContain('2 days left to sign.');

    engine.clock.set('2027-03-30T09:00:00Z'); // 30 March at 11:00 in Paris: 23 hours left, but tomorrow morning too
    let page = await said();
    expect(page).toContain('Closes tomorrow.');
    expect(page).not.toContain('Last day to sign.');

    engine.clock.set('2027-03-30T22:00:00Z'); // 31 March at 00:00 in Paris: its last day
    page = await said();
    expect(page).toContain('Last day to sign.');
    expect(page).toContain('Collection until 31 March 2027 at 10:00');
  });

  it('of a collection ending at midnight is the day before, all of it', async () => {
    // Ends at 1 November 00:00 in Paris (23:00 UTC on 31 October): its last day is 31 October.
    const { id } = await admittedAt('2027-10-01T08:00:00Z', { closesAt: '2027-10-31T23:00:00Z' }, 31);
    engine.clock.set('2027-10-30T23:30:00Z'); // 31 October at 00:30 in Paris
    const page = String((await engine.request('GET', `/initiatives/${id}`, { headers: { cookie: 'lang=fr' } })).body);
    expect(page).toContain('Dernier jour de collecte.');
    expect(page).toContain('Collecte jusqu’au 31 octobre 2027 inclus');
  });
});

describe('an initiative admitted whose collection opens later', () => {
  it('is not said to be open for signatures, counts no days left, and offers no receipt to look up', async () => {
    // Admitted on 1 March 2027, its collection opening on 10 March at 10:00 in Paris.
    const { id } = await admittedAt('2027-03-01T09:00:00Z', { opensAt: '2027-03-10T09:00:00Z', closesAt: '2027-03-11T09:00:00Z' });
    const web = browserRequests(engine);
    const cookie = await web.sessionFor('early-reader');
    for (const path of ['/', `/initiatives/${id}`]) {
      const page = await web.page(path, { cookie, lang: 'en' });
      expect(page.text).toContain('admitted, collection not yet open');
      expect(page.html).toContain('<span class="tag" data-status="admitted">admitted, collection not yet open</span>');
      expect(page.html).not.toContain('data-status="open"');
      expect(page.text).not.toMatch(/days? left to sign|Last day to sign/);
      expect(page.text).toContain('Collection opens on 10 March 2027 at 10:00');
    }
    expect((await web.page(`/initiatives/${id}`, { cookie, lang: 'en' })).html).not.toContain(`href="/initiatives/${id}/signature"`);
    expect((await web.page('/')).text).toContain('déclarée recevable, collecte à venir');

    engine.clock.set('2027-03-10T09:00:00Z'); // it opens, for a day
    const open = await web.page(`/initiatives/${id}`, { cookie: await web.sessionFor('early-reader'), lang: 'en' });
    expect(open.html).toContain('<span class="tag" data-status="open">open for signatures</span>');
    expect(open.text).toContain('Closes tomorrow.');
    expect(open.html).toContain(`href="/initiatives/${id}/signature"`);
  });
});

describe('the sign page of an initiative that takes no signatures', () => {
  it('says why before asking anyone to log in: not open yet, closed, or no such initiative', async () => {
    const { id } = await admittedAt('2027-03-01T09:00:00Z', { opensAt: '2027-03-10T09:00:00Z', closesAt: '2027-03-11T09:00:00Z' });
    const web = browserRequests(engine);
    const early = await web.page(`/initiatives/${id}/sign`);
    expect(early.status).toBe(409);
    expect(early.text).toContain('La collecte n’a pas encore commencé');
    expect(early.text).toContain('10 mars 2027 à 10:00');

    engine.clock.set('2027-03-10T10:00:00Z'); // open: the signer logs in
    const open = await web.page(`/initiatives/${id}/sign`);
    expect(open.status).toBe(303);
    expect(open.headers.get('location')).toContain('/auth/login');

    engine.clock.set('2027-03-11T10:00:00Z'); // closed
    const closed = await web.page(`/initiatives/${id}/sign`, { lang: 'en' });
    expect(closed.status).toBe(409);
    expect(closed.text).toContain('The collection is closed: this initiative takes no more signatures.');
    expect(closed.text).not.toContain('at the moment');

    expect((await web.page('/initiatives/00000000-0000-4000-8000-000000000000/sign')).status).toBe(404);
  });
});

describe('dates a clerk types on the admissibility form, read in the jurisdiction’s time zone', () => {
  async function submitted(start: string, timeZone: string) {
    engine = await createTestEngine({ start: new Date(start) });
    const { sponsor } = await parisWithClerk(engine, { timeZone });
    const draft = await engine.request('POST', '/v1/initiatives', { token: sponsor, body: REFERENDUM_DRAFT });
    expect((await engine.request('POST', `/v1/initiatives/${draft.body.id}/submit`, { token: sponsor })).status).toBe(200);
    const web = browserRequests(engine);
    const review = async (form: Record<string, string>) =>
      web.page(`/clerk/initiatives/${draft.body.id}/review`, { cookie: await web.sessionFor(CLERK_SUBJECT), form: { decision: 'open', ...form } });
    return { id: draft.body.id as string, review };
  }

  it('on the night summer time begins, an hour before the change is that hour, not the one before it', async () => {
    // 28 March 2027 at 01:30 in Paris is still winter time: 00:30 UTC.
    const { id, review } = await submitted('2027-03-20T09:00:00Z', 'Europe/Paris');
    expect((await review({ closesAt: '2027-03-28T01:30' })).status).toBe(303);
    expect((await engine.request('GET', `/v1/initiatives/${id}`)).body.closesAt).toBe('2027-03-28T00:30:00.000Z');
  });

  it('west of Greenwich, the morning clocks go forward: 05:00 in New York is 09:00 UTC', async () => {
    // 14 March 2027, New York goes from 02:00 EST to 03:00 EDT; at 05:00 EDT it is 09:00 UTC.
    const { id, review } = await submitted('2027-03-13T15:00:00Z', 'America/New_York');
    expect((await review({ opensAt: '2027-03-14T05:00', closesAt: '2027-09-14T17:00' })).status).toBe(303);
    const initiative = (await engine.request('GET', `/v1/initiatives/${id}`)).body;
    expect(initiative.opensAt).toBe('2027-03-14T09:00:00.000Z');
    expect(initiative.closesAt).toBe('2027-09-14T21:00:00.000Z');
  });
});

describe('a clock a few seconds behind another engine’s (or stepped back)', () => {
  const camille = () => engine.tokenFor({ givenNames: 'Camille', familyName: 'Avance', birthdate: '1990-01-01' });

  it('closed by its sponsor, a collection does not end before a signature it counts', async () => {
    const { id } = await admittedAt('2027-01-15T10:00:00Z');
    engine.clock.set('2027-01-15T10:10:00Z');
    const signed = await sign(id, 'Avance');
    expect(signed.status).toBe(201);
    engine.clock.set('2027-01-15T10:09:57Z'); // the sponsor's request reaches a process 3 s behind
    const sponsor = await engine.tokenFor({ givenNames: 'Anne', familyName: 'Sponsor', birthdate: '1980-01-01' });
    const closed = await engine.request('POST', `/v1/initiatives/${id}/close`, { token: sponsor });
    expect(closed.status).toBe(200);
    expect(Date.parse(closed.body.closesAt)).toBeGreaterThanOrEqual(Date.parse(signed.body.signature.createdAt));
    expect((await engine.request('GET', `/v1/initiatives/${id}/progress`)).body.signatures).toBe(1);
  });

  it('a signature is not withdrawn before it was made, in its record or in the log', async () => {
    const { id } = await admittedAt('2027-01-15T10:00:00Z');
    engine.clock.set('2027-01-15T10:10:00Z');
    const signed = await engine.request('POST', `/v1/initiatives/${id}/signatures`, { token: await camille(), body: { district: '75111', consent: true } });
    expect(signed.status).toBe(201);
    engine.clock.set('2027-01-15T10:09:58Z');
    const withdrawn = await engine.request('DELETE', `/v1/initiatives/${id}/signatures/me`, { token: await camille() });
    expect(withdrawn.status).toBe(200);
    await engine.scheduler.tick();
    const entries = (await engine.request('GET', `/v1/initiatives/${id}/log/entries?start=0&end=2`)).body.entries as { data: string }[];
    const [signEntry, withdrawEntry] = entries.map((e) => JSON.parse(Buffer.from(e.data, 'base64').toString()));
    expect(withdrawEntry.type).toBe('withdraw');
    expect(Date.parse(withdrawEntry.at)).toBeGreaterThanOrEqual(Date.parse(signEntry.at));
    const record = withdrawn.body.signature ?? withdrawn.body;
    expect(Date.parse(record.withdrawnAt)).toBeGreaterThanOrEqual(Date.parse(record.createdAt));
  });

  it('a certificate is not dated before the signed log head it certifies', async () => {
    engine = await createTestEngine({ start: new Date('2027-01-15T10:00:00Z') });
    const roles = await parisWithClerk(engine, { rules: { referendum: { goal: { signatures: 2 }, collectionDays: 30 } } });
    const id = await closedWithSignatures(engine, roles, 3, 'Certifie');
    expect((await engine.request('POST', `/v1/initiatives/${id}/verification`, { token: roles.clerk, body: { method: 'full' } })).status).toBe(201);
    const pending = await engine.request('GET', `/v1/initiatives/${id}/verification?filter=pending&personalData=false`, { token: roles.clerk });
    // The last decision, an invalid signature, is written to the log by a process whose clock is 5 s ahead of the one that certifies.
    engine.clock.set('2027-01-20T10:00:05Z');
    const invalid = await engine.request('POST', `/v1/initiatives/${id}/verification/decisions`, {
      token: roles.clerk,
      body: { decisions: [{ signatureId: pending.body.signatures.items[0].id, decision: 'invalid', reason: 'not on the register' }] },
    });
    expect(invalid.status).toBe(200);
    await decideRemainingValid(engine.request, id, roles.clerk);
    await engine.scheduler.tick();
    engine.clock.set('2027-01-20T10:00:01Z');
    const completed = await engine.request('POST', `/v1/initiatives/${id}/verification/complete`, { token: roles.clerk });
    expect(completed.status).toBe(200);
    expect(completed.body.outcome).toBe('certified');
    const [item] = (await engine.request('GET', '/v1/referendum-items')).body.items;
    const certificate = decodeJwt(item.certificate) as { certifiedAt: string; log: { timestamp: string } };
    expect(Date.parse(certificate.certifiedAt)).toBeGreaterThanOrEqual(Date.parse(certificate.log.timestamp));
    expect(Date.parse(item.certifiedAt)).toBe(Date.parse(certificate.certifiedAt));
  });

});
