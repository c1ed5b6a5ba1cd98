import { and, eq, isNull, lt, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client';
import { rowsOf } from '../../db/query';
import { initiatives } from '../../db/schema';
import { signatureRollupSeals } from '../../db/schema-monitoring';
import { problems } from '../../platform/problems';

export type Bucket = 'hour' | 'day';

export interface HistoryPoint {
  /** Start of the bucket (an hour in UTC, or a day in the jurisdiction's time zone). */
  start: string;
  signed: number;
  withdrawn: number;
  net: number;
  /** Signatures counted at the end of the bucket. */
  cumulative: number;
}

export interface ProgressHistory {
  initiativeId: string;
  bucket: Bucket;
  district: string | null;
  timeZone: string;
  from: string;
  to: string;
  /** Signatures counted at the end of the last bucket. */
  signatures: number;
  points: HistoryPoint[];
}

export interface HistorySubject {
  id: string;
  opensAt: Date | null;
  closesAt: Date | null;
  createdAt: Date;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
export const MAX_POINTS = 10_000;
/** Default window of hourly history: the last week. */
const HOURLY_DEFAULT_MS = 7 * DAY_MS;
/**
 * Hours older than this are sealed into signature_hours. A signature's timestamp is read from the
 * engine's clock just before its transaction commits, so nothing lands this far in the past.
 */
export const SEAL_MARGIN_MS = 5 * 60_000;
/** The district of the roll-up rows that count all districts together. */
const ALL_DISTRICTS = '';

const ms = (value: unknown) => Number(value);

/**
 * Signatures per bucket and cumulative, from the signatures' own timestamps: a signature counts
 * from its `created_at` and, if withdrawn, stops counting at its `withdrawn_at`. Sealed hours come
 * from the roll-up (signature_hours), the unsealed tail is read from the signatures themselves.
 */
export async function progressHistory(
  db: Executor,
  initiative: HistorySubject,
  timeZone: string,
  query: { bucket: Bucket; district?: string; from?: Date; to?: Date },
  now: Date,
): Promise<ProgressHistory> {
  const end = query.to ?? (await defaultEnd(db, initiative, now));
  const opened = initiative.opensAt ?? initiative.createdAt;
  let start =
    query.from ?? (query.bucket === 'hour' ? new Date(Math.max(opened.getTime(), end.getTime() - HOURLY_DEFAULT_MS)) : opened);
  if (query.from && query.to && query.from > query.to) {
    throw problems.validation([{ field: 'query.from', message: 'from must not be after to.' }]);
  }
  if (start > end) start = end;
  const bucketMs = query.bucket === 'hour' ? HOUR_MS : DAY_MS;
  if ((end.getTime() - start.getTime()) / bucketMs + 1 > MAX_POINTS) {
    throw problems.validation(
      [{ field: 'query.from', message: `At most ${MAX_POINTS} buckets per request; narrow from/to or use bucket=day.` }],
      'The requested range has too many buckets.',
    );
  }
  const zone = query.bucket === 'hour' ? 'UTC' : timeZone;
  const unit = query.bucket;
  const step = query.bucket === 'hour' ? '1 hour' : '1 day';

  const series = rowsOf<{ start: unknown; end: unknown }>(
    await db.execute(sql`
      select extract(epoch from (b at time zone ${zone})) * 1000 as "start",
             extract(epoch from ((b + ${step}::interval) at time zone ${zone})) * 1000 as "end"
      from generate_series(
        date_trunc(${unit}, ${start.toISOString()}::timestamptz at time zone ${zone}),
        ${end.toISOString()}::timestamptz at time zone ${zone},
        ${step}::interval) as b
      order by b`),
  );
  const rangeStart = new Date(ms(series[0]!.start));
  const rangeEnd = new Date(ms(series[series.length - 1]!.end));
  const seal = await sealOf(db, initiative.id);

  const district = query.district ? sql`and district = ${query.district}` : sql``;
  const sealIso = seal.toISOString();
  const startIso = rangeStart.toISOString();
  const endIso = rangeEnd.toISOString();
  // Everything before the range folds into one row (bucket null): the cumulative count it starts from.
  const rows = rowsOf<{ bucket: unknown; signed: number; withdrawn: number }>(
    await db.execute(sql`
      select case when t < ${startIso}::timestamptz then null
                  else extract(epoch from (date_trunc(${unit}, t at time zone ${zone}) at time zone ${zone})) * 1000 end as "bucket",
             sum(s)::int as "signed", sum(w)::int as "withdrawn"
      from (
        select hour as t, signed as s, withdrawn as w from signature_hours
         where initiative_id = ${initiative.id} and district = ${query.district ?? ALL_DISTRICTS} and hour < least(${sealIso}::timestamptz, ${endIso}::timestamptz)
        union all
        select created_at, 1, 0 from signatures
         where initiative_id = ${initiative.id} and created_at >= ${sealIso}::timestamptz and created_at < ${endIso}::timestamptz ${district}
        union all
        select withdrawn_at, 0, 1 from signatures
         where initiative_id = ${initiative.id} and withdrawn_at >= ${sealIso}::timestamptz and withdrawn_at < ${endIso}::timestamptz ${district}
      ) as x
      group by 1`),
  );

  let cumulative = 0;
  const byBucket = new Map<number, { signed: number; withdrawn: number }>();
  for (const row of rows) {
    if (row.bucket === null) cumulative = Number(row.signed) - Number(row.withdrawn);
    else byBucket.set(ms(row.bucket), { signed: Number(row.signed), withdrawn: Number(row.withdrawn) });
  }
  const points = series.map((b) => {
    const at = ms(b.start);
    const counts = byBucket.get(at) ?? { signed: 0, withdrawn: 0 };
    const net = counts.signed - counts.withdrawn;
    cumulative += net;
    return { start: new Date(at).toISOString(), signed: counts.signed, withdrawn: counts.withdrawn, net, cumulative };
  });
  return {
    initiativeId: initiative.id,
    bucket: query.bucket,
    district: query.district ?? null,
    timeZone: zone,
    from: rangeStart.toISOString(),
    to: rangeEnd.toISOString(),
    signatures: cumulative,
    points,
  };
}

/**
 * Now, or the closing if earlier, unless signatures came in or were withdrawn after it (paper sheets
 * keyed in until verification starts): then the last of those, so the series ends at the count of progress.
 */
async function defaultEnd(db: Executor, initiative: HistorySubject, now: Date): Promise<Date> {
  const closesAt = initiative.closesAt;
  if (!closesAt || closesAt >= now) return now;
  const after = closesAt.toISOString();
  const [row] = rowsOf<{ last: unknown }>(
    await db.execute(sql`
      select extract(epoch from greatest(
        (select max(created_at) from signatures where initiative_id = ${initiative.id} and created_at >= ${after}::timestamptz),
        (select max(withdrawn_at) from signatures where initiative_id = ${initiative.id} and withdrawn_at >= ${after}::timestamptz))) * 1000 as "last"`),
  );
  if (row?.last === null || row?.last === undefined) return closesAt;
  return new Date(Math.min(now.getTime(), ms(row.last)));
}

async function sealOf(db: Executor, initiativeId: string): Promise<Date> {
  const [row] = await db
    .select({ sealedUntil: signatureRollupSeals.sealedUntil })
    .from(signatureRollupSeals)
    .where(eq(signatureRollupSeals.initiativeId, initiativeId));
  return row?.sealedUntil ?? new Date(0);
}

/** Signatures signed and withdrawn since each given instant (one query, read live). */
export async function signaturesSince(db: Executor, initiativeId: string, since: Record<string, Date>, now: Date) {
  const entries = Object.entries(since);
  const earliest = new Date(Math.min(...entries.map(([, d]) => d.getTime())));
  const columns = entries.map(
    ([name, d]) =>
      sql`, (count(*) filter (where t >= ${d.toISOString()}::timestamptz and s = 1))::int as ${sql.identifier(`${name}_signed`)}
          , (count(*) filter (where t >= ${d.toISOString()}::timestamptz and s = 0))::int as ${sql.identifier(`${name}_withdrawn`)}`,
  );
  const [row] = rowsOf<Record<string, number>>(
    await db.execute(sql`
      select 1 as one ${sql.join(columns, sql``)}
      from (
        select created_at as t, 1 as s from signatures
         where initiative_id = ${initiativeId} and created_at >= ${earliest.toISOString()}::timestamptz and created_at <= ${now.toISOString()}::timestamptz
        union all
        select withdrawn_at, 0 from signatures
         where initiative_id = ${initiativeId} and withdrawn_at >= ${earliest.toISOString()}::timestamptz and withdrawn_at <= ${now.toISOString()}::timestamptz
      ) as x`),
  );
  return Object.fromEntries(
    entries.map(([name]) => {
      const signed = Number(row?.[`${name}_signed`] ?? 0);
      const withdrawn = Number(row?.[`${name}_withdrawn`] ?? 0);
      return [name, { signed, withdrawn, net: signed - withdrawn }];
    }),
  ) as Record<string, { signed: number; withdrawn: number; net: number }>;
}

const NOT_COLLECTED: string[] = ['draft', 'submitted', 'rejected'];
const FINAL: string[] = ['certified', 'insufficient', 'withdrawn'];

/**
 * Scheduler task: seals every complete hour older than the margin into signature_hours, for each
 * initiative that collects or did. Each initiative's seal row is locked while its hours are written,
 * so two engine processes never seal the same hours twice.
 */
export async function rollUpSignatureHours(db: Database, now: Date): Promise<number> {
  const target = new Date(Math.floor((now.getTime() - SEAL_MARGIN_MS) / HOUR_MS) * HOUR_MS);
  const due = await db
    .select({ id: initiatives.id })
    .from(initiatives)
    .leftJoin(signatureRollupSeals, eq(signatureRollupSeals.initiativeId, initiatives.id))
    .where(
      and(
        notInArray(initiatives.status, NOT_COLLECTED),
        or(isNull(signatureRollupSeals.sealedUntil), lt(signatureRollupSeals.sealedUntil, target)),
        // A finished initiative stops changing: once sealed past its last update, leave it be.
        or(notInArray(initiatives.status, FINAL), isNull(signatureRollupSeals.sealedUntil), lt(signatureRollupSeals.sealedUntil, sql`${initiatives.updatedAt} + interval '1 hour'`)),
      ),
    );
  let sealed = 0;
  for (const { id } of due) {
    await db.transaction(async (tx) => {
      await tx.insert(signatureRollupSeals).values({ initiativeId: id, sealedUntil: new Date(0) }).onConflictDoNothing();
      const [seal] = await tx
        .select({ sealedUntil: signatureRollupSeals.sealedUntil })
        .from(signatureRollupSeals)
        .where(eq(signatureRollupSeals.initiativeId, id))
        .for('update');
      const from = seal!.sealedUntil;
      if (from >= target) return;
      await sealHours(tx, id, from, target);
      await tx.update(signatureRollupSeals).set({ sealedUntil: target }).where(eq(signatureRollupSeals.initiativeId, id));
      sealed++;
    });
  }
  return sealed;
}

async function sealHours(tx: Executor, initiativeId: string, from: Date, to: Date): Promise<void> {
  const f = from.toISOString();
  const t = to.toISOString();
  const hourOf = (column: SQL) => sql`date_trunc('hour', ${column} at time zone 'UTC') at time zone 'UTC'`;
  await tx.execute(sql`
    insert into signature_hours (initiative_id, hour, district, signed, withdrawn)
    select ${initiativeId}::uuid, h, coalesce(district, ${ALL_DISTRICTS}), sum(s)::int, sum(w)::int from (
      select ${hourOf(sql`created_at`)} as h, district, 1 as s, 0 as w from signatures
       where initiative_id = ${initiativeId} and created_at >= ${f}::timestamptz and created_at < ${t}::timestamptz
      union all
      select ${hourOf(sql`withdrawn_at`)}, district, 0, 1 from signatures
       where initiative_id = ${initiativeId} and withdrawn_at >= ${f}::timestamptz and withdrawn_at < ${t}::timestamptz
    ) as x
    group by grouping sets ((h, district), (h))
    on conflict (initiative_id, district, hour) do update set signed = excluded.signed, withdrawn = excluded.withdrawn`);
}

