import { createRoute } from '@hono/zod-openapi';
import { createRouter } from '../../platform/http';
import { bearer, errors, json, jsonBody } from '../../platform/openapi';
import { requireIdentity, requirePrincipal } from '../auth/access';
import { IdParam } from '../initiatives/schema';
import { SignatureSchema, SignResultSchema, SignSchema } from './schema';
import { logIndexOf, mySignature, sign, signatureView, withdrawMySignature } from './service';

export const signatureRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'post',
      path: '/v1/initiatives/{id}/signatures',
      tags: ['Signatures'],
      summary: 'Sign with a verified identity',
      description: 'Signing again is idempotent: 200 with the original signature and receipt.',
      security: bearer,
      request: { params: IdParam, body: jsonBody(SignSchema) },
      responses: {
        201: json(SignResultSchema, 'Signed; keep the receipt.'),
        200: json(SignResultSchema, 'Already signed: the original signature.'),
        ...errors(400, 401, 403, 404, 409, 413, 415, 429, 503),
      },
    }),
    async (c) => {
      const signer = requireIdentity(requirePrincipal(c));
      const outcome = await sign(c.var.deps, c.req.valid('param').id, signer, c.req.valid('json'));
      return c.json({ signature: signatureView(outcome.signature), receipt: outcome.receipt }, outcome.created ? 201 : 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/v1/initiatives/{id}/signatures/me',
      tags: ['Signatures'],
      summary: 'My signature and its receipt',
      security: bearer,
      request: { params: IdParam },
      responses: { 200: json(SignResultSchema, 'Your signature.'), ...errors(400, 401, 403, 404, 410) },
    }),
    async (c) => {
      const signer = requireIdentity(requirePrincipal(c));
      const { deps } = c.var;
      const { signature, receipt } = await mySignature(deps, c.req.valid('param').id, signer);
      return c.json({ signature: signatureView(signature, await logIndexOf(deps.db.db, signature.initiativeId, signature.id)), receipt }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/v1/initiatives/{id}/signatures/me',
      tags: ['Signatures'],
      summary: 'Withdraw my signature while collection is open',
      security: bearer,
      request: { params: IdParam },
      responses: { 200: json(SignatureSchema, 'Withdrawn.'), ...errors(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const signer = requireIdentity(requirePrincipal(c));
      const { deps } = c.var;
      const withdrawn = await withdrawMySignature(deps, c.req.valid('param').id, signer);
      return c.json(signatureView(withdrawn, await logIndexOf(deps.db.db, withdrawn.initiativeId, withdrawn.id)), 200);
    },
  );
