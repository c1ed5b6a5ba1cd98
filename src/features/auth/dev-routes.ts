import { createRoute, z } from '@hono/zod-openapi';
import { html } from 'hono/html';
import { decodeJwt } from 'jose';
import { isCalendarDate } from '../../core/identity';
import { createRouter } from '../../platform/http';
import { errors, json, jsonBody } from '../../platform/openapi';
import { problems } from '../../platform/problems';
import type { DevIdentityProvider } from './dev-provider';

const DevPersonSchema = z
  .strictObject({
    givenNames: z.string().trim().min(1).max(200),
    familyName: z.string().trim().min(1).max(200),
    birthdate: z.string().refine(isCalendarDate, 'a real date as YYYY-MM-DD'),
    acr: z.enum(['eidas1', 'eidas2', 'eidas3']).default('eidas2'),
    subject: z.string().trim().min(1).max(255).optional(),
  })
  .openapi('DevPerson', { example: { givenNames: 'Élodie Marie', familyName: 'Dupont', birthdate: '1990-04-12', acr: 'eidas2' } });

const DevTokenSchema = z.object({ id_token: z.string(), sub: z.string(), issuer: z.string() }).openapi('DevToken');

function requireProvider(provider: DevIdentityProvider | undefined): DevIdentityProvider {
  if (!provider) throw problems.notFound('Development identity provider', 'dev');
  return provider;
}

/**
 * The development identity provider: ID tokens for made-up people, so the engine can be tried
 * without a real provider. Mounted only when no OIDC_ISSUER is configured, never in production.
 */
export const devProviderRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'post',
      path: '/dev/oidc/tokens',
      tags: ['Development identity provider'],
      summary: 'Mint an ID token for a made-up person (development only)',
      request: { body: jsonBody(DevPersonSchema) },
      responses: { 201: json(DevTokenSchema, 'An ID token signed by the development provider.'), ...errors(400, 404) },
    }),
    async (c) => {
      const provider = requireProvider(c.var.deps.devProvider);
      const person = c.req.valid('json');
      const idToken = await provider.mintIdToken(person, c.var.deps.clock());
      return c.json({ id_token: idToken, sub: String(decodeJwt(idToken).sub), issuer: provider.issuer }, 201);
    },
  )
  .get('/dev/oidc/.well-known/openid-configuration', (c) => {
    const provider = requireProvider(c.var.deps.devProvider);
    return c.json({
      issuer: provider.issuer,
      jwks_uri: `${provider.issuer}/jwks`,
      authorization_endpoint: `${provider.issuer}/authorize`,
      token_endpoint: `${provider.issuer}/tokens`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['ES256'],
      claims_supported: ['sub', 'given_name', 'family_name', 'birthdate', 'acr'],
      acr_values_supported: ['eidas1', 'eidas2', 'eidas3'],
    });
  })
  .get('/dev/oidc/jwks', (c) => c.json(requireProvider(c.var.deps.devProvider).jwks))
  .get('/dev/oidc', (c) => {
    requireProvider(c.var.deps.devProvider);
    return c.html(devPage());
  })
  .post('/dev/oidc', async (c) => {
    const provider = requireProvider(c.var.deps.devProvider);
    const form = await c.req.parseBody();
    const parsed = DevPersonSchema.safeParse({
      givenNames: form.givenNames,
      familyName: form.familyName,
      birthdate: form.birthdate,
      acr: form.acr || undefined,
    });
    if (!parsed.success) return c.html(devPage('Check the fields: every one is required and the birth date is YYYY-MM-DD.'), 400);
    const idToken = await provider.mintIdToken(parsed.data, c.var.deps.clock());
    return c.html(devPage(undefined, idToken));
  });

function devPage(error?: string, idToken?: string) {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Development identity provider</title>
      </head>
      <body>
        <main>
          <p role="note"><strong>Development identity provider.</strong> It asserts whatever identity you type. It is off in production.</p>
          <h1>Get an ID token</h1>
          ${error ? html`<p role="alert">${error}</p>` : ''}
          <form method="post" action="/dev/oidc">
            <p><label>Given names <input name="givenNames" required autocomplete="off" /></label></p>
            <p><label>Family name <input name="familyName" required autocomplete="off" /></label></p>
            <p><label>Birth date <input name="birthdate" type="date" required /></label></p>
            <p>
              <label
                >Assurance
                <select name="acr">
                  <option>eidas1</option>
                  <option selected>eidas2</option>
                  <option>eidas3</option>
                </select></label
              >
            </p>
            <p><button type="submit">Get a token</button></p>
          </form>
          ${idToken
            ? html`<h2>Your ID token</h2>
                <p><textarea readonly rows="8" cols="80" aria-label="ID token">${idToken}</textarea></p>
                <p>Use it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>`
            : ''}
        </main>
      </body>
    </html>`;
}
