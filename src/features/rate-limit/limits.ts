/** The actions a client may only repeat so often. */
export type LimitedAction = 'sign' | 'login' | 'paper';

/** Requests allowed per window for each action, per client address and per identity; 0 turns a limit off. */
export interface RateLimits {
  windowSeconds: number;
  sign: { perAddress: number; perIdentity: number };
  login: { perAddress: number; perIdentity: number };
  paper: { perAddress: number; perIdentity: number };
  /** Live progress streams (SSE) one client address may hold open at once, per engine process; 0 or unset: no limit. */
  streamsPerAddress?: number;
  /** A header set by a trusted proxy that carries the client address (its rightmost entry); unset: the socket's peer. */
  addressHeader: string | undefined;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  windowSeconds: 60,
  // Off by default: thousands of people may sign from behind one address (a campus, a carrier NAT, a benchmark).
  sign: { perAddress: 0, perIdentity: 30 },
  login: { perAddress: 300, perIdentity: 60 },
  paper: { perAddress: 600, perIdentity: 300 },
  // A stream is held for as long as its page is open: a household or an office watches a few; thousands from one address are an attack.
  streamsPerAddress: 50,
  addressHeader: undefined,
};
