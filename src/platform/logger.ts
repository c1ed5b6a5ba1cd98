/** Structured JSON logs, one line an event. Callers pass no personal data: only ids, routes and codes. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = defaultWrite): Logger {
  const at = (l: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[l] < ORDER[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...fields }));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

let pending: string[] = [];
let scheduled = false;

/** Stdout to a pipe or file is synchronous on Linux: lines are gathered and written once per turn of the event loop. */
function defaultWrite(line: string) {
  if (typeof process === 'undefined' || !process.stdout?.write || typeof setImmediate !== 'function') return console.log(line);
  pending.push(line);
  if (scheduled) return;
  scheduled = true;
  setImmediate(flushLogs);
}

/** Writes the lines still gathered (called before the process exits). */
export function flushLogs() {
  scheduled = false;
  if (pending.length === 0) return;
  const text = pending.join('\n') + '\n';
  pending = [];
  process.stdout.write(text);
}
