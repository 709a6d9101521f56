import type { FastifyInstance } from 'fastify';
import { getBranding, updateBranding } from '../../app/branding/client-branding.ts';
import type { AppDeps } from '../../app/deps.ts';
import { principal } from '../auth.ts';
import { errorResponses } from '../schemas.ts';

const nullableStr = { type: ['string', 'null'] };
const BrandingObject = {
  type: 'object',
  properties: {
    name: nullableStr,
    primaryColor: nullableStr,
    backgroundColor: nullableStr,
    textColor: nullableStr,
    logoUrl: nullableStr,
    defaultRedirectUrl: nullableStr,
  },
};

/** The caller's own client branding for the hosted capture app (admin scope). */
export default async function brandingRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }) {
  const admin = { scopes: ['admin'] };
  app.get(
    '/settings/branding',
    {
      config: admin,
      schema: {
        tags: ['branding'],
        summary: 'Capture app branding of the calling client',
        response: { 200: BrandingObject, ...errorResponses(401, 403) },
      },
    },
    async (req) => getBranding(deps, principal(req).clientId),
  );
  app.put(
    '/settings/branding',
    {
      config: admin,
      schema: {
        tags: ['branding'],
        summary:
          'Set the capture app branding (partial: absent fields are kept, null clears). Colours #rrggbb, text/background contrast ≥ 4.5:1, logoUrl https or data:image/(png|jpeg|webp), defaultRedirectUrl https.',
        body: BrandingObject,
        response: { 200: BrandingObject, ...errorResponses(400, 401, 403, 413) },
      },
    },
    async (req) => updateBranding(deps, principal(req).clientId, req.body),
  );
}
