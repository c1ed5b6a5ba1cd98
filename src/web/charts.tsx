import type { Translator } from './i18n';

/** Horizontal bars, one per district, drawn with SVG attributes only (the CSP forbids inline styles). */
export function DistrictBarChart(props: {
  t: Translator;
  title: string;
  districts: { code: string; name: string; signatures: number; required: number | null }[];
}) {
  const rowHeight = 22;
  const labelWidth = 190;
  const barWidth = 360;
  const max = Math.max(1, ...props.districts.map((d) => Math.max(d.signatures, d.required ?? 0)));
  const height = props.districts.length * rowHeight + 10;
  return (
    <figure class="chart">
      <svg role="img" aria-labelledby="district-chart-title" viewBox={`0 0 ${labelWidth + barWidth + 70} ${height}`} width="100%">
        <title id="district-chart-title">{props.title}</title>
        {props.districts.map((d, i) => {
          const y = i * rowHeight + 5;
          const width = Math.round((d.signatures / max) * barWidth);
          return (
            <g>
              <text x={labelWidth - 6} y={y + 14} text-anchor="end" class="chart-label">{d.name}</text>
              <rect x={labelWidth} y={y + 2} width={Math.max(width, 1)} height={rowHeight - 6} class="bar" />
              {d.required !== null ? (
                <line x1={labelWidth + (d.required / max) * barWidth} x2={labelWidth + (d.required / max) * barWidth} y1={y} y2={y + rowHeight - 2} class="required" />
              ) : null}
              <text x={labelWidth + width + 6} y={y + 14} class="chart-value" data-district-count={d.code}>{props.t.number(d.signatures)}</text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export interface HistoryPoint {
  at: string;
  /** Signatures of the day, withdrawals deducted. */
  net: number;
  cumulative: number;
}

/** Cumulative signatures over time, with the goal as a dashed line; its figures in a table beside it, for whoever cannot see the line. */
export function HistoryChart(props: { t: Translator; title: string; points: HistoryPoint[]; goal: number; timeZone: string }) {
  const width = 640;
  const height = 240;
  const left = 60;
  const bottom = 30;
  const top = 10;
  const points = props.points;
  const max = Math.max(1, props.goal, ...points.map((p) => p.cumulative));
  const start = points.length ? Date.parse(points[0]!.at) : 0;
  const end = points.length ? Date.parse(points[points.length - 1]!.at) : 1;
  const span = Math.max(1, end - start);
  const x = (at: string) => left + ((Date.parse(at) - start) / span) * (width - left - 10);
  const y = (n: number) => top + (1 - n / max) * (height - top - bottom);
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.at).toFixed(1)},${y(p.cumulative).toFixed(1)}`).join(' ');
  const goalY = y(props.goal);
  return (
    <figure class="chart">
      <svg role="img" aria-labelledby="history-chart-title" viewBox={`0 0 ${width} ${height}`} width="100%">
        <title id="history-chart-title">{props.title}</title>
        <line x1={left} x2={width - 10} y1={height - bottom} y2={height - bottom} class="axis" />
        <line x1={left} x2={left} y1={top} y2={height - bottom} class="axis" />
        <text x={left - 6} y={top + 10} text-anchor="end" class="chart-label">{props.t.number(max)}</text>
        <text x={left - 6} y={height - bottom} text-anchor="end" class="chart-label">0</text>
        {props.goal <= max ? <line x1={left} x2={width - 10} y1={goalY} y2={goalY} class="goal" /> : null}
        {points.length > 1 ? <path d={path} class="line" /> : null}
        {points.map((p) => <circle cx={x(p.at)} cy={y(p.cumulative)} r="3" class="point" />)}
        {points.length ? (
          <>
            <text x={left} y={height - 8} class="chart-label">{props.t.date(points[0]!.at, props.timeZone)}</text>
            <text x={width - 10} y={height - 8} text-anchor="end" class="chart-label">{props.t.date(points[points.length - 1]!.at, props.timeZone)}</text>
          </>
        ) : null}
      </svg>
      {points.length ? (
        <details>
          <summary>{props.t.m.manage.historyData}</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">{props.t.m.manage.historyDay}</th>
                <th scope="col" class="num">{props.t.m.manage.historyNet}</th>
                <th scope="col" class="num">{props.t.m.manage.historyTotal}</th>
              </tr>
            </thead>
            <tbody>
              {points.map((p) => (
                <tr>
                  <th scope="row">{props.t.date(p.at, props.timeZone)}</th>
                  <td class="num">{props.t.number(p.net)}</td>
                  <td class="num">{props.t.number(p.cumulative)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
    </figure>
  );
}
