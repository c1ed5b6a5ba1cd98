import { z } from 'zod';
import { ipLiteral, isPublicAddress } from '../features/webhooks/address';
import { AddressRefusedError, checkedAddresses, DeliveryError, type HostResolver, type WebhookSender } from '../features/webhooks/sender';

const DohAnswer = z.object({ Status: z.number(), Answer: z.array(z.object({ type: z.number(), data: z.string() })).optional() });

/**
 * Workers have no DNS API: names are resolved over DNS-over-HTTPS (A and AAAA), so a
 * subscription's host is checked for private addresses as on Node.
 */
export function dnsOverHttpsResolver(endpoint = 'https://cloudflare-dns.com/dns-query', timeoutMs = 5000): HostResolver {
  return async (hostname) => {
    const lookups = ['A', 'AAAA'].map(async (type) => {
      const url = `${endpoint}?name=${encodeURIComponent(hostname)}&type=${type}`;
      const res = await fetch(url, { headers: { accept: 'application/dns-json' }, signal: AbortSignal.timeout(timeoutMs) });
      const parsed = DohAnswer.safeParse(await res.json().catch(() => null));
      if (!res.ok || !parsed.success) throw new DeliveryError(`cannot resolve ${hostname}`);
      return (parsed.data.Answer ?? []).filter((a) => a.type === 1 || a.type === 28).map((a) => a.data);
    });
    return (await Promise.all(lookups)).flat();
  };
}

/**
 * Webhook deliveries through fetch. The host's addresses are checked first (a Worker's fetch leaves
 * from Cloudflare's network, which cannot reach the deployer's private one either); no redirects.
 */
export function fetchWebhookSender(resolve: HostResolver): WebhookSender {
  return async (request) => {
    const url = new URL(request.url);
    const literal = ipLiteral(url.hostname);
    if (literal && !request.allowPrivate && !isPublicAddress(literal)) throw new AddressRefusedError(literal);
    if (!literal) await checkedAddresses(url.hostname, request.allowPrivate, resolve);
    let res: Response;
    try {
      res = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, redirect: 'manual', signal: AbortSignal.timeout(request.timeoutMs) });
    } catch (error) {
      throw new DeliveryError(error instanceof Error && error.name === 'TimeoutError' ? `timed out after ${request.timeoutMs} ms` : 'no answer');
    }
    // The answer's body is of no use.
    await res.body?.cancel();
    return { status: res.status };
  };
}
