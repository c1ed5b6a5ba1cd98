/**
 * Checks a certificate of result against the engine's published keys and prints its content.
 *
 *   npm run verify-certificate -- <file or URL> [--jwks <URL or file>]
 *
 * The input is the compact JWS itself, or a referendum item (JSON with a `certificate` field), read
 * from a file or fetched from a URL. The keys come from `<issuer>/.well-known/jwks.json`, the issuer
 * named in the certificate, unless --jwks names them; a certificate fetched from a URL must name that
 * URL's server as its issuer (a forger's certificate would name the forger's own keys), or it is not
 * checked, and one read from a file without --jwks is said to rest on the address it names. A referendum item's own fields (count, title,
 * question...) must say what its certificate says. Exit code 0 when the signature holds (and the
 * item matches it), 1 when not, 2 for a usage error or keys that cannot be read (a server down, a
 * missing file): nothing was checked then.
 */
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { whyNotVerified } from './verify';

export const CERTIFICATE_TYPE = 'certificate+jwt';

export interface VerifiedCertificate {
  header: Record<string, unknown>;
  payload: JWTPayload;
  jwks: string;
  /** The keys were taken from the issuer the certificate itself names (no --jwks, no URL to hold it to). */
  keysFromClaimedIssuer: boolean;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

async function readSource(source: string): Promise<string> {
  if (isUrl(source)) {
    const res = await fetch(source, { headers: { accept: 'application/json, application/jose, text/plain' } });
    if (!res.ok) throw new Error(`answered HTTP ${res.status}`);
    return res.text();
  }
  return readFile(source, 'utf8');
}

/** The keys could not be read, or not be chosen: nothing was checked, the certificate is neither valid nor not. */
export class KeysUnavailable extends Error {}

async function readKeySet(source: string): Promise<JSONWebKeySet> {
  let jwks: JSONWebKeySet;
  try {
    jwks = JSON.parse(await readSource(source)) as JSONWebKeySet;
  } catch (error) {
    throw new KeysUnavailable(`cannot read the keys from ${source}: ${(error as Error).message}`);
  }
  if (!Array.isArray(jwks?.keys)) throw new KeysUnavailable(`cannot read the keys from ${source}: it is not a key set ({"keys": [...]})`);
  return jwks;
}

/** The compact JWS in a file's or response's text: the token itself, or the `certificate` of a referendum item. */
export function extractCertificate(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const parsed = JSON.parse(trimmed) as { certificate?: unknown };
    if (typeof parsed.certificate !== 'string') throw new Error('the JSON has no "certificate" field');
    return parsed.certificate;
  }
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(trimmed)) throw new Error('not a compact JWS nor a referendum item');
  return trimmed;
}

/** The referendum item's own fields and the claims of its certificate that state them. */
const ITEM_CLAIMS: [field: string, claim: (p: Record<string, any>) => unknown][] = [
  ['id', (p) => p.referendumItem],
  ['initiativeId', (p) => p.initiative?.id],
  ['jurisdictionId', (p) => p.jurisdiction?.id],
  ['kind', (p) => p.initiative?.kind],
  ['title', (p) => p.initiative?.title],
  ['question', (p) => p.initiative?.question],
  ['validSignatures', (p) => p.counts?.valid],
  ['districts', (p) => p.counts?.districts],
  ['method', (p) => p.method],
  ['certifiedAt', (p) => p.certifiedAt],
];

/**
 * Where a referendum item says something other than its (verified) certificate: the item's fields
 * are the engine's database, the certificate is what was signed. Fields the item does not give are not compared.
 */
export function itemMismatches(item: Record<string, unknown>, payload: JWTPayload): string[] {
  const mismatches: string[] = [];
  for (const [field, claim] of ITEM_CLAIMS) {
    if (!(field in item)) continue;
    const [given, signed] = [item[field], claim(payload as Record<string, any>)];
    if (canonical(given) === canonical(signed)) continue;
    mismatches.push(typeof given === 'object' && given !== null ? `${field} differ from the certificate's` : `${field} is ${JSON.stringify(given)} in the item but ${JSON.stringify(signed)} in the certificate`);
  }
  return mismatches;
}

/** JSON with object keys sorted: the database may give back a stored object's keys in another order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Verifies the certificate's EdDSA signature and type against the JWKS; throws when anything is off.
 * `readFrom` is the URL the certificate was fetched from: without --jwks, its issuer must be that server.
 */
export async function verifyCertificate(token: string, options: { jwks?: string; readFrom?: string } = {}): Promise<VerifiedCertificate> {
  const claims = decodeJwt(token);
  if (!options.jwks && options.readFrom && isUrl(options.readFrom) && claims.iss && originOf(claims.iss) !== originOf(options.readFrom)) {
    // A mirror, an open-data portal or a moved engine may publish a genuine one: not checked, rather than said forged.
    throw new KeysUnavailable(
      `it names ${claims.iss} as its issuer, but was read from ${originOf(options.readFrom)}: give the keys of the authority that issued it with --jwks`,
    );
  }
  const jwksSource = options.jwks ?? (claims.iss ? `${claims.iss.replace(/\/+$/, '')}/.well-known/jwks.json` : undefined);
  if (!jwksSource) throw new Error('the certificate names no issuer: give the keys with --jwks');
  const keySet = createLocalJWKSet(await readKeySet(jwksSource));
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keySet, {
      algorithms: ['EdDSA'],
      typ: CERTIFICATE_TYPE,
      ...(claims.iss && !options.jwks ? { issuer: claims.iss } : {}),
    });
    return { header: protectedHeader as Record<string, unknown>, payload, jwks: jwksSource, keysFromClaimedIssuer: !options.jwks && !(options.readFrom && isUrl(options.readFrom)) };
  } catch (error) {
    throw new Error(`${whyNotVerified(token, error)} (keys from ${jwksSource})`);
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

const USAGE = 'usage: npm run verify-certificate -- <file or URL> [--jwks <URL or file>]';

export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(USAGE);
    out('exit status: 0 valid, 1 not valid, 2 usage error or keys that cannot be read');
    return 0;
  }
  const args = [...argv];
  let jwks: string | undefined;
  const flag = args.indexOf('--jwks');
  if (flag >= 0) {
    jwks = args[flag + 1];
    args.splice(flag, 2);
    if (!jwks) {
      err('--jwks needs a URL or a file');
      return 2;
    }
  }
  if (args.length !== 1 || args[0]!.startsWith('-')) {
    err(USAGE);
    return 2;
  }
  let token: string;
  let item: Record<string, unknown> | undefined;
  try {
    const text = await readSource(args[0]!);
    token = extractCertificate(text);
    if (text.trim().startsWith('{')) item = JSON.parse(text) as Record<string, unknown>;
    decodeProtectedHeader(token);
  } catch (error) {
    err(`cannot read a certificate from ${args[0]}: ${(error as Error).message}`);
    return 2;
  }
  try {
    const { header, payload, jwks: used, keysFromClaimedIssuer } = await verifyCertificate(token, { jwks, readFrom: args[0]! });
    const mismatches = item ? itemMismatches(item, payload) : [];
    if (mismatches.length > 0) {
      err(`Certificate valid (key "${String(header.kid)}" of ${used}), but the referendum item does NOT match it: ${mismatches.join('; ')}`);
      return 1;
    }
    out(`Certificate valid: signed by key "${String(header.kid)}" of ${used}${item ? '; the referendum item matches it' : ''}`);
    if (keysFromClaimedIssuer) {
      out(`The keys are those of the issuer the certificate names (${String(payload.iss)}): make sure that is the authority's own address, or give its keys with --jwks.`);
    }
    out(JSON.stringify(payload, null, 2));
    return 0;
  } catch (error) {
    if (error instanceof KeysUnavailable) {
      err(`${error.message}: the certificate was not checked`);
      return 2;
    }
    err(`Certificate NOT valid: ${(error as Error).message}`);
    return 1;
  }
}

// As a URL, with the real path: a checkout reached by a link (or in a folder whose name has a space or an accent).
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
