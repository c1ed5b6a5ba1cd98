/**
 * JOSE work off the main thread (Node only): the ID token's verification, the sealing of personal
 * data and the engine's signatures (receipts, sessions, tree heads, certificates) run in worker
 * threads with the same jose code and the same keys, so the thread that answers HTTP spends its time
 * on requests. jose runs on WebCrypto, which hands every operation to libuv's thread pool and back:
 * on the main thread that dispatch alone was a tenth of a signature's cost under load.
 *
 * Calls made in one turn of the event loop travel together: one message to a thread, one back.
 * A thread that dies fails the calls it held (503, try again) and is replaced.
 */
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
  | { op: 'sign'; typ: string; payload: JWTPayload; options: { issuer: string; expiresInSeconds?: number; now: number } };

export type JoseResult = { ok: true; value: unknown } | { ok: false; problem: ProblemInit } | { ok: false; message: string };
/** Calls to a thread and its answers travel as arrays: all those of one turn of the sender's event loop. */
export type JoseRequest = { id: number; call: JoseCall };
export type JoseAnswer = { id: number; result: JoseResult };

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

class JoseThread {
  private worker!: Worker;
  private outbox: JoseRequest[] = [];
  /** Calls sent or about to be, by id: each is answered on its own, as soon as it is done. */
  private pending = new Map<number, Pending>();
  private ids = 0;
  private scheduled = false;
  private closing = false;
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
    // From source the engine runs through tsx: the thread registers it before loading its entry.
    const source = entry.endsWith('.ts')
      ? `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`
      : `import(${JSON.stringify(entry)})`;
    // Of the process's flags it takes only a CPU profile's: tsx is registered above.
    const execArgv = process.execArgv.filter((flag) => flag.startsWith('--cpu-prof'));
    // It keeps nearly nothing (the provider's keys): a small heap, so that it adds little to the process's memory.
    const worker = new Worker(source, { eval: true, workerData: this.data, execArgv, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } });
    worker.unref();
    let started = false;
    let failure: Error | undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: JoseAnswer[] | 'ready') => {
        if (message === 'ready') {
          started = true;
          return resolve();
        }
        for (const { id, result } of message) {
          const pending = this.pending.get(id);
          this.pending.delete(id);
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
    // A failed start is reported by startJoseThreads (or by the calls, for a replacement).
    this.ready.catch(() => undefined);
    this.worker = worker;
  }

  private exited(code: number, started: boolean) {
    // Calls not sent yet go to the next thread; those sent are lost with this one.
    const queued = new Set(this.outbox.map((r) => r.id));
    let failed = 0;
    for (const [id, pending] of this.pending) {
      if (queued.has(id) && started && !this.closing) continue;
      this.pending.delete(id);
      pending.reject(problems.unavailable('The request could not be completed; try again.', 1));
      failed++;
    }
    if (this.closing) return;
    if (!started) {
      // It could not even load its keys: starting it again would fail the same way.
      this.closing = true;
      this.logger.error('jose thread could not start; its calls fail', { code, callsFailed: failed });
      return;
    }
    this.logger.error('jose thread exited; starting another', { code, callsFailed: failed });
    this.start();
    if (this.outbox.length > 0) this.schedule();
  }

  call(call: JoseCall): Promise<unknown> {
    if (this.closing) return Promise.reject(problems.unavailable('The engine is stopping.', 1));
    return new Promise((resolve, reject) => {
      const id = ++this.ids;
      this.pending.set(id, { resolve, reject });
      this.outbox.push({ id, call });
      this.schedule();
    });
  }

  /** How many calls this thread holds (sent or about to be). */
  get load() {
    return this.pending.size;
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
      if (this.outbox.length === 0 || this.closing) return;
      const requests = this.outbox;
      this.outbox = [];
      this.worker.postMessage(requests);
    });
  }

  async close() {
    this.closing = true;
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
      call({ op: 'sign', typ, payload, options: { issuer: options.issuer, expiresInSeconds: options.expiresInSeconds, now: options.now.getTime() } }) as Promise<string>,
    verifier(base) {
      // The threads were started with this verifier's settings; any other stays on this thread.
      if (!data.verifier || base.issuer !== data.verifier.issuer) return base;
      return { issuer: base.issuer, options: base.options, verify: (token) => call({ op: 'verify', token }) as Promise<VerifiedToken> };
    },
    threads: () => threads.map((t) => t.current),
    close: async () => {
      await Promise.all(threads.map((t) => t.close()));
    },
  };
}
