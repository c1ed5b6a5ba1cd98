import { isLoopback, type Config } from '../../platform/config';
import { createLoginClient, type LoginClient } from './login-client';
import { createOidcVerifier, type IdentityVerifier } from './verifier';

/**
 * The configured OpenID provider (OIDC_ISSUER): the bearer-token verifier and the web login's
 * relying party, built from the same settings so they agree on issuer, audience and keys.
 */
export function configuredIdentityProvider(
  config: Pick<Config, 'publicUrl' | 'production'> & { oidc: NonNullable<Config['oidc']> },
  /** Network patience; the defaults suit production (5 s per request, JWKS refetched at most every 30 s). */
  tuning: { timeoutMs?: number; jwksCooldownMs?: number } = {},
): { identity: IdentityVerifier; login: LoginClient } {
  const { oidc } = config;
  return {
    identity: createOidcVerifier({
      issuer: oidc.issuer,
      audience: oidc.clientId,
      algorithms: oidc.algorithms,
      decryptionKey: oidc.idTokenDecryptionKey,
      timeoutMs: tuning.timeoutMs,
      jwksCooldownMs: tuning.jwksCooldownMs,
    }),
    login: createLoginClient({
      issuer: oidc.issuer,
      clientId: oidc.clientId,
      clientSecret: oidc.clientSecret,
      redirectUri: `${config.publicUrl}/auth/callback`,
      scopes: oidc.scopes,
      decryptionKey: oidc.idTokenDecryptionKey,
      // In production, plain http only on this very host, as the configuration accepts it (OIDC_ISSUER).
      allowHttp: !config.production || isLoopback(oidc.issuer),
      timeoutMs: tuning.timeoutMs,
    }),
  };
}
