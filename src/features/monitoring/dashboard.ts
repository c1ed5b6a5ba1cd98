import { daysLeftUntil } from '../../core/calendar';
import type { HashKeyring } from '../../core/identity';
import type { Executor } from '../../db/client';
import type { Principal } from '../../platform/http';
import { problems } from '../../platform/problems';
import { isClerkOf } from '../auth/access';
import { committeeHashOf, getInitiativeWithJurisdiction, isCommitteeMember } from '../initiatives/service';
import { buildProgress, crossingsOf, listedDistricts, tallySignatures, type Progress } from '../progress/service';
import { progressHistory, signaturesSince, type Bucket, type ProgressHistory } from './history';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const DISTRICTS_SHOWN = 5;

export interface Dashboard {
  initiativeId: string;
  status: string;
  progress: Progress;
  history: ProgressHistory;
  velocity: {
    lastHour: { signed: number; withdrawn: number; net: number };
    lastDay: { signed: number; withdrawn: number; net: number };
    /** Net signatures per day over the last day (or since opening, if sooner): the pace projected. */
    perDay: number;
  };
  /** When the signature goal is met at the current pace; null when already met or when there is no pace. */
  projection: { goalAt: string; remaining: number; beforeClose: boolean | null } | null;
  /** Districts below their own minimum, the furthest first. */
  districtsBehind: { code: string; name: string; signatures: number; required: number; shortfall: number }[];
  timeLeft: { closesAt: string; seconds: number; days: number } | null;
  generatedAt: string;
}

/** Sponsor, committee members and the jurisdiction's clerks watch an initiative's collection. */
export async function dashboardFor(db: Executor, initiativeId: string, principal: Principal, bucket: Bucket, now: Date, keyring?: HashKeyring): Promise<Dashboard> {
  const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(db, initiativeId);
  // A member who comes back with another sub is still the person who joined (by committee hash, given the keyring).
  const memberHash = keyring ? committeeHashOf(keyring, initiative, principal) : undefined;
  const allowed =
    initiative.sponsorSubject === principal.subject ||
    (await isCommitteeMember(db, initiative.id, principal.subject, memberHash)) ||
    (await isClerkOf(db, principal.subject, initiative.jurisdictionId));
  if (!allowed) {
    if (initiative.status === 'draft') throw problems.notFound('Initiative', initiative.id);
    throw problems.forbidden('Only the sponsor, the committee and the clerks of the jurisdiction see the dashboard.');
  }

  const [tally, crossings] = await Promise.all([tallySignatures(db, initiative.id), crossingsOf(db, initiative.id)]);
  // Every district, for those furthest from their minimum; the dashboard's progress lists them as the public one does.
  const full = buildProgress(initiative, jurisdiction, tally, crossings, now, { allDistricts: true });
  const progress = { ...full, districts: listedDistricts(full.districts) };
  const history = await progressHistory(db, initiative, jurisdiction.timeZone, { bucket }, now);

  // The pace: the last day, or the time since opening when that is shorter (but at least an hour).
  const openedMs = initiative.opensAt ? now.getTime() - initiative.opensAt.getTime() : 0;
  const paceWindowMs = Math.min(DAY_MS, Math.max(HOUR_MS, openedMs));
  const since = await signaturesSince(
    db,
    initiative.id,
    { lastHour: new Date(now.getTime() - HOUR_MS), lastDay: new Date(now.getTime() - DAY_MS), pace: new Date(now.getTime() - paceWindowMs) },
    now,
  );
  const collecting = initiative.status === 'open';
  const perDay = collecting ? (since.pace!.net * DAY_MS) / paceWindowMs : 0;

  const goal = progress.criteria.find((c) => c.kind === 'goal');
  let projection: Dashboard['projection'] = null;
  if (goal && !goal.met && perDay > 0) {
    const remaining = goal.required - goal.current;
    const goalAt = new Date(now.getTime() + (remaining / perDay) * DAY_MS);
    projection = { goalAt: goalAt.toISOString(), remaining, beforeClose: initiative.closesAt ? goalAt <= initiative.closesAt : null };
  }

  const districtsBehind = full.districts
    .filter((d): d is typeof d & { required: number } => d.required !== null && d.met === false)
    .map((d) => ({ code: d.code, name: d.name, signatures: d.signatures, required: d.required, shortfall: d.required - d.signatures }))
    .sort((a, b) => b.shortfall - a.shortfall || a.code.localeCompare(b.code))
    .slice(0, DISTRICTS_SHOWN);

  let timeLeft: Dashboard['timeLeft'] = null;
  if (initiative.closesAt && collecting) {
    const seconds = Math.max(0, Math.floor((initiative.closesAt.getTime() - now.getTime()) / 1000));
    timeLeft = { closesAt: initiative.closesAt.toISOString(), seconds, days: daysLeftUntil(initiative.closesAt, now, jurisdiction.timeZone) };
  }

  return {
    initiativeId: initiative.id,
    status: initiative.status,
    progress,
    history,
    velocity: { lastHour: since.lastHour!, lastDay: since.lastDay!, perDay: Math.round(perDay * 100) / 100 },
    projection,
    districtsBehind,
    timeLeft,
    generatedAt: now.toISOString(),
  };
}
