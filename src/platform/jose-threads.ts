/**
 * JOSE work off the main thread (Node only): the ID token's verification, the sealing of personal
 * data and the engine's signatures (receipts, tree heads, certificates) run in worker
 * threads with the same jose code and the same keys, so the thread that answers HTTP spends its time
 * on requests. jose runs on WebCrypto, which hands every operation to libuv's thread pool and back:
 * on the main thread that dispatch alone was a tenth of a signature's cost under load.
 *
 * Calls made in one turn of the event loop travel together in one message to a thread; each is
 * answered as soon as it is done, the answers of one turn of the thread's loop in one message back.
 * A thread that dies fails the calls it held (503, try again) and is replaced.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { JWK, JWTPayload } from 'jose';
import type { Identity, IdentityVerifier, OidcVerifierOptions, VerifiedToken } from '../features/auth/verifier';
import type { EngineSignOptions, JoseOffload } from './keys';
import type { Logger } from './logger';
import { Problem, problems, type ProblemInit } from './problems';

/** What a thread is started with: the engine's key material and the identity provider's settings. */
export interface JoseThreadData {
  signingJwk: JWK;
  piiKey: Uint8Array;
  piiKeyId: string;
  verifier: OidcVerifierOptions | undefined;
}

export type JoseCall =
  | { op: 'verify'; token: string }
  | { op: 'seal'; identity: Identity }
  /** `payload` as the JSON jose signs: one string to copy, and nothing a structured clone would lose (toJSON, prototypes). */
  | { op: 'sign'; typ: string; payload: string; options: { issuer: string; expiresInSeconds?: number; now: number } };

export type JoseResult = { ok: true; value: unknown } | { ok: false; problem: ProblemInit } | { ok: false; message: string };
/** Calls to a thread and its answers travel as arrays: all those of one turn of the sender's event loop. */
export type JoseRequest = { id: number; call: JoseCall };
export type JoseAnswer = { id: number; result: JoseResult };

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** A thread that could not start again is tried again after this long; meanwhile its calls fail at once. */
const RESTART_DELAY_MS = 1000;

/** From source the engine runs through tsx: a thread registers it before loading its entry (resolved here, not from the working directory). */
function threadSource(entry: string): string {
  if (!entry.endsWith('.ts')) return `import(${JSON.stringify(entry)})`;
  const tsx = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
}

class JoseThread {
  private worker!: Worker;
  /**
   * starting: calls are sent and wait in the thread until it has loaded its keys; ready; down: it
   * died before it was ready, calls fail at once until it is tried again; closed: for good.
   */
  private state: 'starting' | 'ready' | 'down' | 'closed' = 'starting';
  private outbox: JoseRequest[] = [];
  /** Calls sent or about to be, by id: each is answered on its own, as soon as it is done. */
  private pending = new Map<number, Pending>();
  private ids = 0;
  private scheduled = false;
  /** Settles when the current thread has loaded its keys, or failed to. */
  ready!: Promise<void>;

  constructor(
    private readonly data: JoseThreadData,
    private readonly logger: Logger,
  ) {
    this.start();
  }

  private start() {
    const entry = new URL(`./jose-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
    // Of the process's flags it takes only a CPU profile's: tsx is registered by its source.
    const execArgv = process.execArgv.filter((flag) => flag.startsWith('--cpu-prof'));
    // It keeps nearly nothing (the provider's keys): a small heap, so that it adds little to the process's memory.
    const worker = new Worker(threadSource(entry), { eval: true, workerData: this.data, execArgv, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } });
    worker.unref();
    this.worker = worker;
    this.state = 'starting';
    let started = false;
    let failure: Error | undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: JoseAnswer[] | 'ready') => {
        if (message === 'ready') {
          started = true;
          if (this.state === 'starting') this.state = 'ready';
          return resolve();
        }
        for (const { id, result } of message) {
          const pending = this.take(id);
          if (pending) settle(pending, result);
        }
      });
      worker.on('error', (error) => {
        failure = error;
        this.logger.error('jose thread failed', { error: error.message });
      });
      worker.on('exit', (code) => {
        if (!started) reject(failure ?? new Error(`the jose thread exited with ${code} while starting`));
        this.exited(code, started);
      });
    });
    // A failed first start is reported by startJoseThreads; a failed restart, by the calls.
    this.ready.catch(() => undefined);
    if (this.outbox.length > 0) this.schedule();
  }

  private exited(code: number, started: boolean) {
    const closed = this.state === 'closed';
    // Calls not sent yet go to the next thread; those sent are lost with this one.
    const queued = new Set(this.outbox.map((r) => r.id));
    let failed = 0;
    for (const [id, pending] of this.pending) {
      if (queued.has(id) && started && !closed) continue;
      this.pending.delete(id);
      pending.reject(problems.unavailable(closed ? 'The engine is stopping.' : 'The request could not be completed; try again.', 1));
      failed++;
    }
    if (closed) return;
    if (started) {
      this.logger.error('jose thread exited; starting another', { code, callsFailed: failed });
      return this.start();
    }
    // It could not load its keys this time: its calls fail at once until it is tried again.
    this.outbox = [];
    this.state = 'down';
    this.logger.error('jose thread could not start; trying again shortly', { code, callsFailed: failed, retryInMs: RESTART_DELAY_MS });
    setTimeout(() => {
      if (this.state === 'down') this.start();
    }, RESTART_DELAY_MS).unref();
  }

  call(call: JoseCall): Promise<unknown> {
    if (this.state === 'closed') return Promise.reject(problems.unavailable('The engine is stopping.', 1));
    if (this.state === 'down') return Promise.reject(problems.unavailable('The request could not be completed; try again.', 1));
    return new Promise((resolve, reject) => {
      const id = ++this.ids;
      this.pending.set(id, { resolve, reject });
      this.outbox.push({ id, call });
      this.schedule();
    });
  }

  /** The call `id` waits for no answer any more: its promise, to settle. */
  private take(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    return pending;
  }

  /** How many calls this thread holds (sent or about to be); a thread that is down takes none. */
  get load() {
    return this.state === 'down' ? Number.POSITIVE_INFINITY : this.pending.size;
  }

  /** The thread running now (it changes when one dies). */
  get current(): Worker {
    return this.worker;
  }

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.outbox.length === 0 || this.state === 'closed' || this.state === 'down') return;
      const requests = this.outbox;
      this.outbox = [];
      try {
        this.worker.postMessage(requests);
      } catch (error) {
        // A value that cannot travel: those calls fail, the others go on.
        for (const { id } of requests) this.take(id)?.reject(error);
      }
    });
  }

  async close() {
    this.state = 'closed';
    await this.worker.terminate();
  }
}

function settle(pending: Pending, result: JoseResult) {
  if (result.ok) pending.resolve(result.value);
  else if ('problem' in result) pending.reject(new Problem(result.problem));
  else pending.reject(new Error(result.message));
}

export interface JoseThreads extends JoseOffload {
  /** An identity verifier with the same settings whose verifications run in the threads. */
  verifier(base: IdentityVerifier): IdentityVerifier;
  /** The threads running now (a dead one is replaced by a new one). */
  threads(): Worker[];
}

/**
 * `count` threads (at least one) holding the engine's keys and the identity provider's settings;
 * resolves once each has loaded them (rejects if one cannot: bad key material stops the start).
 */
export async function startJoseThreads(count: number, data: JoseThreadData, logger: Logger): Promise<JoseThreads> {
  const threads = Array.from({ length: Math.max(1, count) }, () => new JoseThread(data, logger));
  try {
    await Promise.all(threads.map((t) => t.ready));
  } catch (error) {
    await Promise.all(threads.map((t) => t.close()));
    throw error;
  }
  const call = (c: JoseCall) => threads.reduce((a, b) => (b.load < a.load ? b : a)).call(c);
  return {
    seal: (identity) => call({ op: 'seal', identity }) as Promise<string>,
    sign: (typ: string, payload: JWTPayload, options: EngineSignOptions) =>
      call({
        op: 'sign',
        typ,
        payload: JSON.stringify(payload),
        options: { issuer: options.issuer, expiresInSeconds: options.expiresInSeconds, now: options.now.getTime() },
      }) as Promise<string>,
    verifier(base) {
      // The threads were started with this verifier's settings; any other stays on this thread.
      if (!data.verifier || base.options !== data.verifier) return base;
      return { issuer: base.issuer, options: base.options, verify: (token) => call({ op: 'verify', token }) as Promise<VerifiedToken> };
    },
    threads: () => threads.map((t) => t.current),
    close: async () => {
      await Promise.all(threads.map((t) => t.close()));
    },
  };
}
