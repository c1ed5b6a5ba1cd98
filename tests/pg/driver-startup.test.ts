import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type DatabaseHandle } from '../../src/db/client';
import { ADMIN_DATABASE_URL } from '../support/database';

/**
 * A connection that the database resets while the driver starts it (a restart or a failover): the
 * driver's first statement on every new connection reads the array types from the catalog, and its
 * failure escaped as an unhandled rejection, which ends a Node process (porsager/postgres#1192;
 * patched in patches/postgres+3.4.9.patch). Seen once in tests/pg/database-restart.test.ts as the
 * engine dying with `read ECONNRESET`; here made certain by a proxy that resets that connection
 * when the catalog query goes through it.
 */
describe('a connection reset while the driver starts it', () => {
  let proxy: Server;
  let resets = 0;
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => void unhandled.push(reason);
  let handle: DatabaseHandle;

  beforeAll(async () => {
    const target = new URL(ADMIN_DATABASE_URL);
    proxy = createServer((client) => {
      const server = new Socket();
      server.connect(Number(target.port || 5432), target.hostname);
      let reset = false;
      client.on('data', (chunk) => {
        // The first connection is reset as the catalog query goes out; the others pass.
        if (resets === 0 && chunk.includes('typarray')) {
          resets++;
          reset = true;
          client.resetAndDestroy();
          server.destroy();
          return;
        }
        server.write(chunk);
      });
      server.on('data', (chunk) => reset || client.write(chunk));
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = new URL(ADMIN_DATABASE_URL);
    url.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    process.on('unhandledRejection', record);
    handle = await openPostgres(url.toString(), { max: 1, migrate: false });
  });

  afterAll(async () => {
    process.off('unhandledRejection', record);
    await handle?.close();
    await new Promise((resolve) => proxy?.close(resolve));
  });

  it('fails the query that opened it, not the process; the next query connects again', async () => {
    const first = await handle.ping().then(
      () => 'answered',
      // drizzle wraps the driver's error.
      (error: { code?: string; cause?: { code?: string } }) => error.cause?.code ?? error.code,
    );
    expect(resets).toBe(1);
    // The query either fails with the reset (a 503 for the request) or is sent again on a new connection.
    expect(['ECONNRESET', 'CONNECTION_CLOSED', 'answered']).toContain(first);
    await handle.ping();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(unhandled.map((reason) => String(reason))).toEqual([]);
  });
});
