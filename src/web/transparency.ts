import type { AppDeps } from '../platform/http';

export interface TreeHeadView {
  size: number;
  root: string;
  timestamp: string;
  signature: string;
}

/** The latest signed tree head of an initiative's log, or null while the log has none. */
export async function transparencyHead(_deps: AppDeps, _initiativeId: string): Promise<TreeHeadView | null> {
  return null;
}

/** Whether a receipt's signature is integrated in the log yet; null when the engine keeps no proofs. */
export async function receiptInclusion(
  _deps: AppDeps,
  _initiativeId: string,
  _signatureId: string,
): Promise<{ included: boolean; index: number; size: number; proofChecked: boolean } | null> {
  return null;
}
