import { bytesToHex } from '@noble/hashes/utils.js';
import { and, asc, count, desc, eq, gt, gte, inArray, isNotNull, isNull, lte, sql, type SQL } from 'drizzle-orm';
import { districtsByCode } from '../../core/districts';
import { electorateOf, evaluateRules, type Evaluation, type JurisdictionElectorate } from '../../core/rules';
import {
  assessSample,
  defaultSampleSize,
  drawSamplePositions,
  floorOf,
  minimumSampleSize,
  projectDistricts,
  projectSample,
  randomSeed,
  type SampleAssessment,
  type Projection,
} from '../../core/sampling';
import type { Executor, Transaction } from '../../db/client';
import { rowsOf } from '../../db/query';
import { initiatives, referendumItems, signatures, verifications } from '../../db/schema';
import { verificationDecisions, verificationRollChecks, verificationSamples, verificationTallies } from '../../db/schema-verification';
import { afterCursor, isUuid, pageOf } from '../../platform/cursor';
import type { AppDeps, Principal } from '../../platform/http';
import { signWithEngineKey } from '../../platform/keys';
import { emitEvent } from '../../platform/outbox';
import { problems, type FieldError } from '../../platform/problems';
import { appendAudit } from '../audit/service';
import { requireClerk } from '../auth/access';
import { getInitiativeWithJurisdiction, transition, type InitiativeRow } from '../initiatives/service';
import type { JurisdictionRow } from '../jurisdictions/service';
import { openPersonalData, PersonalDataKeyError, personalDataDestroyed, personalDataDestroyedProblem, readPersonalData, type Identity } from '../personal-data/service';
import { bumpCounts, PROGRESS_DISTRICTS_MAX, rulesOf, type SignatureTally } from '../progress/service';
import { currentRoll, heldCurrentRoll, rollHashFor, rollLookup } from '../roll/service';
import { appendLogEntry } from '../transparency/entries';
import { treeHeadAtClose } from '../transparency/service';
import type { DecisionInput, StartVerification, VerificationQuery } from './schema';

type VerificationRow = typeof verifications.$inferSelect;
type Decision = DecisionInput['decision'];

const CHUNK = 1000;

type VerifiedTally = SignatureTally & { raw: number; rawByDistrict: Record<string, number> };

/** Valid signatures per district, counted from the rows themselves (not the live counters). */
export async function verifiedTally(db: Executor, initiativeId: string): Promise<VerifiedTally> {
  const rows = await db
    .select({ district: signatures.district, status: signatures.status, n: sql<string>`count(*)` })
    .from(signatures)
    .where(and(eq(signatures.initiativeId, initiativeId), sql`${signatures.status} <> 'withdrawn'`))
    .groupBy(signatures.district, signatures.status);
  const byDistrict: Record<string, number> = {};
  const rawByDistrict: Record<string, number> = {};
  let total = 0;
  let raw = 0;
  for (const row of rows) {
    const n = Number(row.n);
    raw += n;
    rawByDistrict[row.district] = (rawByDistrict[row.district] ?? 0) + n;
    if (row.status !== 'counted') continue;
    byDistrict[row.district] = (byDistrict[row.district] ?? 0) + n;
    total += n;
  }
  return { total, byDistrict, raw, rawByDistrict };
}

/** Joins a signature to its ruling in this verification, if any. */
const rulingOf = (initiativeId: string) => and(eq(verificationDecisions.initiativeId, initiativeId), eq(verificationDecisions.signatureId, signatures.id));
/** Joins a signature to its check against the roll in this verification, if any. */
const rollCheckOf = (initiativeId: string) => and(eq(verificationRollChecks.initiativeId, initiativeId), eq(verificationRollChecks.signatureId, signatures.id));
/**
 * Signatures after the given one in the order an initiative's signatures are read in pages: by time
 * signed, then id. That is the order of the index of an initiative's signatures by time, so a page
 * reads its own rows only, however many other initiatives' signatures the table holds (in id order,
 * every page would go through theirs too).
 */
const afterSignature = (id: string) =>
  sql`(${signatures.createdAt}, ${signatures.id}) > (select previous.created_at, previous.id from ${signatures} as previous where previous.id = ${id})`;
const pageOrder = [asc(signatures.createdAt), asc(signatures.id)];
/** What the check against the roll has still to read (with both joins above): counted, neither ruled on nor checked, after its cursor. */
const stillToCheck = (initiativeId: string, after: string | null) =>
  and(
    eq(signatures.initiativeId, initiativeId),
    eq(signatures.status, 'counted'),
    isNull(verificationDecisions.signatureId),
    isNull(verificationRollChecks.signatureId),
    after === null ? undefined : afterSignature(after),
  );

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

async function lockVerification(tx: Transaction, initiativeId: string, action: string, status: string): Promise<VerificationRow> {
  const [verification] = await tx.select().from(verifications).where(eq(verifications.initiativeId, initiativeId)).for('update');
  // Completed while this request waited for the lock: the initiative is now what the completion made it, not the status read before.
  if (verification?.completedAt) throw problems.illegalTransition(verification.outcome ?? status, action);
  if (!verification) throw problems.illegalTransition(status, action);
  return verification;
}

/**
 * Starts the verification of a closed initiative: a full count, or a seeded random sample drawn
 * from the signatures counted now. During a sample, a full count may replace it (decisions stand).
 */
export async function startVerification(deps: AppDeps, id: string, principal: Principal, input: StartVerification) {
  const now = deps.clock();
  return deps.db.db.transaction(async (tx) => {
    // The row held before the population is read: a paper batch being committed (it holds the row FOR SHARE) is in it, or is refused after.
    const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(tx, id, 'update');
    await requireClerk(tx, principal, jurisdiction.id);
    if (initiative.status === 'verifying' && input.method === 'full') return escalateToFullCount(deps, tx, initiative, jurisdiction, principal, now);

    const [{ population } = { population: 0 }] = await tx
      .select({ population: count() })
      .from(signatures)
      .where(and(eq(signatures.initiativeId, id), eq(signatures.status, 'counted')));
    const seed = input.method === 'sample' ? (input.seed ?? randomSeed()) : null;
    const sampleSize = input.method === 'sample' ? Math.min(population, input.sampleSize ?? defaultSampleSize(population)) : null;
    await transition(tx, initiative, 'startVerification', {
      actor: principal.subject,
      now,
      details: { method: input.method, seed, sampleSize, population, seedGiven: input.seed !== undefined },
    });
    // The minimum depends on N, known only now: a smaller sample would project from too few rulings (SPEC §5).
    if (sampleSize !== null && sampleSize < minimumSampleSize(population)) throw sampleTooSmall(sampleSize, population);
    // Checked once the initiative's row is held: the retention purge holds it too, and skips an initiative whose verification started.
    if (await personalDataDestroyed(tx, id)) throw personalDataDestroyedProblem('there is nothing left to verify.');
    await tx.insert(verifications).values({ initiativeId: id, method: input.method, seed, sampleSize, population, startedBy: principal.subject, startedAt: now });
    await buildTallies(tx, id);
    if (input.method === 'full') await requestRollCheck(tx, id, jurisdiction.id, principal, now);
    if (seed !== null && sampleSize !== null) await insertSample(tx, id, drawSamplePositions(seed, population, sampleSize), population);
  });
}

/** A sample below the method's minimum for its population: refused, naming the minimum. */
function sampleTooSmall(sampleSize: number, population: number) {
  const minimum = minimumSampleSize(population);
  return problems.validation(
    [
      {
        field: 'body.sampleSize',
        code: 'sample-too-small',
        message: `At least ${minimum} for ${population} signatures (the greater of 500 and 3 % of them, or every one when fewer).`,
      },
    ],
    `A sample of ${sampleSize} is below the minimum of ${minimum} for ${population} signatures.`,
    { minimumSampleSize: minimum, population },
  );
}

/**
 * Stores the sampled signatures, found by their positions in the counted signatures ordered by id
 * (PostgreSQL orders uuids as their lowercase text sorts, the canonical order of `drawSample`):
 * the database ranks the population, the engine never holds it.
 */
async function insertSample(tx: Transaction, initiativeId: string, positions: number[], population: number) {
  if (positions.length === 0) return;
  const inserted = rowsOf<{ signature_id: string }>(
    await tx.execute(sql`
      insert into verification_samples (initiative_id, signature_id, position)
      select ${initiativeId}, ranked.id, drawn.ord - 1
      from (select id, row_number() over (order by id) - 1 as rank, count(*) over () as population
            from signatures where initiative_id = ${initiativeId} and status = 'counted') ranked
      join unnest(${`{${positions.join(',')}}`}::bigint[]) with ordinality as drawn(rank, ord) on drawn.rank = ranked.rank
      where ranked.population = ${population}
      returning signature_id`),
  );
  // The initiative's row is held, so nothing is counted or uncounted between the count and the draw.
  if (inserted.length !== positions.length) throw new Error(`the counted signatures changed while the sample was drawn (${inserted.length} of ${positions.length} found)`);
}

/** The action a refused second full count names (the web front words it on its own). */
export const FULL_COUNT_ACTION = 'start a full count';

async function escalateToFullCount(deps: AppDeps, tx: Transaction, initiative: InitiativeRow, jurisdiction: JurisdictionRow, principal: Principal, now: Date) {
  const verification = await lockVerification(tx, initiative.id, FULL_COUNT_ACTION, initiative.status);
  if (verification.method === 'full') {
    // Already a full count: starting one again is not a transition the initiative can make.
    throw problems.illegalTransition(initiative.status, FULL_COUNT_ACTION);
  }
  await tx.update(verifications).set({ method: 'full' }).where(eq(verifications.initiativeId, initiative.id));
  // A sampled signature was found valid against the sample alone (its signer's other signature may lie outside it):
  // the full count looks again. Invalid and duplicate rulings stand: those signatures have left the count.
  const reconsidered = await tx
    .delete(verificationDecisions)
    .where(and(eq(verificationDecisions.initiativeId, initiative.id), eq(verificationDecisions.decision, 'valid')))
    .returning({ signatureId: verificationDecisions.signatureId, reason: verificationDecisions.reason });
  await untallyValid(tx, initiative.id, reconsidered);
  await appendAudit(tx, {
    actor: principal.subject,
    action: 'verification.full-count',
    at: now,
    jurisdictionId: jurisdiction.id,
    initiativeId: initiative.id,
    details: { replaces: 'sample', seed: verification.seed, sampleSize: verification.sampleSize, reconsidered: reconsidered.length },
  });
  await requestRollCheck(tx, initiative.id, jurisdiction.id, principal, now);
}

type RollResult = (typeof verificationRollChecks.$inferInsert)['result'];

/** The reason a signature found on the roll in its declared district is valid. */
const ROLL_VALID_REASON = 'on the electoral roll';

/** Signatures a page of the check against the roll reads and decrypts, in one short transaction. */
export const ROLL_CHECK_PAGE = 1000;
/** How long one pass of the scheduler goes on checking pages, so the other periodic tasks (and a Worker's cron run) are not held up. */
export const ROLL_CHECK_BUDGET_MS = 3000;

/**
 * A full count against the imported roll is due: the scheduler checks it page by page
 * (`runRollChecks`), so that starting a full count of millions of signatures answers at once.
 * Nothing is due without a roll.
 */
async function requestRollCheck(tx: Transaction, initiativeId: string, jurisdictionId: string, principal: Principal, now: Date) {
  const roll = await currentRoll(tx, jurisdictionId);
  if (!roll) return;
  await tx
    .update(verifications)
    .set({ rollCheckImport: roll.id, rollCheckRequestedBy: principal.subject, rollCheckRequestedAt: now, rollCheckAfter: null, rollCheckDoneAt: null, rollCheckMissingKey: null })
    .where(eq(verifications.initiativeId, initiativeId));
}

type PageOutcome = 'page' | 'done' | 'busy' | 'none';

/**
 * The scheduler's pass over the full counts whose check against the roll is due: a page at a time,
 * each in its own transaction holding the verification's row (another engine skips it meanwhile,
 * a clerk's decision waits for the page), in turns, one page of each count due after the other
 * (a small count is not kept waiting until a large one asked for before it is over), until every
 * one is done or `budgetMs` is spent (one page of each at least). What a page committed stays: a
 * restart goes on after it. Returns the initiatives whose check ended in this pass.
 */
export async function runRollChecks(
  deps: Pick<AppDeps, 'db' | 'keys' | 'logger'>,
  now: Date,
  options: { pageSize?: number; budgetMs?: number; warned?: Map<string, string> } = {},
): Promise<string[]> {
  const pageSize = options.pageSize ?? ROLL_CHECK_PAGE;
  const budgetMs = options.budgetMs ?? ROLL_CHECK_BUDGET_MS;
  const warned = options.warned ?? new Map<string, string>();
  const started = performance.now();
  const due = await deps.db.db
    .select({ initiativeId: verifications.initiativeId })
    .from(verifications)
    .where(and(isNotNull(verifications.rollCheckRequestedAt), isNull(verifications.rollCheckDoneAt), isNull(verifications.completedAt)))
    .orderBy(asc(verifications.rollCheckRequestedAt), asc(verifications.initiativeId));
  const finished: string[] = [];
  // The counts with more to check after the page they were just given: each gets its next page in turn.
  let going = due.map((d) => d.initiativeId);
  for (let round = 0; going.length > 0; round++) {
    const next: string[] = [];
    for (const initiativeId of going) {
      if (round > 0 && performance.now() - started >= budgetMs) return finished;
      let outcome: PageOutcome;
      try {
        outcome = await checkRollPage(deps, initiativeId, now, pageSize);
      } catch (error) {
        if (!(error instanceof PersonalDataKeyError)) throw error;
        // Stopped until the key is configured: the clerk's page says so, the log once per process and key; tried again next pass.
        const kid = error.kid ?? '(none)';
        await deps.db.db
          .update(verifications)
          .set({ rollCheckMissingKey: kid })
          .where(and(eq(verifications.initiativeId, initiativeId), isNull(verifications.rollCheckDoneAt)));
        if (warned.get(initiativeId) !== kid) {
          warned.set(initiativeId, kid);
          deps.logger.warn('check against the roll stopped: personal data sealed under a key that is not configured (PII_KEY, PII_KEYS_PREVIOUS)', { initiativeId, keyId: kid });
        }
        outcome = 'busy';
      }
      if (outcome === 'page' || outcome === 'done') warned.delete(initiativeId);
      if (outcome === 'done') finished.push(initiativeId);
      if (outcome === 'page') next.push(initiativeId);
    }
    going = next;
  }
  return finished;
}

/**
 * One page of a check against the roll: each undecided signature's personal data is decrypted, its
 * roll hash looked up; those on the roll in their declared district are valid at once, the others
 * are left to the clerks with the reason. The last page writes the audit entry, with the totals of
 * every page.
 */
async function checkRollPage(deps: Pick<AppDeps, 'db' | 'keys'>, initiativeId: string, now: Date, pageSize: number): Promise<PageOutcome> {
  return deps.db.db.transaction(async (tx) => {
    // Another engine's page holds the row: it is skipped, never waited for, never checked twice.
    const [verification] = await tx.select().from(verifications).where(eq(verifications.initiativeId, initiativeId)).for('update', { skipLocked: true });
    if (!verification) return 'busy';
    if (!verification.rollCheckRequestedAt || verification.rollCheckDoneAt || verification.completedAt) return 'none';
    const [initiative] = await tx.select({ jurisdictionId: initiatives.jurisdictionId }).from(initiatives).where(eq(initiatives.id, initiativeId));
    const jurisdictionId = initiative!.jurisdictionId;
    const principal = verification.rollCheckRequestedBy!;
    // The roll in force for this page, held until it commits (a roll replaced during the check is the one the next pages use).
    const roll = await heldCurrentRoll(tx, jurisdictionId);
    const after = verification.rollCheckAfter;
    const part = roll
      ? await tx
          .select({ id: signatures.id, district: signatures.district, personalData: signatures.personalData })
          .from(signatures)
          .leftJoin(verificationDecisions, rulingOf(initiativeId))
          .leftJoin(verificationRollChecks, rollCheckOf(initiativeId))
          .where(stillToCheck(initiativeId, after))
          .orderBy(...pageOrder)
          .limit(pageSize)
      : [];
    if (roll && part.length > 0) {
      const hashes = new Map<string, Uint8Array>();
      for (const row of part) {
        // Damaged data is "no personal data"; data under a key that is not configured stops the check (the page is not written).
        const identity = row.personalData
          ? await openPersonalData(deps.keys, row.personalData).catch((error: unknown) => {
              if (error instanceof PersonalDataKeyError) throw error;
              return undefined;
            })
          : undefined;
        const hash = identity ? rollHashOrNull(deps, jurisdictionId, identity, roll.keyVersion) : null;
        if (hash) hashes.set(row.id, hash);
      }
      const found = await rollLookup(tx, jurisdictionId, [...hashes.values()]);
      const checks: (typeof verificationRollChecks.$inferInsert)[] = [];
      const decisions: (typeof verificationDecisions.$inferInsert)[] = [];
      for (const row of part) {
        const hash = hashes.get(row.id);
        const rollDistrict = hash === undefined ? undefined : found.get(bytesToHex(hash));
        const result: RollResult = hash === undefined ? 'no-personal-data' : rollDistrict === undefined ? 'not-on-roll' : rollDistrict === row.district ? 'on-roll' : 'other-district';
        checks.push({ initiativeId, signatureId: row.id, result, rollDistrict: result === 'other-district' ? rollDistrict! : null });
        if (result === 'on-roll') {
          decisions.push({ initiativeId, signatureId: row.id, decision: 'valid', reason: ROLL_VALID_REASON, source: 'roll', clerk: principal, decidedAt: now });
        }
      }
      const checked = await tx.insert(verificationRollChecks).values(checks).onConflictDoNothing().returning({ signatureId: verificationRollChecks.signatureId });
      const decided = decisions.length
        ? await tx.insert(verificationDecisions).values(decisions).onConflictDoNothing().returning({ signatureId: verificationDecisions.signatureId })
        : [];
      // The page read undecided, unchecked signatures: each written check and decision moves one out of that bucket.
      const checkedIds = new Set(checked.map((r) => r.signatureId));
      const districtOf = new Map(part.map((row) => [row.id, row.district]));
      const decidedIds = new Set(decided.map((r) => r.signatureId));
      await moveTallies(
        tx,
        initiativeId,
        checks
          .filter((c) => checkedIds.has(c.signatureId) || decidedIds.has(c.signatureId))
          .map((c) => {
            const district = districtOf.get(c.signatureId)!;
            const valid = decidedIds.has(c.signatureId);
            return {
              from: { district, decision: '', reason: '', rollResult: '' },
              to: { district, decision: valid ? 'valid' : '', reason: valid ? ROLL_VALID_REASON : '', rollResult: checkedIds.has(c.signatureId) ? c.result : '' },
            };
          }),
      );
      await tx
        .update(verifications)
        .set({ rollCheckAfter: part[part.length - 1]!.id, rollCheckMissingKey: null })
        .where(eq(verifications.initiativeId, initiativeId));
      // A full page may have more after it; a short one was the last.
      if (part.length === pageSize) return 'page';
    }
    // Counted from the checks themselves, so the totals hold across pages, restarts and engines.
    const totals = await rollTotals(tx, initiativeId);
    await appendAudit(tx, {
      actor: principal,
      action: 'verification.roll-check',
      at: now,
      jurisdictionId,
      initiativeId,
      details: {
        rollImport: roll?.id ?? verification.rollCheckImport,
        ...(roll && roll.id !== verification.rollCheckImport ? { rollImportAtStart: verification.rollCheckImport } : {}),
        checked: totals.onRoll + totals.notOnRoll + totals.otherDistrict + totals.noPersonalData,
        ...totals,
      },
    });
    await tx.update(verifications).set({ rollCheckDoneAt: now, rollCheckMissingKey: null }).where(eq(verifications.initiativeId, initiativeId));
    return 'done';
  });
}

type RollTotals = { onRoll: number; notOnRoll: number; otherDistrict: number; noPersonalData: number };

async function rollTotals(db: Executor, initiativeId: string): Promise<RollTotals> {
  const rows = await db
    .select({ result: verificationRollChecks.result, n: sql<string>`count(*)` })
    .from(verificationRollChecks)
    .where(eq(verificationRollChecks.initiativeId, initiativeId))
    .groupBy(verificationRollChecks.result);
  const n = (result: RollResult) => Number(rows.find((r) => r.result === result)?.n ?? 0);
  return { onRoll: n('on-roll'), notOnRoll: n('not-on-roll'), otherDistrict: n('other-district'), noPersonalData: n('no-personal-data') };
}

/**
 * Where a check against the roll stands: `checked` of `toCheck` signatures (those decided by a
 * clerk before the check reached them are not checked), or null when none was due. From the
 * tallies when given, else counted from the rows.
 */
async function rollCheckProgress(db: Executor, verification: VerificationRow, tallied?: Pick<TalliedFigures, 'roll' | 'unchecked'>) {
  if (!verification.rollCheckRequestedAt) return null;
  const id = verification.initiativeId;
  const [checked] = tallied
    ? [{ n: String(tallied.roll.onRoll + tallied.roll.notOnRoll + tallied.roll.otherDistrict + tallied.roll.noPersonalData) }]
    : await db.select({ n: sql<string>`count(*)` }).from(verificationRollChecks).where(eq(verificationRollChecks.initiativeId, id));
  const done = verification.rollCheckDoneAt !== null;
  const after = verification.rollCheckAfter;
  const [left] = done
    ? [{ n: '0' }]
    : tallied
      ? [{ n: String(tallied.unchecked) }]
      : await db
        .select({ n: sql<string>`count(*)` })
        .from(signatures)
        .leftJoin(verificationDecisions, rulingOf(id))
        .leftJoin(verificationRollChecks, rollCheckOf(id))
        .where(stillToCheck(id, after));
  const n = Number(checked?.n ?? 0);
  return {
    status: done ? ('done' as const) : verification.rollCheckMissingKey !== null ? ('stopped' as const) : ('running' as const),
    rollImport: verification.rollCheckImport!,
    requestedAt: verification.rollCheckRequestedAt.toISOString(),
    doneAt: verification.rollCheckDoneAt?.toISOString() ?? null,
    checked: n,
    toCheck: n + Number(left?.n ?? 0),
    missingKey: done ? null : verification.rollCheckMissingKey,
  };
}

/** A name the canonical form cannot read matches no roll entry. */
function rollHashOrNull(deps: Pick<AppDeps, 'keys'>, jurisdictionId: string, identity: Identity, keyVersion: string): Uint8Array | null {
  try {
    return rollHashFor(deps.keys, jurisdictionId, identity, keyVersion);
  } catch {
    return null;
  }
}

export interface DecisionOutcome {
  recorded: number;
  changed: number;
  unchanged: number;
  results: { signatureId: string; decision: Decision; outcome: 'recorded' | 'changed' | 'unchanged' }[];
}

/**
 * Records clerks' decisions in one transaction. A signature found invalid or a duplicate leaves
 * the count at once: its status, the counters and an `invalidate` entry of the log change together.
 */
export async function recordDecisions(deps: AppDeps, id: string, principal: Principal, decisions: DecisionInput[]): Promise<DecisionOutcome> {
  const now = deps.clock();
  const errors: FieldError[] = [];
  const byId = new Map<string, { index: number; input: DecisionInput }>();
  decisions.forEach((input, index) => {
    const earlier = byId.get(input.signatureId);
    if (earlier && (earlier.input.decision !== input.decision || earlier.input.reason !== input.reason || earlier.input.duplicateOf !== input.duplicateOf)) {
      errors.push({ field: `body.decisions.${index}`, message: `Contradicts decision ${earlier.index} on the same signature.` });
    }
    if (!earlier) byId.set(input.signatureId, { index, input });
  });
  if (errors.length) throw problems.validation(errors);

  return deps.db.db.transaction(async (tx) => {
    const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(tx, id);
    await requireClerk(tx, principal, jurisdiction.id);
    if (initiative.status !== 'verifying') throw problems.illegalTransition(initiative.status, 'record verification decisions');
    const verification = await lockVerification(tx, id, 'record verification decisions', initiative.status);

    // The signatures ruled on, and the partners duplicates name: read together, in the transaction holding the verification's row.
    const partnerIds = [...new Set([...byId.values()].flatMap(({ input }) => (input.duplicateOf ? [input.duplicateOf] : [])))];
    const ids = [...new Set([...byId.keys(), ...partnerIds])];
    const rows = await tx
      .select({
        id: signatures.id,
        status: signatures.status,
        district: signatures.district,
        decision: verificationDecisions.decision,
        reason: verificationDecisions.reason,
        duplicateOf: verificationDecisions.duplicateOf,
        rollResult: verificationRollChecks.result,
        sampled: verificationSamples.position,
      })
      .from(signatures)
      .leftJoin(verificationDecisions, rulingOf(id))
      .leftJoin(verificationRollChecks, rollCheckOf(id))
      .leftJoin(verificationSamples, and(eq(verificationSamples.initiativeId, id), eq(verificationSamples.signatureId, signatures.id)))
      .where(and(eq(signatures.initiativeId, id), inArray(signatures.id, ids)));
    const found = new Map(rows.map((row) => [row.id, row]));

    for (const [signatureId, { index, input }] of byId) {
      const row = found.get(signatureId);
      const field = `body.decisions.${index}.signatureId`;
      if (!row) errors.push({ field, code: 'unknown-signature', message: 'No signature with this id in this initiative.' });
      else if (row.status === 'withdrawn') errors.push({ field, code: 'signature-withdrawn', message: 'This signature was withdrawn by its signer.' });
      else if (verification.method === 'sample' && row.sampled === null) errors.push({ field, code: 'not-in-sample', message: 'This signature is not in the sample.' });
      if (!input.duplicateOf) continue;
      const partner = found.get(input.duplicateOf);
      const partnerField = `body.decisions.${index}.duplicateOf`;
      if (!partner) errors.push({ field: partnerField, code: 'unknown-signature', message: 'No signature with this id in this initiative.' });
      else if (partner.status === 'withdrawn') errors.push({ field: partnerField, code: 'signature-withdrawn', message: 'This signature was withdrawn by its signer.' });
      // The regulation's duplicate: both signatures of the pair are in the sample.
      else if (verification.method === 'sample' && partner.sampled === null) errors.push({ field: partnerField, code: 'not-in-sample', message: 'The partner of a duplicate in a sample must be in the sample.' });
    }
    if (errors.length) throw problems.validation(errors);
    await checkDuplicatePartners(tx, id, [...byId.values()].map(({ input }) => input), found);

    const final = [...byId.values()].filter(({ input }) => {
      const { decision: previous, duplicateOf: previousPartner } = found.get(input.signatureId)!;
      // A duplicate's partner is part of its ruling: naming another one would change a final ruling.
      if (previous === 'duplicate' && input.decision === 'duplicate') return previousPartner !== null && previousPartner !== input.duplicateOf;
      return previous !== null && previous !== 'valid' && previous !== input.decision;
    });
    if (final.length) {
      throw problems.conflict(
        'decision-final',
        'Decision already final',
        'An invalid or duplicate signature has left the count and its log entry is written; it cannot be ruled otherwise.',
        { signatures: final.map(({ input }) => input.signatureId) },
      );
    }

    const outcome: DecisionOutcome = { recorded: 0, changed: 0, unchanged: 0, results: [] };
    const audited: Record<string, unknown>[] = [];
    const inserts: (typeof verificationDecisions.$inferInsert)[] = [];
    const invalidated: { id: string; district: string }[] = [];
    const moves: TallyMove[] = [];
    for (const { input } of byId.values()) {
      const row = found.get(input.signatureId)!;
      const reason = input.reason ?? null;
      const duplicateOf = input.duplicateOf ?? null;
      if (row.decision === input.decision && input.decision === 'duplicate' && row.duplicateOf === null && duplicateOf) {
        // A duplicate ruled before rulings named their partner gets it now: the ruling stands, its record says whom it duplicates.
        await tx
          .update(verificationDecisions)
          .set({ duplicateOf })
          .where(and(eq(verificationDecisions.initiativeId, id), eq(verificationDecisions.signatureId, input.signatureId)));
        outcome.changed++;
        outcome.results.push({ signatureId: input.signatureId, decision: input.decision, outcome: 'changed' });
        audited.push({ signatureId: input.signatureId, decision: input.decision, duplicateOf, previous: 'duplicate', partnerAdded: true });
        continue;
      }
      if (row.decision === input.decision) {
        outcome.unchanged++;
        outcome.results.push({ signatureId: input.signatureId, decision: input.decision, outcome: 'unchanged' });
        continue;
      }
      if (row.decision === null) {
        inserts.push({ initiativeId: id, signatureId: input.signatureId, decision: input.decision, reason, duplicateOf, source: 'clerk', clerk: principal.subject, decidedAt: now });
        outcome.recorded++;
        outcome.results.push({ signatureId: input.signatureId, decision: input.decision, outcome: 'recorded' });
      } else {
        await tx
          .update(verificationDecisions)
          .set({ decision: input.decision, reason, duplicateOf, source: 'clerk', clerk: principal.subject, decidedAt: now })
          .where(and(eq(verificationDecisions.initiativeId, id), eq(verificationDecisions.signatureId, input.signatureId)));
        outcome.changed++;
        outcome.results.push({ signatureId: input.signatureId, decision: input.decision, outcome: 'changed' });
      }
      const rollResult = row.rollResult ?? '';
      moves.push({
        from: { district: row.district, decision: row.decision ?? '', reason: row.reason ?? '', rollResult },
        to: { district: row.district, decision: input.decision, reason: reason ?? '', rollResult },
      });
      audited.push({ signatureId: input.signatureId, decision: input.decision, reason, ...(duplicateOf ? { duplicateOf } : {}), ...(row.decision ? { previous: row.decision } : {}) });
      if (input.decision !== 'valid' && row.status === 'counted') invalidated.push({ id: row.id, district: row.district });
    }
    for (const part of chunks(inserts)) await tx.insert(verificationDecisions).values(part);
    await moveTallies(tx, id, moves);
    await invalidate(tx, id, invalidated, now);
    if (audited.length) {
      await appendAudit(tx, {
        actor: principal.subject,
        action: 'verification.decisions',
        at: now,
        jurisdictionId: jurisdiction.id,
        initiativeId: id,
        details: { method: verification.method, decisions: audited },
      });
    }
    return outcome;
  });
}

/**
 * A duplicate's partner stays judged on its merits: it may not itself be ruled a duplicate (already,
 * or in this batch), and a signature some duplicate names as its partner may not be ruled a duplicate
 * (already, or in this batch). Else one pair would count twice in the projection, or both of it.
 */
async function checkDuplicatePartners(tx: Transaction, initiativeId: string, inputs: DecisionInput[], found: Map<string, { decision: Decision | null }>) {
  const duplicates = inputs.filter((input) => input.decision === 'duplicate' && input.duplicateOf);
  if (duplicates.length === 0) return;
  const ruledDuplicateNow = new Set(duplicates.map((input) => input.signatureId));
  const partnersNow = new Set(duplicates.map((input) => input.duplicateOf!));
  const partnerRuledDuplicate = duplicates.filter((input) => found.get(input.duplicateOf!)?.decision === 'duplicate' || ruledDuplicateNow.has(input.duplicateOf!));
  if (partnerRuledDuplicate.length) {
    throw problems.conflict(
      'duplicate-partner',
      'Partner ruled a duplicate',
      'The signature named as the partner of a duplicate is itself ruled a duplicate; name the signature of the pair that stays in the count.',
      { signatures: partnerRuledDuplicate.map((input) => input.signatureId), duplicateOf: partnerRuledDuplicate.map((input) => input.duplicateOf) },
    );
  }
  // Those of the signatures ruled duplicate now that duplicates already recorded name as their partner.
  const named = await tx
    .select({ duplicateOf: verificationDecisions.duplicateOf })
    .from(verificationDecisions)
    .where(and(eq(verificationDecisions.initiativeId, initiativeId), inArray(verificationDecisions.duplicateOf, [...ruledDuplicateNow])));
  const namedAsPartner = duplicates.filter((input) => partnersNow.has(input.signatureId) || named.some((n) => n.duplicateOf === input.signatureId));
  if (namedAsPartner.length) {
    throw problems.conflict(
      'duplicate-partner',
      'Signature named as a partner',
      'This signature is named as the partner of a duplicate, so it stays judged on its merits and cannot be ruled a duplicate itself.',
      { signatures: namedAsPartner.map((input) => input.signatureId) },
    );
  }
}

/** Takes signatures out of the count: status, slotted counters and the public log, in the caller's transaction. */
async function invalidate(tx: Transaction, initiativeId: string, rows: { id: string; district: string }[], now: Date) {
  if (rows.length === 0) return;
  for (const part of chunks(rows)) {
    await tx
      .update(signatures)
      .set({ status: 'invalid' })
      .where(
        and(
          eq(signatures.initiativeId, initiativeId),
          inArray(
            signatures.id,
            part.map((r) => r.id),
          ),
        ),
      );
  }
  const perDistrict = new Map<string, number>();
  for (const row of rows) perDistrict.set(row.district, (perDistrict.get(row.district) ?? 0) + 1);
  await bumpCounts(tx, initiativeId, [...perDistrict].map(([district, n]) => [district, -n] as const));
  for (const row of rows) await appendLogEntry(tx, { initiativeId, type: 'invalidate', ref: row.id, at: now });
}

type TallyBucket = Omit<typeof verificationTallies.$inferInsert, 'initiativeId' | 'n'>;
type TallyMove = { from: TallyBucket; to: TallyBucket };

/** Counts a verification's signatures into its tallies from the rows, by district, ruling and result against the roll. */
export async function buildTallies(tx: Transaction, initiativeId: string) {
  await tx.delete(verificationTallies).where(eq(verificationTallies.initiativeId, initiativeId));
  await tx.execute(sql`
    insert into verification_tallies (initiative_id, district, decision, reason, roll_result, n)
    select ${initiativeId}, s.district, coalesce(d.decision, ''), coalesce(d.reason, ''), coalesce(c.result, ''), count(*)
    from signatures s
    left join verification_decisions d on d.initiative_id = s.initiative_id and d.signature_id = s.id
    left join verification_roll_checks c on c.initiative_id = s.initiative_id and c.signature_id = s.id
    where s.initiative_id = ${initiativeId} and s.status <> 'withdrawn'
    group by 2, 3, 4, 5`);
}

/**
 * Moves signatures from bucket to bucket of the tallies, in the caller's transaction, which holds
 * the verification's row: the only writer of its decisions and checks at that moment.
 */
async function moveTallies(tx: Transaction, initiativeId: string, moves: TallyMove[]) {
  const deltas = new Map<string, TallyBucket & { n: number }>();
  const add = (bucket: TallyBucket, n: number) => {
    const key = JSON.stringify([bucket.district, bucket.decision, bucket.reason, bucket.rollResult]);
    const entry = deltas.get(key) ?? { ...bucket, n: 0 };
    entry.n += n;
    deltas.set(key, entry);
  };
  for (const move of moves) {
    add(move.from, -1);
    add(move.to, 1);
  }
  const changed = [...deltas.values()].filter((d) => d.n !== 0).map((d) => ({ initiativeId, ...d }));
  for (const part of chunks(changed)) {
    await tx
      .insert(verificationTallies)
      .values(part)
      .onConflictDoUpdate({
        target: [verificationTallies.initiativeId, verificationTallies.district, verificationTallies.decision, verificationTallies.reason, verificationTallies.rollResult],
        set: { n: sql`${verificationTallies.n} + excluded.n` },
      });
  }
}

/** Valid rulings a full count took back: their signatures are undecided again. */
async function untallyValid(tx: Transaction, initiativeId: string, reconsidered: { signatureId: string; reason: string | null }[]) {
  const moves: TallyMove[] = [];
  for (const part of chunks(reconsidered)) {
    const rows = await tx
      .select({ id: signatures.id, district: signatures.district, rollResult: verificationRollChecks.result })
      .from(signatures)
      .leftJoin(verificationRollChecks, rollCheckOf(initiativeId))
      .where(
        and(
          eq(signatures.initiativeId, initiativeId),
          inArray(
            signatures.id,
            part.map((r) => r.signatureId),
          ),
        ),
      );
    const reasonOf = new Map(part.map((r) => [r.signatureId, r.reason ?? '']));
    for (const row of rows) {
      const rollResult = row.rollResult ?? '';
      moves.push({ from: { district: row.district, decision: 'valid', reason: reasonOf.get(row.id)!, rollResult }, to: { district: row.district, decision: '', reason: '', rollResult } });
    }
  }
  await moveTallies(tx, initiativeId, moves);
}

/**
 * What a view of the verification shows, from its tallies: the signatures' counts by district, the
 * rulings, those still undecided, and the check against the roll (`unchecked`: undecided and not
 * reached yet; a page checks every undecided signature it passes, so none lies behind it).
 */
async function talliedFigures(db: Executor, initiativeId: string) {
  const rows = await db
    .select({ district: verificationTallies.district, decision: verificationTallies.decision, reason: verificationTallies.reason, rollResult: verificationTallies.rollResult, n: verificationTallies.n })
    .from(verificationTallies)
    .where(eq(verificationTallies.initiativeId, initiativeId));
  const tally: VerifiedTally = { total: 0, byDistrict: {}, raw: 0, rawByDistrict: {} };
  const decisions: DecisionTallyRow[] = [];
  const roll: RollTotals = { onRoll: 0, notOnRoll: 0, otherDistrict: 0, noPersonalData: 0 };
  const rollKey = { 'on-roll': 'onRoll', 'not-on-roll': 'notOnRoll', 'other-district': 'otherDistrict', 'no-personal-data': 'noPersonalData' } as const;
  let undecided = 0;
  let unchecked = 0;
  for (const row of rows) {
    const n = Number(row.n);
    if (n === 0) continue;
    tally.raw += n;
    tally.rawByDistrict[row.district] = (tally.rawByDistrict[row.district] ?? 0) + n;
    // Invalid and duplicate signatures have left the count; undecided and valid ones are in it.
    if (row.decision === '' || row.decision === 'valid') {
      tally.total += n;
      tally.byDistrict[row.district] = (tally.byDistrict[row.district] ?? 0) + n;
    }
    if (row.decision === '') undecided += n;
    else decisions.push({ decision: row.decision, reason: row.reason === '' ? null : row.reason, district: row.district, n });
    if (row.rollResult !== '') roll[rollKey[row.rollResult]] += n;
    else if (row.decision === '') unchecked += n;
  }
  return { tally, decisions, undecided, roll, unchecked };
}

type TalliedFigures = Awaited<ReturnType<typeof talliedFigures>>;

interface DecisionTallyRow {
  decision: Decision;
  reason: string | null;
  district: string;
  n: number;
}

/** Decisions grouped by kind, reason and district; over the sample only when `sampleOnly`. */
async function decisionTallies(db: Executor, initiativeId: string, sampleOnly: boolean): Promise<DecisionTallyRow[]> {
  const base = db
    .select({ decision: verificationDecisions.decision, reason: verificationDecisions.reason, district: signatures.district, n: sql<string>`count(*)` })
    .from(verificationDecisions)
    .innerJoin(signatures, eq(signatures.id, verificationDecisions.signatureId));
  const joined = sampleOnly
    ? base.innerJoin(
        verificationSamples,
        and(eq(verificationSamples.initiativeId, verificationDecisions.initiativeId), eq(verificationSamples.signatureId, verificationDecisions.signatureId)),
      )
    : base;
  const rows = await joined
    .where(eq(verificationDecisions.initiativeId, initiativeId))
    .groupBy(verificationDecisions.decision, verificationDecisions.reason, signatures.district);
  return rows.map((row) => ({ ...row, n: Number(row.n) }));
}

/** What a clerk's reference to a signature designates: one signature, none, or several. */
export type SignatureReference = { found: 'one'; id: string } | { found: 'none' } | { found: 'several' };

const UUID_LOWEST = '00000000-0000-0000-0000-000000000000';
const UUID_HIGHEST = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/**
 * The signature of an initiative a clerk refers to by the reference their page shows (the first
 * characters of its id, 8 at least) or by its whole id. In a sample, among the sampled signatures,
 * the only ones a duplicate may name there: a prefix shared with a signature outside it is no
 * ambiguity. Found by the range of ids the prefix spans, which the indexes serve.
 */
export async function signatureByReference(db: Executor, initiativeId: string, reference: string): Promise<SignatureReference> {
  const ref = reference.trim().toLowerCase();
  if (isUuid(ref)) return { found: 'one', id: ref };
  // Hex digits, and hyphens where a uuid has them.
  if (!/^[0-9a-f]{8}[0-9a-f-]{0,28}$/.test(ref) || [...ref].some((ch, i) => (ch === '-') !== (UUID_LOWEST[i] === '-'))) return { found: 'none' };
  const [low, high] = [UUID_LOWEST, UUID_HIGHEST].map((bound) => ref + bound.slice(ref.length));
  const [verification] = await db.select({ method: verifications.method }).from(verifications).where(eq(verifications.initiativeId, initiativeId));
  const rows =
    verification?.method === 'sample'
      ? await db
          .select({ id: verificationSamples.signatureId })
          .from(verificationSamples)
          .where(and(eq(verificationSamples.initiativeId, initiativeId), gte(verificationSamples.signatureId, low!), lte(verificationSamples.signatureId, high!)))
          .limit(2)
      : await db
          .select({ id: signatures.id })
          .from(signatures)
          .where(and(eq(signatures.initiativeId, initiativeId), gte(signatures.id, low!), lte(signatures.id, high!)))
          .limit(2);
  return rows.length === 1 ? { found: 'one', id: rows[0]!.id } : rows.length ? { found: 'several' } : { found: 'none' };
}

/** Where a sample's first undecided signature lies in draw order; null when every one is decided. */
export async function firstPendingPosition(db: Executor, initiativeId: string): Promise<number | null> {
  const [row] = await db
    .select({ position: sql<number | null>`min(${verificationSamples.position})` })
    .from(verificationSamples)
    .leftJoin(verificationDecisions, and(eq(verificationDecisions.initiativeId, initiativeId), eq(verificationDecisions.signatureId, verificationSamples.signatureId)))
    .where(and(eq(verificationSamples.initiativeId, initiativeId), isNull(verificationDecisions.signatureId)));
  return row?.position === null || row?.position === undefined ? null : Number(row.position);
}

/** Signatures that still need a clerk's decision before completion. */
async function pendingCount(db: Executor, verification: VerificationRow): Promise<number> {
  const id = verification.initiativeId;
  if (verification.method === 'sample') {
    const [row] = await db
      .select({ n: sql<string>`count(*)` })
      .from(verificationSamples)
      .leftJoin(verificationDecisions, and(eq(verificationDecisions.initiativeId, id), eq(verificationDecisions.signatureId, verificationSamples.signatureId)))
      .where(and(eq(verificationSamples.initiativeId, id), isNull(verificationDecisions.signatureId)));
    return Number(row?.n ?? 0);
  }
  // A full count checks every counted signature (SPEC §5): those the roll did not settle wait for a clerk.
  const [row] = await db
    .select({ n: sql<string>`count(*)` })
    .from(signatures)
    .leftJoin(verificationDecisions, rulingOf(id))
    .where(and(eq(signatures.initiativeId, id), eq(signatures.status, 'counted'), isNull(verificationDecisions.signatureId)));
  return Number(row?.n ?? 0);
}

interface SampleResult {
  projection: Projection;
  assessment: SampleAssessment;
  valid: number;
  duplicates: number;
  byDistrict: Record<string, Projection>;
}

function sampleResult(
  verification: VerificationRow,
  tallies: DecisionTallyRow[],
  rawByDistrict: Record<string, number>,
  rules: ReturnType<typeof rulesOf>,
  jurisdiction: JurisdictionElectorate,
): SampleResult {
  // Each district's projection is capped at the signatures filed there (its raw count).
  const perDistrict: Record<string, { valid: number; duplicates: number; raw: number }> = {};
  let valid = 0;
  let duplicates = 0;
  for (const row of tallies) {
    const d = (perDistrict[row.district] ??= { valid: 0, duplicates: 0, raw: rawByDistrict[row.district] ?? 0 });
    if (row.decision === 'valid') {
      d.valid += row.n;
      valid += row.n;
    } else if (row.decision === 'duplicate') {
      d.duplicates += row.n;
      duplicates += row.n;
    }
  }
  const population = verification.population ?? 0;
  const sampleSize = verification.sampleSize ?? 0;
  const projection = projectSample({ population, sampleSize, valid, duplicates });
  const byDistrict = projectDistricts(population, sampleSize, perDistrict);
  // A sample of every signature (N under the minimum sample size) is a count, not a projection.
  const exactByDistrict = Object.fromEntries(Object.entries(byDistrict).map(([code, p]) => [code, p.exact]));
  const assessment = assessSample(rules, jurisdiction, { total: projection.exact, byDistrict: exactByDistrict }, population > 0 && sampleSize >= population);
  return { projection, assessment, valid, duplicates, byDistrict };
}

/**
 * What the verification stands on now: verified counts (full) or projected ones (sample), and the
 * rules evaluated on them. From the tallies when given (a sample's rulings are still counted from
 * its rows, a few thousand), else from the rows.
 */
async function currentResult(db: Executor, initiative: InitiativeRow, jurisdiction: JurisdictionRow, verification: VerificationRow, tallied?: TalliedFigures) {
  const rules = rulesOf(initiative, jurisdiction);
  const sampled = verification.method === 'sample';
  const tally = tallied ? tallied.tally : await verifiedTally(db, initiative.id);
  const tallies = tallied && !sampled ? tallied.decisions : await decisionTallies(db, initiative.id, sampled);
  const figures = electorateOf(initiative, jurisdiction);
  const sample = verification.method === 'sample' ? sampleResult(verification, tallies, tally.rawByDistrict, rules, figures) : null;
  // Projections are rounded down: a certificate never claims a signature the sample does not support.
  const counts: SignatureTally = sample
    ? { total: floorOf(sample.projection.exact), byDistrict: Object.fromEntries(Object.entries(sample.byDistrict).map(([k, v]) => [k, floorOf(v.exact)])) }
    : { total: tally.total, byDistrict: tally.byDistrict };
  const evaluation = evaluateRules(rules, figures, counts);
  const districts = evaluation.districts.map((d) => ({ code: d.code, raw: tally.rawByDistrict[d.code] ?? 0, valid: d.signatures, required: d.required, met: d.met }));
  // Found valid by a ruling, one by one (a clerk's or the roll's): a full count's valid signatures once all are decided; a sample's V, where `valid` is projected.
  const verified = tallies.reduce((sum, row) => (row.decision === 'valid' ? sum + row.n : sum), 0);
  return { rules, tally, tallies, sample, counts, verified, evaluation, districts };
}

type VerifiedDistrict = Awaited<ReturnType<typeof currentResult>>['districts'][number];

/** Up to this many districts a report lists them all; beyond, this many (as a progress: 1,000). */
export const REPORT_DISTRICTS_MAX = PROGRESS_DISTRICTS_MAX;

/**
 * The districts a verification report lists: every one, in the jurisdiction's order, up to
 * REPORT_DISTRICTS_MAX; beyond, at most that many, in the order a clerk about to certify needs
 * them: those that had signatures and miss their minimum (nearest to it first), those that meet it (least to spare first: one more invalid signature could
 * tip them), then the others with signatures (most valid first, as a progress). As a progress,
 * a district without a signature that does not meet a minimum is left out: no ruling can change
 * it, and the criteria count it. The rules and the certificate always take every district; the
 * CSV by district gives them all.
 */
export function listedVerifiedDistricts(districts: VerifiedDistrict[]): VerifiedDistrict[] {
  if (districts.length <= REPORT_DISTRICTS_MAX) return districts;
  const tier = (d: VerifiedDistrict) => (d.met === false ? 0 : d.met === true ? 1 : 2);
  const shortfall = (d: VerifiedDistrict) => (d.required ?? 0) - d.valid;
  const within: Record<number, (a: VerifiedDistrict, b: VerifiedDistrict) => number> = {
    0: (a, b) => shortfall(a) - shortfall(b) || b.raw - a.raw,
    1: (a, b) => shortfall(b) - shortfall(a),
    2: (a, b) => b.valid - a.valid || b.raw - a.raw,
  };
  return districts
    .filter((d) => d.raw > 0 || d.met === true)
    .sort((a, b) => tier(a) - tier(b) || within[tier(a)]!(a, b) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
    .slice(0, REPORT_DISTRICTS_MAX);
}

/** Every district's verified figures, with its name, in the jurisdiction's order: the CSV by district. */
export async function verificationDistricts(deps: AppDeps, id: string, principal: Principal) {
  const db = deps.db.db;
  const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(db, id);
  await requireClerk(db, principal, jurisdiction.id);
  const [verification] = await db.select().from(verifications).where(eq(verifications.initiativeId, id));
  if (!verification) throw problems.notFound('Verification', id);
  const result = await currentResult(db, initiative, jurisdiction, verification, await talliedFigures(db, id));
  const names = districtsByCode(jurisdiction.districts);
  return result.districts.map((d) => ({ ...d, name: names.get(d.code)?.name ?? d.code }));
}

export const DISTRICT_EXPORT_COLUMNS = ['district', 'name', 'raw', 'valid', 'required', 'met'] as const;

export type VerifiedSignature = {
  id: string;
  position: number | null;
  channel: 'online' | 'paper';
  district: string;
  sheet: string | null;
  collector: string | null;
  status: 'counted' | 'withdrawn' | 'invalid';
  rollCheck: 'on-roll' | 'not-on-roll' | 'other-district' | 'no-personal-data' | null;
  rollDistrict: string | null;
  decision: { decision: Decision; reason: string | null; duplicateOf: string | null; source: 'clerk' | 'roll'; clerk: string; decidedAt: string } | null;
  personalData: { givenNames: string; familyName: string; birthdate: string } | null;
};

/**
 * A page of the signatures under verification: the sample in draw order, or every signature of a
 * full count by time signed, then id. Keyset pagination (the cursor is a position or the id of a
 * signature of this initiative, else a 400), so pages stay cheap.
 */
async function signaturePage(db: Executor, verification: VerificationRow, query: Pick<VerificationQuery, 'filter' | 'cursor' | 'limit'>) {
  const id = verification.initiativeId;
  const sampled = verification.method === 'sample';
  const where: SQL[] = [eq(signatures.initiativeId, id), sql`${signatures.status} <> 'withdrawn'`];
  if (query.filter === 'pending') where.push(isNull(verificationDecisions.signatureId));
  if (query.filter === 'decided') where.push(sql`${verificationDecisions.signatureId} is not null`);
  if (query.cursor) {
    // What this list's nextCursor gives: a position in the draw (an integer column), or a signature id.
    const valid = sampled ? /^\d{1,9}$/.test(query.cursor) : isUuid(query.cursor);
    if (!valid) throw problems.validation([{ field: 'query.cursor', message: 'Not a cursor of this list.' }]);
    if (!sampled) {
      // The cursor is resolved to its signature's time: one that names no signature of this initiative
      // would give an empty page, which a client takes for the end of the list.
      const [known] = await db
        .select({ id: signatures.id })
        .from(signatures)
        .where(and(eq(signatures.id, query.cursor), eq(signatures.initiativeId, id)))
        .limit(1);
      if (!known) throw problems.validation([{ field: 'query.cursor', message: 'Not a cursor of this list: no signature of this initiative has this id.' }]);
    }
    where.push(sampled ? gt(verificationSamples.position, Number(query.cursor)) : afterSignature(query.cursor));
  }
  const select = db
    .select({
      id: signatures.id,
      position: verificationSamples.position,
      channel: signatures.channel,
      district: signatures.district,
      sheet: signatures.sheet,
      collector: signatures.collector,
      status: signatures.status,
      rollCheck: verificationRollChecks.result,
      rollDistrict: verificationRollChecks.rollDistrict,
      decision: verificationDecisions.decision,
      reason: verificationDecisions.reason,
      duplicateOf: verificationDecisions.duplicateOf,
      source: verificationDecisions.source,
      clerk: verificationDecisions.clerk,
      decidedAt: verificationDecisions.decidedAt,
    })
    .from(signatures);
  const withSample = sampled
    ? select.innerJoin(verificationSamples, and(eq(verificationSamples.initiativeId, id), eq(verificationSamples.signatureId, signatures.id)))
    : select.leftJoin(verificationSamples, and(eq(verificationSamples.initiativeId, id), eq(verificationSamples.signatureId, signatures.id)));
  const rows = await withSample
    .leftJoin(verificationDecisions, rulingOf(id))
    .leftJoin(verificationRollChecks, rollCheckOf(id))
    .where(and(...where))
    .orderBy(...(sampled ? [asc(verificationSamples.position)] : pageOrder))
    .limit(query.limit + 1);
  const more = rows.length > query.limit;
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    rows: page,
    nextCursor: more && last ? (sampled ? String(last.position) : last.id) : null,
  };
}

export async function verificationReport(
  deps: AppDeps,
  id: string,
  principal: Principal,
  query: VerificationQuery = { filter: 'all', limit: 100, personalData: false },
) {
  const db = deps.db.db;
  const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(db, id);
  await requireClerk(db, principal, jurisdiction.id);
  const [verification] = await db.select().from(verifications).where(eq(verifications.initiativeId, id));
  if (!verification) throw problems.notFound('Verification', id);
  // From the tallies: a view reads a few rows, whatever the number of signatures (completion counts the rows).
  const tallied = await talliedFigures(db, id);
  const result = await currentResult(db, initiative, jurisdiction, verification, tallied);
  const pending = verification.completedAt ? 0 : verification.method === 'full' ? tallied.undecided : await pendingCount(db, verification);
  const page = await signaturePage(db, verification, query);
  const identities = query.personalData ? await readPersonalData(deps, principal, page.rows.map((r) => r.id)) : new Map();
  const referendumItemId = await referendumItemOf(db, id);

  const byReason = new Map<string, number>();
  let valid = 0;
  let invalid = 0;
  let duplicates = 0;
  for (const row of result.tallies) {
    if (row.decision === 'valid') valid += row.n;
    if (row.decision === 'duplicate') duplicates += row.n;
    if (row.decision === 'invalid') {
      invalid += row.n;
      byReason.set(row.reason ?? '', (byReason.get(row.reason ?? '') ?? 0) + row.n);
    }
  }
  const roll = rollSummary(tallied.roll);
  const rollCheck = await rollCheckProgress(db, verification, tallied);
  const sample = result.sample;
  const listed = listedVerifiedDistricts(result.districts);
  const partial = listed.length < result.districts.length;
  const listedCodes = new Set(listed.map((d) => d.code));
  return {
    initiativeId: id,
    status: initiative.status,
    method: verification.method,
    seed: verification.seed,
    sampleSize: verification.sampleSize,
    population: verification.population,
    startedAt: verification.startedAt.toISOString(),
    completedAt: verification.completedAt?.toISOString() ?? null,
    outcome: verification.outcome,
    reason: verification.reason,
    tallies: {
      decided: valid + invalid + duplicates,
      pending,
      valid,
      invalid,
      invalidByReason: [...byReason].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
      duplicates,
    },
    roll,
    rollCheck,
    projection: sample
      ? {
          population: verification.population ?? 0,
          sampleSize: verification.sampleSize ?? 0,
          valid: sample.valid,
          duplicates: sample.duplicates,
          scale: sample.projection.scale,
          duplicateWeight: sample.projection.duplicateWeight,
          duplicatePenalty: sample.projection.duplicatePenalty,
          projectedValid: sample.projection.projectedValid,
          band: sample.assessment.band,
          criteria: sample.assessment.criteria,
          // Beyond REPORT_DISTRICTS_MAX districts, those the counts list (a sample's counts are its projections).
          districts: Object.entries(sample.byDistrict)
            .filter(([code]) => !partial || listedCodes.has(code))
            .map(([code, projected]) => ({ code, projected: projected.projectedValid })),
        }
      : null,
    counts: { raw: result.tally.raw, valid: result.counts.total, verified: result.verified, districtCount: result.districts.length, districts: listed },
    criteria: result.evaluation.criteria,
    goalMet: result.evaluation.goalMet,
    signatures: {
      items: page.rows.map(
        (row): VerifiedSignature => ({
          id: row.id,
          position: row.position,
          channel: row.channel,
          district: row.district,
          sheet: row.sheet,
          collector: row.collector,
          status: row.status,
          rollCheck: row.rollCheck,
          rollDistrict: row.rollDistrict,
          decision: row.decision
            ? { decision: row.decision, reason: row.reason, duplicateOf: row.duplicateOf, source: row.source!, clerk: row.clerk!, decidedAt: row.decidedAt!.toISOString() }
            : null,
          personalData: identities.get(row.id) ?? null,
        }),
      ),
      nextCursor: page.nextCursor,
    },
    referendumItemId,
  };
}

/** The totals of the check against the roll so far; null when nothing was checked. */
function rollSummary(totals: RollTotals) {
  return totals.onRoll + totals.notOnRoll + totals.otherDistrict + totals.noPersonalData === 0 ? null : totals;
}

/**
 * Completes the verification: certifies into a referendum item with a signed certificate, or
 * declares the initiative insufficient. On a sample, the band decides, and a projection between
 * 95 % and 110 % of a requirement is refused: only a full count may settle it. One transaction.
 */
export async function completeVerification(deps: AppDeps, id: string, principal: Principal, reason: string | undefined) {
  const now = deps.clock();
  return deps.db.db.transaction(async (tx) => {
    // The initiative's row first, then the verification's, in the order a start of a full count takes them (else each could hold one and wait for the other).
    const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(tx, id, 'update');
    await requireClerk(tx, principal, jurisdiction.id);
    if (initiative.status !== 'verifying') throw problems.illegalTransition(initiative.status, 'complete verification');
    const verification = await lockVerification(tx, id, 'complete verification', initiative.status);
    // Certifying before the roll's results are in would certify an incomplete count.
    const rollCheck = await rollCheckProgress(tx, verification);
    if (rollCheck && rollCheck.status !== 'done') {
      throw problems.conflict(
        'roll-check-running',
        'Check against the roll still running',
        `The signatures are still being checked against the electoral roll (${rollCheck.checked} of ${rollCheck.toCheck})` +
          (rollCheck.missingKey ? `, stopped on personal data sealed under key "${rollCheck.missingKey}", which is not configured` : '') +
          '; complete the verification once the check is over.',
        { checked: rollCheck.checked, toCheck: rollCheck.toCheck, missingKey: rollCheck.missingKey },
      );
    }
    const pending = await pendingCount(tx, verification);
    if (pending > 0) {
      throw problems.conflict(
        'verification-pending',
        'Decisions still pending',
        `${pending} signature${pending === 1 ? '' : 's'} still await${pending === 1 ? 's' : ''} a clerk's decision.`,
        { pending },
      );
    }
    const { rules, tally, sample, counts, verified, evaluation, districts } = await currentResult(tx, initiative, jurisdiction, verification);

    if (sample?.assessment.band === 'full-count') {
      throw problems.conflict(
        'full-count-required',
        'A full count is required',
        `The sample projects ${floorOf(sample.projection.exact)} valid signatures: ${describeAssessment(sample.assessment)}. ` +
          'Between 95 % and 110 % of a requirement the sample cannot decide; start a full count (method "full").',
        { band: sample.assessment.band, projectedValid: sample.projection.projectedValid, criteria: sample.assessment.criteria },
      );
    }
    const sampleSummary = sample
      ? {
          seed: verification.seed,
          population: verification.population,
          size: verification.sampleSize,
          valid: sample.valid,
          duplicates: sample.duplicates,
          scale: sample.projection.scale,
          duplicateWeight: sample.projection.duplicateWeight,
          projectedValid: sample.projection.projectedValid,
          band: sample.assessment.band,
        }
      : null;

    const fails = sample ? sample.assessment.band === 'insufficient' : !evaluation.goalMet;
    if (fails) {
      const why = reason ?? (sample ? `The sample projects ${floorOf(sample.projection.exact)} valid signatures: ${describeAssessment(sample.assessment)}` : unmetCriteria(evaluation.criteria));
      await transition(tx, initiative, 'declareInsufficient', {
        actor: principal.subject,
        now,
        patch: { reason: why },
        details: { reason: why, method: verification.method, raw: tally.raw, valid: counts.total, ...(sampleSummary ? { sample: sampleSummary } : {}) },
      });
      await tx.update(verifications).set({ completedAt: now, outcome: 'insufficient', reason: why }).where(eq(verifications.initiativeId, id));
      return { outcome: 'insufficient' as const, referendumItem: null };
    }

    const itemId = crypto.randomUUID();
    const log = await treeHeadAtClose(deps, tx, initiative.id);
    // Never dated before the log head it certifies, which a process whose clock is ahead of this one's may have signed.
    const certifiedAt = log && Date.parse(log.timestamp) > now.getTime() ? new Date(log.timestamp) : now;
    // A council agenda item puts no question to the vote (an agenda draft of older versions may hold one).
    const question = initiative.kind === 'referendum' ? initiative.question : null;
    const certificate = await signWithEngineKey(
      deps.keys,
      'certificate+jwt',
      {
        referendumItem: itemId,
        // The collection period kept (closesAt: the closing, also an early one), to be read against the rules' collectionDays.
        initiative: { id: initiative.id, kind: initiative.kind, title: initiative.title, question, opensAt: initiative.opensAt?.toISOString() ?? null, closesAt: initiative.closesAt?.toISOString() ?? null },
        // The electorate the rules were evaluated on: the jurisdiction's when the initiative opened.
        jurisdiction: { id: jurisdiction.id, name: jurisdiction.name, electorate: electorateOf(initiative, jurisdiction).electorate },
        rules,
        counts: { raw: tally.raw, valid: counts.total, verified, districts },
        criteria: evaluation.criteria,
        method: verification.method,
        seed: verification.seed,
        sample: sampleSummary,
        log,
        certifiedAt: certifiedAt.toISOString(),
      },
      { issuer: deps.config.publicUrl, now: certifiedAt },
    );
    const [item] = await tx
      .insert(referendumItems)
      .values({
        id: itemId,
        initiativeId: id,
        jurisdictionId: jurisdiction.id,
        kind: initiative.kind,
        title: initiative.title,
        question,
        language: initiative.language,
        validSignatures: counts.total,
        districts,
        method: verification.method,
        certifiedAt,
        certificate,
      })
      .returning();
    await transition(tx, initiative, 'certify', {
      actor: principal.subject,
      now: certifiedAt,
      details: { method: verification.method, raw: tally.raw, valid: counts.total, referendumItemId: itemId, ...(sampleSummary ? { sample: sampleSummary } : {}) },
    });
    await tx.update(verifications).set({ completedAt: certifiedAt, outcome: 'certified' }).where(eq(verifications.initiativeId, id));
    await emitEvent(tx, {
      type: 'referendum_item.created',
      at: certifiedAt,
      initiativeId: id,
      jurisdictionId: jurisdiction.id,
      data: { referendumItemId: itemId, initiativeId: id, kind: initiative.kind, validSignatures: counts.total, method: verification.method },
    });
    return { outcome: 'certified' as const, referendumItem: item! };
  });
}

function describeAssessment(assessment: SampleAssessment): string {
  return assessment.criteria
    .map((c) =>
      c.kind === 'goal'
        ? `${(Math.floor((c.percent ?? 0) * 10) / 10).toLocaleString('en')} % of the ${c.required} required (${c.band})`
        : `${c.surelyMet} districts surely and ${c.possiblyMet} possibly meet their minimum, of ${c.required} required (${c.band})`,
    )
    .join('; ');
}

function unmetCriteria(criteria: Evaluation['criteria']): string {
  return criteria
    .filter((c) => !c.met)
    .map((c) => (c.kind === 'goal' ? `valid signatures: ${c.current} of ${c.required} required` : `districts meeting their minimum: ${c.current} of ${c.required} required`))
    .join('; ');
}

/** Opens the export of a verification for a clerk of its jurisdiction, and records who took it. */
export async function openVerificationExport(deps: AppDeps, id: string, principal: Principal): Promise<VerificationRow> {
  const now = deps.clock();
  return deps.db.db.transaction(async (tx) => {
    const { jurisdiction } = await getInitiativeWithJurisdiction(tx, id);
    await requireClerk(tx, principal, jurisdiction.id);
    const [verification] = await tx.select().from(verifications).where(eq(verifications.initiativeId, id));
    if (!verification) throw problems.notFound('Verification', id);
    await appendAudit(tx, { actor: principal.subject, action: 'verification.exported', at: now, jurisdictionId: jurisdiction.id, initiativeId: id, details: { method: verification.method } });
    return verification;
  });
}

/** `duplicate_of` last, so that the columns of earlier exports keep their places. */
export const EXPORT_COLUMNS = ['signature_id', 'channel', 'district', 'sheet', 'collector', 'decision', 'reason', 'clerk', 'time', 'duplicate_of'] as const;

/** The verified signatures with their decisions, page after page, for the official record. */
export async function* verificationExportRows(db: Executor, verification: VerificationRow): AsyncGenerator<(string | null)[]> {
  let cursor: string | undefined;
  do {
    const page = await signaturePage(db, verification, { filter: 'all', cursor, limit: CHUNK });
    for (const row of page.rows) {
      yield [row.id, row.channel, row.district, row.sheet, row.collector, row.decision, row.reason, row.clerk, row.decidedAt?.toISOString() ?? null, row.duplicateOf];
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/** Certified items, newest first, page by page; optionally one jurisdiction's. */
export async function listReferendumItems(db: Executor, query: { jurisdiction?: string; limit: number; cursor?: string }) {
  const rows = await db
    .select()
    .from(referendumItems)
    .where(
      and(
        query.jurisdiction ? eq(referendumItems.jurisdictionId, query.jurisdiction) : undefined,
        query.cursor ? afterCursor(query.cursor, referendumItems.certifiedAt, referendumItems.id) : undefined,
      ),
    )
    .orderBy(desc(referendumItems.certifiedAt), desc(referendumItems.id))
    .limit(query.limit + 1);
  return pageOf(rows, query.limit, (row) => ({ at: row.certifiedAt, id: row.id }));
}

/** The item an initiative was certified into, if it was. */
export async function referendumItemOf(db: Executor, initiativeId: string) {
  const [row] = await db.select({ id: referendumItems.id }).from(referendumItems).where(eq(referendumItems.initiativeId, initiativeId));
  return row?.id ?? null;
}

export async function getReferendumItem(db: Executor, id: string) {
  const [row] = await db.select().from(referendumItems).where(eq(referendumItems.id, id));
  if (!row) throw problems.notFound('Referendum item', id);
  return row;
}
