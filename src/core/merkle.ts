import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

/** RFC 9162 §2.1.1: a leaf's hash is SHA-256(0x00 ‖ data). */
export function leafHash(data: Uint8Array): Uint8Array {
  const input = new Uint8Array(data.length + 1);
  input[0] = 0x00;
  input.set(data, 1);
  return sha256(input);
}

export type LogEntryType = 'sign' | 'withdraw' | 'invalidate';

/** The bytes of a log entry (SPEC §6): small JSON, keys in a fixed order, no personal data. */
export function logEntryData(entry: { type: LogEntryType; ref: string; at: Date }): Uint8Array {
  return utf8ToBytes(JSON.stringify({ type: entry.type, ref: entry.ref, at: entry.at.toISOString() }));
}
