import { createApp, engineTasks } from '../../src/app';
import { createDevIdentityProvider, type DevPerson } from '../../src/features/auth/dev-provider';
import type { AppDeps } from '../../src/platform/http';
import { sealPersonalData } from '../../src/features/personal-data/service';
import { generateKeyMaterial, loadEngineKeys, signWithEngineKey } from '../../src/platform/keys';
import { createLogger } from '../../src/platform/logger';
import { createMetrics } from '../../src/platform/metrics';
import { createScheduler } from '../../src/platform/scheduler';
import { openTestDatabase } from './database';

export const PUBLIC_URL = 'http://engine.test';

/** A clock the test moves by hand. */
export function testClock(start = new Date('2027-01-15T10:00:00Z')) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    set: (d: Date | string) => void (now = new Date(d).getTime()),
    advance: (ms: number) => void (now += ms),
  };
}

export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  contentType: string | null;
}

/**
 * The real app on a real database (PGlite, or PostgreSQL under test:pg), driven through
 * app.request(); the development identity provider signs the citizens' ID tokens.
 */
export async function createTestEngine(
  options: {
    adminSubjects?: string[];
    start?: Date;
    poolSize?: number;
    /** Merged into the app's configuration. */
    config?: Partial<AppDeps['config']>;
    /** Runtime parts to replace (progress stream, webhook sender...). */
    deps?: Partial<Omit<AppDeps, 'config' | 'db' | 'clock'>>;
    /** The version name of the generated pepper. */
    pepperVersion?: string;
  } = {},
) {
  const db = await openTestDatabase({ poolSize: options.poolSize });
  const clock = testClock(options.start);
  // Kept for tests that load the same keys again, rotated (key-rotation, pepper rotation).
  const keyMaterial = await generateKeyMaterial(options.pepperVersion ?? 't1');
  const keys = await loadEngineKeys(keyMaterial);
  const devProvider = await createDevIdentityProvider({ issuer: `${PUBLIC_URL}/dev/oidc` });
  const logLines: string[] = [];
  const deps: AppDeps = {
    db,
    keys,
    clock: clock.now,
    identity: devProvider.verifier,
    devProvider,
    config: { publicUrl: PUBLIC_URL, adminSubjects: ['admin-subject', ...(options.adminSubjects ?? [])], sessionTtlSeconds: 3600, production: false, ...options.config },
    logger: createLogger('debug', (line) => logLines.push(line)),
    metrics: createMetrics(),
    ...options.deps,
  };
  const app = createApp(deps);
  const scheduler = createScheduler(engineTasks(deps), clock.now, deps.logger);

  async function request<T = any>(
    method: string,
    path: string,
    init: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string>; asVisitor?: boolean } = {},
  ): Promise<TestResponse<T>> {
    // Tests read what the database holds, as a hard reload does; `asVisitor` reads like a plain
    // visitor, whose anonymous reads may come from memory (tests/api/public-reads.test.ts).
    const headers: Record<string, string> = { ...(method === 'GET' && !init.asVisitor ? { 'cache-control': 'no-cache' } : {}), ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    let body: string | undefined;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    } else if (init.rawBody !== undefined) {
      body = init.rawBody;
    }
    const res = await app.request(path, { method, headers, body });
    const contentType = res.headers.get('content-type');
    const text = await res.text();
    let parsed: unknown = text;
    if (contentType?.includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, contentType };
  }

  /** An ID token for a made-up person (eidas2 unless said otherwise). */
  const tokenFor = (person: DevPerson) => devProvider.mintIdToken(person, clock.now());
  /** An ID token with only a subject: enough for admins and clerks, not for signing. */
  const subjectToken = (sub: string) => devProvider.mintRaw({ sub, acr: 'eidas2' }, clock.now());

  return {
    app,
    deps,
    db,
    /** What `deps.keys` was loaded from (unless options.deps replaced them). */
    keyMaterial,
    clock,
    devProvider,
    logLines,
    scheduler,
    request,
    tokenFor,
    subjectToken,
    adminToken: () => subjectToken('admin-subject'),
    close: () => db.close(),
  };
}

export type TestEngine = Awaited<ReturnType<typeof createTestEngine>>;

/**
 * Holds paper batches after their first checks, while their personal data is sealed, until
 * `release`: a test can change something between a batch's checks and its write.
 */
export function holdSealing(engine: TestEngine) {
  const keys = engine.deps.keys;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let sealing!: () => void;
  const sealingStarted = new Promise<void>((resolve) => (sealing = resolve));
  keys.offload = {
    seal: async (identity) => (sealing(), await held, sealPersonalData({ pii: keys.pii }, identity)),
    sign: (typ, payload, options) => signWithEngineKey({ signing: keys.signing }, typ, payload, options),
    close: async () => {},
  };
  return { sealingStarted, release, restore: () => delete keys.offload };
}
