import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** 32-byte hashes are stored as bytea: half the size of hex in the deduplication index. */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
});

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export type District = { code: string; name: string; electorate: number };
/** The French words a jurisdiction's districts go by (GLOSSARY: arrondissement, circonscription, canton, État membre). */
export const DISTRICT_TERMS = ['arrondissement', 'circonscription', 'canton', 'member-state'] as const;
export type DistrictTerm = (typeof DISTRICT_TERMS)[number];

export const jurisdictions = pgTable('jurisdictions', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  electorate: integer('electorate').notNull(),
  minimumAge: integer('minimum_age').notNull(),
  requireRoll: boolean('require_roll').notNull().default(false),
  minimumAssurance: text('minimum_assurance').notNull(),
  committeeMinimum: integer('committee_minimum').notNull().default(0),
  timeZone: text('time_zone').notNull().default('Europe/Paris'),
  /** What its districts are called on French pages (English pages say "district"). */
  districtTerm: text('district_term').$type<DistrictTerm>().notNull().default('arrondissement'),
  districts: jsonb('districts').$type<District[]>().notNull(),
  /** Default rules per initiative kind; copied into an initiative when it opens. */
  rules: jsonb('rules').$type<Record<string, unknown>>().notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
});

export const jurisdictionClerks = pgTable(
  'jurisdiction_clerks',
  {
    jurisdictionId: text('jurisdiction_id').notNull().references(() => jurisdictions.id),
    subject: text('subject').notNull(),
    grantedBy: text('granted_by').notNull(),
    grantedAt: at('granted_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.jurisdictionId, t.subject] }), index('jurisdiction_clerks_subject').on(t.subject)],
);

export const initiatives = pgTable(
  'initiatives',
  {
    id: uuid('id').primaryKey(),
    jurisdictionId: text('jurisdiction_id').notNull().references(() => jurisdictions.id),
    kind: text('kind', { enum: ['agenda', 'referendum'] }).notNull(),
    title: text('title').notNull(),
    summary: text('summary').notNull(),
    text: text('text').notNull(),
    question: text('question'),
    /** The language the sponsors wrote the title, summary, text and question in (BCP 47, src/core/language.ts). */
    language: text('language').notNull().default('fr'),
    sponsorSubject: text('sponsor_subject').notNull(),
    /**
     * The sponsor's committee hash (src/core/identity.ts committeeMemberHash, under `pepperVersion`), so that
     * they cannot join their own committee under another `sub`. Null for initiatives created before it was kept.
     */
    sponsorHash: bytea('sponsor_hash'),
    committeeCode: text('committee_code').notNull(),
    status: text('status').notNull(),
    /** Frozen when the clerk opens the initiative. */
    rules: jsonb('rules').$type<Record<string, unknown>>(),
    /** The jurisdiction's electorate figures when the clerk opened it: its ratios and district rules are evaluated on these. */
    electorateFigures: jsonb('electorate_figures').$type<{ electorate: number; districts: { code: string; electorate: number }[] }>(),
    /** Version of the identity pepper the signer hashes of this initiative use. */
    pepperVersion: text('pepper_version').notNull(),
    opensAt: at('opens_at'),
    closesAt: at('closes_at'),
    /** The clerk's reason for a rejection, or the sponsor's for a withdrawal. */
    reason: text('reason'),
    closedAt: at('closed_at'),
    /**
     * The one-time id of the web form that created the draft (null through the API): sent again (a double
     * click, a browser's retry), the same form finds this draft instead of making another.
     */
    creationFormId: uuid('creation_form_id'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('initiatives_creation_form').on(t.sponsorSubject, t.creationFormId),
    index('initiatives_status_closes').on(t.status, t.closesAt),
    index('initiatives_created').on(t.createdAt, t.id),
    index('initiatives_jurisdiction').on(t.jurisdictionId),
  ],
);

/**
 * A check value of each identity pepper version, recorded the first time an engine starts with it:
 * HMAC-SHA256 of a fixed label under the pepper, never the pepper. An engine started with another
 * pepper under a recorded version would make hashes that match none stored: it is refused.
 */
export const pepperChecks = pgTable('pepper_checks', {
  keyVersion: text('key_version').primaryKey(),
  checkValue: bytea('check_value').notNull(),
  recordedAt: at('recorded_at').notNull(),
});

export const committeeMembers = pgTable(
  'committee_members',
  {
    initiativeId: uuid('initiative_id').notNull().references(() => initiatives.id),
    /** The `sub` they joined with: their own committees are listed on their page by it. */
    subject: text('subject').notNull(),
    /** Who they are (committeeMemberHash of their canonical identity); null for members who joined before it was kept. */
    memberHash: bytea('member_hash'),
    /** The pepper version of `memberHash` (the initiative's). */
    keyVersion: text('key_version'),
    joinedAt: at('joined_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.initiativeId, t.subject] }),
    index('committee_members_subject_idx').on(t.subject),
    // One person, one seat, whatever `sub` they come with: enforced here, never by a read-then-write check.
    uniqueIndex('committee_members_one_per_person').on(t.initiativeId, t.memberHash),
  ],
);

export const signatures = pgTable(
  'signatures',
  {
    id: uuid('id').primaryKey(),
    // No foreign key: it would take a share lock on the initiative's row for every signature.
    initiativeId: uuid('initiative_id').notNull(),
    signerHash: bytea('signer_hash').notNull(),
    keyVersion: text('key_version').notNull(),
    channel: text('channel', { enum: ['online', 'paper'] }).notNull(),
    assurance: text('assurance').notNull(),
    district: text('district').notNull(),
    status: text('status', { enum: ['counted', 'withdrawn', 'invalid'] }).notNull(),
    createdAt: at('created_at').notNull(),
    withdrawnAt: at('withdrawn_at'),
    /** Names and birth date for manual verification: compact JWE (dir + A256GCM); null once destroyed. */
    personalData: text('personal_data'),
    /** Paper only: the form's reference and the collector's, for fraud analysis. */
    sheet: text('sheet'),
    collector: text('collector'),
  },
  (t) => [
    // One person, one signature per initiative: enforced here, never by a read-then-write check.
    uniqueIndex('signatures_one_per_signer')
      .on(t.initiativeId, t.signerHash)
      .where(sql`status <> 'withdrawn'`),
    index('signatures_initiative_created').on(t.initiativeId, t.createdAt),
    // Progress history reads recent withdrawals by time; few rows, hence partial.
    index('signatures_initiative_withdrawn').on(t.initiativeId, t.withdrawnAt).where(sql`withdrawn_at is not null`),
  ],
);

/**
 * Slotted counters: each signature bumps one of several rows per (initiative, district),
 * so concurrent signers do not queue on a single hot row. The count is the sum of the slots.
 */
export const signatureCounts = pgTable(
  'signature_counts',
  {
    initiativeId: uuid('initiative_id').notNull(),
    district: text('district').notNull(),
    slot: smallint('slot').notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.initiativeId, t.district, t.slot] })],
);

/** Each milestone or goal is recorded once per initiative: the primary key makes it so. */
export const initiativeCrossings = pgTable(
  'initiative_crossings',
  {
    initiativeId: uuid('initiative_id').notNull().references(() => initiatives.id),
    key: text('key').notNull(),
    signatures: integer('signatures').notNull(),
    reachedAt: at('reached_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.initiativeId, t.key] })],
);

export const verifications = pgTable('verifications', {
  initiativeId: uuid('initiative_id').primaryKey().references(() => initiatives.id),
  method: text('method', { enum: ['full', 'sample'] }).notNull(),
  seed: text('seed'),
  sampleSize: integer('sample_size'),
  /** N: the signatures counted when verification started, which a sample is drawn from. */
  population: integer('population'),
  startedBy: text('started_by').notNull(),
  startedAt: at('started_at').notNull(),
  completedAt: at('completed_at'),
  outcome: text('outcome', { enum: ['certified', 'insufficient'] }),
  reason: text('reason'),
  /** A full count's check against the roll, done by the scheduler page by page: the import in force when it was asked for, by whom, when. */
  rollCheckImport: uuid('roll_check_import'),
  rollCheckRequestedBy: text('roll_check_requested_by'),
  rollCheckRequestedAt: at('roll_check_requested_at'),
  /** The last signature id checked: the next page starts after it. */
  rollCheckAfter: uuid('roll_check_after'),
  rollCheckDoneAt: at('roll_check_done_at'),
  /** The key id of personal data the check could not open (not configured): it stopped there and is tried again. */
  rollCheckMissingKey: text('roll_check_missing_key'),
});

export const referendumItems = pgTable('referendum_items', {
  id: uuid('id').primaryKey(),
  initiativeId: uuid('initiative_id').notNull().unique().references(() => initiatives.id),
  jurisdictionId: text('jurisdiction_id').notNull().references(() => jurisdictions.id),
  kind: text('kind', { enum: ['agenda', 'referendum'] }).notNull(),
  title: text('title').notNull(),
  question: text('question'),
  /** The language of the title and question, the initiative's; not a claim of the certificate. */
  language: text('language').notNull().default('fr'),
  validSignatures: integer('valid_signatures').notNull(),
  districts: jsonb('districts').$type<unknown[]>().notNull(),
  method: text('method', { enum: ['full', 'sample'] }).notNull(),
  certifiedAt: at('certified_at').notNull(),
  certificate: text('certificate').notNull(),
});

/**
 * The retention purge of an initiative's signers' personal data, done a page of signatures per
 * transaction. Written when the purge begins, with the initiative's row held: from then on the data
 * counts as destroyed (no paper, no verification, no reads), whatever pages are still to come. Each
 * page moves `after` and `destroyed` in its own transaction; the last sets `done_at` with the audit
 * entry `personal-data.destroyed`.
 */
export const personalDataPurges = pgTable('personal_data_purges', {
  initiativeId: uuid('initiative_id')
    .primaryKey()
    .references(() => initiatives.id),
  /** The initiative's status when the purge began, as the audit entry records it. */
  status: text('status').notNull(),
  begunAt: at('begun_at').notNull(),
  /**
   * The last signature a committed page went through, by time signed then id (the order of the
   * index of an initiative's signatures by time, whatever else the table holds): the next page goes on after it.
   */
  afterCreatedAt: at('after_created_at'),
  after: uuid('after'),
  /** Signatures whose data the committed pages destroyed. */
  destroyed: integer('destroyed').notNull().default(0),
  doneAt: at('done_at'),
});

/** Hash-chained audit trail: each entry's hash covers the previous one. */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    at: at('at').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    jurisdictionId: text('jurisdiction_id'),
    initiativeId: uuid('initiative_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_initiative').on(t.initiativeId, t.seq), index('audit_jurisdiction').on(t.jurisdictionId, t.seq)],
);

/** The single row that serialises appends to the audit chain. */
export const auditHead = pgTable('audit_head', {
  id: smallint('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
});

/** Events written in the same transaction as the change they describe (transactional outbox). */
export const outbox = pgTable(
  'outbox',
  {
    id: uuid('id').primaryKey(),
    /** The order the engine wrote its events in, across processes: a later event has a higher number (gaps are possible). */
    sequence: bigint('sequence', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    type: text('type').notNull(),
    initiativeId: uuid('initiative_id'),
    jurisdictionId: text('jurisdiction_id'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: at('created_at').notNull(),
    /** Set once the webhook dispatcher has fanned the event out to the matching subscriptions. */
    dispatchedAt: at('dispatched_at'),
  },
  (t) => [index('outbox_created').on(t.createdAt), index('outbox_undispatched').on(t.sequence).where(sql`dispatched_at is null`)],
);

/**
 * Transparency log entries (SPEC §6), appended in the same transaction as the change they record.
 * `leafIndex` stays null until the sequencer integrates the entry into the initiative's tree.
 */
export const logEntries = pgTable(
  'log_entries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    initiativeId: uuid('initiative_id').notNull(),
    type: text('type', { enum: ['sign', 'withdraw', 'invalidate'] }).notNull(),
    ref: uuid('ref').notNull(),
    data: bytea('data').notNull(),
    leafHash: bytea('leaf_hash').notNull(),
    createdAt: at('created_at').notNull(),
    leafIndex: bigint('leaf_index', { mode: 'number' }),
  },
  (t) => [
    uniqueIndex('log_entries_leaf').on(t.initiativeId, t.leafIndex),
    index('log_entries_pending').on(t.initiativeId, t.id).where(sql`leaf_index is null`),
    index('log_entries_ref').on(t.initiativeId, t.ref),
  ],
);
