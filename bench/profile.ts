/**
 * `npx tsx bench/profile.ts <file.cpuprofile> [top]`: the functions with the most self time in a
 * V8 CPU profile (as written by `BENCH_CPU_PROFILE=<dir> npm run bench -- sign`), and the share of
 * time spent under some well-known callers, so a figure can be explained by where the time goes.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: tsx bench/profile.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;

// Only the seconds when the engine was under load: the profile also covers start-up and the
// minutes the bench spends minting tokens or running pgbench, when the engine waits.
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const seconds = new Map<number, { idle: number; all: number }>();
let clock = 0;
const secondOf = profile.samples.map((id, i) => {
  clock += profile.timeDeltas[i] ?? 0;
  const s = Math.floor(clock / 1e6);
  const b = seconds.get(s) ?? { idle: 0, all: 0 };
  b.all += profile.timeDeltas[i] ?? 0;
  if (idleIds.has(id)) b.idle += profile.timeDeltas[i] ?? 0;
  seconds.set(s, b);
  return s;
});
// The longest run of seconds when the thread was busy more than BUSY of the time (start-up is a shorter one). With the
// JOSE work in its own thread the main thread is under half busy at full load.
const BUSY = 0.3;
const busy = new Set<number>();
let run: number[] = [];
for (const s of [...seconds.keys()].sort((a, b) => a - b).concat(Infinity)) {
  const b = seconds.get(s);
  if (b && b.idle < (1 - BUSY) * b.all && (run.length === 0 || run.at(-1) === s - 1)) run.push(s);
  else {
    if (run.length > busy.size) [...busy].forEach((x) => busy.delete(x)), run.forEach((x) => busy.add(x));
    run = b && b.idle < (1 - BUSY) * b.all ? [s] : [];
  }
}
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  if (busy.has(secondOf[i]!)) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (n: ProfileNode) => {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, '');
  return `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-3).join('/')}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
};
const byName = new Map<string, number>();
for (const n of profile.nodes) {
  const t = self.get(n.id) ?? 0;
  if (t) byName.set(where(n), (byName.get(where(n)) ?? 0) + t);
}
const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)} %`;
process.stdout.write(`self time, ${(total / 1e6).toFixed(1)} s sampled in the longest run of seconds the thread was more than ${100 * BUSY} % busy (${busy.size} of ${seconds.size})\n`);
for (const [name, t] of [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(t)}  ${name}\n`);

// Inclusive time under callers matched by name or file (each sample counted once per group).
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const groups: Record<string, (n: ProfileNode) => boolean> = {
  'jose (JWT/JWS/JWE)': (n) => n.callFrame.url.includes('/jose/'),
  'postgres.js driver': (n) => n.callFrame.url.includes('/postgres/'),
  'drizzle query building': (n) => n.callFrame.url.includes('/drizzle-orm/'),
  'hono + node-server': (n) => n.callFrame.url.includes('/hono/') || n.callFrame.url.includes('/@hono/'),
  'zod': (n) => n.callFrame.url.includes('/zod/'),
  '@noble/hashes': (n) => n.callFrame.url.includes('/@noble/'),
  'garbage collector': (n) => n.callFrame.functionName === '(garbage collector)',
  idle: (n) => n.callFrame.functionName === '(idle)',
};
const inclusive = Object.fromEntries(Object.keys(groups).map((g) => [g, 0]));
for (const [id, t] of self) {
  const hit = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const node = nodes.get(cur)!;
    for (const [g, test] of Object.entries(groups)) if (test(node)) hit.add(g);
  }
  for (const g of hit) inclusive[g]! += t;
}
process.stdout.write('\ninclusive time by component\n');
for (const [g, t] of Object.entries(inclusive).sort((a, b) => b[1] - a[1])) process.stdout.write(`${pct(t)}  ${g}\n`);
