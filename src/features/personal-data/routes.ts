import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../../platform/http';
import { bearer, errors, json } from '../../platform/openapi';
import { requirePrincipal } from '../auth/access';
import { personalDataOfSignature } from './service';

const Params = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }),
  signatureId: z.uuid().openapi({ param: { name: 'signatureId', in: 'path' } }),
});

const PersonalDataSchema = z
  .object({ signatureId: z.string(), familyName: z.string(), givenNames: z.string(), birthdate: z.string() })
  .openapi('PersonalData');

export const personalDataRoutes = createRouter().openapi(
  createRoute({
    method: 'get',
    path: '/v1/initiatives/{id}/signatures/{signatureId}/personal-data',
    tags: ['Signatures'],
    summary: "A signer's names and birth date, for manual verification (clerk; audited)",
    description: 'Decrypted for a clerk of the jurisdiction; every read is recorded in the audit trail. 409 once destroyed, under the retention schedule or by the signer’s withdrawal.',
    security: bearer,
    request: { params: Params },
    responses: { 200: json(PersonalDataSchema, 'The decrypted personal data.'), ...errors(400, 401, 403, 404, 409) },
  }),
  async (c) => {
    const { id, signatureId } = c.req.valid('param');
    const identity = await personalDataOfSignature(c.var.deps, requirePrincipal(c), id, signatureId);
    c.header('Cache-Control', 'no-store');
    return c.json({ signatureId, familyName: identity.familyName, givenNames: identity.givenNames, birthdate: identity.birthdate }, 200);
  },
);
