/**
 * Serialises a value the way PHP's `json_encode($value)` does with default flags, because Treezor's
 * `object_payload_signature` is an HMAC over exactly that text (contract §5.2): integrators' verifiers
 * re-serialise the payload with this algorithm, so one differing byte breaks every signature.
 *
 * Differences from JSON.stringify: `/` becomes `\/`, and every UTF-16 code unit above 0x7F becomes a
 * lowercase `\uXXXX` (astral characters therefore become surrogate pairs, as in PHP). The output is
 * pure ASCII, so its bytes do not depend on the transport encoding.
 *
 * Where PHP would fail (json_encode returns false) we follow JSON.stringify instead of inventing a
 * format: lone surrogates are escaped as `\udXXX` (user input can contain them, and refusing would
 * poison the outbox); NaN/Infinity and BigInt throw, as they are bugs in our own payload builders.
 * Key order is the object's own order; note that JS puts integer-like keys first.
 */
export function phpJsonEncode(value: unknown): string {
  const out = encode(value, new Set());
  if (out === undefined) throw new TypeError('phpJsonEncode: value is not serialisable');
  return out;
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

// DEL (0x7F) is deliberately absent: PHP leaves it as is.
const NEEDS_ESCAPE = /["\\/\u0000-\u001f\u0080-\uffff]/g;

function escapeChar(c: string): string {
  return SHORT_ESCAPES[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
}

function encodeString(s: string): string {
  return '"' + s.replace(NEEDS_ESCAPE, escapeChar) + '"';
}

function encode(value: unknown, stack: Set<object>): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`phpJsonEncode: ${value} has no JSON form`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('phpJsonEncode: BigInt has no JSON form');
    case 'object':
      break;
    default:
      return undefined; // undefined, functions, symbols: dropped from objects, null in arrays
  }
  const obj = value as object & { toJSON?: () => unknown };
  if (typeof obj.toJSON === 'function') return encode(obj.toJSON(), stack);
  if (stack.has(obj)) throw new TypeError('phpJsonEncode: circular structure');
  stack.add(obj);
  try {
    if (Array.isArray(obj)) {
      return '[' + obj.map((v) => encode(v, stack) ?? 'null').join(',') + ']';
    }
    const parts: string[] = [];
    for (const [k, v] of Object.entries(obj)) {
      const encoded = encode(v, stack);
      if (encoded !== undefined) parts.push(encodeString(k) + ':' + encoded);
    }
    return '{' + parts.join(',') + '}';
  } finally {
    stack.delete(obj);
  }
}
