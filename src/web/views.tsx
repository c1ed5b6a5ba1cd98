import { daysLeftUntil, isLastLocalDay, isLocalMidnight } from '../core/calendar';
import type { Progress } from '../features/progress/service';
import { DistrictBarChart } from './charts';
import type { Translator } from './i18n';
import { TableScroll } from './layout';

/** The time left to sign, as the pages say it. */
export interface TimeLeft {
  /** Days left in the jurisdiction's time zone, counted as the sponsor's dashboard counts them: any part of a day is a day (the last one is 1). */
  days: number;
  /** Today is the collection's last calendar day there (not merely less than 24 hours before it closes). */
  lastDay: boolean;
}

export function daysLeft(closesAt: Date | string | null, now: Date, timeZone: string): TimeLeft | null {
  if (!closesAt) return null;
  const at = new Date(closesAt);
  return { days: daysLeftUntil(at, now, timeZone), lastDay: isLastLocalDay(at, now, timeZone) };
}

/**
 * When signing stops, as a reader takes it: a collection closing at local midnight runs until the
 * end of the day before ("jusqu’au 30 juin 2027 inclus"), not "until 1 July at 00:00", which reads
 * as if 1 July were left; any other closing is said to the minute.
 */
export function closingLine(t: Translator, closesAt: Date | string, timeZone: string): string {
  const at = new Date(closesAt);
  return isLocalMidnight(at, timeZone) ? t.m.initiative.closesAtEndOf(t.date(new Date(at.getTime() - 1), timeZone)) : t.m.initiative.closesAt(t.dateTime(at, timeZone));
}

export function goalOf(progress: Progress): number {
  return progress.criteria.find((c) => c.kind === 'goal')?.required ?? 0;
}

/** Admitted, its collection opening later: not yet open to signatures, whatever its status says. */
export function opensLater(initiative: { status: string; opensAt?: Date | string | null }, now: Date): boolean {
  return initiative.status === 'open' && !!initiative.opensAt && new Date(initiative.opensAt) > now;
}

/**
 * An initiative's status as readers take it: one admitted whose collection opens later is not yet
 * "open for signatures" (given `opensAt` and `now`, it says so).
 */
export function StatusTag(props: { t: Translator; status: string; opensAt?: Date | string | null; now?: Date }) {
  const status = props.now && opensLater(props, props.now) ? 'admitted' : props.status;
  return <span class="tag" data-status={status}>{props.t.m.statuses[status] ?? status}</span>;
}

/** The progress block of an initiative: count, bar, criteria; updated live by /assets/app.js. */
export function ProgressBlock(props: { t: Translator; progress: Progress; live?: string }) {
  const { t, progress } = props;
  const { m } = t;
  const goal = goalOf(progress);
  return (
    <section aria-labelledby="progress-title" data-progress-stream={props.live} data-updated-at={props.progress.updatedAt}>
      <h2 id="progress-title">{m.initiative.progress}</h2>
      <p>
        <span class="count" data-count="">{t.number(progress.signatures)}</span>{' '}
        {/* The words after the count, for the count the page shows and, in the script, for the next ones (1 signature, 2 signatures). */}
        <span data-count-words="" data-one={m.initiative.of(t.number(goal), 1)} data-other={m.initiative.of(t.number(goal), 2)}>
          {m.initiative.of(t.number(goal), progress.signatures)}
        </span>
      </p>
      <progress data-progress="" max={goal} value={Math.min(progress.signatures, goal)} aria-label={m.initiative.progress}>
        {t.percent(goal ? progress.signatures / goal : 0)}
      </progress>
      {progress.goalMet ? <p><strong>{m.initiative.goalMet}</strong></p> : null}
      {progress.criteria.length > 1 ? (
        <ul>
          {progress.criteria.map((c) => (
            <li>
              {c.kind === 'goal' ? m.initiative.criterionGoal : m.initiative.criterionDistricts}{m.colon} {t.number(c.current)} / {t.number(c.required)}{' '}
              ({c.met ? m.initiative.yes : m.initiative.no})
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

/** Beyond this many districts a bar chart is too tall to read (22 units a bar): the table alone gives them. */
const CHART_MAX_DISTRICTS = 60;

/** A district's minimum and whether it is met, as the cells of its row (both district tables). */
export function MinimumCells(props: { t: Translator; district: { required: number | null; met: boolean | null } }) {
  const { t, district: d } = props;
  return (
    <>
      <td class="num">{d.required === null ? '—' : t.number(d.required)}</td>
      <td>{d.met === null ? '—' : d.met ? t.m.initiative.yes : t.m.initiative.no}</td>
    </>
  );
}

export function DistrictTable(props: { t: Translator; progress: Progress }) {
  const { t, progress } = props;
  const { m } = t;
  const hasRequired = progress.districts.some((d) => d.required !== null);
  // More districts than a progress lists (France's communes): the table gives those it has.
  const partial = progress.districts.length < progress.districtCount;
  return (
    <section aria-labelledby="districts-title">
      <h2 id="districts-title">{m.initiative.districts}</h2>
      {!partial && progress.districts.length <= CHART_MAX_DISTRICTS ? <DistrictBarChart t={t} title={m.initiative.chartTitle} districts={progress.districts} /> : null}
      {partial ? <p class="muted">{m.initiative.districtsListed(t.number(progress.districts.length), t.number(progress.districtCount))}</p> : null}
      {partial && progress.districts.length === 0 ? null : (
        <TableScroll labelledBy="districts-title">
          <table>
            <caption class="muted">{m.initiative.districts}</caption>
            <thead>
              <tr>
                <th scope="col">{m.initiative.district}</th>
                <th scope="col" class="num">{m.initiative.districtSignatures}</th>
                {hasRequired ? <th scope="col" class="num">{m.initiative.districtRequired}</th> : null}
                {hasRequired ? <th scope="col">{m.initiative.districtMet}</th> : null}
              </tr>
            </thead>
            <tbody>
              {progress.districts.map((d) => (
                <tr>
                  <th scope="row">{d.name}</th>
                  <td class="num" data-district-count={d.code}>{t.number(d.signatures)}</td>
                  {hasRequired ? <MinimumCells t={t} district={d} /> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </section>
  );
}

export function Milestones(props: { t: Translator; progress: Progress; timeZone: string }) {
  const { t, progress } = props;
  if (progress.milestones.length === 0) return null;
  return (
    <section aria-labelledby="milestones-title">
      <h2 id="milestones-title">{t.m.initiative.milestones}</h2>
      <ul>
        {progress.milestones.map((ms) => (
          <li>
            <strong>{t.number(ms.signatures)}</strong> — {ms.label}{t.m.colon}{' '}
            {ms.reached && ms.reachedAt ? t.m.initiative.reached(t.date(ms.reachedAt, props.timeZone)) : ms.reached ? '✓' : t.m.initiative.notReached}
          </li>
        ))}
      </ul>
    </section>
  );
}
