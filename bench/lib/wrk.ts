import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** wrk from Debian drives the load from a separate process; installed on first use when missing. */
export function ensureWrk(): string {
  const found = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  process.stdout.write('wrk is missing: installing it from Debian (apt-get install -y wrk)…\n');
  const install = spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
  if (install.status !== 0) throw new Error('wrk is needed for the load: apt-get install -y wrk');
  return 'wrk';
}

const SCRIPT = String.raw`
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  requests = {}
  local n = 0
  local nthreads = tonumber(args[2])
  local method = args[3]
  for line in io.lines(args[1]) do
    if n % nthreads == id then
      local p, t, b = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)")
      table.insert(requests, { p, t, b })
    end
    n = n + 1
  end
  i = 0
  statuses = {}
  verb = method
  gap = tonumber(args[4]) or 0
end
function request()
  i = i + 1
  if i > #requests then i = 1 end
  local r = requests[i]
  local headers = { ["Content-Type"] = "application/json" }
  if r[2] ~= "" then headers["Authorization"] = "Bearer " .. r[2] end
  if verb == "GET" then return wrk.format("GET", r[1], headers) end
  return wrk.format(verb, r[1], headers, r[3])
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%d":%d', k, v)) end
  io.write("STATUSES {" .. table.concat(parts, ",") .. "}\n")
  io.write(string.format("LATENCY_US p50=%d p90=%d p99=%d max=%d\n", latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  io.write(string.format("TOTAL requests=%d errors=%d\n", summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`;

/**
 * Only for paced loads: requests leave on a fixed schedule (one slot every `gap` ms per wrk thread,
 * from a monotonic clock through LuaJIT's ffi), whatever the latency, as long as a connection is
 * free; a slot missed because all were busy is sent as soon as one is. A plain per-connection wait
 * would add the latency to the gap and fall short of the rate as soon as answers slow down.
 */
const PACING = String.raw`
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local first = nil
local slots = 0
function delay()
  local t = now_ms()
  if first == nil then first = t end
  slots = slots + 1
  local slot = first + slots * gap
  if slot > t then return math.floor(slot - t) end
  return 0
end
`;

export interface LoadResult {
  requests: number;
  statuses: Record<string, number>;
  socketErrors: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  seconds: number;
}

/** Each line of `lines` is one request: path, bearer token (may be empty) and body, tab-separated. */
export async function runWrk(options: {
  url: string;
  lines: string[];
  method?: 'POST' | 'GET';
  connections: number;
  seconds: number;
  threads?: number;
  dir: string;
  name: string;
  /** Paces the load at this many requests per second in all (on a schedule, see PACING); unset: as fast as answered. */
  rate?: number;
}): Promise<LoadResult> {
  const wrk = ensureWrk();
  const threads = options.threads ?? 2;
  const requestsFile = join(options.dir, `${options.name}.tsv`);
  const scriptFile = join(options.dir, `${options.name}.lua`);
  await writeFile(requestsFile, options.lines.join('\n') + '\n');
  await writeFile(scriptFile, options.rate ? SCRIPT + PACING : SCRIPT);
  const args = [`-t${threads}`, `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '10s', '-s', scriptFile, options.url, '--', requestsFile, String(threads), options.method ?? 'POST', String(options.rate ? (1000 * threads) / options.rate : 0)];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', () => resolve(out));
  });
  const statuses = JSON.parse(/STATUSES (\{.*\})/.exec(output)?.[1] ?? '{}') as Record<string, number>;
  const lat = /LATENCY_US p50=(\d+) p90=(\d+) p99=(\d+) max=(\d+)/.exec(output);
  const total = /TOTAL requests=(\d+) errors=(\d+)/.exec(output);
  if (!lat || !total) throw new Error(`could not read wrk's output:\n${output}`);
  return {
    requests: Number(total[1]),
    socketErrors: Number(total[2]),
    statuses,
    latencyMs: { p50: Number(lat[1]) / 1000, p90: Number(lat[2]) / 1000, p99: Number(lat[3]) / 1000, max: Number(lat[4]) / 1000 },
    seconds: options.seconds,
  };
}
