import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** An audit trail entry as its hash covers it; `at` as the ISO 8601 text the API and exports give. */
export interface AuditChainEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  jurisdictionId: string | null;
  initiativeId: string | null;
  details: unknown;
}

/**
 * The hash of an audit entry (docs/transparency.md, "The audit trail"): SHA-256, in hex, of the UTF-8
 * JSON array of the previous entry's hash and the entry's fields in a fixed order, the details' keys sorted.
 */
export function auditEntryHash(prevHash: string, e: AuditChainEntry): string {
  const canonical = JSON.stringify([prevHash, e.seq, e.at, e.actor, e.action, e.jurisdictionId, e.initiativeId, sortKeys(e.details)]);
  return bytesToHex(sha256(utf8ToBytes(canonical)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}
