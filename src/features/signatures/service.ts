import { and, eq, ne, sql } from 'drizzle-orm';
import { checkEligibility, dayInstant, localDay } from '../../core/eligibility';
import { canonicalIdentity, initiativeKeyInfo, signerHash, type Assurance } from '../../core/identity';
import { isCollecting, UNFINISHED_STATUSES, type InitiativeStatus } from '../../core/lifecycle';
import { leafHash, logEntryData } from '../../core/merkle';
import type { Database, Executor } from '../../db/client';
import { logEntries, signatures } from '../../db/schema';
import type { AppDeps } from '../../platform/http';
import { signWithEngineKey } from '../../platform/keys';
import { Problem, problems } from '../../platform/problems';
import type { Identity } from '../auth/verifier';
import { getInitiative, getInitiativeWithJurisdiction, type InitiativeRow } from '../initiatives/service';
import { sealPersonalData } from '../personal-data/service';
import { rollCheck, rollIneligible } from '../roll/service';
import { bumpCounts } from '../progress/service';
import { appendLogEntry } from '../transparency/entries';
import { signatureBatcher, type ActiveSignature } from './batcher';
import { signingContextCache, type SigningContext } from './initiative-cache';
import { mergeDelayMs } from '../transparency/service';

export type SignatureRow = typeof signatures.$inferSelect;

export function signatureView(row: ActiveSignature, logIndex: number | null = null) {
  return {
    id: row.id,
    initiativeId: row.initiativeId,
    status: row.status,
    channel: row.channel,
    district: row.district,
    createdAt: row.createdAt.toISOString(),
    withdrawnAt: row.withdrawnAt?.toISOString() ?? null,
    logIndex,
  };
}

/** Where the signature's `sign` entry sits in the log, once the sequencer has integrated it. */
export async function logIndexOf(db: Executor, initiativeId: string, signatureId: string): Promise<number | null> {
  const [row] = await db
    .select({ leafIndex: logEntries.leafIndex })
    .from(logEntries)
    .where(and(eq(logEntries.initiativeId, initiativeId), eq(logEntries.ref, signatureId), eq(logEntries.type, 'sign')))
    .limit(1);
  return row?.leafIndex ?? null;
}

/** The signer hash of a person for one initiative, under the pepper version the initiative uses. */
export function signerHashFor(deps: Pick<AppDeps, 'keys'>, initiative: Pick<InitiativeRow, 'id' | 'pepperVersion'>, identity: Identity): Uint8Array {
  let canonical: string;
  try {
    canonical = canonicalIdentity(identity);
  } catch {
    throw problems.missingClaims(['given_name', 'family_name', 'birthdate']);
  }
  return signerHash(deps.keys.keyring.keyFor(initiative.pepperVersion, initiativeKeyInfo(initiative.id)), canonical);
}

function assertCollecting(initiative: InitiativeRow, now: Date, action: 'sign' | 'withdraw' = 'sign') {
  if (isCollecting({ ...initiative, status: initiative.status as InitiativeStatus }, now)) return;
  if (initiative.status === 'open' && initiative.closesAt && now >= initiative.closesAt) {
    throw problems.conflict('collection-closed', 'Collection closed', `Signatures were accepted until ${initiative.closesAt.toISOString()}.`, {
      currentStatus: 'closed',
      closesAt: initiative.closesAt.toISOString(),
    });
  }
  if (initiative.status === 'open' && initiative.opensAt && now < initiative.opensAt) {
    throw problems.conflict('collection-not-started', 'Collection not started', `Signatures are accepted from ${initiative.opensAt.toISOString()}.`, {
      currentStatus: 'open',
      opensAt: initiative.opensAt.toISOString(),
    });
  }
  throw problems.illegalTransition(initiative.status, action);
}

export interface SignOutcome {
  created: boolean;
  signature: ActiveSignature;
  receipt: string;
}

/** The signing context changed before the write: decide again on fresh rows. */
const STALE: unique symbol = Symbol('stale');

/**
 * Signs for a verified person. Deduplication is the unique index on (initiative, signer hash):
 * any number of concurrent attempts by one person insert one row; the others get that row back.
 *
 * The initiative and its jurisdiction come from a shared cache; the write accepts the signature only
 * if neither changed since that read. A refusal, or a change caught at the write, is decided again
 * on rows read for this request, so a stale read can never accept nor refuse anyone.
 */
export async function sign(
  deps: AppDeps,
  initiativeId: string,
  signer: Identity & { assurance: string },
  request: { district: string },
): Promise<SignOutcome> {
  const now = deps.clock();
  const cache = signingContextCache(deps.db);
  try {
    let { context, fresh } = await cache.get(initiativeId);
    for (let attempt = 1; ; attempt++) {
      const outcome = await signAgainst(deps, context, signer, request, now).catch((error: unknown): typeof STALE => {
        if (fresh || !(error instanceof Problem)) throw error;
        return STALE;
      });
      if (outcome !== STALE) return outcome;
      // Changed since it was read (a close, a reopening, new rules): read it again and decide on that.
      if (attempt === 3) throw problems.unavailable('The initiative is changing; try again.', 1);
      cache.forget(initiativeId);
      ({ context, fresh } = await cache.get(initiativeId));
    }
  } catch (error) {
    if (error instanceof Problem && error.code.startsWith('ineligible/')) {
      deps.metrics.signatures.inc({ outcome: 'refused', reason: String(error.extra.rule) });
    }
    throw error;
  }
}

async function signAgainst(
  deps: AppDeps,
  { initiative, jurisdiction, initiativeVersion, jurisdictionVersion }: SigningContext,
  signer: Identity & { assurance: string },
  request: { district: string },
  now: Date,
): Promise<SignOutcome | typeof STALE> {
  const db = deps.db.db;
  assertCollecting(initiative, now);
  const hash = signerHashFor(deps, initiative, signer);

  const eligibility = checkEligibility(
    { minimumAge: jurisdiction.minimumAge, minimumAssurance: jurisdiction.minimumAssurance as Assurance, districts: jurisdiction.districts, requireRoll: jurisdiction.requireRoll },
    { birthdate: signer.birthdate, assurance: signer.assurance, district: request.district },
    // The signing date is the jurisdiction's calendar day (a birthday starts at local midnight).
    dayInstant(localDay(now, jurisdiction.timeZone)),
  );
  if (!eligibility.eligible) {
    const refusal = problems.ineligible(eligibility.rule, eligibility.detail);
    // The age the signer must reach, for clients to say it in their words.
    if (eligibility.rule === 'age') refusal.extra.minimumAge = jurisdiction.minimumAge;
    // A district that is not the jurisdiction's is this request's mistake, not a change of rules about the person.
    if (eligibility.rule === 'district') throw refusal;
    return signedBefore(deps, initiative.id, hash, refusal);
  }
  // With a required roll, the roll's district wins over the declared one, known to the jurisdiction or not.
  let district = request.district;
  if (jurisdiction.requireRoll) {
    const onRoll = await rollCheck(deps, db, jurisdiction.id, signer);
    if ('missing' in onRoll) return signedBefore(deps, initiative.id, hash, rollIneligible(onRoll.missing));
    district = onRoll.district;
  }
  const personalData = await sealPersonalData(deps.keys, signer);

  const outcome = await signatureBatcher(deps.db).submit({
    values: {
      id: crypto.randomUUID(),
      initiativeId: initiative.id,
      signerHash: hash,
      keyVersion: initiative.pepperVersion,
      assurance: signer.assurance,
      district,
      createdAt: now,
      personalData,
    },
    expected: { initiativeVersion, jurisdictionVersion },
  });
  if ('stale' in outcome) return STALE;
  if ('inserted' in outcome) {
    deps.metrics.signatures.inc({ outcome: 'accepted', reason: '' });
    return { created: true, signature: outcome.inserted, receipt: await receiptFor(deps, outcome.inserted) };
  }
  // Signed before, or lost the race to a concurrent attempt by the same person: that signature stands.
  deps.metrics.signatures.inc({ outcome: 'duplicate', reason: '' });
  const winner = outcome.duplicate ?? (await findActive(db, initiative.id, hash));
  if (!winner) throw problems.unavailable('The signature could not be recorded; try again.', 1);
  return { created: false, signature: winner, receipt: await receiptFor(deps, winner) };
}

/**
 * Someone the rules refuse now may have signed while they allowed it (the clerks raised the minimum
 * age, required the roll): signing again is idempotent, so that signature comes back, not the refusal.
 * Looked up on refusals only, which are rare.
 */
async function signedBefore(deps: AppDeps, initiativeId: string, hash: Uint8Array, refusal: Problem): Promise<SignOutcome> {
  const earlier = await findActive(deps.db.db, initiativeId, hash);
  if (!earlier) throw refusal;
  deps.metrics.signatures.inc({ outcome: 'duplicate', reason: '' });
  return { created: false, signature: earlier, receipt: await receiptFor(deps, earlier) };
}

function activeSignatureQuery(db: Database) {
  return db
    .select()
    .from(signatures)
    .where(and(eq(signatures.initiativeId, sql.placeholder('initiativeId')), eq(signatures.signerHash, sql.placeholder('hash')), ne(signatures.status, 'withdrawn')))
    .limit(1)
    .prepare('active_signature');
}

/** Built once per database: re-signing (a duplicate) is as common as signing when a link goes round. */
const activeSignatureQueries = new WeakMap<Database, ReturnType<typeof activeSignatureQuery>>();

async function findActive(db: Database, initiativeId: string, hash: Uint8Array): Promise<SignatureRow | undefined> {
  let query = activeSignatureQueries.get(db);
  if (!query) activeSignatureQueries.set(db, (query = activeSignatureQuery(db)));
  const [row] = await query.execute({ initiativeId, hash });
  return row;
}

/** A signed promise that the signature is recorded: the signer keeps it to check later. */
export function receiptFor(deps: Pick<AppDeps, 'keys' | 'config'>, row: Pick<ActiveSignature, 'id' | 'initiativeId' | 'createdAt'>): Promise<string> {
  return signWithEngineKey(
    deps.keys,
    'receipt+jwt',
    {
      initiative: row.initiativeId,
      signature: row.id,
      leaf: Buffer.from(leafHash(logEntryData({ type: 'sign', ref: row.id, at: row.createdAt }))).toString('base64'),
      signedAt: row.createdAt.toISOString(),
      // The promise: the entry is in the log within this many seconds (maximum merge delay).
      mmd: mergeDelayMs(deps) / 1000,
    },
    { issuer: deps.config.publicUrl, now: row.createdAt },
  );
}

/** Whether this person has an active signature on the initiative (no receipt signed: for pages that only say so). */
/** After the collection (closed, or finished): a pepper missing then was retired once nothing needed it (the start refuses to run without one still needed). */
const collectionOver = (status: InitiativeStatus) => status === 'closed' || !UNFINISHED_STATUSES.includes(status);

export async function hasSigned(deps: Pick<AppDeps, 'keys' | 'db'>, initiative: Pick<InitiativeRow, 'id' | 'pepperVersion'>, identity: Identity): Promise<boolean> {
  return (await findActive(deps.db.db, initiative.id, signerHashFor(deps, initiative, identity))) !== undefined;
}

export async function mySignature(deps: AppDeps, initiativeId: string, signer: Identity) {
  const { initiative } = await getInitiativeWithJurisdiction(deps.db.db, initiativeId);
  // Its pepper retired once nothing needed it any more (the start refuses to run without one still needed): gone, not a fault.
  if (collectionOver(initiative.status as InitiativeStatus) && !deps.keys.keyring.versions.includes(initiative.pepperVersion)) throw problems.signerKeyRetired();
  const row = await findActive(deps.db.db, initiative.id, signerHashFor(deps, initiative, signer));
  if (!row) throw problems.notFound('Signature', 'me');
  return { signature: row, receipt: await receiptFor(deps, row) };
}

/**
 * Withdrawal while collection is open; the person may sign again later. The initiative's row is held
 * FOR SHARE, as a batch of signatures holds it, and the clock is read after: a close waits for this
 * commit, and a close committed first is seen here (the withdrawal is then refused). So the count a
 * close leaves never changes afterwards.
 */
export async function withdrawMySignature(deps: AppDeps, initiativeId: string, signer: Identity) {
  const db = deps.db.db;
  const { initiative } = await getInitiativeWithJurisdiction(db, initiativeId);
  assertCollecting(initiative, deps.clock(), 'withdraw');
  const hash = signerHashFor(deps, initiative, signer);
  const row = await db.transaction(async (tx) => {
    const current = await getInitiative(tx, initiative.id, 'share');
    const now = deps.clock();
    assertCollecting(current, now, 'withdraw');
    const [withdrawn] = await tx
      .update(signatures)
      // Nothing left to verify: the personal data goes with the signature (the signer hash stays, for the count's history).
      // Never dated before the signature: it may have been taken by a process whose clock is a few seconds ahead of this one's.
      .set({ status: 'withdrawn', withdrawnAt: sql`greatest(${now.toISOString()}::timestamptz, ${signatures.createdAt})`, personalData: null })
      // Online or on paper: the person, verified, withdraws their own signature (GET …/me shows either).
      .where(and(eq(signatures.initiativeId, initiative.id), eq(signatures.signerHash, hash), eq(signatures.status, 'counted')))
      .returning();
    if (!withdrawn) return undefined;
    await bumpCounts(tx, initiative.id, [[withdrawn.district, -1]]);
    await appendLogEntry(tx, { initiativeId: initiative.id, type: 'withdraw', ref: withdrawn.id, at: withdrawn.withdrawnAt! });
    return withdrawn;
  });
  if (!row) throw problems.notFound('Signature', 'me');
  return row;
}
