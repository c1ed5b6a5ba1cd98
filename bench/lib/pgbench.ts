import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type postgres from 'postgres';

/**
 * The floor of what one signature costs the database: pgbench running a single-row
 * INSERT … ON CONFLICT DO NOTHING into a two-column unique index, 64 clients, 15 s.
 */
export async function pgbenchFloor(sql: postgres.Sql, databaseUrl: string, dir: string, seconds = 15): Promise<number> {
  await sql.unsafe('create table bench_floor (initiative_id uuid not null, signer_hash bytea not null, unique (initiative_id, signer_hash))');
  const script = join(dir, 'floor.sql');
  await writeFile(
    script,
    "insert into bench_floor (initiative_id, signer_hash) values ('00000000-0000-4000-8000-000000000001', sha256(random()::text::bytea)) on conflict do nothing;\n",
  );
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('pgbench', ['-n', '-c', '64', '-j', '2', '-T', String(seconds), '-M', 'prepared', '-f', script, databaseUrl], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', () => resolve(out));
  });
  await sql.unsafe('drop table bench_floor');
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
  if (!tps) throw new Error(`could not read pgbench's output:\n${output}`);
  return Number(tps[1]);
}
