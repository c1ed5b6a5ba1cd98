import { and, count, desc, eq, getTableColumns, ilike, or, sql, type Placeholder, type SQL } from 'drizzle-orm';
import { addCalendarDays } from '../../core/calendar';
import { constantTimeEqual } from '../../core/constant-time';
import { canonicalIdentity, committeeKeyInfo, committeeMemberHash, type HashKeyring } from '../../core/identity';
import { localDay } from '../../core/eligibility';
import { canTransition, nextStatus, type InitiativeStatus, type LifecycleAction } from '../../core/lifecycle';
import { RulesSchema, type Rules } from '../../core/rules';
import type { Database, Executor } from '../../db/client';
import { jsonValue } from '../../db/query';
import { committeeMembers, initiatives, jurisdictions, signatures } from '../../db/schema';
import { afterCursor, pageOf } from '../../platform/cursor';
import type { Principal } from '../../platform/http';
import { emitEvent, type EventType } from '../../platform/outbox';
import { problems } from '../../platform/problems';
import { appendAudit } from '../audit/service';
import { requireClerk } from '../auth/access';
import type { Identity } from '../auth/verifier';
import { getJurisdiction, type JurisdictionRow } from '../jurisdictions/service';
import { buildProgress, toTally, type SignatureTally } from '../progress/service';
import { AGENDA_HAS_NO_QUESTION, type CreateInitiative, type ListQuery, type Review, type UpdateInitiative } from './schema';

export type InitiativeRow = typeof initiatives.$inferSelect;

/** The initiative, or a 404 problem; `lock` also locks its row until the transaction ends (`share`: against changes of the initiative only). */
export async function getInitiative(db: Executor, id: string, lock?: 'update' | 'share'): Promise<InitiativeRow> {
  const query = db.select().from(initiatives).where(eq(initiatives.id, id));
  const [row] = await (lock ? query.for(lock) : query);
  if (!row) throw problems.notFound('Initiative', id);
  return row;
}

/**
 * The two columns of a page that grow with the jurisdiction's districts (its districts, and the
 * electorate figures frozen at opening: 35,000 entries each for France's communes, about 2 MB read and
 * parsed on every read), kept by each process with the row versions (`xmin`) they were read at. The
 * page query sends them only when the version it finds is not the one given: a changed row is read
 * anew, an unchanged one costs nothing. Another version of a row is another transaction's write, so a
 * value kept for a version is that version's. Jurisdictions of fewer districts are read whole, as
 * before: keeping them would save nothing.
 */
const LARGE_FROM_DISTRICTS = 100;
/** Entries kept in all (districts and figures), about 30 MB: a national jurisdiction and four of its initiatives. */
const LARGE_ENTRIES_KEPT = 200_000;
interface Lease {
  initiativeVersion: string;
  figures: InitiativeRow['electorateFigures'];
  jurisdictionVersion: string;
  districts: JurisdictionRow['districts'];
}
class LargeColumns {
  /** By `j:<jurisdiction id>` and `i:<initiative id>`, the oldest kept first. */
  private readonly kept = new Map<string, { version: string; value: unknown; size: number; jurisdictionId?: string }>();
  private entries = 0;

  /**
   * What is kept for this initiative now: the versions to give the query ('' when nothing is kept),
   * and the values the query's nulls stand for (held here, whatever another read keeps meanwhile).
   */
  lease(initiativeId: string): Lease {
    const initiative = this.kept.get(`i:${initiativeId}`);
    const jurisdiction = this.kept.get(`j:${initiative?.jurisdictionId}`);
    return {
      initiativeVersion: initiative?.version ?? '',
      figures: initiative?.value as InitiativeRow['electorateFigures'],
      jurisdictionVersion: jurisdiction?.version ?? '',
      districts: jurisdiction?.value as JurisdictionRow['districts'],
    };
  }

  /** The columns of the row read: those the query left out (null, the row at the lease's version) from the lease; large ones kept for the next read. */
  resolve(
    initiativeId: string,
    lease: Lease,
    row: { jurisdictionId: string; initiativeVersion: string; jurisdictionVersion: string; districts: JurisdictionRow['districts'] | null; figures: InitiativeRow['electorateFigures'] },
  ) {
    const districts = row.jurisdictionVersion === lease.jurisdictionVersion ? lease.districts : row.districts!;
    const figures = row.initiativeVersion === lease.initiativeVersion ? lease.figures : row.figures;
    if (districts.length >= LARGE_FROM_DISTRICTS) {
      this.keep(`j:${row.jurisdictionId}`, { version: row.jurisdictionVersion, value: districts, size: districts.length });
      this.keep(`i:${initiativeId}`, { version: row.initiativeVersion, value: figures, size: figures?.districts.length ?? 0, jurisdictionId: row.jurisdictionId });
    }
    return { districts, figures };
  }

  private keep(key: string, entry: { version: string; value: unknown; size: number; jurisdictionId?: string }) {
    const kept = this.kept.get(key);
    // Read again at the same version: it becomes the latest kept, the last to go.
    if (kept?.version === entry.version) {
      this.kept.delete(key);
      this.kept.set(key, kept);
      return;
    }
    if (kept) this.forget(key, kept.size);
    if (entry.size > LARGE_ENTRIES_KEPT) return;
    for (const [oldest, { size }] of this.kept) {
      if (this.entries + entry.size <= LARGE_ENTRIES_KEPT) break;
      this.forget(oldest, size);
    }
    this.kept.set(key, entry);
    this.entries += entry.size;
  }

  private forget(key: string, size: number) {
    this.kept.delete(key);
    this.entries -= size;
  }
}
const largeColumns = new LargeColumns();

const { districts: _districts, ...jurisdictionColumns } = getTableColumns(jurisdictions);
const { electorateFigures: _figures, ...initiativeColumns } = getTableColumns(initiatives);

/** The initiative's electorate figures, or null when its row is at the version given (the one kept). */
const figuresUnless = (version: string | Placeholder) =>
  sql<InitiativeRow['electorateFigures'] | null>`case when ${initiatives}.xmin::text = ${version} then null else ${initiatives.electorateFigures} end`.mapWith(initiatives.electorateFigures);
/** The jurisdiction's districts, or null when its row is at the version given (the one kept). */
const districtsUnless = (version: string | Placeholder) =>
  sql<JurisdictionRow['districts'] | null>`case when ${jurisdictions}.xmin::text = ${version} then null else ${jurisdictions.districts} end`.mapWith(jurisdictions.districts);

/**
 * The initiative and its jurisdiction, with the row versions PostgreSQL gave them (`xmin`, which
 * every update changes): signing compares them with the rows it locks (signatures/initiative-cache).
 */
export async function getInitiativeWithJurisdiction(db: Executor, id: string, lock?: 'update') {
  const lease = largeColumns.lease(id);
  const query = db
    .select({
      initiative: { ...initiativeColumns, electorateFigures: figuresUnless(lease.initiativeVersion) },
      jurisdiction: { ...jurisdictionColumns, districts: districtsUnless(lease.jurisdictionVersion) },
      initiativeVersion: sql<string>`${initiatives}.xmin::text`,
      jurisdictionVersion: sql<string>`${jurisdictions}.xmin::text`,
    })
    .from(initiatives)
    .innerJoin(jurisdictions, eq(jurisdictions.id, initiatives.jurisdictionId))
    .where(eq(initiatives.id, id));
  const [row] = await (lock ? query.for(lock, { of: initiatives }) : query);
  if (!row) throw problems.notFound('Initiative', id);
  const { districts, figures } = largeColumns.resolve(id, lease, { ...row, jurisdictionId: row.jurisdiction.id, districts: row.jurisdiction.districts, figures: row.initiative.electorateFigures });
  return { ...row, initiative: { ...row.initiative, electorateFigures: figures }, jurisdiction: { ...row.jurisdiction, districts } };
}

/** The same, as the caller may see it: a draft only by its sponsor; to anyone else it is not found. */
export async function getVisibleInitiative(db: Executor, id: string, viewer: Pick<Principal, 'subject'> | undefined) {
  const found = await getInitiativeWithJurisdiction(db, id);
  if (found.initiative.status === 'draft' && found.initiative.sponsorSubject !== viewer?.subject) {
    throw problems.notFound('Initiative', found.initiative.id);
  }
  return found;
}

function committeeCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/** The claims a committee hash is made of (SPEC §4 canonical identity). */
const IDENTITY_CLAIMS = ['given_name', 'family_name', 'birthdate'];

/**
 * Who a person is on one initiative's committee: HMAC of their canonical identity under the
 * initiative's committee key (never its signing key, see committeeKeyInfo), at the initiative's pepper version.
 */
export function committeeHashFor(keyring: HashKeyring, initiative: Pick<InitiativeRow, 'id' | 'pepperVersion'>, identity: Identity): Uint8Array {
  let canonical: string;
  try {
    canonical = canonicalIdentity(identity);
  } catch {
    throw problems.missingClaims(IDENTITY_CLAIMS);
  }
  return committeeMemberHash(keyring.keyFor(initiative.pepperVersion, committeeKeyInfo(initiative.id)), canonical);
}

/**
 * The committee hash of a caller, for lookups: undefined for one without a verified identity (or whose
 * names have no letters), and for an initiative whose pepper was retired (then the sub alone finds them).
 */
export function committeeHashOf(keyring: HashKeyring, initiative: Pick<InitiativeRow, 'id' | 'pepperVersion'>, principal: Pick<Principal, 'identity'> | undefined): Uint8Array | undefined {
  if (!principal?.identity) return undefined;
  try {
    return committeeHashFor(keyring, initiative, principal.identity);
  } catch {
    return undefined;
  }
}

/**
 * Creates a draft. `formId`, the one-time id of the web form sent, makes sending that form again
 * (a double click, a browser's retry, two sends at once) yield the draft the first send created: the
 * unique index on (sponsor, form id) lets one insert through, and the others find its row.
 */
export async function createInitiative(db: Database, input: CreateInitiative, sponsor: Principal, keyring: HashKeyring, now: Date, formId?: string) {
  const jurisdiction = await getJurisdiction(db, input.jurisdictionId).catch(() => {
    throw problems.validation([{ field: 'body.jurisdictionId', message: `Unknown jurisdiction "${input.jurisdictionId}".` }]);
  });
  if (!jurisdiction.rules[input.kind]) {
    throw problems.validation([{ field: 'body.kind', message: `Jurisdiction "${jurisdiction.id}" takes no ${input.kind} initiatives.` }]);
  }
  const id = crypto.randomUUID();
  const pepperVersion = keyring.currentVersion;
  // Kept so that the sponsor cannot join their own committee under another sub; a sponsor without names has none.
  const sponsorHash = committeeHashOf(keyring, { id, pepperVersion }, sponsor) ?? null;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(initiatives)
      .values({
        id,
        jurisdictionId: input.jurisdictionId,
        kind: input.kind,
        title: input.title,
        summary: input.summary,
        text: input.text,
        question: input.question ?? null,
        language: input.language,
        sponsorSubject: sponsor.subject,
        sponsorHash,
        committeeCode: committeeCode(),
        status: 'draft',
        pepperVersion,
        creationFormId: formId ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing({ target: [initiatives.sponsorSubject, initiatives.creationFormId] })
      .returning();
    if (!row) {
      // Waited for the send that inserted first, then found its committed row (a new statement sees it).
      const [first] = await tx
        .select()
        .from(initiatives)
        .where(and(eq(initiatives.sponsorSubject, sponsor.subject), eq(initiatives.creationFormId, formId!)));
      return first!;
    }
    await appendAudit(tx, { actor: sponsor.subject, action: 'initiative.created', at: now, jurisdictionId: row.jurisdictionId, initiativeId: row.id, details: { kind: row.kind } });
    return row;
  });
}

function requireSponsor(initiative: InitiativeRow, principal: Principal) {
  if (initiative.sponsorSubject !== principal.subject) throw problems.forbidden('Only the sponsor of this initiative may do this.');
}

export async function updateDraft(db: Database, id: string, patch: UpdateInitiative, principal: Principal, now: Date) {
  return db.transaction(async (tx) => {
    const initiative = await getInitiative(tx, id);
    requireSponsor(initiative, principal);
    if (initiative.status !== 'draft') throw problems.illegalTransition(initiative.status, 'edit');
    const question = patch.question === undefined ? initiative.question : patch.question;
    if (initiative.kind === 'referendum' && !question) {
      throw problems.validation([{ field: 'body.question', message: 'A referendum initiative needs its ballot question.' }]);
    }
    if (initiative.kind === 'agenda' && question) throw problems.validation([{ field: 'body.question', message: AGENDA_HAS_NO_QUESTION }]);
    const [row] = await tx
      .update(initiatives)
      .set({ ...patch, question, updatedAt: now })
      .where(and(eq(initiatives.id, id), eq(initiatives.status, 'draft')))
      .returning();
    if (!row) throw problems.illegalTransition((await getInitiative(tx, id)).status, 'edit');
    await appendAudit(tx, { actor: principal.subject, action: 'initiative.edited', at: now, jurisdictionId: row.jurisdictionId, initiativeId: id, details: { fields: Object.keys(patch) } });
    return row;
  });
}

/**
 * Joins the committee as a person: the unique index on (initiative, member hash) keeps one seat per
 * person whatever `sub` they come with, so joining again (even concurrently) is a no-op.
 */
export async function joinCommittee(db: Database, keyring: HashKeyring, id: string, code: string, principal: Principal, now: Date) {
  if (!principal.identity) throw problems.missingClaims(principal.missingClaims.length ? principal.missingClaims : IDENTITY_CLAIMS);
  const identity = principal.identity;
  return db.transaction(async (tx) => {
    const initiative = await getInitiative(tx, id);
    const alreadySponsor = () => problems.conflict('already-sponsor', 'Already the sponsor', 'The sponsor is not counted as a committee member.');
    if (initiative.sponsorSubject === principal.subject) throw alreadySponsor();
    if (!constantTimeEqual(code.toUpperCase(), initiative.committeeCode)) {
      throw problems.denied('wrong-committee-code', 'Wrong committee code', 'The committee code does not match; ask the sponsor for it.');
    }
    if (initiative.status !== 'draft' && initiative.status !== 'submitted') throw problems.illegalTransition(initiative.status, 'join the committee');
    // Hashed once the initiative takes members: its pepper version is then one the engine must hold (a draft or submitted one is unfinished).
    const memberHash = committeeHashFor(keyring, initiative, identity);
    // The sponsor under another sub; initiatives created before sponsor hashes were kept have none, and know their sponsor by subject alone.
    if (initiative.sponsorHash && sameHash(initiative.sponsorHash, memberHash)) throw alreadySponsor();
    // No conflict target: the same person (hash) or the same sub (primary key) is already a member either way.
    const inserted = await tx
      .insert(committeeMembers)
      .values({ initiativeId: id, subject: principal.subject, memberHash, keyVersion: initiative.pepperVersion, joinedAt: now })
      .onConflictDoNothing()
      .returning({ subject: committeeMembers.subject });
    if (inserted.length) {
      await appendAudit(tx, { actor: principal.subject, action: 'committee.joined', at: now, jurisdictionId: initiative.jurisdictionId, initiativeId: id });
    }
    return { joined: inserted.length > 0, committeeSize: await committeeSize(tx, id) };
  });
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export async function committeeSize(db: Executor, id: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(committeeMembers).where(eq(committeeMembers.initiativeId, id));
  return row?.n ?? 0;
}

/**
 * Whether the caller sits on the committee: by the sub they joined with, or (given their committee
 * hash) as the same person under another sub.
 */
export async function isCommitteeMember(db: Executor, id: string, subject: string, memberHash?: Uint8Array): Promise<boolean> {
  const who = memberHash ? or(eq(committeeMembers.subject, subject), eq(committeeMembers.memberHash, memberHash))! : eq(committeeMembers.subject, subject);
  const rows = await db
    .select({ s: committeeMembers.subject })
    .from(committeeMembers)
    .where(and(eq(committeeMembers.initiativeId, id), who))
    .limit(1);
  return rows.length > 0;
}

const EVENT_OF: Partial<Record<LifecycleAction, EventType>> = {
  submit: 'initiative.submitted',
  open: 'initiative.opened',
  reject: 'initiative.rejected',
  withdraw: 'initiative.withdrawn',
  close: 'initiative.closed',
  certify: 'initiative.certified',
  declareInsufficient: 'initiative.insufficient',
};

/**
 * Moves an initiative along the lifecycle inside the caller's transaction. The update is
 * conditional on the status read, so two racing transitions cannot both succeed.
 */
export async function transition(
  tx: Executor,
  initiative: InitiativeRow,
  action: LifecycleAction,
  context: { actor: string; now: Date; patch?: Partial<InitiativeRow>; details?: Record<string, unknown> },
): Promise<InitiativeRow> {
  const from = initiative.status as InitiativeStatus;
  if (!canTransition(from, action)) throw problems.illegalTransition(from, action);
  const to = nextStatus(from, action);
  const [row] = await tx
    .update(initiatives)
    .set({ ...context.patch, status: to, updatedAt: context.now })
    .where(and(eq(initiatives.id, initiative.id), eq(initiatives.status, from)))
    .returning();
  if (!row) {
    const current = await getInitiative(tx, initiative.id);
    throw problems.illegalTransition(current.status, action);
  }
  await appendAudit(tx, {
    actor: context.actor,
    action: `initiative.${action}`,
    at: context.now,
    jurisdictionId: row.jurisdictionId,
    initiativeId: row.id,
    details: { from, to, ...context.details },
  });
  const event = EVENT_OF[action];
  if (event) {
    await emitEvent(tx, {
      type: event,
      at: context.now,
      initiativeId: row.id,
      jurisdictionId: row.jurisdictionId,
      data: { initiativeId: row.id, jurisdictionId: row.jurisdictionId, status: to, ...context.details },
    });
  }
  return row;
}

export async function submit(db: Database, id: string, principal: Principal, now: Date) {
  return db.transaction(async (tx) => {
    const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(tx, id);
    requireSponsor(initiative, principal);
    if (initiative.status === 'draft') {
      const size = await committeeSize(tx, id);
      if (size < jurisdiction.committeeMinimum) {
        throw problems.conflict(
          'committee-too-small',
          'Committee too small',
          `The committee has ${size} member(s) besides the sponsor; ${jurisdiction.committeeMinimum} are required.`,
          { committeeSize: size, committeeMinimum: jurisdiction.committeeMinimum },
        );
      }
    }
    return transition(tx, initiative, 'submit', { actor: principal.subject, now });
  });
}

/**
 * The end of the collection period the rules allow from an opening, and the default closing: the
 * rules' collection days are the jurisdiction's calendar days, so it closes at the local hour it
 * opened, whatever summer time did in between.
 */
export function latestClosesAt(opensAt: Date, rules: Pick<Rules, 'collectionDays'>, timeZone: string): Date {
  return addCalendarDays(opensAt, rules.collectionDays, timeZone);
}

export async function review(db: Database, id: string, decision: Review, principal: Principal, now: Date) {
  return db.transaction(async (tx) => {
    const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(tx, id);
    await requireClerk(tx, principal, jurisdiction.id);
    if (decision.decision === 'reject') {
      return transition(tx, initiative, 'reject', { actor: principal.subject, now, patch: { reason: decision.reason }, details: { reason: decision.reason } });
    }
    // The jurisdiction is held while it opens, so that a change of its rules or figures (PATCH) is either seen here or waits.
    const [held] = await tx.select().from(jurisdictions).where(eq(jurisdictions.id, jurisdiction.id)).for('share');
    const rules = RulesSchema.parse(held!.rules[initiative.kind]);
    const opensAt = decision.opensAt ? new Date(decision.opensAt) : now;
    const latest = latestClosesAt(opensAt, rules, held!.timeZone);
    const closesAt = decision.closesAt ? new Date(decision.closesAt) : latest;
    // The rules' collection period is a legal maximum: an earlier closing is the clerk's to set, a later one is not.
    if (closesAt.getTime() > latest.getTime()) {
      throw problems.validation(
        [
          {
            field: 'body.closesAt',
            code: 'closes-after-period',
            message: `closesAt must not be after ${latest.toISOString()}: the rules allow a collection of at most ${rules.collectionDays} days from the opening (${opensAt.toISOString()}).`,
          },
        ],
        undefined,
        { latestClosesAt: latest.toISOString(), collectionDays: rules.collectionDays },
      );
    }
    if (closesAt.getTime() <= now.getTime()) {
      throw problems.validation([{ field: 'body.closesAt', code: 'closes-in-past', message: 'closesAt must be in the future.' }]);
    }
    if (closesAt.getTime() <= opensAt.getTime()) throw problems.validation([{ field: 'body.closesAt', code: 'closes-before-opens', message: 'closesAt must be after opensAt.' }]);
    // Earlier today is fine (a time picked on the day); an earlier day would admit paper sheets signed before admissibility.
    if (localDay(opensAt, held!.timeZone) < localDay(now, held!.timeZone)) {
      throw problems.validation([{ field: 'body.opensAt', code: 'opens-before-today', message: 'opensAt must not be before today.' }]);
    }
    return transition(tx, initiative, 'open', {
      actor: principal.subject,
      now,
      // Frozen with the rules: its ratios and district minimums stay those of the day it opened.
      patch: { rules, opensAt, closesAt, electorateFigures: { electorate: held!.electorate, districts: held!.districts.map(({ code, electorate }) => ({ code, electorate })) } },
      details: { opensAt: opensAt.toISOString(), closesAt: closesAt.toISOString() },
    });
  });
}

export async function withdraw(db: Database, id: string, principal: Principal, reason: string | undefined, now: Date) {
  return db.transaction(async (tx) => {
    const initiative = await getInitiative(tx, id);
    requireSponsor(initiative, principal);
    return transition(tx, initiative, 'withdraw', { actor: principal.subject, now, patch: { reason: reason ?? null }, details: reason ? { reason } : {} });
  });
}

/**
 * The sponsor ends collection early; the deadline becomes now so signing stops at once. The row is locked before the clock is read: a batch of signatures
 * being committed holds it FOR SHARE, so the close time is taken once those signatures are in, and
 * no counted signature is dated after the close: not even one dated by another process whose clock is
 * a few seconds ahead of this one's (or before this one's clock was stepped back).
 */
export async function closeBySponsor(db: Database, id: string, principal: Principal, clock: () => Date) {
  return db.transaction(async (tx) => {
    const initiative = await getInitiative(tx, id, 'update');
    requireSponsor(initiative, principal);
    const now = clock();
    let ends = initiative.closesAt && initiative.closesAt < now ? initiative.closesAt : now;
    const [last] = await tx
      .select({ signed: sql<Date | null>`max(${signatures.createdAt})`.mapWith(signatures.createdAt), withdrawn: sql<Date | null>`max(${signatures.withdrawnAt})`.mapWith(signatures.withdrawnAt) })
      .from(signatures)
      .where(eq(signatures.initiativeId, id));
    // Signing is taken before closesAt, never at it: the close comes a millisecond after the last signature or withdrawal,
    // yet never after the deadline set at admissibility (paper forms keyed in past it do not move it).
    for (const at of [last?.signed, last?.withdrawn]) if (at && at.getTime() >= ends.getTime()) ends = new Date(at.getTime() + 1);
    if (initiative.closesAt && ends > initiative.closesAt) ends = initiative.closesAt;
    // Closed before its opening day: the collection period becomes empty, never one that ends before it begins.
    const closesAt = initiative.opensAt && initiative.opensAt > ends ? initiative.opensAt : ends;
    return transition(tx, initiative, 'close', { actor: principal.subject, now, patch: { closesAt, closedAt: now }, details: { by: 'sponsor' } });
  });
}

export interface InitiativePage {
  initiative: InitiativeRow;
  jurisdiction: JurisdictionRow;
  tally: SignatureTally;
  crossings: { key: string; reachedAt: Date }[];
  committeeSize: number;
  /** The viewer's roles beyond sponsor (false for anonymous viewers). */
  member: boolean;
  clerk: boolean;
}

/** Committee members of the initiative in the row, as a column of the same query. */
const committeeSizeColumn = sql<number>`(select count(*)::int from committee_members m where m.initiative_id = ${initiatives.id})`;

function pageQuery(db: Executor) {
  return db
    .select({
      initiative: {
        ...initiativeColumns,
        electorateFigures: figuresUnless(sql.placeholder('initiativeVersion')),
      },
      initiativeVersion: sql<string>`${initiatives}.xmin::text`,
      jurisdiction: {
        ...jurisdictionColumns,
        districts: districtsUnless(sql.placeholder('jurisdictionVersion')),
      },
      jurisdictionVersion: sql<string>`${jurisdictions}.xmin::text`,
      tally: sql<unknown>`(select coalesce(json_agg(json_build_array(d.district, d.n)), '[]'::json)
        from (select district, sum(count)::bigint as n from signature_counts where initiative_id = ${initiatives.id} group by district) as d)`,
      crossings: sql<unknown>`(select coalesce(json_agg(json_build_array(c.key, extract(epoch from c.reached_at) * 1000)), '[]'::json)
        from initiative_crossings c where c.initiative_id = ${initiatives.id})`,
      committeeSize: committeeSizeColumn,
      // Subjects are never empty: an anonymous viewer (subject '') is nobody's member or clerk.
      member: sql<boolean>`exists (select 1 from committee_members m where m.initiative_id = ${initiatives.id} and m.subject = ${sql.placeholder('subject')})`,
      clerk: sql<boolean>`exists (select 1 from jurisdiction_clerks k where k.jurisdiction_id = ${initiatives.jurisdictionId} and k.subject = ${sql.placeholder('subject')})`,
    })
    .from(initiatives)
    .innerJoin(jurisdictions, eq(jurisdictions.id, initiatives.jurisdictionId))
    .where(eq(initiatives.id, sql.placeholder('id')))
    .prepare('initiative_page');
}

/** Built once per database (the query text and its row mapping), prepared once per connection by the driver. */
const pageQueries = new WeakMap<Executor, ReturnType<typeof pageQuery>>();

/**
 * Everything the detail and progress of an initiative show, in one query (the hot read of a viral
 * initiative: one round trip, whatever else the engine is doing). A draft is found only by its sponsor.
 */
export async function readInitiativePage(
  db: Executor,
  id: string,
  viewer: Pick<Principal, 'subject'> | undefined,
): Promise<InitiativePage> {
  let query = pageQueries.get(db);
  if (!query) pageQueries.set(db, (query = pageQuery(db)));
  const lease = largeColumns.lease(id);
  const [row] = await query.execute({ id, subject: viewer?.subject ?? '', initiativeVersion: lease.initiativeVersion, jurisdictionVersion: lease.jurisdictionVersion });
  if (!row || (row.initiative.status === 'draft' && row.initiative.sponsorSubject !== viewer?.subject)) throw problems.notFound('Initiative', id);
  const { districts, figures: electorateFigures } = largeColumns.resolve(id, lease, {
    jurisdictionId: row.jurisdiction.id,
    initiativeVersion: row.initiativeVersion,
    jurisdictionVersion: row.jurisdictionVersion,
    districts: row.jurisdiction.districts,
    figures: row.initiative.electorateFigures,
  });
  const { initiativeVersion: _i, jurisdictionVersion: _j, ...rest } = row;
  return {
    initiative: { ...rest.initiative, electorateFigures },
    jurisdiction: { ...rest.jurisdiction, districts },
    tally: toTally(jsonValue<[string, number | string][]>(row.tally).map(([district, count]) => ({ district, count }))),
    crossings: jsonValue<[string, number | string][]>(row.crossings).map(([key, at]) => ({ key, reachedAt: new Date(Number(at)) })),
    committeeSize: Number(row.committeeSize),
    member: Boolean(row.member),
    clerk: Boolean(row.clerk),
  };
}

/** The initiative as `principal` sees it: roles, the committee code for its sponsor, progress when read. */
export function pageView(page: InitiativePage, principal: Principal | undefined, now: Date) {
  const { initiative: row, jurisdiction, tally, crossings } = page;
  const roles: ('sponsor' | 'committee' | 'clerk')[] = [];
  if (principal?.subject === row.sponsorSubject) roles.push('sponsor');
  if (page.member) roles.push('committee');
  if (page.clerk) roles.push('clerk');
  const progress = buildProgress(row, jurisdiction, tally, crossings, now);
  return {
    ...summaryView(row),
    committeeSize: page.committeeSize,
    ...(roles.includes('sponsor') ? { committeeCode: row.committeeCode } : {}),
    ...(principal ? { roles } : {}),
    progress,
  };
}

export function summaryView(row: InitiativeRow) {
  return {
    id: row.id,
    jurisdictionId: row.jurisdictionId,
    kind: row.kind,
    title: row.title,
    summary: row.summary,
    text: row.text,
    question: row.question,
    language: row.language,
    status: row.status,
    rules: row.rules,
    opensAt: row.opensAt?.toISOString() ?? null,
    closesAt: row.closesAt?.toISOString() ?? null,
    reason: row.reason,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Drafts are visible to their sponsor only; everything else is public. */
export async function listInitiatives(db: Database, q: ListQuery, principal: Principal | undefined) {
  const where: SQL[] = [];
  if (q.status) where.push(eq(initiatives.status, q.status));
  if (q.jurisdiction) where.push(eq(initiatives.jurisdictionId, q.jurisdiction));
  if (q.q) {
    const pattern = `%${q.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    where.push(or(ilike(initiatives.title, pattern), ilike(initiatives.summary, pattern))!);
  }
  const visibility = principal
    ? or(sql`${initiatives.status} <> 'draft'`, eq(initiatives.sponsorSubject, principal.subject))!
    : sql`${initiatives.status} <> 'draft'`;
  where.push(visibility);
  if (q.cursor) where.push(afterCursor(q.cursor, initiatives.createdAt, initiatives.id));
  const rows = await db
    .select({ ...getTableColumns(initiatives), committeeSize: committeeSizeColumn })
    .from(initiatives)
    .where(and(...where))
    .orderBy(desc(initiatives.createdAt), desc(initiatives.id))
    .limit(q.limit + 1);
  const page = pageOf(rows, q.limit, (row) => ({ at: row.createdAt, id: row.id }));
  return { items: page.items.map((row) => ({ ...row, committeeSize: Number(row.committeeSize) })), nextCursor: page.nextCursor };
}
