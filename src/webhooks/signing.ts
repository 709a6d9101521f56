/**
 * Webhook signatures, two of them on every delivery:
 *  - Treezor's `object_payload_signature` (base64 HMAC-SHA256 of the PHP-style JSON of object_payload),
 *    kept for wire compatibility with existing Treezor integrations (contract §5.2). It signs only the
 *    payload and carries no timestamp, so a captured body can be replayed forever.
 *  - `Kyclive-Signature: t=…,v1=…` over `${t}.${rawBody}` (Stripe's scheme), which covers the whole body
 *    and gives replay protection through the timestamp tolerance.
 *
 * This file is part of the publishable SDK: it may import only node built-ins and ./php-json.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { phpJsonEncode } from './php-json.ts';

export const SIGNATURE_HEADER = 'Kyclive-Signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type WebhookSignatureErrorReason =
  | 'missing_header'
  | 'bad_format'
  | 'no_match'
  | 'timestamp_outside_tolerance'
  | 'payload_not_raw';

export class WebhookSignatureError extends Error {
  readonly reason: WebhookSignatureErrorReason;
  constructor(reason: WebhookSignatureErrorReason, message: string) {
    super(message);
    this.name = 'WebhookSignatureError';
    this.reason = reason;
  }
}

/** The flat envelope Treezor posts (contract §5.1). */
export interface TreezorEnvelope {
  webhook: string;
  webhook_id: string;
  webhook_created_at: string;
  object: string;
  object_id: string;
  object_payload: unknown;
  object_payload_signature: string;
  [extra: string]: unknown;
}

export interface WebhookEvent {
  webhook: string;
  webhookId: string;
  createdAt: Date;
  object: string;
  objectId: string;
  payload: unknown;
}

export function signTreezorPayload(payload: unknown, secret: string): string {
  return createHmac('sha256', secret).update(phpJsonEncode(payload)).digest('base64');
}

/**
 * The raw body text of one delivery. It is assembled by hand rather than serialised from an object so
 * that `object_payload` appears in it as the very text that was signed: verifiers that HMAC the raw
 * bytes (TIFO's Go SDK) and verifiers that re-serialise (Treezor's docs) then both succeed.
 */
export function buildWebhookBody(event: WebhookEvent, secret: string): string {
  const canonical = phpJsonEncode(event.payload);
  const signature = createHmac('sha256', secret).update(canonical).digest('base64');
  // "Unix epoch in the form 10^-4 seconds" (D-wh): milliseconds × 10, as an integer string.
  const createdAt = String(event.createdAt.getTime() * 10);
  return (
    '{"webhook":' +
    phpJsonEncode(event.webhook) +
    ',"webhook_id":' +
    phpJsonEncode(event.webhookId) +
    ',"webhook_created_at":' +
    phpJsonEncode(createdAt) +
    ',"object":' +
    phpJsonEncode(event.object) +
    ',"object_id":' +
    phpJsonEncode(event.objectId) +
    ',"object_payload":' +
    canonical +
    ',"object_payload_signature":' +
    phpJsonEncode(signature) +
    '}'
  );
}

function hmacHex(secret: string, t: number | string, rawBody: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
}

/** `t=<unix s>,v1=<hex>[,v1=<hex>…]`: one v1 per active secret, so receivers keep working during rotation. */
export function signatureHeader(rawBody: string, secrets: string[], t: number): string {
  if (!Number.isSafeInteger(t) || t < 0) throw new RangeError('signatureHeader: t must be whole unix seconds');
  if (secrets.length === 0) throw new RangeError('signatureHeader: at least one secret is required');
  return [`t=${t}`, ...secrets.map((s) => `v1=${hmacHex(s, t, rawBody)}`)].join(',');
}

/** A valid header for `rawBody`, for integrators' own tests of their webhook endpoint. */
export function generateTestHeader(rawBody: string, secret: string, t: number = Math.floor(Date.now() / 1000)): string {
  return signatureHeader(rawBody, [secret], t);
}

export interface VerifyOptions {
  /** Maximum age (and clock skew into the future) of `t`, in seconds. Must be > 0: there is no "off". */
  toleranceSeconds?: number;
  /** Current unix time in seconds; injectable for tests. */
  now?: number;
}

/**
 * Throws WebhookSignatureError unless `header` carries a v1 signature of `rawBody` under `secret`
 * whose timestamp is within the tolerance. `rawBody` must be the bytes as received: any re-serialisation
 * (parsing then JSON.stringify) changes them.
 */
export function verifySignatureHeader(
  rawBody: string | Uint8Array,
  header: string | undefined,
  secret: string,
  opts: VerifyOptions = {},
): void {
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  // A zero tolerance meaning "no check" is the trap Stripe documents in its TODO(MAJOR); we refuse it.
  if (!(tolerance > 0) || !Number.isFinite(tolerance)) {
    throw new RangeError('toleranceSeconds must be a positive number of seconds');
  }
  if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) {
    throw new WebhookSignatureError(
      'payload_not_raw',
      'Webhook payload must be the raw request body as a string or Buffer/Uint8Array. It was given as a parsed ' +
        `${rawBody === null ? 'null' : typeof rawBody} instead; signature verification needs the exact bytes ` +
        'that were signed, so read the body without a JSON parser (e.g. express.raw({ type: "*/*" })).',
    );
  }
  if (typeof header !== 'string' || header.trim() === '') {
    throw new WebhookSignatureError('missing_header', `No ${SIGNATURE_HEADER} header was provided.`);
  }

  let t: string | undefined;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === 't') t = value;
    else if (key === 'v1') signatures.push(value);
  }
  if (t === undefined || !/^\d{1,15}$/.test(t) || signatures.length === 0) {
    throw new WebhookSignatureError(
      'bad_format',
      `Unable to extract a timestamp and v1 signatures from the ${SIGNATURE_HEADER} header ` +
        '(expected "t=<unix seconds>,v1=<hex>").',
    );
  }

  const expected = Buffer.from(hmacHex(secret, t, rawBody), 'hex');
  // Check every candidate, so timing reveals nothing about which one (if any) matched.
  let matched = false;
  for (const sig of signatures) {
    const given = Buffer.from(sig, 'hex');
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) {
    const whitespace = /\s/.test(secret)
      ? ' The secret contains whitespace, which often means a stray newline or space in its configured value.'
      : '';
    throw new WebhookSignatureError(
      'no_match',
      'No signature in the header matches the expected signature for this payload. Are you passing the raw ' +
        'request body you received, and the secret of this webhook subscription?' +
        whitespace,
    );
  }

  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(t)) > tolerance) {
    throw new WebhookSignatureError(
      'timestamp_outside_tolerance',
      `Timestamp ${t} is more than ${tolerance} s away from now (${now}); the request may be a replay, ` +
        'or one of the clocks is wrong.',
    );
  }
}

/**
 * Checks Treezor's `object_payload_signature` both ways: over the raw text of `object_payload` as it
 * appears in the body, and over the payload re-serialised with phpJsonEncode. Either suffices, so bodies
 * from real Treezor (which may not be byte-canonical) and from kyclive both verify.
 */
export function verifyTreezorSignature(
  body: string | Uint8Array,
  secret: string,
): { ok: boolean; envelope: TreezorEnvelope | null } {
  const text =
    typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  let envelope: TreezorEnvelope;
  try {
    envelope = JSON.parse(text);
  } catch {
    return { ok: false, envelope: null };
  }
  if (
    envelope === null ||
    typeof envelope !== 'object' ||
    Array.isArray(envelope) ||
    !('object_payload' in envelope) ||
    typeof envelope.object_payload_signature !== 'string'
  ) {
    return { ok: false, envelope: null };
  }
  const given = Buffer.from(envelope.object_payload_signature, 'base64');
  const candidates = [rawMemberText(text, 'object_payload'), reserialise(envelope.object_payload)];
  let ok = false;
  for (const c of candidates) {
    if (c === undefined) continue;
    const expected = createHmac('sha256', secret).update(c).digest();
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return { ok, envelope };
}

function reserialise(payload: unknown): string | undefined {
  try {
    return phpJsonEncode(payload);
  } catch {
    return undefined; // e.g. 1e400 parses to Infinity, which has no JSON form
  }
}

/**
 * The source text of a top-level member's value in a JSON object text that is already known to be
 * valid. The last occurrence wins, as with JSON.parse.
 */
function rawMemberText(json: string, name: string): string | undefined {
  let i = skipWs(json, 0);
  if (json[i] !== '{') return undefined;
  i = skipWs(json, i + 1);
  let found: string | undefined;
  while (i < json.length && json[i] !== '}') {
    const keyEnd = skipValue(json, i);
    const key = JSON.parse(json.slice(i, keyEnd)) as string;
    const valueStart = skipWs(json, skipWs(json, keyEnd) + 1); // past the ':'
    const valueEnd = skipValue(json, valueStart);
    if (key === name) found = json.slice(valueStart, valueEnd);
    i = skipWs(json, valueEnd);
    if (json[i] === ',') i = skipWs(json, i + 1);
  }
  return found;
}

function skipWs(s: string, i: number): number {
  while (s[i] === ' ' || s[i] === '\n' || s[i] === '\r' || s[i] === '\t') i++;
  return i;
}

/** Index just past the JSON value starting at i. */
function skipValue(s: string, i: number): number {
  let depth = 0;
  let inString = false;
  for (let j = i; j < s.length; j++) {
    const c = s[j];
    if (inString) {
      if (c === '\\') j++;
      else if (c === '"') {
        inString = false;
        if (depth === 0) return j + 1;
      }
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return j; // end of a literal that sits last in its container
      if (--depth === 0) return j + 1;
    } else if (depth === 0 && (c === ',' || c === ' ' || c === '\n' || c === '\r' || c === '\t')) return j;
  }
  return s.length;
}
