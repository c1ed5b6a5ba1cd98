import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../platform/http';
import { bearer, errors, json } from '../../platform/openapi';
import { problems } from '../../platform/problems';
import { requirePrincipal } from './access';
import { endSession } from './revocation';
import { issueSession, verifyBodyIdToken } from './session';

const SessionRequestSchema = z.strictObject({ idToken: z.string().min(1).max(20_000) }).openapi('SessionRequest', { example: { idToken: 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImlkcC0xIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl' } });
const SessionSchema = z
  .object({
    token: z.string().openapi({ description: 'Engine session token (an encrypted JWT: JWE, dir + A256GCM, opaque to clients); send it as a bearer token.' }),
    expiresAt: z.string(),
    subject: z.string(),
    admin: z.boolean(),
  })
  .openapi('Session');

export const authRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/session',
      tags: ['Auth'],
      summary: 'Exchange an ID token for a short-lived engine session token',
      description: 'Send the ID token either as the bearer token or as `idToken` in the body.',
      security: bearer,
      request: { body: { required: false, content: { 'application/json': { schema: SessionRequestSchema } } } },
      responses: { 201: json(SessionSchema, 'A session token.'), ...errors(400, 401, 403, 413, 415, 429, 503) },
    }),
    async (c) => {
      const { deps } = c.var;
      const body = c.req.valid('json') as z.infer<typeof SessionRequestSchema> | undefined;
      let verified;
      if (body?.idToken) {
        verified = await verifyBodyIdToken(c, body.idToken);
      } else {
        const principal = c.get('principal');
        if (!principal) throw problems.unauthenticated('Send an ID token as the bearer token or as idToken.');
        if (principal.via !== 'id-token') throw problems.invalidToken('A session cannot be exchanged for another session; send an ID token.');
        verified = { subject: principal.subject, issuer: principal.issuer, assurance: principal.assurance, identity: principal.identity, missingClaims: principal.missingClaims, expiresAt: undefined };
      }
      const session = await issueSession(deps, verified);
      return c.json({ ...session, subject: verified.subject, admin: deps.config.adminSubjects.includes(verified.subject) }, 201);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/v1/session',
      tags: ['Auth'],
      summary: 'End the engine session sent as the bearer token (log out)',
      description:
        'The session token is refused from then on, by every engine process, with the same 401 as an expired one. An ID token cannot be ended by the engine: it lasts until it expires.',
      security: bearer,
      responses: { 204: { description: 'The session has ended.' }, ...errors(401, 403, 409) },
    }),
    async (c) => {
      const principal = requirePrincipal(c);
      if (principal.via !== 'session') throw problems.invalidToken('This is an ID token, not an engine session: there is no session to end.');
      if (!(await endSession(c.var.deps.db, principal))) {
        throw problems.conflict('session-without-id', 'Session cannot be ended early', 'This session was issued before sessions could be ended: it lasts until it expires.');
      }
      return c.body(null, 204);
    },
  );
