import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_READ_TTL_MS, PublicReads } from '../../src/features/initiatives/public-reads';
import { PARISIANS } from '../support/paris';
import { sleep } from '../support/process';
import { createWorld, type World } from '../support/world';

/**
 * Anonymous reads of an initiative's detail and progress may be answered from memory for up to a
 * second. A signer must still see their signature at once, a visitor every other change made through
 * this engine at once, and new signatures or a change made elsewhere (another engine process) within
 * that second.
 */
/** Reads `read` until it gives `expected`, for at most the cache's time to live and a margin. */
async function eventually<T>(read: () => Promise<T>, expected: T) {
  let seen = await read();
  for (const started = Date.now(); seen !== expected && Date.now() - started < PUBLIC_READ_TTL_MS + 500; seen = await read()) await sleep(50);
  expect(seen).toBe(expected);
}

describe("an initiative's page as visitors read it", () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(() => world.engine.close());

  const progress = async () => (await world.engine.request('GET', `/v1/initiatives/${world.targetId}/progress`, { asVisitor: true })).body;
  const detail = async () => (await world.engine.request('GET', `/v1/initiatives/${world.targetId}`, { asVisitor: true })).body;

  it('a signer sees their signature at once, visitors within a second; a withdrawal shows in the very next read', async () => {
    const { engine, targetId } = world;
    const before = (await progress()).signatures as number;
    expect((await detail()).progress.signatures).toBe(before);

    const karim = await engine.tokenFor(PARISIANS.karim);
    const signed = await engine.request('POST', `/v1/initiatives/${targetId}/signatures`, { token: karim, body: { district: '75111', consent: true } });
    expect(signed.status).toBe(201);
    // Signed in, the page is read afresh.
    expect((await engine.request('GET', `/v1/initiatives/${targetId}/progress`, { token: karim })).body.signatures).toBe(before + 1);
    expect((await engine.request('GET', `/v1/initiatives/${targetId}`, { token: karim })).body.progress.signatures).toBe(before + 1);
    await eventually(async () => (await progress()).signatures, before + 1);
    await eventually(async () => (await detail()).progress.signatures, before + 1);

    const withdrawn = await engine.request('DELETE', `/v1/initiatives/${targetId}/signatures/me`, { token: karim });
    expect(withdrawn.status).toBe(200);
    expect((await progress()).signatures).toBe(before);
    expect((await detail()).progress.signatures).toBe(before);
  });

  it('a close written by another process shows within a second; its sponsor sees it at once', async () => {
    const { engine, targetId, sponsor } = world;
    expect((await detail()).status).toBe('open');
    await engine.db.db.execute(sql`update initiatives set status = 'closed', closes_at = now() where id = ${targetId}`);

    // Signed in, the page is read afresh.
    const sponsorView = await engine.request('GET', `/v1/initiatives/${targetId}`, { token: sponsor });
    expect(sponsorView.body.status).toBe('closed');

    await eventually(async () => (await detail()).status, 'closed');
    expect((await progress()).status).toBe('closed');
  });

  it('a hard reload (Cache-Control: no-cache) reads afresh', async () => {
    const { engine, targetId } = world;
    const shown = (await detail()).title as string;
    await engine.db.db.execute(sql`update initiatives set title = 'Un titre changé ailleurs' where id = ${targetId}`);
    // A plain visitor, a moment later, may still be shown the page as it was; a refused request
    // (nothing changed) does not make the engine read it again.
    const refused = await engine.request('POST', `/v1/initiatives/${targetId}/close`, {});
    expect(refused.status).toBe(401);
    expect((await detail()).title).toBe(shown);
    const reloaded = await engine.request('GET', `/v1/initiatives/${targetId}`, { asVisitor: true, headers: { 'cache-control': 'no-cache' } });
    expect(reloaded.body.title).toBe('Un titre changé ailleurs');
  });
});

describe('PublicReads', () => {
  it('does not keep a read that a change overlapped', async () => {
    const reads = new PublicReads();
    let release!: (value: number) => void;
    let calls = 0;
    const slow = () => {
      calls++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const first = reads.get('progress', 'a', slow);
    reads.changed(['a']);
    release(1);
    expect(await first).toBe(1);

    // Not kept: the next read reads again, and that one is kept.
    const second = reads.get('progress', 'a', slow);
    release(2);
    expect(await second).toBe(2);
    expect(await reads.get('progress', 'a', slow)).toBe(2);
    expect(calls).toBe(2);

    // A change of another initiative leaves this one; a change of everything does not.
    reads.changed(['b']);
    expect(await reads.get('progress', 'a', slow)).toBe(2);
    reads.changed();
    const third = reads.get('progress', 'a', slow);
    release(3);
    expect(await third).toBe(3);
    expect(calls).toBe(3);
  });

  it('lets visitors who arrive during a read share it, unless a change came in between', async () => {
    const reads = new PublicReads();
    const releases: ((value: number) => void)[] = [];
    let calls = 0;
    const slow = () => {
      calls++;
      return new Promise<number>((resolve) => releases.push(resolve));
    };
    const first = reads.get('detail', 'a', slow);
    const second = reads.get('detail', 'a', slow);
    expect(calls).toBe(1);
    reads.changed(['a']);
    const third = reads.get('detail', 'a', slow);
    expect(calls).toBe(2);
    releases[0]!(1);
    releases[1]!(2);
    expect([await first, await second, await third]).toEqual([1, 1, 2]);
    expect(await reads.get('detail', 'a', slow)).toBe(2);
    expect(calls).toBe(2);
  });

  it('reads again once an entry is older than the time to live', async () => {
    let now = 0;
    const reads = new PublicReads(() => now);
    let value = 1;
    const read = async () => value;
    expect(await reads.get('detail', 'a', read)).toBe(1);
    value = 2;
    now = PUBLIC_READ_TTL_MS - 1;
    expect(await reads.get('detail', 'a', read)).toBe(1);
    now = PUBLIC_READ_TTL_MS;
    expect(await reads.get('detail', 'a', read)).toBe(2);
  });
});
