import { describe, expect, it } from 'vitest';
import {
  INITIATIVE_STATUSES,
  IllegalTransitionError,
  canTransition,
  isCollecting,
  nextStatus,
  type InitiativeStatus,
  type LifecycleAction,
} from '../../src/core/lifecycle';

const allowed: [InitiativeStatus, LifecycleAction, InitiativeStatus][] = [
  ['draft', 'submit', 'submitted'],
  ['submitted', 'open', 'open'],
  ['submitted', 'reject', 'rejected'],
  ['draft', 'withdraw', 'withdrawn'],
  ['submitted', 'withdraw', 'withdrawn'],
  ['open', 'withdraw', 'withdrawn'],
  ['open', 'close', 'closed'],
  ['closed', 'startVerification', 'verifying'],
  ['verifying', 'certify', 'certified'],
  ['verifying', 'declareInsufficient', 'insufficient'],
];
const actions: LifecycleAction[] = [
  'submit',
  'open',
  'reject',
  'withdraw',
  'close',
  'startVerification',
  'certify',
  'declareInsufficient',
];

describe('nextStatus', () => {
  it.each(allowed)('%s --%s--> %s', (from, action, to) => {
    expect(canTransition(from, action)).toBe(true);
    expect(nextStatus(from, action)).toBe(to);
  });

  it.each([
    ['draft', 'open'],
    ['submitted', 'submit'],
    ['open', 'certify'],
    ['closed', 'withdraw'],
    ['closed', 'close'],
    ['rejected', 'open'],
    ['withdrawn', 'submit'],
    ['verifying', 'withdraw'],
    ['certified', 'declareInsufficient'],
    ['insufficient', 'startVerification'],
  ] as [InitiativeStatus, LifecycleAction][])('refuses %s --%s--> and names the current status', (from, action) => {
    expect(canTransition(from, action)).toBe(false);
    let thrown: unknown;
    try {
      nextStatus(from, action);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IllegalTransitionError);
    expect(thrown).toMatchObject({ current: from, action });
    expect((thrown as Error).message).toContain(from);
  });

  it('allows nothing but the table', () => {
    const allowedKeys = new Set(allowed.map(([from, action]) => `${from} ${action}`));
    for (const status of INITIATIVE_STATUSES) {
      for (const action of actions) {
        expect(canTransition(status, action), `${status} ${action}`).toBe(allowedKeys.has(`${status} ${action}`));
      }
    }
  });

  it('has no way out of the final statuses', () => {
    for (const status of ['rejected', 'withdrawn', 'certified', 'insufficient'] as const) {
      expect(actions.filter((action) => canTransition(status, action))).toEqual([]);
    }
  });
});

describe('isCollecting', () => {
  const opensAt = new Date('2026-01-01T00:00:00Z');
  const closesAt = new Date('2026-07-01T00:00:00Z');
  const open = { status: 'open' as const, opensAt, closesAt };

  it('collects from opensAt included to closesAt excluded', () => {
    expect(isCollecting(open, new Date('2025-12-31T23:59:59.999Z'))).toBe(false);
    expect(isCollecting(open, opensAt)).toBe(true);
    expect(isCollecting(open, new Date('2026-06-30T23:59:59.999Z'))).toBe(true);
    expect(isCollecting(open, closesAt)).toBe(false);
  });

  it('does not collect unless the status is open, whatever the dates', () => {
    const inside = new Date('2026-03-01T00:00:00Z');
    for (const status of INITIATIVE_STATUSES.filter((s) => s !== 'open')) {
      expect(isCollecting({ ...open, status }, inside)).toBe(false);
    }
    expect(isCollecting({ ...open, opensAt: null }, inside)).toBe(false);
    expect(isCollecting({ ...open, closesAt: null }, inside)).toBe(false);
  });
});
