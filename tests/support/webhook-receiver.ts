import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

interface Received {
  headers: Record<string, string>;
  body: string;
}

/** A webhook receiver on loopback that can be killed and brought back on the same port. */
export class Receiver {
  readonly received: Received[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async kill() {
    const server = this.server!;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hooks/civic`;
  }

  /** Verifies every delivery with the Standard Webhooks library; returns the payloads. */
  verified(secret: string) {
    const verifier = new Webhook(secret);
    return this.received.map((r) => ({ id: r.headers['webhook-id']!, payload: verifier.verify(r.body, r.headers) as { type: string; timestamp: string; data: Record<string, unknown> } }));
  }
}
