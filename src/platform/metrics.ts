/** A small Prometheus registry: counters and histograms, rendered in the text exposition format. */
type Labels = Record<string, string>;

const key = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

class Counter {
  readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1) {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines;
  }
}

class Histogram {
  readonly series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: number[],
  ) {}
  observe(labels: Labels, value: number) {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) s.buckets[i]!++;
    s.sum += value;
    s.count++;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? ',' : '';
      this.bounds.forEach((b, i) => lines.push(`${this.name}_bucket{${k}${sep}le="${b}"} ${s.buckets[i]}`));
      lines.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return lines;
  }
}

/** What one process has counted, as plain data: a cluster's workers send theirs to be summed. */
export interface MetricsSnapshot {
  counters: Record<string, [string, number][]>;
  histograms: Record<string, [string, Series][]>;
  /** Gauges of the process (its database pool), summed across processes. */
  gauges: Record<string, number>;
}

type Series = { buckets: number[]; sum: number; count: number };

/** The counters and histograms of several snapshots added up (gauges, which are of the moment, are left out). */
export function sumSnapshots(snapshots: MetricsSnapshot[]): MetricsSnapshot {
  const counters: Record<string, Map<string, number>> = {};
  const histograms: Record<string, Map<string, Series>> = {};
  for (const s of snapshots) {
    for (const [name, values] of Object.entries(s.counters)) {
      const into = (counters[name] ??= new Map());
      for (const [k, v] of values) into.set(k, (into.get(k) ?? 0) + v);
    }
    for (const [name, series] of Object.entries(s.histograms)) {
      const into = (histograms[name] ??= new Map());
      for (const [k, v] of series) {
        const total = into.get(k) ?? { buckets: v.buckets.map(() => 0), sum: 0, count: 0 };
        into.set(k, { buckets: total.buckets.map((b, i) => b + (v.buckets[i] ?? 0)), sum: total.sum + v.sum, count: total.count + v.count });
      }
    }
  }
  return {
    counters: Object.fromEntries(Object.entries(counters).map(([name, values]) => [name, [...values]])),
    histograms: Object.fromEntries(Object.entries(histograms).map(([name, series]) => [name, [...series]])),
    gauges: {},
  };
}

/** Gauges every engine process reports, with their help text. */
export const GAUGES = {
  db_pool_connections_active: 'Database connections in use.',
  db_pool_connections_max: 'Database pool size.',
} as const;

export function createMetrics() {
  const requests = new Counter('http_requests_total', 'HTTP requests by route, method and status.');
  const latency = new Histogram('http_request_duration_seconds', 'HTTP request latency by route.', [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
  ]);
  const signatures = new Counter('signatures_total', 'Signature attempts by outcome (accepted, duplicate, refused) and reason.');
  const tasks = new Counter('scheduled_task_runs_total', 'Runs of the periodic tasks (deadlines, log sequencing, webhooks, retention...) by task and outcome (ok, failed).');
  const counters = [requests, signatures, tasks];
  const histograms = [latency];
  return {
    requests,
    latency,
    signatures,
    tasks,
    snapshot(gauges: Partial<Record<keyof typeof GAUGES, number>> = {}): MetricsSnapshot {
      return {
        counters: Object.fromEntries(counters.map((c) => [c.name, [...c.values]])),
        histograms: Object.fromEntries(histograms.map((h) => [h.name, [...h.series].map(([k, s]): [string, Series] => [k, { ...s, buckets: [...s.buckets] }])])),
        gauges: { ...gauges },
      };
    },
    /** The text exposition of the sum of several processes' snapshots (one process: its own). */
    render(snapshots: MetricsSnapshot[]): string {
      const sumCounter = (c: Counter) => {
        const total = new Counter(c.name, c.help);
        for (const s of snapshots) for (const [k, v] of s.counters[c.name] ?? []) total.values.set(k, (total.values.get(k) ?? 0) + v);
        return total;
      };
      const sumHistogram = (h: Histogram) => {
        const total = new Histogram(h.name, h.help, h.bounds);
        for (const s of snapshots) {
          for (const [k, series] of s.histograms[h.name] ?? []) {
            const into = total.series.get(k) ?? { buckets: h.bounds.map(() => 0), sum: 0, count: 0 };
            series.buckets.forEach((b, i) => (into.buckets[i] = (into.buckets[i] ?? 0) + b));
            into.sum += series.sum;
            into.count += series.count;
            total.series.set(k, into);
          }
        }
        return total;
      };
      const lines = [...sumCounter(requests).render(), ...sumHistogram(latency).render(), ...sumCounter(signatures).render(), ...sumCounter(tasks).render()];
      for (const [name, help] of Object.entries(GAUGES)) {
        const values = snapshots.map((s) => s.gauges[name]).filter((v): v is number => v !== undefined);
        if (values.length) lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${values.reduce((a, b) => a + b, 0)}`);
      }
      return lines.join('\n') + '\n';
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
