import type { Executor } from '../db/client';
import { outbox } from '../db/schema';

export const EVENT_TYPES = [
  'initiative.submitted',
  'initiative.opened',
  'initiative.rejected',
  'initiative.withdrawn',
  'initiative.closed',
  'initiative.milestone_reached',
  'initiative.goal_reached',
  'initiative.certified',
  'initiative.insufficient',
  'referendum_item.created',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Writes an event in the caller's transaction: it exists if and only if the change does. */
export async function emitEvent(
  tx: Executor,
  event: { type: EventType; at: Date; initiativeId?: string; jurisdictionId?: string; data: Record<string, unknown> },
): Promise<void> {
  await tx.insert(outbox).values({
    id: crypto.randomUUID(),
    type: event.type,
    initiativeId: event.initiativeId ?? null,
    jurisdictionId: event.jurisdictionId ?? null,
    payload: event.data,
    createdAt: event.at,
  });
}
