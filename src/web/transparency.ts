import { jwtVerify } from 'jose';
import { fromBase64, verifyInclusion } from '../core/merkle';
import { inclusionProofFor, logHead, type SignedTreeHead } from '../features/transparency/service';
import type { AppDeps } from '../platform/http';
import { engineKeySet } from '../platform/keys';
import { Problem } from '../platform/problems';

/** The latest signed tree head of an initiative's log. */
export function transparencyHead(deps: AppDeps, initiativeId: string): Promise<SignedTreeHead> {
  return logHead(deps, initiativeId);
}

export interface ReceiptInclusion {
  included: boolean;
  index: number;
  size: number;
  /** The proof leads from the receipt's leaf to the root of a tree head whose signature checked out. */
  proofChecked: boolean;
}

/**
 * Whether a receipt's signature is in the log yet, checked the way an outsider would: the tree
 * head's signature, then the inclusion proof from the receipt's own leaf hash to that head's root.
 */
export async function receiptInclusion(deps: AppDeps, initiativeId: string, signatureId: string, receiptLeaf: string): Promise<ReceiptInclusion> {
  const pending = { included: false, index: 0, size: 0, proofChecked: false };
  const head = await logHead(deps, initiativeId).catch(() => undefined);
  if (!head || head.size === 0) return pending;
  const proof = await inclusionProofFor(deps, initiativeId, { ref: signatureId, size: head.size }).catch((error) => {
    if (error instanceof Problem && error.status < 500) return undefined;
    throw error;
  });
  if (!proof) return pending;
  const headSigned = await jwtVerify(head.signature, engineKeySet(deps.keys), { algorithms: ['EdDSA'] }).then(
    ({ payload }) => payload.size === head.size && payload.root === head.root,
    () => false,
  );
  const leaf = fromBase64(receiptLeaf);
  const root = fromBase64(head.root);
  const path = proof.proof.map((p) => fromBase64(p));
  const proofChecked =
    headSigned && !!leaf && !!root && proof.leaf === receiptLeaf && path.every((p) => p !== undefined) && verifyInclusion(proof.index, proof.size, leaf, path as Uint8Array[], root);
  return { included: true, index: proof.index, size: proof.size, proofChecked };
}
