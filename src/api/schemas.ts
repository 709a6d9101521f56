/**
 * JSON Schemas for the OpenAPI document. They describe; the domain validates (see app.ts:
 * Fastify's own body validation is off so that every refusal carries our precise message and
 * goes through the one error table). Response objects allow additional properties because the
 * Treezor objects are wide and the full attribute lists live in the domain serialisers.
 */
const str = { type: 'string' } as const;
const open = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  additionalProperties: true,
  properties,
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
export const UsersResponse = { type: 'object', properties: { users: { type: 'array', items: UserObject } } };

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
export const DocumentsResponse = {
  type: 'object',
  additionalProperties: true,
  properties: { documents: { type: 'array', items: DocumentObject } },
};

export const IdentificationItem = {
  type: 'object',
  properties: { 'identification-id': str, 'identification-url': str },
};
export const KyclivenessCreated = {
  type: 'object',
  description:
    'One object satisfying the three response shapes found in Treezor clients (user_kyc per OAS25, identification per tifo/treezor-sdk, users per the legacy spec).',
  properties: {
    user_kyc: { type: 'array', items: IdentificationItem },
    identification: IdentificationItem,
    users: { type: 'array', items: open({ description: str, 'identification-id': str, 'identification-url': str }) },
  },
};

export const KyclivenessState = open({
  user_id: str,
  'identification-id': str,
  'kyc-status': { type: 'string', enum: ['initiated', 'processing', 'processed', 'aborted', 'expired', 'superseded'] },
  score: { type: ['integer', 'null'] },
  comment: str,
  reasons: { type: 'array', items: open({ 'reason-code': { type: 'integer' }, 'reason-message': str }) },
});

export const userIdParams = {
  type: 'object',
  properties: { userId: { type: 'string', pattern: '^[0-9]+$' } },
  required: ['userId'],
};
export const documentIdParams = {
  type: 'object',
  properties: { documentId: { type: 'string', pattern: '^[0-9]+$' } },
  required: ['documentId'],
};
export const accessTagQuery = {
  type: 'object',
  properties: {
    accessTag: {
      type: 'string',
      maxLength: 250,
      description:
        'Idempotency key (24 h, per client): a repeat returns the first response; 409 while the first is still running.',
    },
  },
};
