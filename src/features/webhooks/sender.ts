import { ipLiteral, isPublicAddress } from './address';

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Deliver to loopback and private addresses too (WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
}

/** Sends one delivery; resolves with the HTTP status, throws a DeliveryError when no answer came. */
export type WebhookSender = (request: WebhookRequest) => Promise<{ status: number }>;

/** Resolves a host name to every address it has. */
export type HostResolver = (hostname: string) => Promise<string[]>;

/** How webhooks are delivered on a runtime; Node's defaults check addresses and pin the connection to them. */
export interface WebhookOptions {
  send?: WebhookSender;
  resolve?: HostResolver;
  /** Per attempt, connection to last byte of the answer's head. Default 5 s. */
  timeoutMs?: number;
}

export class DeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export class AddressRefusedError extends DeliveryError {
  constructor(readonly address: string) {
    super(`refused address ${address} (loopback, link-local or private)`);
    this.name = 'AddressRefusedError';
  }
}

export const resolveWithNodeDns: HostResolver = async (hostname) => {
  const { lookup } = await import('node:dns/promises');
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => a.address);
};

/**
 * The addresses a delivery to `hostname` may use: every one must be public (unless allowed), so a
 * name that resolves to one public and one private address is refused outright.
 */
export async function checkedAddresses(hostname: string, allowPrivate: boolean, resolve: HostResolver): Promise<string[]> {
  const literal = ipLiteral(hostname);
  const addresses = literal ? [literal] : await resolve(hostname);
  if (addresses.length === 0) throw new DeliveryError(`no address for ${hostname}`);
  if (!allowPrivate) {
    const refused = addresses.find((a) => !isPublicAddress(a));
    if (refused) throw new AddressRefusedError(refused);
  }
  return addresses;
}

/**
 * Node's sender: node:http(s) with a lookup that resolves, checks every address and hands exactly
 * those to the socket (no second resolution an attacker could rebind), a deadline on the whole
 * attempt, and no redirects followed.
 */
export function nodeWebhookSender(resolve: HostResolver = resolveWithNodeDns): WebhookSender {
  return async (request) => {
    const url = new URL(request.url);
    const { request: send } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
    const { isIP } = await import('node:net');
    const signal = AbortSignal.timeout(request.timeoutMs);
    // IP literals never reach the lookup hook, so they are checked here.
    if (ipLiteral(url.hostname)) await checkedAddresses(url.hostname, request.allowPrivate, resolve);
    const lookup = (hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      checkedAddresses(hostname, request.allowPrivate, resolve).then(
        (addresses) => {
          const entries = addresses.map((address) => ({ address, family: isIP(address) }));
          if (options.all) callback(null, entries);
          else callback(null, entries[0]!.address, entries[0]!.family);
        },
        (error: unknown) => callback(error),
      );
    };
    return new Promise<{ status: number }>((resolvePromise, reject) => {
      const req = send(
        url,
        {
          method: 'POST',
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
          lookup: lookup as never,
          signal,
        },
        (res) => {
          resolvePromise({ status: res.statusCode ?? 0 });
          // The answer's body is of no use: drop it and the connection.
          res.destroy();
        },
      );
      req.on('error', (error: Error & { code?: string }) => {
        if (error instanceof DeliveryError) reject(error);
        else if (signal.aborted) reject(new DeliveryError(`timed out after ${request.timeoutMs} ms`));
        else reject(new DeliveryError(error.code ? `${error.code}` : error.message));
      });
      req.end(request.body);
    });
  };
}
