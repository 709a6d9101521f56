/**
 * The TypeBox schemas that more than one route file uses. Fastify validates requests against them
 * (validation.ts), @fastify/swagger publishes them at /openapi.json, and the type provider types
 * the handlers from them. A shape used by one route file is defined in that file; the user
 * attributes and the capture metadata are the domain's (domain/user.ts, domain/capture-metadata.ts).
 *
 * Response objects allow additional properties and require none: the Treezor objects are wide,
 * their full attribute lists live in the domain serialisers, and a response schema only decides
 * how those are written (numbers as strings where Treezor's payloads have strings).
 */
import { type TProperties, Type } from '@sinclair/typebox';
import { EXPECTED } from './validation.ts';

const str = Type.String();

/** A response object: every property optional, any other property written as it is. */
const open = (properties: TProperties, extra: Record<string, unknown> = {}) =>
  Type.Object(Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, Type.Optional(v)])) as TProperties, {
    additionalProperties: true,
    ...extra,
  });

export const ErrorBody = {
  $id: 'Error',
  type: 'object',
  properties: {
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { type: str, code: str, message: str, docUrl: str, requestId: str, param: str },
      },
    },
    // RFC 6749 fields, present on /oauth/token errors only.
    error: str,
    error_description: str,
  },
};

export const errorResponses = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, { description: 'Error (Treezor format)', $ref: 'Error#' }]));

/** Database ids: positive, and within what PostgreSQL's bigint and JavaScript's numbers both hold exactly. */
export const PositiveId = Type.Integer({ minimum: 1, maximum: 999_999_999_999_999, [EXPECTED]: 'a positive integer' });

export const UserIdParams = Type.Object({ userId: PositiveId });
export const DocumentIdParams = Type.Object({ documentId: PositiveId });

const accessTag = Type.String({
  maxLength: 250,
  description:
    'Idempotency key (24 h, per client): a repeat returns the first response; 409 while the first is still running.',
});
/**
 * Every authenticated write takes Treezor's accessTag (api/idempotency.ts). Other query parameters
 * are ignored, as Treezor's legacy ones (accessSignature, accessUserId…) must be.
 */
export const AccessTagQuery = Type.Object({ accessTag: Type.Optional(accessTag) });
/** Legacy Treezor clients put accessTag in the body: accepted there too, and ignored. */
export const accessTagInBody = { accessTag: Type.Optional(accessTag) };

/** A body the client may leave out (or send as JSON null). */
export const optionalBody = <T extends ReturnType<typeof Type.Object>>(body: T) => Type.Union([body, Type.Null()]);

export const UserObject = open({
  userId: str,
  userTypeId: str,
  userStatus: str,
  clientId: str,
  firstname: str,
  lastname: str,
  birthday: str,
  email: str,
  kycLevel: str,
  kycReview: str,
  kycReviewComment: str,
  createdDate: str,
  modifiedDate: str,
});
export const UsersResponse = Type.Object({ users: Type.Optional(Type.Array(UserObject)) });

export const DocumentObject = open({
  documentId: str,
  userId: str,
  documentTypeId: str,
  documentType: str,
  documentStatus: str,
  name: str,
  fileName: str,
  createdDate: str,
});
export const DocumentsResponse = open({ documents: Type.Array(DocumentObject) });
