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

/** RFC 9162 §2.1.1: an interior node's hash is SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return sha256(input);
}

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/**
 * A complete subtree: the 2^level leaves starting at index × 2^level. Every subtree the RFC's
 * proofs need is made of such aligned, complete subtrees, so they are what a log stores.
 */
export interface SubtreeId {
  level: number;
  index: number;
}
export interface Subtree extends SubtreeId {
  hash: Uint8Array;
}

/** A half-open range of leaves [start, end). */
export type LeafRange = readonly [start: number, end: number];

// Sizes go beyond 2^31: plain arithmetic, never JavaScript's 32-bit bit operators.
const pow2 = (level: number) => 2 ** level;

/** The largest power of two strictly below n (n ≥ 2): the RFC's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Largest power of two at most n (n ≥ 1), as its exponent. */
function floorLog2(n: number): number {
  let level = 0;
  while (pow2(level + 1) <= n) level++;
  return level;
}

/**
 * The complete subtrees that cover [start, end), largest first. Valid for the ranges the RFC's
 * recursion produces, whose start is a multiple of the largest power of two not above their size.
 */
export function subtreesOf(start: number, end: number): SubtreeId[] {
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start < end)) {
    throw new RangeError(`invalid leaf range [${start}, ${end})`);
  }
  const out: SubtreeId[] = [];
  let position = start;
  while (position < end) {
    const level = floorLog2(end - position);
    const width = pow2(level);
    if (position % width !== 0) throw new RangeError(`leaf range [${start}, ${end}) is not aligned`);
    out.push({ level, index: position / width });
    position += width;
  }
  return out;
}

/** The complete subtrees a tree of `size` leaves is made of, largest first (its frontier). */
export function frontierOf(size: number): SubtreeId[] {
  return size === 0 ? [] : subtreesOf(0, size);
}

/** MTH of a range from the hashes of its complete subtrees, largest first: a right fold. */
export function foldSubtrees(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return EMPTY_ROOT;
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

/** Looks up a stored complete subtree's hash; throws if the store does not have it. */
export type SubtreeLookup = (node: SubtreeId) => Uint8Array;

/** MTH(D[start:end]) from stored complete subtrees. */
export function rangeHash(range: LeafRange, lookup: SubtreeLookup): Uint8Array {
  return foldSubtrees(subtreesOf(range[0], range[1]).map(lookup));
}

/**
 * Appends leaves to a tree given by its frontier: returns every complete subtree that comes
 * into being (the leaves themselves included) and the new frontier. Costs O(k + log n).
 */
export function appendLeaves(frontier: readonly Subtree[], size: number, leaves: readonly Uint8Array[]): { created: Subtree[]; frontier: Subtree[] } {
  const stack = [...frontier];
  const created: Subtree[] = [];
  leaves.forEach((hash, i) => {
    let node: Subtree = { level: 0, index: size + i, hash };
    created.push(node);
    // Two neighbouring complete subtrees of one level make a complete subtree one level up.
    while (stack.length > 0 && stack[stack.length - 1]!.level === node.level) {
      const left = stack.pop()!;
      node = { level: node.level + 1, index: left.index / 2, hash: nodeHash(left.hash, node.hash) };
      created.push(node);
    }
    stack.push(node);
  });
  return { created, frontier: stack };
}

/** MTH(D[n]) of a list of leaf hashes (RFC 9162 §2.1.1), in O(n) time and O(log n) memory. */
export function treeRoot(leaves: readonly Uint8Array[]): Uint8Array {
  return foldSubtrees(appendLeaves([], 0, leaves).frontier.map((s) => s.hash));
}

function checkSize(name: string, value: number) {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
}

/**
 * The ranges whose MTH make the inclusion proof of leaf `index` in a tree of `size` leaves,
 * in the RFC's order (RFC 9162 §2.1.3.1, PATH(m, D[n])).
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  checkSize('index', index);
  checkSize('size', size);
  if (index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const path: LeafRange[] = [];
  // Walk down from the root; each step's sibling goes after the deeper ones, so collect and reverse.
  let start = 0;
  let n = size;
  let m = index;
  while (n > 1) {
    const k = splitPoint(n);
    if (m < k) {
      path.push([start + k, start + n]);
      n = k;
    } else {
      path.push([start, start + k]);
      start += k;
      m -= k;
      n -= k;
    }
  }
  return path.reverse();
}

/**
 * The ranges whose MTH make the consistency proof between sizes `first` and `second`
 * (RFC 9162 §2.1.4.1, PROOF(m, D[n]) = SUBPROOF(m, D[n], true)); empty when nothing is to prove.
 */
export function consistencyProofRanges(first: number, second: number): LeafRange[] {
  checkSize('first', first);
  checkSize('second', second);
  if (first > second) throw new RangeError(`size ${first} is larger than ${second}`);
  if (first === 0 || first === second) return [];
  const proof: LeafRange[] = [];
  let start = 0;
  let n = second;
  let m = first;
  let complete = true;
  while (m < n) {
    const k = splitPoint(n);
    if (m <= k) {
      proof.push([start + k, start + n]);
      n = k;
    } else {
      proof.push([start, start + k]);
      start += k;
      m -= k;
      n -= k;
      complete = false;
    }
  }
  // SUBPROOF(m, D[m], false) = {MTH(D[m])}: the old tree's subtree is not the old root itself.
  if (!complete) proof.push([start, start + n]);
  return proof.reverse();
}

/** Every complete subtree a list of proof ranges needs, once each: what to read from storage. */
export function subtreesForRanges(ranges: readonly LeafRange[]): SubtreeId[] {
  const seen = new Map<string, SubtreeId>();
  for (const [start, end] of ranges) for (const node of subtreesOf(start, end)) seen.set(`${node.level}/${node.index}`, node);
  return [...seen.values()];
}

/** In-memory lookup over a full list of leaf hashes (tests, small trees). */
export function lookupInLeaves(leaves: readonly Uint8Array[]): SubtreeLookup {
  return ({ level, index }) => {
    const width = pow2(level);
    const slice = leaves.slice(index * width, (index + 1) * width);
    if (slice.length !== width) throw new RangeError(`subtree ${level}/${index} is not complete`);
    return treeRoot(slice);
  };
}

export function inclusionProof(leaves: readonly Uint8Array[], index: number, size = leaves.length): Uint8Array[] {
  if (size > leaves.length) throw new RangeError(`a tree of ${leaves.length} leaves has no size ${size}`);
  const lookup = lookupInLeaves(leaves);
  return inclusionProofRanges(index, size).map((range) => rangeHash(range, lookup));
}

export function consistencyProof(leaves: readonly Uint8Array[], first: number, second = leaves.length): Uint8Array[] {
  if (second > leaves.length) throw new RangeError(`a tree of ${leaves.length} leaves has no size ${second}`);
  const lookup = lookupInLeaves(leaves);
  return consistencyProofRanges(first, second).map((range) => rangeHash(range, lookup));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const HASH_LENGTH = 32;
const wellFormed = (hashes: readonly Uint8Array[]) => hashes.every((h) => h.length === HASH_LENGTH);

/** The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or undefined when it cannot lead anywhere. */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return undefined;
  if (leaf.length !== HASH_LENGTH || !wellFormed(proof)) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** RFC 9162 §2.1.3.2: does `proof` show the leaf at `index` in the tree of `size` with `root`? */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const computed = rootFromInclusionProof(index, size, leaf, proof);
  return computed !== undefined && equalBytes(computed, root);
}

/** RFC 9162 §2.1.4.2: is the tree (second, secondRoot) an append-only extension of (first, firstRoot)? */
export function verifyConsistency(first: number, second: number, firstRoot: Uint8Array, secondRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (!wellFormed(proof)) return false;
  // The empty tree has one root (SHA-256 of nothing): a "tree of 0 entries" with another is none.
  if (first === 0 && !equalBytes(firstRoot, EMPTY_ROOT)) return false;
  if (first === second) return proof.length === 0 && equalBytes(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  // An old tree that is a complete subtree of the new one is its own first proof element.
  const path = pow2(floorLog2(first)) === first ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot) && sn === 0;
}

/** Base64 (standard alphabet, padded), the form hashes take in the API. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Decodes standard base64; undefined for anything else. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
