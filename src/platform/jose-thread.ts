/** A JOSE worker thread (see jose-threads.ts): the same functions the engine calls inline, on this thread. */
import { parentPort, workerData } from 'node:worker_threads';
import type { JWTPayload } from 'jose';
import { createOidcVerifier } from '../features/auth/verifier';
import { sealPersonalData } from '../features/personal-data/sealing';
import type { JoseAnswer, JoseCall, JoseRequest, JoseResult, JoseThreadData } from './jose-threads';
import { loadSigningKeys, signWithEngineKey } from './keys';
import { Problem } from './problems';

const data = workerData as JoseThreadData;
const keys = { ...(await loadSigningKeys(data.signingJwk)), pii: { key: data.piiKey, kid: data.piiKeyId } };
const verifier = data.verifier ? createOidcVerifier(data.verifier) : undefined;

function run(call: JoseCall): Promise<unknown> {
  switch (call.op) {
    case 'verify':
      if (!verifier) throw new Error('this thread verifies no ID tokens');
      return verifier.verify(call.token);
    case 'seal':
      return sealPersonalData(keys, call.identity);
    case 'sign':
      return signWithEngineKey(keys, call.typ, JSON.parse(call.payload) as JWTPayload, { ...call.options, now: new Date(call.options.now) });
  }
}

function failure(error: unknown): JoseResult {
  if (error instanceof Problem) {
    const { status, code, title, detail, errors, extra, headers } = error;
    return { ok: false, problem: { status, code, title, detail, errors, extra, headers } };
  }
  return { ok: false, message: error instanceof Error ? error.message : String(error) };
}

// Each call is answered when done, not when the slowest of its message is: the answers of one turn
// of this thread's loop go back together.
let answers: JoseAnswer[] = [];
const send = () => {
  const batch = answers;
  answers = [];
  parentPort!.postMessage(batch);
};

parentPort!.on('message', (requests: JoseRequest[]) => {
  for (const { id, call } of requests) {
    void (async (): Promise<JoseResult> => {
      try {
        return { ok: true, value: await run(call) };
      } catch (error) {
        return failure(error);
      }
    })().then((result) => {
      if (answers.push({ id, result }) === 1) setImmediate(send);
    });
  }
});

parentPort!.postMessage('ready');
