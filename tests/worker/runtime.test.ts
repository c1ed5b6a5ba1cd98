import { and, eq, isNotNull, sql } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, initiatives, signatures } from '../../src/db/schema';
import type { TestEngine } from '../support/engine';
import { citizenNo, openReferendum, signAs } from '../support/monitoring';
import { sleep } from '../support/process';
import { decideRemainingValid } from '../support/verification';
import { Receiver } from '../support/webhook-receiver';
import { startWorkerEngine, workerTokens, type WorkerEngine } from '../support/worker';

const BOM = '\uFEFF';

/** A PUT of `text` in chunks, without Content-Length, on a connection of its own (closed after the answer). */
function uploadAlone(url: string, token: string, text: string): Promise<{ status: number; contentType: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'PUT', agent: false, headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body });
      });
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    const bytes = Buffer.from(text);
    let at = 0;
    const next = () => {
      while (at < bytes.length && !req.destroyed) {
        const chunk = bytes.subarray(at, (at += 16 * 1024));
        if (!req.write(chunk)) return void req.once('drain', next);
      }
      if (!req.destroyed) req.end();
    };
    next();
  });
}
/** The body as sent, byte order mark included (Response.text() drops it). */
const csvText = async (res: Response) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());

/**
 * What the API story (story.test.ts) does not reach, on the Worker in workerd: the web front and
 * its assets, /docs from the static-assets binding, the progress stream, the streamed roll import
 * and CSV exports, every periodic task of the cron trigger, and state that must not stay in one
 * isolate. Each answer is compared with what Node gives, or with what docs/workers-and-openapi.md
 * says differs.
 */
describe('on Workers: the routes and periodic tasks beyond the API story', () => {
  let worker: WorkerEngine;
  let engine: TestEngine;
  let receiver: Receiver;
  let opened: Awaited<ReturnType<typeof openReferendum>>;

  const get = (path: string, headers: Record<string, string> = {}) => fetch(worker.url + path, { redirect: 'manual', headers });
  const sessionCookie = async (idToken: string) => {
    const res = await worker.request('POST', '/v1/session', { body: { idToken } });
    expect(res.status).toBe(201);
    return `session=${res.body.token}`;
  };

  beforeAll(async () => {
    receiver = await new Receiver().start();
    worker = await startWorkerEngine({
      settings: { WEBHOOK_ALLOW_PRIVATE: 'true', PERSONAL_DATA_RETENTION_WITHDRAWN_MONTHS: '0', ROLL_MAX_BYTES: String(1024 * 1024) },
    });
    // The helpers of tests/support speak to an engine through request() and its tokens only.
    engine = { request: worker.request, ...workerTokens(worker.provider) } as unknown as TestEngine;
    opened = await openReferendum(engine);
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.kill().catch(() => {});
  });

  it('serves the web front, its stylesheet, script and icon, as Node does', async () => {
    await signAs(engine, opened.initiativeId, 1, '75111');
    const home = await get('/', { accept: 'text/html' });
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await (await get(`/initiatives/${opened.initiativeId}`, { accept: 'text/html', 'cache-control': 'no-cache' })).text();
    expect(page).toContain('Des rues aux écoles');
    // The live progress of the page follows the stream, which this runtime offers too.
    expect(page).toContain(`/v1/initiatives/${opened.initiativeId}/progress/stream`);
    for (const [path, type] of [
      ['/assets/site.css', 'text/css; charset=utf-8'],
      ['/assets/app.js', 'text/javascript; charset=utf-8'],
      ['/assets/icon.svg', 'image/svg+xml'],
    ]) {
      const res = await get(path!);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect((await res.text()).length).toBeGreaterThan(100);
    }
    expect((await get('/favicon.ico')).headers.get('location')).toBe('/assets/icon.svg');
  });

  it('serves /docs and every Swagger UI file it names from the ASSETS binding; nothing else of node_modules', async () => {
    const docs = await (await get('/docs')).text();
    const files = [...docs.matchAll(/\/docs\/assets\/[\w.-]+/g)].map((m) => m[0]);
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      const res = await get(file);
      expect(res.status, file).toBe(200);
      expect((await res.arrayBuffer()).byteLength, file).toBeGreaterThan(100);
    }
    expect((await get('/docs/assets/package.json')).status).toBe(404);
    expect((await get('/package.json')).status).toBe(404);
    const openapi = await worker.request('GET', '/openapi.json');
    expect(openapi.body.servers).toEqual([expect.objectContaining({ url: worker.url })]);
  });

  it('refuses the development identity provider in production: its endpoints do not exist', async () => {
    for (const path of ['/dev/oidc/.well-known/openid-configuration', '/dev/oidc/jwks', '/dev/oidc/authorize?client_id=x']) {
      expect((await get(path, { accept: 'application/json' })).status, path).toBe(404);
    }
  });

  it('answers a widget of another origin reading the progress, and 304 while it has not changed, seconds later', async () => {
    const path = `/v1/initiatives/${opened.initiativeId}/progress`;
    const preflight = await fetch(worker.url + path, { method: 'OPTIONS', headers: { origin: 'https://news.example', 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    const first = await get(path, { origin: 'https://news.example', 'cache-control': 'no-cache' });
    expect(first.status).toBe(200);
    expect(first.headers.get('access-control-allow-origin')).toBe('*');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^W\/"[0-9a-f]{32}"$/);
    const signatures = (await first.json()).signatures as number;
    // The progress says when it was read: a read in another second is the same progress.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const unchanged = await get(path, { origin: 'https://news.example', 'cache-control': 'no-cache', 'if-none-match': etag! });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe('');
    await signAs(engine, opened.initiativeId, 9, '75114');
    const changed = await get(path, { origin: 'https://news.example', 'cache-control': 'no-cache', 'if-none-match': etag! });
    expect(changed.status).toBe(200);
    expect((await changed.json()).signatures).toBe(signatures + 1);
  });

  it('sends the progress stream as one snapshot per connection, with the retry that makes EventSource reconnect', async () => {
    const path = `/v1/initiatives/${opened.initiativeId}/progress/stream`;
    const first = await get(path, { accept: 'text/event-stream' });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // The response ends by itself (a snapshot), where Node keeps the connection and pushes changes.
    const text = await first.text();
    expect(text.startsWith('retry: 3000\n\n')).toBe(true);
    const event = /^id: (.+)$/m.exec(text);
    const data = JSON.parse(/^data: (.+)$/m.exec(text)![1]!);
    expect(data).toMatchObject({ initiativeId: opened.initiativeId, status: 'open' });
    expect(event).not.toBeNull();

    // Reconnecting with the version it has: nothing new yet, only the reconnection delay.
    const again = await (await get(path, { accept: 'text/event-stream', 'last-event-id': event![1]! })).text();
    expect(again).toBe('retry: 3000\n\n');
    // A new signature: the next reconnection carries it.
    await signAs(engine, opened.initiativeId, 2, '75112');
    const next = await (await get(path, { accept: 'text/event-stream', 'last-event-id': event![1]! })).text();
    expect(JSON.parse(/^data: (.+)$/m.exec(next)![1]!).signatures).toBe(data.signatures + 1);
  });

  it('imports an electoral roll streamed without a length, and refuses one over ROLL_MAX_BYTES with a 413 problem', async () => {
    const lines = ['family_name,given_names,birthdate,district'];
    for (let i = 0; i < 8000; i++) lines.push(`Famille${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26) % 26)}${String.fromCharCode(65 + Math.floor(i / 676))},Prénom,1980-01-01,751${String(1 + (i % 20)).padStart(2, '0')}`);
    const streamed = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 16 * 1024) controller.enqueue(bytes.subarray(i, i + 16 * 1024));
          controller.close();
        },
      });
    };
    const put = (text: string, type = 'text/csv') =>
      fetch(`${worker.url}/v1/jurisdictions/paris/roll`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${opened.clerk}`, 'content-type': type },
        body: streamed(text),
        duplex: 'half',
      } as RequestInit);

    const csv = lines.join('\n') + '\n';
    expect(csv.length).toBeGreaterThan(256 * 1024);
    const res = await put(csv);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ jurisdictionId: 'paris', imported: 8000, duplicates: 0, rejected: 0 });

    const refused = await put(lines.slice(0, 10).join('\n'), 'application/json');
    expect(refused.status).toBe(415);

    // Over the limit, without a declared length: refused once the limit is passed, as on Node.
    const tooLarge = await uploadAlone(`${worker.url}/v1/jurisdictions/paris/roll`, opened.clerk, csv.repeat(4));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.contentType).toBe('application/problem+json');
    expect(JSON.parse(tooLarge.body)).toMatchObject({ status: 413, detail: `The body exceeds ${1024 * 1024} bytes.` });
    // wrangler dev's local proxy answers nothing more after a request answered before its upload
    // ended (a Worker of ten lines that returns 413 mid-upload does the same): a fresh workerd.
    await worker.restart();
  });

  it('streams the CSV exports, the verification past its first page of 1,000, and the clerk\'s audit trail and districts', async () => {
    const { initiativeId, clerk, sponsor } = await openReferendum(engine, { sponsorName: 'Camille' });
    // 1,100 paper signatures: more than one page of the export (1,000), each page read after the answer has started.
    const entries = Array.from({ length: 1100 }, (_, i) => ({ ...citizenNo(5000 + i), district: '75111', sheet: `F-${i}`, collector: 'C-1' }));
    const batch = await worker.request('POST', `/v1/initiatives/${initiativeId}/paper-signatures`, { token: clerk, body: { entries } });
    expect(batch.status, JSON.stringify(batch.body).slice(0, 300)).toBe(200);
    expect(batch.body.accepted).toBe(1100);
    expect((await worker.request('POST', `/v1/initiatives/${initiativeId}/close`, { token: sponsor })).status).toBe(200);
    expect((await worker.request('POST', `/v1/initiatives/${initiativeId}/verification`, { token: clerk, body: { method: 'full' } })).status).toBe(201);
    expect(await decideRemainingValid(worker.request, initiativeId, clerk)).toBe(1100);

    const exported = await get(`/v1/initiatives/${initiativeId}/verification/export`, { authorization: `Bearer ${clerk}` });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = (await csvText(exported)).split('\r\n').filter(Boolean);
    expect(rows[0]!.startsWith(BOM)).toBe(true);
    expect(rows).toHaveLength(1 + 1100);
    expect(new Set(rows.slice(1).map((r) => r.split(',')[0])).size).toBe(1100);

    // The clerk's web exports, with the session cookie a browser would send.
    const cookie = await sessionCookie(clerk);
    const audit = await get(`/clerk/audit.csv?initiative=${initiativeId}`, { cookie });
    expect(audit.status).toBe(200);
    const auditRows = (await csvText(audit)).split('\r\n').filter(Boolean);
    expect(auditRows[0]).toBe(`${BOM}seq,at,actor,action,jurisdiction,initiative,details,prev_hash,hash`);
    const trail = await worker.request('GET', `/v1/audit?initiative=${initiativeId}&limit=200`, { token: clerk });
    expect(auditRows.slice(1).map((r) => r.split(',')[0])).toEqual(trail.body.items.map((e: { seq: number }) => String(e.seq)));
    const districts = await (await get(`/clerk/initiatives/${initiativeId}/districts.csv`, { cookie })).text();
    expect(districts.split('\r\n').filter(Boolean)).toHaveLength(1 + 20);
  });

  it('the cron trigger sequences the logs: receipts promise 90 s, and an entry is in the tree after the next run', async () => {
    const signature = await worker.request('POST', `/v1/initiatives/${opened.initiativeId}/signatures`, {
      token: await engine.tokenFor(citizenNo(3)),
      body: { district: '75113', consent: true },
    });
    expect(signature.status).toBe(201);
    // wrangler.toml's LOG_MERGE_DELAY_MS: the cron runs once a minute, so receipts do not promise Node's 1 s.
    expect(decodeJwt(signature.body.receipt).mmd).toBe(90);
    const ref = signature.body.signature.id;
    expect((await worker.request('GET', `/v1/initiatives/${opened.initiativeId}/log/inclusion?ref=${ref}`)).status).toBe(404);
    await worker.tick();
    const proof = await worker.request('GET', `/v1/initiatives/${opened.initiativeId}/log/inclusion?ref=${ref}`);
    expect(proof.status).toBe(200);
  });

  it('the cron trigger closes an initiative whose end has passed and delivers the webhook of the change, signed', async () => {
    const subscription = await worker.request('POST', '/v1/webhooks', {
      token: opened.admin,
      body: { url: receiver.url, events: ['initiative.opened', 'initiative.closed'], jurisdictionId: 'paris' },
    });
    expect(subscription.status, JSON.stringify(subscription.body)).toBe(201);
    const closesAt = new Date(Date.now() + 3000).toISOString();
    const { initiativeId } = await openReferendum(engine, { closesAt, sponsorName: 'Dominique' });
    await worker.tick();
    expect((await worker.request('GET', `/v1/initiatives/${initiativeId}`)).body.status).toBe('open');
    await sleep(Date.parse(closesAt) - Date.now() + 200);
    await worker.tick();
    expect((await worker.request('GET', `/v1/initiatives/${initiativeId}`)).body.status).toBe('closed');
    const delivered = receiver.verified(subscription.body.secret).filter((d) => d.payload.data.initiativeId === initiativeId || (d.payload.data as { id?: string }).id === initiativeId);
    expect(delivered.map((d) => d.payload.type).sort()).toEqual(['initiative.closed', 'initiative.opened']);
  });

  it('the cron trigger destroys personal data once its retention is over', async () => {
    const { initiativeId, sponsor } = await openReferendum(engine, { sponsorName: 'Emile' });
    await signAs(engine, initiativeId, 4, '75111');
    const held = () =>
      worker.db.db.select({ n: sql<number>`count(*)::int` }).from(signatures).where(and(eq(signatures.initiativeId, initiativeId), isNotNull(signatures.personalData)));
    expect((await held())[0]!.n).toBe(1);
    expect((await worker.request('POST', `/v1/initiatives/${initiativeId}/withdraw`, { token: sponsor })).status).toBe(200);
    // PERSONAL_DATA_RETENTION_WITHDRAWN_MONTHS=0: due at the next run.
    await worker.tick();
    expect((await held())[0]!.n).toBe(0);
    const destroyed = await worker.db.db.select().from(auditLog).where(and(eq(auditLog.initiativeId, initiativeId), eq(auditLog.action, 'personal-data.destroyed')));
    expect(destroyed).toHaveLength(1);
  });

  it('keeps no state in the isolate: rate-limit counters are in the database, and a change made elsewhere is read at once', async () => {
    // Counters in rate_limit_counters (Node's embedded database keeps them in memory; a Worker never does).
    const [{ n }] = (await worker.db.db.execute(sql`select count(*)::int as n from rate_limit_counters`)) as unknown as [{ n: number }];
    expect(n).toBeGreaterThan(0);

    // An anonymous read right after a change made by another isolate (here: straight in the database)
    // sees it: each request has its own client, so nothing is kept from one request to the next.
    const path = `/v1/initiatives/${opened.initiativeId}`;
    expect((await get(path)).status).toBe(200);
    await worker.db.db.update(initiatives).set({ title: 'Titre changé ailleurs' }).where(eq(initiatives.id, opened.initiativeId));
    expect((await (await get(path)).json()).title).toBe('Titre changé ailleurs');
  });
});
