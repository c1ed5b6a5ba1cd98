import { readdir, readFile } from 'node:fs/promises';
import { childProcesses } from '../../tests/support/process';

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export async function processCpuSeconds(pid: number | string): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}

/** A process and its children (a cluster's primary and the processes it started), from /proc. */
export async function processTree(pid: number): Promise<number[]> {
  return [pid, ...(await childProcesses(pid)).map((child) => child.pid)];
}

export interface CpuSnapshot {
  /** Busy CPU seconds of the whole machine, all cores (from /proc/stat). */
  machineBusy: number;
  /** Elapsed CPU seconds of the whole machine, busy or idle, all cores. */
  machineTotal: number;
  /** CPU seconds of each PostgreSQL process (server and backends), by pid. */
  postgres: Map<string, number>;
}

/** CPU seconds PostgreSQL used between two snapshots: processes present in both, and those started since. */
export function postgresCpuBetween(before: CpuSnapshot, after: CpuSnapshot): number {
  let sum = 0;
  for (const [pid, seconds] of after.postgres) sum += seconds - (before.postgres.get(pid) ?? 0);
  return sum;
}

export async function cpuSnapshot(): Promise<CpuSnapshot> {
  const [cpu] = (await readFile('/proc/stat', 'utf8')).split('\n');
  const ticks = cpu!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  const postgres = new Map<string, number>();
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm.startsWith('postgres')) postgres.set(pid, await processCpuSeconds(pid));
  }
  return { machineBusy: (total - idle) / 100, machineTotal: total / 100, postgres };
}
