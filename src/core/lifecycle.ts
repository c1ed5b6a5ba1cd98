export const INITIATIVE_STATUSES = [
  'draft',
  'submitted',
  'open',
  'closed',
  'rejected',
  'withdrawn',
  'verifying',
  'certified',
  'insufficient',
] as const;
export type InitiativeStatus = (typeof INITIATIVE_STATUSES)[number];

export type LifecycleAction =
  | 'submit'
  | 'open'
  | 'reject'
  | 'withdraw'
  | 'close'
  | 'startVerification'
  | 'certify'
  | 'declareInsufficient';

/** SPEC §2: which statuses each action may start from, and where it leads. */
const TRANSITIONS: Record<LifecycleAction, { from: readonly InitiativeStatus[]; to: InitiativeStatus }> = {
  submit: { from: ['draft'], to: 'submitted' },
  open: { from: ['submitted'], to: 'open' },
  reject: { from: ['submitted'], to: 'rejected' },
  withdraw: { from: ['draft', 'submitted', 'open'], to: 'withdrawn' },
  close: { from: ['open'], to: 'closed' },
  startVerification: { from: ['closed'], to: 'verifying' },
  certify: { from: ['verifying'], to: 'certified' },
  declareInsufficient: { from: ['verifying'], to: 'insufficient' },
};

/** Statuses an initiative may still leave (draft to verifying): it may still take signatures, or have them checked. */
export const UNFINISHED_STATUSES: readonly InitiativeStatus[] = INITIATIVE_STATUSES.filter((status) =>
  Object.values(TRANSITIONS).some((transition) => transition.from.includes(status)),
);

export class IllegalTransitionError extends Error {
  readonly current: InitiativeStatus;
  readonly action: LifecycleAction;

  constructor(current: InitiativeStatus, action: LifecycleAction) {
    super(`cannot ${action} an initiative that is ${current}`);
    this.name = 'IllegalTransitionError';
    this.current = current;
    this.action = action;
  }
}

export function canTransition(current: InitiativeStatus, action: LifecycleAction): boolean {
  return TRANSITIONS[action].from.includes(current);
}

export function nextStatus(current: InitiativeStatus, action: LifecycleAction): InitiativeStatus {
  if (!canTransition(current, action)) throw new IllegalTransitionError(current, action);
  return TRANSITIONS[action].to;
}

/** Signing is decided by the clock at signing time, not by when the scheduler gets to close it. */
export function isCollecting(
  i: { status: InitiativeStatus; opensAt: Date | null; closesAt: Date | null },
  now: Date,
): boolean {
  if (i.status !== 'open' || i.opensAt === null || i.closesAt === null) return false;
  const time = now.getTime();
  return i.opensAt.getTime() <= time && time < i.closesAt.getTime();
}
