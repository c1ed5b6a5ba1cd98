import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { checkEligibility, dayInstant, localDay } from '../../core/eligibility';
import { ageOn, initiativeKeyInfo, type Assurance } from '../../core/identity';
import type { Executor } from '../../db/client';
import { jurisdictions, signatures } from '../../db/schema';
import { paperBatches, paperEntryTallies, paperFormDuplicates } from '../../db/schema-paper';
import type { AppDeps, Principal } from '../../platform/http';
import { problems } from '../../platform/problems';
import { appendAudit } from '../audit/service';
import { requireClerk } from '../auth/access';
import { getInitiative, getInitiativeWithJurisdiction, type InitiativeRow } from '../initiatives/service';
import { personalDataDestroyed, personalDataDestroyedProblem, sealPersonalData } from '../personal-data/service';
import { bumpCounts } from '../progress/service';
import { currentRoll, rollHashFor, rollLookup } from '../roll/service';
import { signerHashFor } from '../signatures/service';
import { appendLogEntries, type NewLogEntry } from '../transparency/entries';
import type { PaperEntry } from './schema';

/** Anomaly criteria: a group stands out with at least this many entries and a rate this many times the initiative's. */
export const ANOMALY_MINIMUM_ENTRIES = 10;
export const ANOMALY_FACTOR = 2;
/** A sheet usually circulates in one neighbourhood: signers of this many districts or more are unusual. */
export const MANY_DISTRICTS = 3;
/** Older than this on the signing date: a birth date worth a second look. */
export const OLDEST_PLAUSIBLE_AGE = 110;

const INSERT_CHUNK = 500;

export type PaperResult =
  | { index: number; status: 'accepted'; signatureId: string; channel: 'paper'; district: string }
  | { index: number; status: 'duplicate'; signatureId: string; channel: 'online' | 'paper' }
  | { index: number; status: 'ineligible'; rule: string; detail: string };

interface Candidate {
  index: number;
  entry: PaperEntry;
  hash: Uint8Array;
  hex: string;
  district: string;
}

const PAPER_ACTION = 'key in paper signatures';

/**
 * Sheets signed during collection may reach the clerk after the deadline, until verification starts,
 * or until the retention schedule destroys the signers' personal data (a closed initiative below its
 * goal): signatures keyed in after that would keep theirs with nothing left to destroy it.
 */
async function assertTakingPaper(db: Executor, initiative: Pick<InitiativeRow, 'id' | 'status'>) {
  if (initiative.status !== 'open' && initiative.status !== 'closed') throw problems.illegalTransition(initiative.status, PAPER_ACTION);
  if (initiative.status === 'closed' && (await personalDataDestroyed(db, initiative.id))) {
    throw personalDataDestroyedProblem('paper signatures can no longer be keyed in.');
  }
}

/**
 * Keys in a batch of paper entries in one transaction. Each entry is accepted, a duplicate of an
 * earlier signature (online or paper: same signer hash) or ineligible (a form whose signature was
 * withdrawn among them); re-sending a batch changes nothing.
 */
export async function keyInPaperBatch(deps: AppDeps, initiativeId: string, principal: Principal, entries: PaperEntry[]) {
  const now = deps.clock();
  const db = deps.db.db;
  const { initiative, jurisdiction, jurisdictionVersion } = await getInitiativeWithJurisdiction(db, initiativeId);
  await requireClerk(db, principal, jurisdiction.id);
  await assertTakingPaper(db, initiative);
  if (!initiative.opensAt || !initiative.closesAt) throw problems.illegalTransition(initiative.status, PAPER_ACTION);
  const zone = jurisdiction.timeZone;
  const today = localDay(now, zone);
  const firstDay = localDay(initiative.opensAt, zone);
  const lastDay = localDay(new Date(initiative.closesAt.getTime() - 1), zone);

  const results: (PaperResult | undefined)[] = new Array(entries.length);
  const tallies = new Map<string, number>();
  const tally = (entry: PaperEntry, outcome: string) => {
    const key = JSON.stringify([entry.sheet, entry.collector, outcome]);
    tallies.set(key, (tallies.get(key) ?? 0) + 1);
  };
  const refuse = (index: number, rule: string, detail: string) => {
    results[index] = { index, status: 'ineligible', rule, detail };
    tally(entries[index]!, `ineligible:${rule}`);
  };

  const eligible: Candidate[] = [];
  entries.forEach((entry, index) => {
    const signedOn = entry.signedOn ?? today;
    if (signedOn < firstDay || signedOn > lastDay || signedOn > today) {
      return refuse(index, 'signing-date', `Signed on ${signedOn}: paper signatures count from ${firstDay} to ${lastDay < today ? lastDay : today}.`);
    }
    const signingDate = dayInstant(signedOn);
    // The clerk who keys in the form vouches for it: the online assurance rule does not apply to paper.
    // With a required roll, the roll's district wins over the one written on the form, known to the jurisdiction or not.
    const eligibility = checkEligibility(
      { minimumAge: jurisdiction.minimumAge, minimumAssurance: jurisdiction.minimumAssurance as Assurance, districts: jurisdiction.districts, requireRoll: jurisdiction.requireRoll },
      { birthdate: entry.birthdate, assurance: jurisdiction.minimumAssurance, district: entry.district },
      signingDate,
    );
    if (!eligibility.eligible) return refuse(index, eligibility.rule, eligibility.detail);
    if (ageOn(entry.birthdate, signingDate) > OLDEST_PLAUSIBLE_AGE) tally(entry, 'birthdate-out-of-range');
    const hash = signerHashFor(deps, initiative, entry);
    eligible.push({ index, entry, hash, hex: bytesToHex(hash), district: entry.district });
  });

  let candidates = eligible;
  // The roll the entries are matched against, when the jurisdiction requires one (undefined: none imported).
  const roll = jurisdiction.requireRoll ? await currentRoll(db, jurisdiction.id) : undefined;
  if (jurisdiction.requireRoll) {
    const rollHashes = candidates.map((c) => rollHashFor(deps.keys, jurisdiction.id, c.entry, roll?.keyVersion));
    const onRoll = roll ? await rollLookup(db, jurisdiction.id, rollHashes) : new Map<string, string>();
    candidates = candidates.filter((c, i) => {
      const district = onRoll.get(bytesToHex(rollHashes[i]!));
      if (district === undefined) {
        refuse(c.index, 'roll', roll ? 'No match on the electoral roll of this jurisdiction.' : 'No electoral roll has been imported for this jurisdiction.');
        return false;
      }
      c.district = district;
      return true;
    });
  }

  // The same person twice in one batch: the first entry stands, the others duplicate it.
  const firstOf = new Map<string, Candidate>();
  const repeated: Candidate[] = [];
  for (const c of candidates) {
    if (firstOf.has(c.hex)) repeated.push(c);
    else firstOf.set(c.hex, c);
  }
  const unique = [...firstOf.values()];
  const sealed = await Promise.all(unique.map((c) => sealPersonalData(deps.keys, c.entry)));
  const digest = hmac(sha256, deps.keys.keyring.keyFor(initiative.pepperVersion, initiativeKeyInfo(initiative.id)), utf8ToBytes(`paper-batch:${JSON.stringify(entries)}`));

  const replay = await db.transaction(async (tx) => {
    // Checked again on the row, held FOR SHARE until the batch commits: a verification started (or a
    // withdrawal, or a retention purge) since the check above waits for the batch, or the batch sees it and is refused.
    await assertTakingPaper(tx, await getInitiative(tx, initiative.id, 'share'));
    // The entries were judged on the jurisdiction's rules as read above (age, districts, roll): held
    // FOR SHARE too, a change of rules waits for the batch, and one committed since is caught here.
    const [held] = await tx
      .select({ version: sql<string>`${jurisdictions}.xmin::text` })
      .from(jurisdictions)
      .where(eq(jurisdictions.id, jurisdiction.id))
      .for('share');
    if (held?.version !== jurisdictionVersion) {
      throw problems.unavailable("The jurisdiction's rules changed while the batch was keyed in; send the batch again.", 1);
    }
    // A roll imported since the entries were matched against the one before: match them again.
    if (jurisdiction.requireRoll && (await currentRoll(tx, jurisdiction.id))?.id !== roll?.id) {
      throw problems.unavailable('The electoral roll was replaced while the batch was keyed in; send the batch again.', 1);
    }
    // A form whose signature its signer withdrew is not a new signature when keyed in again (a batch
    // sent twice, a sheet keyed by two clerks): only a new form of that person counts.
    const withdrawnForms = new Map<string, Date | null>();
    for (let start = 0; start < unique.length; start += INSERT_CHUNK) {
      const rows = await tx
        .select({ signerHash: signatures.signerHash, sheet: signatures.sheet, collector: signatures.collector, withdrawnAt: signatures.withdrawnAt })
        .from(signatures)
        .where(
          and(
            eq(signatures.initiativeId, initiative.id),
            inArray(signatures.signerHash, unique.slice(start, start + INSERT_CHUNK).map((c) => c.hash)),
            eq(signatures.status, 'withdrawn'),
            eq(signatures.channel, 'paper'),
          ),
        );
      for (const row of rows) withdrawnForms.set(paperFormKey(bytesToHex(row.signerHash), row.sheet, row.collector), row.withdrawnAt);
      // A form keyed in as a duplicate of a signature its signer has withdrawn since: withdrawn with it.
      const superseded = await tx
        .select({ signerHash: paperFormDuplicates.signerHash, sheet: paperFormDuplicates.sheet, collector: paperFormDuplicates.collector, withdrawnAt: signatures.withdrawnAt })
        .from(paperFormDuplicates)
        .innerJoin(signatures, eq(signatures.id, paperFormDuplicates.signatureId))
        .where(
          and(
            eq(paperFormDuplicates.initiativeId, initiative.id),
            inArray(paperFormDuplicates.signerHash, unique.slice(start, start + INSERT_CHUNK).map((c) => c.hash)),
            eq(signatures.status, 'withdrawn'),
          ),
        );
      for (const row of superseded) withdrawnForms.set(paperFormKey(bytesToHex(row.signerHash), row.sheet, row.collector), row.withdrawnAt);
    }
    const formKey = (c: Candidate) => paperFormKey(c.hex, c.entry.sheet, c.entry.collector);
    const withdrawnResult = (c: Candidate): PaperResult => {
      const on = withdrawnForms.get(formKey(c));
      // The clerk's repeat, not a signer's: not tallied against the sheet or its collector.
      return {
        index: c.index,
        status: 'ineligible',
        rule: 'withdrawn',
        detail: `The signature of this form (sheet ${c.entry.sheet}, collector ${c.entry.collector}) was withdrawn by its signer${on ? ` on ${on.toISOString().slice(0, 10)}` : ''}; only a new form counts.`,
      };
    };
    const toInsert: Candidate[] = [];
    /** The entry that stands for each person in this batch, when their first one is a withdrawn form and a new form of theirs follows. */
    const standIn = new Map<string, Candidate>();
    for (const c of unique) {
      if (!withdrawnForms.has(formKey(c))) {
        toInsert.push(c);
        continue;
      }
      results[c.index] = withdrawnResult(c);
      // The same batch may also hold a new form of that person: it counts in the withdrawn one's place.
      const next = repeated.find((r) => r.hex === c.hex && !withdrawnForms.has(formKey(r)));
      if (next) standIn.set(c.hex, next);
    }
    const promoted = [...standIn.values()];
    toInsert.push(...promoted);
    const inserted = new Map<string, string>();
    // In signer-hash order, as the signing statement inserts: two writers of the same people (another
    // batch, online signatures) meet the unique index in one order, never each waiting for the other.
    const sealedOf = new Map(unique.map((c, i) => [c, sealed[i]!]));
    const sealedPromoted = await Promise.all(promoted.map((c) => sealPersonalData(deps.keys, c.entry)));
    promoted.forEach((c, i) => sealedOf.set(c, sealedPromoted[i]!));
    const byHash = toInsert.map((c) => ({ c, personalData: sealedOf.get(c)! })).sort((x, y) => (x.c.hex < y.c.hex ? -1 : x.c.hex > y.c.hex ? 1 : 0));
    for (let start = 0; start < byHash.length; start += INSERT_CHUNK) {
      const chunk = byHash.slice(start, start + INSERT_CHUNK);
      const rows = await tx
        .insert(signatures)
        .values(
          chunk.map(({ c, personalData }) => ({
            id: crypto.randomUUID(),
            initiativeId: initiative.id,
            signerHash: c.hash,
            keyVersion: initiative.pepperVersion,
            channel: 'paper' as const,
            assurance: 'paper',
            district: c.district,
            status: 'counted' as const,
            createdAt: now,
            personalData,
            sheet: c.entry.sheet,
            collector: c.entry.collector,
          })),
        )
        .onConflictDoNothing({ target: [signatures.initiativeId, signatures.signerHash], where: ne(signatures.status, 'withdrawn') })
        .returning({ id: signatures.id, signerHash: signatures.signerHash });
      for (const row of rows) inserted.set(bytesToHex(row.signerHash), row.id);
    }
    const earlierHashes = toInsert.filter((c) => !inserted.has(c.hex)).map((c) => c.hash);
    const earlier = new Map<string, { id: string; channel: 'online' | 'paper'; sheet: string | null; collector: string | null }>();
    for (let start = 0; start < earlierHashes.length; start += INSERT_CHUNK) {
      const rows = await tx
        .select({ id: signatures.id, signerHash: signatures.signerHash, channel: signatures.channel, sheet: signatures.sheet, collector: signatures.collector })
        .from(signatures)
        .where(and(eq(signatures.initiativeId, initiative.id), inArray(signatures.signerHash, earlierHashes.slice(start, start + INSERT_CHUNK)), ne(signatures.status, 'withdrawn')));
      for (const row of rows) earlier.set(bytesToHex(row.signerHash), row);
    }

    const perDistrict = new Map<string, number>();
    const signed: NewLogEntry[] = [];
    const duplicateForms: { c: Candidate; signatureId: string }[] = [];
    for (const c of toInsert) {
      const id = inserted.get(c.hex);
      if (id) {
        results[c.index] = { index: c.index, status: 'accepted', signatureId: id, channel: 'paper', district: c.district };
        tally(c.entry, 'accepted');
        perDistrict.set(c.district, (perDistrict.get(c.district) ?? 0) + 1);
        signed.push({ initiativeId: initiative.id, type: 'sign', ref: id, at: now });
        continue;
      }
      const original = earlier.get(c.hex);
      // Withdrawn between the insert and the read: retrying the batch settles it.
      if (!original) throw problems.unavailable('A signature changed while the batch was keyed in; send the batch again.', 1);
      results[c.index] = { index: c.index, status: 'duplicate', signatureId: original.id, channel: original.channel };
      // The same form keyed in again is a clerk's repeat, not a signer's.
      const rekeyed = original.channel === 'paper' && original.sheet === c.entry.sheet && original.collector === c.entry.collector;
      if (!rekeyed) {
        tally(c.entry, 'duplicate');
        duplicateForms.push({ c, signatureId: original.id });
      }
    }
    for (const c of repeated) {
      if (promoted.includes(c)) continue;
      if (withdrawnForms.has(formKey(c))) {
        results[c.index] = withdrawnResult(c);
        continue;
      }
      const first = results[(standIn.get(c.hex) ?? firstOf.get(c.hex)!).index]!;
      if (first.status === 'ineligible') {
        results[c.index] = { ...first, index: c.index };
        continue;
      }
      results[c.index] = { index: c.index, status: 'duplicate', signatureId: first.signatureId, channel: first.channel };
      tally(c.entry, 'duplicate');
      duplicateForms.push({ c, signatureId: first.signatureId });
    }
    await recordDuplicateForms(tx, initiative.id, duplicateForms);
    await appendLogEntries(tx, signed);
    await bumpCounts(tx, initiative.id, perDistrict);

    const firstTime = await tx
      .insert(paperBatches)
      .values({ initiativeId: initiative.id, digest, entries: entries.length, keyedBy: principal.subject, keyedAt: now })
      .onConflictDoNothing()
      .returning({ entries: paperBatches.entries });
    if (firstTime.length > 0) {
      // In one order whatever the order of the forms, so two batches of the same sheets never each wait for the other.
      for (const [key, count] of [...tallies].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const [sheet, collector, outcome] = JSON.parse(key) as [string, string, string];
        await tx
          .insert(paperEntryTallies)
          .values({ initiativeId: initiative.id, sheet, collector, outcome, count })
          .onConflictDoUpdate({
            target: [paperEntryTallies.initiativeId, paperEntryTallies.sheet, paperEntryTallies.collector, paperEntryTallies.outcome],
            set: { count: sql`${paperEntryTallies.count} + ${count}` },
          });
      }
    }
    const counts = countOutcomes(results as PaperResult[]);
    await appendAudit(tx, {
      actor: principal.subject,
      action: 'paper.keyed',
      at: now,
      jurisdictionId: jurisdiction.id,
      initiativeId: initiative.id,
      details: { entries: entries.length, ...counts, replay: firstTime.length === 0 },
    });
    return firstTime.length === 0;
  });

  const final = results as PaperResult[];
  const counts = countOutcomes(final);
  deps.metrics.signatures.inc({ outcome: 'accepted', reason: 'paper' }, counts.accepted);
  deps.metrics.signatures.inc({ outcome: 'duplicate', reason: 'paper' }, counts.duplicates);
  deps.metrics.signatures.inc({ outcome: 'refused', reason: 'paper' }, counts.ineligible);
  deps.logger.info('paper batch keyed in', { initiativeId: initiative.id, entries: entries.length, ...counts, replay });
  return { ...counts, results: final };
}

function countOutcomes(results: PaperResult[]) {
  let accepted = 0;
  let duplicates = 0;
  let ineligible = 0;
  for (const r of results) {
    if (r.status === 'accepted') accepted++;
    else if (r.status === 'duplicate') duplicates++;
    else ineligible++;
  }
  return { accepted, duplicates, ineligible };
}

interface GroupCounts {
  entries: number;
  accepted: number;
  duplicates: number;
  ineligible: number;
  reasons: Record<string, number>;
  outOfRange: number;
}

const emptyGroup = (): GroupCounts => ({ entries: 0, accepted: 0, duplicates: 0, ineligible: 0, reasons: {}, outOfRange: 0 });

function addOutcome(group: GroupCounts, outcome: string, count: number) {
  if (outcome === 'birthdate-out-of-range') {
    group.outOfRange += count;
    return;
  }
  group.entries += count;
  if (outcome === 'accepted') group.accepted += count;
  else if (outcome === 'duplicate') group.duplicates += count;
  else if (outcome.startsWith('ineligible:')) {
    const rule = outcome.slice('ineligible:'.length);
    group.ineligible += count;
    group.reasons[rule] = (group.reasons[rule] ?? 0) + count;
    if (rule === 'age') group.outOfRange += count;
  }
}

const rate = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000);

/**
 * Collectors and sheets whose rejection or duplicate rate stands out: at least
 * ANOMALY_MINIMUM_ENTRIES entries and a rate at least ANOMALY_FACTOR times the initiative's paper-wide rate;
 * plus birth dates out of range (under the minimum age, or over OLDEST_PLAUSIBLE_AGE) and sheets of many districts.
 */
export async function paperAnomalies(deps: AppDeps, initiativeId: string, principal: Principal) {
  const db = deps.db.db;
  const { initiative, jurisdiction } = await getInitiativeWithJurisdiction(db, initiativeId);
  await requireClerk(db, principal, jurisdiction.id);
  const rows = await db.select().from(paperEntryTallies).where(eq(paperEntryTallies.initiativeId, initiative.id));

  const overall = emptyGroup();
  const collectors = new Map<string, GroupCounts>();
  const sheets = new Map<string, GroupCounts & { collectors: Set<string> }>();
  const sheetCollector = new Map<string, GroupCounts & { sheet: string; collector: string }>();
  for (const row of rows) {
    addOutcome(overall, row.outcome, row.count);
    const byCollector = collectors.get(row.collector) ?? emptyGroup();
    addOutcome(byCollector, row.outcome, row.count);
    collectors.set(row.collector, byCollector);
    const bySheet = sheets.get(row.sheet) ?? { ...emptyGroup(), collectors: new Set<string>() };
    addOutcome(bySheet, row.outcome, row.count);
    bySheet.collectors.add(row.collector);
    sheets.set(row.sheet, bySheet);
    const key = JSON.stringify([row.sheet, row.collector]);
    const pair = sheetCollector.get(key) ?? { ...emptyGroup(), sheet: row.sheet, collector: row.collector };
    addOutcome(pair, row.outcome, row.count);
    sheetCollector.set(key, pair);
  }
  const rejectionRate = rate(overall.ineligible, overall.entries);
  const duplicateRate = rate(overall.duplicates, overall.entries);
  const judge = (g: GroupCounts) => {
    const rejections = rate(g.ineligible, g.entries);
    const duplicates = rate(g.duplicates, g.entries);
    const standsOut: ('rejections' | 'duplicates')[] = [];
    if (g.entries >= ANOMALY_MINIMUM_ENTRIES) {
      if (rejections > 0 && rejections >= ANOMALY_FACTOR * rejectionRate) standsOut.push('rejections');
      if (duplicates > 0 && duplicates >= ANOMALY_FACTOR * duplicateRate) standsOut.push('duplicates');
    }
    return {
      entries: g.entries,
      accepted: g.accepted,
      duplicates: g.duplicates,
      ineligible: g.ineligible,
      rejectionRate: rejections,
      duplicateRate: duplicates,
      reasons: g.reasons,
      standsOut,
    };
  };

  const districtSpread = await db
    .select({ sheet: signatures.sheet, districts: sql<number>`count(distinct ${signatures.district})::int` })
    .from(signatures)
    .where(and(eq(signatures.initiativeId, initiative.id), eq(signatures.channel, 'paper'), ne(signatures.status, 'withdrawn')))
    .groupBy(signatures.sheet)
    .having(sql`count(distinct ${signatures.district}) >= ${MANY_DISTRICTS}`);

  return {
    initiativeId: initiative.id,
    entries: overall.entries,
    rejectionRate,
    duplicateRate,
    criteria: { minimumEntries: ANOMALY_MINIMUM_ENTRIES, factor: ANOMALY_FACTOR, manyDistricts: MANY_DISTRICTS, oldestPlausibleAge: OLDEST_PLAUSIBLE_AGE },
    collectors: [...collectors]
      .map(([collector, g]) => ({ collector, ...judge(g) }))
      .filter((g) => g.standsOut.length > 0)
      .sort((a, b) => a.collector.localeCompare(b.collector)),
    sheets: [...sheets]
      .map(([sheet, g]) => ({ sheet, collectors: [...g.collectors].sort(), ...judge(g) }))
      .filter((g) => g.standsOut.length > 0)
      .sort((a, b) => a.sheet.localeCompare(b.sheet)),
    birthdatesOutOfRange: [...sheetCollector.values()]
      .filter((g) => g.outOfRange > 0)
      .map((g) => ({ sheet: g.sheet, collector: g.collector, entries: g.outOfRange }))
      .sort((a, b) => a.sheet.localeCompare(b.sheet) || a.collector.localeCompare(b.collector)),
    sheetsWithManyDistricts: districtSpread
      .map((s) => ({ sheet: s.sheet ?? '', districts: s.districts }))
      .sort((a, b) => b.districts - a.districts || a.sheet.localeCompare(b.sheet)),
  };
}

/** One paper form of one person: their signer hash (hex), the sheet and the collector. */
function paperFormKey(signerHex: string, sheet: string | null, collector: string | null): string {
  return JSON.stringify([signerHex, sheet, collector]);
}

/** The forms of this batch that were duplicates of a signature (online, or another form), to be withdrawn with it. */
async function recordDuplicateForms(tx: Executor, initiativeId: string, forms: { c: Candidate; signatureId: string }[]) {
  const rows = new Map<string, typeof paperFormDuplicates.$inferInsert>();
  for (const { c, signatureId } of forms) {
    rows.set(paperFormKey(c.hex, c.entry.sheet, c.entry.collector), { initiativeId, signerHash: c.hash, sheet: c.entry.sheet, collector: c.entry.collector, signatureId });
  }
  // In signer-hash order, as the signatures are written: two batches of the same people never wait for each other.
  const sorted = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  for (let start = 0; start < sorted.length; start += INSERT_CHUNK) {
    await tx.insert(paperFormDuplicates).values(sorted.slice(start, start + INSERT_CHUNK)).onConflictDoNothing();
  }
}
