/**
 * Which network addresses a webhook may be delivered to: public unicast only, so a subscription
 * cannot make the engine call its own loopback, the cloud metadata service or a private network.
 */

type Range = [base: bigint, prefix: number];

const v4 = (a: string, prefix: number): Range => [parseIPv4(a)!, prefix];
const v6 = (a: string, prefix: number): Range => [parseIPv6(a)!, prefix];

const IPV4_NOT_PUBLIC: Range[] = [
  v4('0.0.0.0', 8), // "this" network
  v4('10.0.0.0', 8), // private
  v4('100.64.0.0', 10), // carrier-grade NAT
  v4('127.0.0.0', 8), // loopback
  v4('169.254.0.0', 16), // link-local (cloud metadata)
  v4('172.16.0.0', 12), // private
  v4('192.0.0.0', 24), // IETF protocol assignments
  v4('192.0.2.0', 24), // documentation
  v4('192.88.99.0', 24), // 6to4 relay anycast
  v4('192.168.0.0', 16), // private
  v4('198.18.0.0', 15), // benchmarking
  v4('198.51.100.0', 24), // documentation
  v4('203.0.113.0', 24), // documentation
  v4('224.0.0.0', 4), // multicast
  v4('240.0.0.0', 4), // reserved and broadcast
];

const IPV6_NOT_PUBLIC: Range[] = [
  v6('2001::', 32), // Teredo
  v6('2001:2::', 48), // benchmarking
  v6('2001:10::', 28), // ORCHID
  v6('2001:20::', 28), // ORCHIDv2
  v6('2001:db8::', 32), // documentation
];

function inRange(value: bigint, bits: number, [base, prefix]: Range): boolean {
  const shift = BigInt(bits - prefix);
  return value >> shift === base >> shift;
}

export function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(Number(part));
  }
  return value;
}

export function parseIPv6(text: string): bigint | undefined {
  let s = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '').toLowerCase();
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const four = parseIPv4(dotted[1]!);
    if (four === undefined) return undefined;
    s = s.slice(0, -dotted[1]!.length) + `${(four >> 16n).toString(16)}:${(four & 0xffffn).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  return value;
}

function isPublicIPv4(value: bigint): boolean {
  return !IPV4_NOT_PUBLIC.some((r) => inRange(value, 32, r));
}

function isPublicIPv6(value: bigint): boolean {
  // Addresses that carry an IPv4 address are judged by it: mapped, NAT64 and 6to4.
  if (value >> 32n === 0xffffn) return isPublicIPv4(value & 0xffffffffn);
  if (value >> 32n === 0x0064ff9b0000000000000000n) return isPublicIPv4(value & 0xffffffffn);
  if (value >> 112n === 0x2002n) return isPublicIPv4((value >> 80n) & 0xffffffffn);
  // Global unicast (2000::/3) only: excludes ::, ::1, unique-local, link-local, site-local and multicast.
  if (value >> 125n !== 1n) return false;
  return !IPV6_NOT_PUBLIC.some((r) => inRange(value, 128, r));
}

/** True for a public unicast IPv4 or IPv6 address; false for anything else, including garbage. */
export function isPublicAddress(address: string): boolean {
  const four = parseIPv4(address);
  if (four !== undefined) return isPublicIPv4(four);
  const six = parseIPv6(address);
  return six !== undefined && isPublicIPv6(six);
}

/** The host of a URL as an IP literal, or undefined when it is a name. */
export function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return parseIPv4(bare) !== undefined || parseIPv6(bare) !== undefined ? bare : undefined;
}
