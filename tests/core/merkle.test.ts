import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendLeaves,
  consistencyProof,
  EMPTY_ROOT,
  foldSubtrees,
  fromBase64,
  frontierOf,
  inclusionProof,
  leafHash,
  logEntryData,
  nodeHash,
  rootFromInclusionProof,
  subtreesForRanges,
  inclusionProofRanges,
  consistencyProofRanges,
  toBase64,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  type Subtree,
} from '../../src/core/merkle';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/*
 * Test vectors of the Certificate Transparency reference test data (RFC 6962 hashing, which
 * RFC 9162 keeps), as published in github.com/transparency-dev/merkle: leaf inputs, node hashes
 * and roots from testonly/constants.go; inclusion and consistency proofs from proof/verify_test.go.
 * Only the vectors are copied.
 */
const LEAF_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const NODE_HASHES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];
/** [leaf index (0-based), tree size, proof] */
const INCLUSION: [number, number, string[]][] = [
  [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [0, 1, []],
];
/** [first size, second size, proof] */
const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [6, 7, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
];

const LEAVES = LEAF_INPUTS.map(leafHash);

/** Random leaf hashes: distinct inputs, so no two leaves collide. */
const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`entry ${i}`)));
const flipBit = (b: Uint8Array, bit = 0) => {
  const copy = Uint8Array.from(b);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
};

describe('RFC 6962/9162 test vectors', () => {
  it('hashes leaves and every complete subtree as published', () => {
    expect(LEAVES.map(toHex)).toEqual(NODE_HASHES[0]);
    const { created } = appendLeaves([], 0, LEAVES);
    for (const node of created) expect(toHex(node.hash), `${node.level}/${node.index}`).toBe(NODE_HASHES[node.level]![node.index]);
    expect(created).toHaveLength(8 + 4 + 2 + 1);
  });

  it('computes the root of every tree from 0 to 8 leaves', () => {
    expect(toHex(EMPTY_ROOT)).toBe(ROOTS[0]);
    for (let n = 0; n <= 8; n++) expect(toHex(treeRoot(LEAVES.slice(0, n))), `size ${n}`).toBe(ROOTS[n]);
  });

  it('generates and verifies the published inclusion proofs', () => {
    for (const [index, size, proof] of INCLUSION) {
      expect(inclusionProof(LEAVES, index, size).map(toHex), `${index} in ${size}`).toEqual(proof);
      expect(verifyInclusion(index, size, LEAVES[index]!, proof.map(hex), hex(ROOTS[size]!))).toBe(true);
    }
  });

  it('generates and verifies the published consistency proofs', () => {
    for (const [first, second, proof] of CONSISTENCY) {
      expect(consistencyProof(LEAVES, first, second).map(toHex), `${first} → ${second}`).toEqual(proof);
      expect(verifyConsistency(first, second, hex(ROOTS[first]!), hex(ROOTS[second]!), proof.map(hex))).toBe(true);
    }
  });

  it('rejects corrupted inclusion proofs: wrong index, size, leaf, root, or a changed, missing or extra hash', () => {
    for (const [index, size, proofHex] of INCLUSION.filter(([, , p]) => p.length > 0)) {
      const proof = proofHex.map(hex);
      const root = hex(ROOTS[size]!);
      const leaf = LEAVES[index]!;
      const wrong: [number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
        [index - 1, size, leaf, proof, root],
        [index + 1, size, leaf, proof, root],
        [index ^ 2, size, leaf, proof, root],
        [index, size * 2, leaf, proof, root],
        [index, Math.floor(size / 2), leaf, proof, root],
        [index, size, flipBit(leaf), proof, root],
        [index, size, leaf, proof, EMPTY_ROOT],
        [index, size, leaf, [...proof, root], root],
        [index, size, leaf, [root, ...proof], root],
        [index, size, leaf, proof.slice(0, -1), root],
        [index, size, leaf, [...proof, new Uint8Array(0)], root],
        ...proof.map((_, i) => [index, size, leaf, proof.map((p, j) => (i === j ? flipBit(p, 3) : p)), root] as [number, number, Uint8Array, Uint8Array[], Uint8Array]),
      ];
      for (const [i, s, l, p, r] of wrong) expect(verifyInclusion(i, s, l, p, r), `${i} in ${s}`).toBe(false);
    }
  });

  it('rejects corrupted consistency proofs: wrong sizes, roots, swapped roots, changed or truncated proof', () => {
    for (const [first, second, proofHex] of CONSISTENCY.filter(([, , p]) => p.length > 0)) {
      const proof = proofHex.map(hex);
      const r1 = hex(ROOTS[first]!);
      const r2 = hex(ROOTS[second]!);
      const wrong: [number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
        [first - 1, second, r1, r2, proof],
        [first + 1, second, r1, r2, proof],
        [first ^ 2, second, r1, r2, proof],
        [first, second * 2, r1, r2, proof],
        [first, Math.floor(second / 2), r1, r2, proof],
        [first, second, flipBit(r1), r2, proof],
        [first, second, r1, flipBit(r2), proof],
        [first, second, r2, r1, proof],
        [first, second, r1, r2, []],
        [first, second, r1, r2, [...proof, r1]],
        [first, second, r1, r2, [r2, ...proof]],
        [first, second, r1, r2, [proof[0]!, ...proof]],
        [first, second, r1, r2, proof.slice(0, -1)],
        ...proof.map((_, i) => [first, second, r1, r2, proof.map((p, j) => (i === j ? flipBit(p, 4) : p))] as [number, number, Uint8Array, Uint8Array, Uint8Array[]]),
      ];
      for (const [a, b, x, y, p] of wrong) expect(verifyConsistency(a, b, x, y, p), `${a} → ${b}`).toBe(false);
    }
  });

  it('treats the trivial cases as the RFC does', () => {
    expect(verifyConsistency(0, 5, EMPTY_ROOT, hex(ROOTS[5]!), [])).toBe(true);
    // The empty tree has one root, SHA-256 of nothing: a tree of size 0 claiming another is not the empty tree.
    expect(verifyConsistency(0, 5, hex(ROOTS[3]!), hex(ROOTS[5]!), [])).toBe(false);
    expect(verifyConsistency(0, 0, hex(ROOTS[3]!), hex(ROOTS[3]!), [])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(true);
    expect(verifyConsistency(3, 3, hex(ROOTS[3]!), hex(ROOTS[3]!), [])).toBe(true);
    expect(verifyConsistency(3, 3, hex(ROOTS[3]!), hex(ROOTS[4]!), [])).toBe(false);
    expect(verifyConsistency(4, 3, hex(ROOTS[4]!), hex(ROOTS[3]!), [])).toBe(false);
    expect(verifyInclusion(0, 0, LEAVES[0]!, [], EMPTY_ROOT)).toBe(false);
    expect(() => inclusionProofRanges(3, 3)).toThrow(RangeError);
    expect(() => consistencyProofRanges(4, 3)).toThrow(RangeError);
  });
});

describe('log entry data', () => {
  it('is the small JSON of SPEC §6, keys in a fixed order', () => {
    const data = logEntryData({ type: 'sign', ref: '4f1c2a3b-0000-4000-8000-000000000001', at: new Date('2027-01-15T10:00:00Z') });
    expect(new TextDecoder().decode(data)).toBe('{"type":"sign","ref":"4f1c2a3b-0000-4000-8000-000000000001","at":"2027-01-15T10:00:00.000Z"}');
    expect(toHex(leafHash(data))).toBe(createHash('sha256').update(Buffer.concat([Buffer.from([0]), data])).digest('hex'));
    expect(toHex(nodeHash(LEAVES[0]!, LEAVES[1]!))).toBe(NODE_HASHES[1]![0]);
  });

  it('base64 round-trips and refuses what is not base64', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      expect(fromBase64(toBase64(bytes))).toEqual(bytes);
    }));
    expect(toBase64(EMPTY_ROOT)).toBe(Buffer.from(EMPTY_ROOT).toString('base64'));
    for (const bad of ['abc', '@@@@', 'YQ', 'YQ=', 'Y Q==']) expect(fromBase64(bad), bad).toBeUndefined();
  });
});

describe('properties of the tree', () => {
  it('building the tree in batches gives the same nodes and root as all at once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 8 }), (batches) => {
        const all = leavesOf(batches.reduce((a, b) => a + b, 0));
        let frontier: Subtree[] = [];
        let size = 0;
        const nodes = new Map<string, string>();
        for (const k of batches) {
          const step = appendLeaves(frontier, size, all.slice(size, size + k));
          for (const node of step.created) nodes.set(`${node.level}/${node.index}`, toHex(node.hash));
          frontier = step.frontier;
          size += k;
          expect(frontier.map(({ level, index }) => ({ level, index }))).toEqual(frontierOf(size));
          expect(toHex(foldSubtrees(frontier.map((f) => f.hash)))).toBe(toHex(treeRoot(all.slice(0, size))));
        }
        const once = appendLeaves([], 0, all).created;
        expect(new Map(once.map((n) => [`${n.level}/${n.index}`, toHex(n.hash)]))).toEqual(nodes);
      }),
    );
  });

  it('for random sizes, every inclusion proof verifies and a tampered one fails', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }), fc.nat())),
        ([size, index, seed]) => {
          const leaves = leavesOf(size);
          const root = treeRoot(leaves);
          const proof = inclusionProof(leaves, index, size);
          expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
          expect(verifyInclusion(index, size, leaves[index]!, proof, root)).toBe(true);
          expect(verifyInclusion(index, size, leaves[(index + 1) % size]!, proof, root)).toBe(size === 1 ? true : false);
          if (proof.length > 0) {
            const at = seed % proof.length;
            const tampered = proof.map((p, i) => (i === at ? flipBit(p, seed % 256) : p));
            expect(verifyInclusion(index, size, leaves[index]!, tampered, root)).toBe(false);
          }
          expect(verifyInclusion(index, size, leaves[index]!, proof, flipBit(root, seed % 256))).toBe(false);
        },
      ),
    );
  });

  it('for random sizes, every consistency proof verifies and a tampered one fails', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((second) => fc.tuple(fc.integer({ min: 1, max: second }), fc.constant(second), fc.nat())),
        ([first, second, seed]) => {
          const leaves = leavesOf(second);
          const r1 = treeRoot(leaves.slice(0, first));
          const r2 = treeRoot(leaves);
          const proof = consistencyProof(leaves, first, second);
          expect(verifyConsistency(first, second, r1, r2, proof)).toBe(true);
          if (proof.length > 0) {
            const at = seed % proof.length;
            const tampered = proof.map((p, i) => (i === at ? flipBit(p, seed % 256) : p));
            expect(verifyConsistency(first, second, r1, r2, tampered)).toBe(false);
            expect(verifyConsistency(first, second, r1, flipBit(r2, seed % 256), proof)).toBe(false);
            // A forked log: the same size, one entry changed, cannot prove it extends the old tree.
            const forked = leaves.map((l, i) => (i === seed % first ? flipBit(l) : l));
            expect(verifyConsistency(first, second, treeRoot(forked.slice(0, first)), r2, proof)).toBe(false);
          }
        },
      ),
    );
  });

  it('a proof reads O(log n) stored subtrees', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 2 ** 40 }).chain((size) => fc.tuple(fc.integer({ min: 0, max: size - 1 }), fc.integer({ min: 1, max: size }), fc.constant(size))), ([index, first, size]) => {
        const bound = 2 * Math.ceil(Math.log2(size)) + 2;
        expect(subtreesForRanges(inclusionProofRanges(index, size)).length).toBeLessThanOrEqual(bound);
        expect(subtreesForRanges(consistencyProofRanges(first, size)).length).toBeLessThanOrEqual(bound);
      }),
    );
  });

  it('rootFromInclusionProof agrees with the tree for every leaf of small trees', () => {
    for (let size = 1; size <= 17; size++) {
      const leaves = leavesOf(size);
      const root = toHex(treeRoot(leaves));
      for (let i = 0; i < size; i++) expect(toHex(rootFromInclusionProof(i, size, leaves[i]!, inclusionProof(leaves, i, size))!)).toBe(root);
    }
  });
});

/*
 * RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 written out again here, straight from the RFC's recursive
 * definitions and node's own SHA-256: the log's code is compared with this, not with itself.
 */
const sha = (...parts: Uint8Array[]) => Uint8Array.from(createHash('sha256').update(Buffer.concat(parts)).digest());
const largestPowerBelow = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
function referenceMth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Uint8Array.of(0), d[0]!);
  const k = largestPowerBelow(d.length);
  return sha(Uint8Array.of(1), referenceMth(d.slice(0, k)), referenceMth(d.slice(k)));
}
function referencePath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length === 1) return [];
  const k = largestPowerBelow(d.length);
  return m < k ? [...referencePath(m, d.slice(0, k)), referenceMth(d.slice(k))] : [...referencePath(m - k, d.slice(k)), referenceMth(d.slice(0, k))];
}
function referenceSubproof(m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [referenceMth(d)];
  const k = largestPowerBelow(d.length);
  return m <= k ? [...referenceSubproof(m, d.slice(0, k), b), referenceMth(d.slice(k))] : [...referenceSubproof(m - k, d.slice(k), false), referenceMth(d.slice(0, k))];
}

describe('the tree against an independent implementation of RFC 9162', () => {
  /** Entries' data: the reference hashes each leaf itself (its 0x00 prefix), the log's code through leafHash. */
  const dataOf = (n: number) => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`{"type":"sign","ref":"${i}"}`));
  const edgeSizes = [...new Set([0, 1, 2, 3, ...[2, 4, 8, 16, 32, 64, 128].flatMap((p) => [p - 1, p, p + 1])])].sort((a, b) => a - b);

  it('hashes leaves and nodes as the RFC says: leaf 0x00 ‖ data, node 0x01 ‖ left ‖ right', () => {
    for (const data of [new Uint8Array(0), ...dataOf(3)]) expect(toHex(leafHash(data))).toBe(toHex(sha(Uint8Array.of(0), data)));
    const [a, b] = dataOf(2).map(leafHash) as [Uint8Array, Uint8Array];
    expect(toHex(nodeHash(a, b))).toBe(toHex(sha(Uint8Array.of(1), a, b)));
  });

  it('at edge sizes (0, 1, 2, powers of two and their neighbours): roots, every inclusion proof and every consistency proof, first and last', () => {
    for (const n of edgeSizes) {
      const data = dataOf(n);
      const leaves = data.map(leafHash);
      expect(toHex(treeRoot(leaves)), `root of ${n}`).toBe(toHex(referenceMth(data)));
      for (let m = 0; m < n; m++) {
        const expected = referencePath(m, data).map(toHex);
        expect(inclusionProof(leaves, m, n).map(toHex), `PATH(${m}, D[${n}])`).toEqual(expected);
        expect(verifyInclusion(m, n, leaves[m]!, referencePath(m, data), referenceMth(data)), `verify PATH(${m}, D[${n}])`).toBe(true);
      }
      for (let m = 0; m <= n; m++) {
        const expected = m === 0 ? [] : referenceSubproof(m, data, true);
        expect(consistencyProof(leaves, m, n).map(toHex), `PROOF(${m}, D[${n}])`).toEqual(expected.map(toHex));
        expect(verifyConsistency(m, n, referenceMth(data.slice(0, m)), referenceMth(data), expected), `verify PROOF(${m}, D[${n}])`).toBe(true);
      }
    }
  });

  it('for random sizes and positions, proofs equal the reference and the reference proofs verify', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1100 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n }))),
        ([n, index, m]) => {
          const data = dataOf(n);
          const leaves = data.map(leafHash);
          const root = referenceMth(data);
          expect(toHex(treeRoot(leaves))).toBe(toHex(root));
          const path = referencePath(index, data);
          expect(inclusionProof(leaves, index, n).map(toHex)).toEqual(path.map(toHex));
          expect(verifyInclusion(index, n, leaves[index]!, path, root)).toBe(true);
          const proof = m === 0 ? [] : referenceSubproof(m, data, true);
          expect(consistencyProof(leaves, m, n).map(toHex)).toEqual(proof.map(toHex));
          expect(verifyConsistency(m, n, referenceMth(data.slice(0, m)), root, proof)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
