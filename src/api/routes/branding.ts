import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { getBranding, updateBranding } from '../../app/branding/client-branding.ts';
import type { AppDeps } from '../../app/deps.ts';
import { AccessTagQuery, accessTagInBody, errorResponses } from '../schemas.ts';
import { principal } from '../auth.ts';
import { EXPECTED } from '../validation.ts';

const nullableStr = Type.Unsafe<string | null>({ type: ['string', 'null'] });
const BrandingObject = Type.Object({
  name: Type.Optional(nullableStr),
  primaryColor: Type.Optional(nullableStr),
  backgroundColor: Type.Optional(nullableStr),
  textColor: Type.Optional(nullableStr),
  logoUrl: Type.Optional(nullableStr),
  defaultRedirectUrl: Type.Optional(nullableStr),
});

const textOrNull = Type.Union([Type.String(), Type.Null()], { [EXPECTED]: 'a string or null' });
const colourOrNull = Type.Union([Type.String({ pattern: '^#[0-9a-fA-F]{6}$' }), Type.Null()], {
  [EXPECTED]: 'a colour as #rrggbb, or null',
});
/** Absent fields are kept, null clears one. What each value may be (contrast, logo sources…) is checked by the app. */
const BrandingPatch = Type.Object(
  {
    name: Type.Optional(textOrNull),
    primaryColor: Type.Optional(colourOrNull),
    backgroundColor: Type.Optional(colourOrNull),
    textColor: Type.Optional(colourOrNull),
    // A data URL over its limit answers 413, from the app: no maxLength here.
    logoUrl: Type.Optional(textOrNull),
    defaultRedirectUrl: Type.Optional(textOrNull),
    ...accessTagInBody,
  },
  { additionalProperties: false },
);

/** The caller's own client branding for the hosted capture app (admin scope). */
const brandingRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
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
        querystring: AccessTagQuery,
        body: BrandingPatch,
        response: { 200: BrandingObject, ...errorResponses(400, 401, 403, 413) },
      },
    },
    async (req) => updateBranding(deps, principal(req).clientId, req.body),
  );
};

export default brandingRoutes;
