import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

/** A stand-in OpenID provider on loopback: discovery and JWKS, and tokens minted in this process. */
export async function startProviderStandIn() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'ES256', use: 'sig' };
  let issuer = '';
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    else if (req.url === '/jwks') res.end(JSON.stringify({ keys: [jwk] }));
    else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const clientId = 'bench-engine';

  const mint = (claims: Record<string, unknown>, key: CryptoKey = privateKey) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'bench-1' })
      .setIssuer(issuer)
      .setAudience(clientId)
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(key);

  return {
    issuer,
    clientId,
    mint,
    /** A citizen with a distinct canonical identity for each index (letters only: digits are not part of a name). */
    citizen: (i: number) =>
      mint({ sub: `c${i}`, given_name: lettersOf(i), family_name: 'Bench', birthdate: '1980-01-01', acr: 'eidas2' }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function lettersOf(n: number): string {
  let s = '';
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return `N${s}`;
}
