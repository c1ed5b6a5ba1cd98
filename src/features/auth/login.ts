import { eq } from 'drizzle-orm';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { z } from 'zod';
import { ASSURANCE_LEVELS, meetsAssurance, type Assurance } from '../../core/identity';
import type { Executor } from '../../db/client';
import { initiatives, jurisdictions } from '../../db/schema';
import type { AppDeps } from '../../platform/http';
import { keyDerivedFrom, type EngineKeys } from '../../platform/keys';
import { problems } from '../../platform/problems';
import { devProviderDispatch } from './dev-routes';
import { createLoginClient, type LoginClient, type LoginFlow } from './login-client';
import { issueSession } from './session';
import { identityFromClaims, type VerifiedToken } from './verifier';

/** The flow cookie lives as long as a person may reasonably take at the provider's login page. */
export const LOGIN_FLOW_TTL_SECONDS = 600;
export const DEV_LOGIN_SCOPES = 'openid given_name family_name birthdate';

/**
 * returnTo must stay on this site: a path starting with one `/`, no backslash (browsers read
 * `/\evil` as `//evil`), no control characters, so `//evil`, `https://evil` and `/\evil` are refused.
 */
export function isSafeReturnTo(value: string): boolean {
  if (!value.startsWith('/') || value.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(value) || value.length > 2000) return false;
  try {
    return new URL(value, 'http://engine.invalid').origin === 'http://engine.invalid';
  } catch {
    return false;
  }
}

const devLoginClients = new WeakMap<AppDeps, LoginClient>();

/** The configured relying party, or one for the built-in development provider (reached in-process, never over the network). */
export function loginClientOf(deps: AppDeps): LoginClient {
  if (deps.login) return deps.login;
  const provider = deps.devProvider;
  if (!provider || deps.config.production) throw problems.unavailable('No identity provider is configured for web login.', 60);
  let client = devLoginClients.get(deps);
  if (!client) {
    client = createLoginClient({
      issuer: provider.issuer,
      clientId: provider.clientId,
      redirectUri: provider.redirectUris[0]!,
      scopes: DEV_LOGIN_SCOPES,
      allowHttp: true,
      fetch: devProviderDispatch(deps),
    });
    devLoginClients.set(deps, client);
  }
  return client;
}

const INITIATIVE_PATH = /^\/(?:v1\/)?initiatives\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:[/?#]|$)/i;
const JURISDICTION_PATH = /^\/(?:v1\/)?jurisdictions\/([a-z0-9][a-z0-9-]*)(?:[/?#]|$)/;

/**
 * The assurance to ask for with acr_values: the minimum of the jurisdiction that returnTo points
 * at (an initiative's or a jurisdiction's page); otherwise the lowest any jurisdiction accepts, so
 * a login to browse or administer never demands more than signing somewhere would.
 */
export async function requestedAssurance(db: Executor, returnTo: string): Promise<Assurance> {
  const initiativeId = INITIATIVE_PATH.exec(returnTo)?.[1];
  const jurisdictionId = JURISDICTION_PATH.exec(returnTo)?.[1];
  if (initiativeId) {
    const [row] = await db
      .select({ minimum: jurisdictions.minimumAssurance })
      .from(initiatives)
      .innerJoin(jurisdictions, eq(jurisdictions.id, initiatives.jurisdictionId))
      .where(eq(initiatives.id, initiativeId.toLowerCase()));
    if (row && isAssurance(row.minimum)) return row.minimum;
  } else if (jurisdictionId) {
    const [row] = await db.select({ minimum: jurisdictions.minimumAssurance }).from(jurisdictions).where(eq(jurisdictions.id, jurisdictionId));
    if (row && isAssurance(row.minimum)) return row.minimum;
  }
  const all = await db.selectDistinct({ minimum: jurisdictions.minimumAssurance }).from(jurisdictions);
  return ASSURANCE_LEVELS.find((level) => all.some((j) => j.minimum === level)) ?? ASSURANCE_LEVELS[0];
}

const isAssurance = (value: string): value is Assurance => (ASSURANCE_LEVELS as readonly string[]).includes(value);

/** Starts the authorization code flow: the provider's URL and the sealed flow for the cookie. */
export async function startLogin(deps: AppDeps, returnTo: string): Promise<{ url: URL; sealedFlow: string }> {
  const minimum = await requestedAssurance(deps.db.db, returnTo);
  const { url, flow } = await loginClientOf(deps).start(returnTo, minimum);
  return { url, sealedFlow: await sealFlow(deps, flow) };
}

/**
 * Finishes the flow: openid-client checks state, PKCE, nonce, issuer and audience; the engine's
 * verifier checks the signature with the pinned algorithms; then the assurance asked for.
 */
export async function completeLogin(
  deps: AppDeps,
  callbackUrl: URL,
  flow: LoginFlow,
): Promise<{ session: { token: string; expiresAt: string }; verified: VerifiedToken; returnTo: string }> {
  const login = loginClientOf(deps);
  const result = await login.finish(callbackUrl, flow);
  let verified = await deps.identity.verify(result.idToken);
  if (!verified.assurance || !meetsAssurance(verified.assurance, flow.minimumAssurance as Assurance)) {
    throw problems.insufficientAssurance(flow.minimumAssurance, verified.assurance);
  }
  if (!verified.identity) {
    // FranceConnect returns the identity claims at the userinfo endpoint, not in the ID token.
    const claims = await result.userinfo(verified.subject);
    if (claims) verified = { ...verified, ...identityFromClaims({ ...claims, acr: verified.assurance }), assurance: verified.assurance };
  }
  const session = await issueSession(deps, verified);
  return { session, verified, returnTo: flow.returnTo };
}

const FlowSchema = z.object({
  codeVerifier: z.string().min(43).max(128),
  state: z.string().min(1),
  nonce: z.string().min(1),
  returnTo: z.string().refine(isSafeReturnTo),
  minimumAssurance: z.enum(ASSURANCE_LEVELS),
});

/** A key for the flow cookie only, derived from the personal-data key. */
const flowKey = (keys: EngineKeys) => keyDerivedFrom(keys.pii.key, 'civic-engine login flow cookie v1');

/** The flow is encrypted (JWE dir + A256GCM): the browser carries the PKCE verifier and nonce without reading them. */
async function sealFlow(deps: AppDeps, flow: LoginFlow): Promise<string> {
  const iat = Math.floor(deps.clock().getTime() / 1000);
  return new EncryptJWT({ ...flow })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: 'login-flow+jwt' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + LOGIN_FLOW_TTL_SECONDS)
    .encrypt(flowKey(deps.keys));
}

export async function openFlow(deps: AppDeps, sealed: string | undefined): Promise<LoginFlow> {
  const expired = () =>
    problems.loginFailed('The login took too long or the browser did not keep its cookie; start again from the login link.', { reason: 'flow-expired' });
  if (!sealed) throw expired();
  try {
    const { payload } = await jwtDecrypt(sealed, flowKey(deps.keys), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
      typ: 'login-flow+jwt',
      currentDate: deps.clock(),
      requiredClaims: ['exp'],
    });
    return FlowSchema.parse(payload);
  } catch {
    throw expired();
  }
}
