/**
 * The Treezor User object: which attributes an integrator may set (from the official spec's
 * postUsers_request / putUser_request), how each is validated, and how a stored user is
 * serialised (numbers as strings, like Treezor's payloads; inputs accept both).
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { KycError } from './errors.ts';

type Spec =
  | { t: 'str'; max?: number }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'int'; values?: readonly number[]; min?: number }
  | { t: 'date' }
  | { t: 'country' }
  | { t: 'email' };

const S = (max = 255): Spec => ({ t: 'str', max });
const E = (...values: string[]): Spec => ({ t: 'enum', values });
const I = (...values: number[]): Spec => ({ t: 'int', values: values.length ? values : undefined });
const C: Spec = { t: 'country' };

/**
 * Attributes settable on create (postUsers_request). `CREATE_ONLY` ones are refused on update.
 * A null-prototype map: a body attribute named `constructor` or `__proto__` must not find
 * Object.prototype's members here (issue 25).
 */
export const USER_FIELDS: Readonly<Record<string, Spec>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, Spec>, {
    userTypeId: I(1, 2, 3, 4),
    userTag: S(250),
    parentUserId: { t: 'int', min: 1 },
    parentType: E('shareholder', 'employee', 'leader'),
    specifiedUSPerson: I(0, 1),
    controllingPersonType: I(0, 1, 2, 3),
    employeeType: I(0, 1, 2),
    entityType: I(1, 2, 3, 4, 5),
    title: E('M', 'MME', 'MLLE'),
    firstname: S(100),
    lastname: S(100),
    middleNames: S(100),
    birthday: { t: 'date' },
    email: { t: 'email' },
    address1: S(150),
    address2: S(150),
    address3: S(150),
    postcode: S(20),
    city: S(100),
    state: S(100),
    country: C,
    distributionCountry: E('FR', 'ES', 'IT', 'DE', 'BE', 'NL'),
    secondaryAddress1: S(150),
    secondaryAddress2: S(150),
    secondaryAddress3: S(150),
    secondaryPostcode: S(20),
    secondaryCity: S(100),
    secondaryState: S(100),
    secondaryCountry: C,
    phone: S(30),
    mobile: S(30),
    nationality: C,
    nationalityOther: C,
    placeOfBirth: S(100),
    birthCountry: C,
    occupation: S(100),
    incomeRange: E('0-18', '19-23', '24-27', '28-35', '36-56', '57-*'),
    legalName: S(),
    legalRegistrationNumber: S(),
    legalTvaNumber: S(),
    legalRegistrationDate: { t: 'date' },
    legalForm: S(),
    legalShareCapital: { t: 'int', min: 0 },
    legalSector: S(),
    legalAnnualTurnOver: E('0-39', '40-99', '100-249', '250-999', '1000-2999', '3000-9999', '10000-99999', '100000-*'),
    legalNetIncomeRange: E('0-4', '5-9', '10-49', '50-149', '150-499', '500-*'),
    legalNumberOfEmployeeRange: E('0', '1-9', '10-99', '100-249', '250-*'),
    effectiveBeneficiary: { t: 'int', min: 0 },
    language: S(10),
    taxNumber: S(),
    taxResidence: S(),
    position: S(),
    personalAssets: E('0-2', '3-22', '23-128', '129-319', '320-464', '465-'),
    activityOutsideEu: I(0, 1),
    economicSanctions: I(0, 1),
    residentCountriesSanctions: I(0, 1),
    involvedSanctions: I(0, 1),
    entitySanctionsQuestionnaire: I(0, 1, 2, 3, 4),
    timezone: S(64),
    occupationType: E(
      'self_employed',
      'public_sector_employees',
      'private_sector_employees',
      'retired_people_and_students',
      'without_any_professional_activity',
    ),
    sourceOfFunds: E(
      'donation',
      'inheritance',
      'loan',
      'lottery',
      'pension',
      'proceeds_from_investment',
      'proceeds_from_sale',
      'salary',
      'savings',
    ),
    legalSectorType: E('NAF', 'NACE'),
    isOnStockExchange: I(0, 1),
    occupationCategory: I(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    personalAssetsRange: I(0, 1, 2, 3, 4, 5, 6, 7),
    monthlyIncomeRange: I(1, 2, 3, 4, 5, 6, 7),
  }),
);

const CREATE_ONLY = new Set(['userTypeId', 'parentUserId', 'parentType', 'entityType']);
/** Set by kyclive (KYC review), never by the integrator's user writes. */
const READ_ONLY = new Set([
  'userId',
  'kycLevel',
  'kycReview',
  'kycReviewComment',
  'userStatus',
  'clientId',
  'createdDate',
  'modifiedDate',
  'codeStatus',
  'informationStatus',
]);
/** Accepted and ignored: Treezor's legacy auth/idempotency parameters that some clients put in the body. */
const IGNORED = new Set([
  'accessTag',
  'accessSignature',
  'accessUserId',
  'accessUserIp',
  'accessToken',
  'webauthn',
  'passcode',
]);

/** Treezor requires these at creation (postUsers_request.required). */
const REQUIRED_ON_CREATE = ['userTypeId', 'specifiedUSPerson', 'email'] as const;

/*
 * The request body's shape, which the API validates before the domain sees it: which attributes
 * exist, and their JSON types. Integers travel as numbers or as strings of digits (Treezor's
 * clients send both), and null clears an attribute. What a value must be (an enumerated value, a
 * real date, a length once trimmed) is the domain's rule below, written once.
 */
const INT_INPUT = Type.Union([Type.Integer(), Type.String({ pattern: '^\\s*-?\\d+\\s*$' }), Type.Null()], {
  'x-expected': 'an integer (a number or a string of digits) or null',
});
const STRING_INPUT = Type.Union([Type.String(), Type.Null()], { 'x-expected': 'a string or null' });

function userInputSchema(mode: 'create' | 'update') {
  const props: Record<string, TSchema> = {};
  for (const [k, spec] of Object.entries(USER_FIELDS)) {
    const t = spec.t === 'int' ? INT_INPUT : STRING_INPUT;
    props[k] = mode === 'create' && (REQUIRED_ON_CREATE as readonly string[]).includes(k) ? t : Type.Optional(t);
  }
  // Accepted so that the domain can refuse them with their reason (read-only), or ignore them (legacy).
  for (const k of READ_ONLY)
    props[k] = Type.Optional(Type.Unknown({ description: 'Set by kyclive: refused in a request.' }));
  for (const k of IGNORED) props[k] = Type.Optional(Type.Unknown({ description: 'Accepted and ignored.' }));
  return Type.Object(props, {
    additionalProperties: false,
    description: 'Treezor user attributes; numbers as numbers or strings of digits; null clears an attribute.',
  });
}

export const UserCreateSchema = userInputSchema('create');
export const UserUpdateSchema = userInputSchema('update');
/** A body that matches UserCreateSchema or UserUpdateSchema. */
export type UserInput = Readonly<Record<string, unknown>>;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function validDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d && y >= 1900;
}

function bad(field: string, what: string): KycError {
  return new KycError('invalid_request', `The ${field} field ${what}.`, { param: field });
}

/** Normalises one attribute to the stored string form, or throws a 400 naming the field. */
function normalise(field: string, spec: Spec, raw: unknown): string {
  if (raw === null) return '';
  switch (spec.t) {
    case 'int': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
            ? Number(raw.trim())
            : NaN;
      if (!Number.isSafeInteger(n)) throw bad(field, 'must be an integer');
      if (spec.values && !spec.values.includes(n)) throw bad(field, `must be one of ${spec.values.join(', ')}`);
      if (spec.min !== undefined && n < spec.min) throw bad(field, `must be ≥ ${spec.min}`);
      return String(n);
    }
    default: {
      if (typeof raw !== 'string') throw bad(field, 'must be a string');
      const v = raw.trim();
      if (spec.t === 'str' && v.length > (spec.max ?? 255)) throw bad(field, `must be at most ${spec.max} characters`);
      if (spec.t === 'enum' && !spec.values.includes(v)) throw bad(field, `must be one of ${spec.values.join(', ')}`);
      if (spec.t === 'date' && v !== '' && !validDate(v))
        throw bad(field, 'must be a valid date in the YYYY-MM-DD format');
      if (spec.t === 'country' && v !== '' && !/^[A-Z]{2}$/.test(v))
        throw bad(field, 'must be an ISO 3166-1 alpha-2 country code');
      if (spec.t === 'email' && (v.length > 200 || !EMAIL_RE.test(v)))
        throw bad(field, 'must be a valid email address of at most 200 characters');
      return v;
    }
  }
}

/**
 * Normalises a create or update body (its shape already checked against UserCreateSchema or
 * UserUpdateSchema) and applies the attribute rules. Returns the attributes to store (strings).
 * Unknown attributes are refused rather than silently dropped, so a typo never passes for a save.
 */
export function validateUserInput(body: UserInput, mode: 'create' | 'update'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, raw] of Object.entries(body)) {
    if (IGNORED.has(k) || raw === undefined) continue;
    if (READ_ONLY.has(k)) throw bad(k, 'is read-only');
    if (!Object.hasOwn(USER_FIELDS, k))
      throw new KycError('invalid_request', `Unknown attribute: ${k.slice(0, 64)}.`, { param: k.slice(0, 64) });
    if (mode === 'update' && CREATE_ONLY.has(k)) throw bad(k, 'cannot be changed after creation');
    out[k] = normalise(k, USER_FIELDS[k], raw);
  }
  if (mode === 'create') {
    for (const f of REQUIRED_ON_CREATE) {
      if (out[f] === undefined || out[f] === '') {
        throw new KycError('missing_parameter', `The ${f} field is required.`, { param: f });
      }
    }
  }
  return out;
}

/** Live verification needs these (doc page: otherwise HTTP 428). */
export const LIVENESS_REQUIRED_FIELDS = ['firstname', 'lastname', 'birthday'] as const;

export function missingLivenessFields(fields: Record<string, string>): string[] {
  return LIVENESS_REQUIRED_FIELDS.filter((f) => !fields[f]?.trim() || (f === 'birthday' && !validDate(fields[f])));
}

export interface StoredUser {
  id: number;
  clientNumericId: number;
  fields: Record<string, string>;
  userStatus: string;
  kycLevel: number;
  kycReview: number;
  kycReviewComment: string;
  parentUserId: number | null;
  createdAt: Date;
  modifiedAt: Date | null;
}

/** Treezor's "YYYY-MM-DD HH:mm:ss" in Europe/Paris local time. */
export function treezorDate(d: Date | null): string {
  if (!d) return '0000-00-00 00:00:00';
  const p = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Paris',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(d);
  const g = (t: string) => p.find((x) => x.type === t)?.value ?? '00';
  return `${g('year')}-${g('month')}-${g('day')} ${g('hour')}:${g('minute')}:${g('second')}`;
}

/**
 * The wire object, numbers as strings. Free-text attributes are always present ('' when unset);
 * enumerated, integer and date attributes only when set, since '' is not a valid value of any of
 * them in the official spec.
 */
export function toTreezorUser(u: StoredUser): Record<string, unknown> {
  const f = u.fields;
  const attrs: Record<string, unknown> = { controllingPersonType: '0', employeeType: '0' };
  for (const [k, spec] of Object.entries(USER_FIELDS)) {
    const freeText = spec.t === 'str' || spec.t === 'email' || spec.t === 'country';
    if (f[k] !== undefined && f[k] !== '') attrs[k] = f[k];
    else if (freeText) attrs[k] = '';
  }
  return {
    userId: String(u.id),
    userTypeId: f.userTypeId ?? '1',
    userStatus: u.userStatus,
    clientId: String(u.clientNumericId),
    ...attrs,
    parentUserId: u.parentUserId === null ? null : String(u.parentUserId),
    ...(f.parentType ? { parentType: f.parentType } : {}),
    kycLevel: String(u.kycLevel),
    kycReview: String(u.kycReview),
    kycReviewComment: u.kycReviewComment,
    isFreezed: '0',
    isFrozen: '0',
    codeStatus: '110009',
    informationStatus: '',
    createdDate: treezorDate(u.createdAt),
    modifiedDate: treezorDate(u.modifiedAt),
    walletCount: '0',
    payinCount: '0',
    totalRows: '1',
  };
}

/** kycReview values (OAS25). */
export const KYC_REVIEW = { NONE: 0, PENDING: 1, VALIDATED: 2, REFUSED: 3 } as const;
/** kycLevel values (OAS25). */
export const KYC_LEVEL = {
  NONE: 0,
  LIGHT: 1,
  REGULAR: 2,
  STRONG: 3,
  REFUSED: 4,
  PREVALIDATED: 5,
  ENHANCED: 6,
} as const;
