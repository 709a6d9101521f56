/**
 * Fastify validates every part of a request (params, querystring, headers, body) against its
 * route's TypeBox schema: one schema gives the check, the OpenAPI document and the handler's types.
 *
 * The compiler is TypeBox's own rather than Fastify's Ajv, for what it does not do:
 * - It never rewrites a body. Ajv as Fastify configures it removes the properties a schema does
 *   not list (a misspelt attribute would answer 200 and be lost) and coerces types (a number sent
 *   for a name would be stored as text). Treezor's "numbers as strings or integers" is written
 *   into the schemas as unions instead, so the handler sees what the client sent.
 * - Its errors carry the schema that failed, from which `validationError()` writes one precise
 *   message naming the field; the error handler turns it into Treezor's format.
 * Path and query parameters are text on the wire: a string of digits becomes a number where the
 * schema asks for an integer, and an empty query parameter counts as absent. Nothing else is
 * converted (headers are checked as the strings they are).
 *
 * PostgreSQL refuses the NUL character in text and jsonb, so no string of a request may carry one:
 * checked here, once, for every part of every route.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import { Kind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { KycError } from '../domain/errors.ts';

type Part = 'body' | 'querystring' | 'params' | 'headers';

/** One refusal, in terms the error handler can word: what went wrong, where, against which schema. */
export interface ValidationIssue extends FastifySchemaValidationError {
  kind: 'unknown' | 'missing' | 'invalid' | 'nul';
  /** Property names and array indexes from the root of the request part. */
  path: string[];
  /** The schema the value failed: the property's own, or for `unknown` the object's. */
  schema: TSchema;
  /** Fastify's default formatter and logs read `instancePath` and `message`. */
  instancePath: string;
  message: string;
}

const fastifyFields = (kind: ValidationIssue['kind']) => ({ keyword: kind, schemaPath: '', params: {} });

/** Schemas may say what they expect in words, where their keywords alone would read poorly (patterns, unions). */
export const EXPECTED = 'x-expected';

const MAX_ISSUES = 20;

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const part = (httpPart ?? 'body') as Part;
  const check = TypeCompiler.Compile(schema);
  // Query and path parameters are replaced by their converted copy; a body or headers never are.
  const converts = part === 'querystring' || part === 'params';
  return (data: unknown) => {
    const value = converts ? fromText(schema, data) : data;
    if (!check.Check(value)) return { error: issues(check.Errors(value)) };
    const nul = findNul(value);
    if (nul) return { error: [nul] };
    return converts ? { value } : true;
  };
};

const DIGITS = /^-?\d{1,16}$/;

/** Query and path parameters are strings: read digits as the integers the schema asks for. */
function fromText(schema: TSchema, data: unknown): unknown {
  if (data === null || typeof data !== 'object' || schema[Kind] !== 'Object') return data;
  const props = schema.properties as Record<string, TSchema>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (v === '') continue;
    const p = Object.hasOwn(props, k) ? props[k] : undefined;
    if (p && typeof v === 'string' && acceptsInteger(p) && DIGITS.test(v) && Number.isSafeInteger(Number(v)))
      out[k] = Number(v);
    else out[k] = v;
  }
  return out;
}

function acceptsInteger(s: TSchema): boolean {
  if (s[Kind] === 'Integer') return true;
  return s[Kind] === 'Union' && (s.anyOf as TSchema[]).some(acceptsInteger);
}

interface Visit {
  value: unknown;
  key: string;
  parent: Visit | null;
}

/**
 * The first string (or property name) holding a NUL. Walked without recursion, and each node keeps
 * only a link to its parent: a value the schema lets through as it is (a legacy attribute that is
 * ignored) can be nested hundreds of thousands of levels deep.
 */
function findNul(value: unknown): ValidationIssue | null {
  const stack: Visit[] = [{ value, key: '', parent: null }];
  while (stack.length) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return nulIssue(pathOf(node));
    } else if (v !== null && typeof v === 'object') {
      for (const [key, child] of Object.entries(v)) {
        if (key.includes('\u0000')) return nulIssue(pathOf(node));
        stack.push({ value: child, key, parent: node });
      }
    }
  }
  return null;
}

function pathOf(node: Visit): string[] {
  const path: string[] = [];
  for (let n: Visit | null = node; n?.parent; n = n.parent) path.push(n.key);
  return path.reverse();
}

const nulIssue = (path: string[]): ValidationIssue => ({
  ...fastifyFields('nul'),
  kind: 'nul',
  path,
  schema: {} as TSchema,
  instancePath: pointer(path),
  message: 'must not contain the NUL character',
});

const pointer = (path: string[]) => path.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
const segments = (p: string) =>
  p
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

function issues(errors: Iterable<ValueError>): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const e of errors) {
    out.push(...fromError(e));
    if (out.length >= MAX_ISSUES) break;
  }
  return out;
}

function fromError(e: ValueError): ValidationIssue[] {
  const path = segments(e.path);
  const issue = (kind: ValidationIssue['kind'], schema: TSchema, at = path): ValidationIssue => ({
    ...fastifyFields(kind),
    kind,
    path: at,
    schema,
    instancePath: pointer(at),
    message: e.message,
  });
  switch (e.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return [issue('unknown', e.schema)];
    case ValueErrorType.ObjectRequiredProperty:
      return [issue('missing', e.schema)];
    case ValueErrorType.Union:
      return fromUnion(e, path, issue);
    default:
      return [issue('invalid', e.schema)];
  }
}

/**
 * "Expected union value" names no field. Where the value is an object or an array and its shape
 * tells which branch the client meant (a discriminating literal such as `outcome`, or the only
 * object branch, as in "an object or null"), the errors of that branch are reported. A scalar is
 * reported against the whole union, which says what it accepts (`x-expected` or its branches).
 */
function fromUnion(
  e: ValueError,
  path: string[],
  issue: (kind: ValidationIssue['kind'], schema: TSchema, at?: string[]) => ValidationIssue,
): ValidationIssue[] {
  const variants = e.schema.anyOf as TSchema[];
  const v = e.value;
  const pick = (i: number) => {
    const nested = e.errors[i];
    return nested ? issues(nested) : [issue('invalid', e.schema)];
  };
  const only = (kind: string) => {
    const found = variants.flatMap((s, i) => (s[Kind] === kind ? [i] : []));
    return found.length === 1 ? found[0] : -1;
  };
  if (Array.isArray(v)) {
    const i = only('Array');
    if (i >= 0) return pick(i);
  } else if (v !== null && typeof v === 'object') {
    const key = discriminator(variants);
    if (key) {
      const literals = variants.map((s) => (s.properties as Record<string, TSchema>)[key]);
      const choice = { [Kind]: 'Union', anyOf: literals } as unknown as TSchema;
      if (!Object.hasOwn(v, key)) return [issue('missing', choice, [...path, key])];
      const i = literals.findIndex((l) => l.const === (v as Record<string, unknown>)[key]);
      return i < 0 ? [issue('invalid', choice, [...path, key])] : pick(i);
    }
    const i = only('Object');
    if (i >= 0) return pick(i);
  }
  return [issue('invalid', e.schema)];
}

/** A property that every branch (two or more, all objects) requires as a literal: the branch's name. */
function discriminator(variants: TSchema[]): string | undefined {
  if (variants.length < 2 || !variants.every((s) => s[Kind] === 'Object')) return undefined;
  const isLiteralKey = (s: TSchema, k: string) =>
    ((s.required as string[] | undefined) ?? []).includes(k) &&
    (s.properties as Record<string, TSchema>)[k]?.[Kind] === 'Literal';
  return ((variants[0].required as string[] | undefined) ?? []).find((k) => variants.every((s) => isLiteralKey(s, k)));
}

/** What a schema accepts, in words: "a string of at most 256 characters", "one of face, document_front". */
export function expected(s: TSchema): string {
  if (typeof s[EXPECTED] === 'string') return s[EXPECTED];
  switch (s[Kind]) {
    case 'Literal':
      return String(s.const);
    case 'Union': {
      const vs = s.anyOf as TSchema[];
      if (vs.every((x) => x[Kind] === 'Literal')) return `one of ${vs.map((x) => String(x.const)).join(', ')}`;
      return vs.map(expected).join(' or ');
    }
    case 'String': {
      const { minLength: min, maxLength: max } = s as { minLength?: number; maxLength?: number };
      if (min !== undefined && max !== undefined) return `a string of ${min} to ${max} characters`;
      if (max !== undefined) return `a string of at most ${max} characters`;
      if (min !== undefined) return `a string of at least ${min} characters`;
      return 'a string';
    }
    case 'Integer':
    case 'Number': {
      const what = s[Kind] === 'Integer' ? 'an integer' : 'a number';
      const { minimum: min, maximum: max } = s as { minimum?: number; maximum?: number };
      if (min !== undefined && max !== undefined) return `${what} between ${min} and ${max}`;
      if (min !== undefined) return `${what} of at least ${min}`;
      if (max !== undefined) return `${what} of at most ${max}`;
      return what;
    }
    case 'Boolean':
      return 'true or false';
    case 'Null':
      return 'null';
    case 'Array': {
      const { minItems: min, maxItems: max } = s as { minItems?: number; maxItems?: number };
      if (max !== undefined) return `an array of at most ${max} items`;
      if (min !== undefined) return `an array of at least ${min} items`;
      return 'an array';
    }
    case 'Object':
      return 'an object';
    default:
      return 'valid';
  }
}

const NAME_MAX = 64;
/** A field's name as `param` carries it: dotted, and bounded (a property name can be a megabyte long). */
const fieldName = (path: string[]) => path.join('.').slice(0, NAME_MAX);

const UNKNOWN_LISTS_ALLOWED_UP_TO = 8;

/**
 * The one wording of a refused request part, as a KycError: an unknown attribute, a missing or an
 * invalid one. The most telling issue is reported: an unknown attribute first (a misspelt name
 * explains the others), then a missing one.
 */
export function validationError(found: readonly ValidationIssue[], part: string): KycError {
  const first = found.find((i) => i.kind === 'unknown') ?? found.find((i) => i.kind === 'missing') ?? found[0];
  if (!first) return new KycError('invalid_request', 'The request is invalid.');
  const header = part === 'headers';
  // Header names arrive lowercased: name them as clients write them (Upload-Offset).
  const name = header
    ? fieldName(first.path).replace(/(^|-)([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase())
    : fieldName(first.path);
  const subject = header ? `The ${name} header` : name;
  const opts = { param: name || undefined };
  switch (first.kind) {
    case 'unknown': {
      const allowed = Object.keys((first.schema.properties as Record<string, unknown> | undefined) ?? {});
      const list = allowed.length <= UNKNOWN_LISTS_ALLOWED_UP_TO ? ` Allowed: ${allowed.join(', ')}.` : '';
      return new KycError('invalid_request', `Unknown attribute: ${name}.${list}`, opts);
    }
    case 'missing':
      return new KycError('missing_parameter', `${subject} is required.`, opts);
    case 'nul':
      return new KycError(
        'invalid_request',
        `${name || 'The request'} must not contain the NUL character (\\u0000).`,
        opts,
      );
    default: {
      // Every body is an object (or an object or nothing, where the body is optional).
      if (first.path.length === 0 && part === 'body')
        return new KycError('invalid_request', 'The request body must be a JSON object.');
      return new KycError('invalid_request', `${subject} must be ${expected(first.schema)}.`, opts);
    }
  }
}
