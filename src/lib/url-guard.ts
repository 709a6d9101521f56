/**
 * SSRF guard for webhook receiver URLs: integrators choose the URL, and our server then POSTs to it from
 * inside the deployment's network, so a URL pointing at 169.254.169.254 or 10.x would turn webhooks into
 * a probe of that network (documenso `assertNotPrivateUrl`).
 *
 * Every address the host resolves to must pass, not just one: with several A/AAAA records the socket may
 * use any of them. The checked addresses are returned so the caller can connect to exactly those and not
 * resolve again (a second lookup is what DNS rebinding exploits).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { KycError } from '../domain/errors.ts';

export interface WebhookUrlPolicy {
  /** RFC 1918, CGNAT, IPv6 ULA: for receivers on the same private network (docker, k8s). */
  allowPrivate: boolean;
  /** 127/8 and ::1, for local development; also allows plain http to them. */
  allowLoopback: boolean;
  /** Plain http to any allowed address. */
  allowHttp: boolean;
}

export type Resolver = (host: string) => Promise<string[]>;

/** `forbidden` is never allowed, whatever the policy: link-local/metadata, multicast, reserved. */
export type AddressClass = 'public' | 'private' | 'loopback' | 'forbidden';

export const resolveAll: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export async function assertWebhookUrl(
  url: string,
  policy: WebhookUrlPolicy,
  resolve: Resolver = resolveAll,
): Promise<{ url: URL; addresses: string[] }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse('malformed', 'url must be an absolute http(s) URL');
  }
  const isHttp = parsed.protocol === 'http:';
  if (!isHttp && parsed.protocol !== 'https:') throw refuse('scheme', 'url must use https');
  if (isHttp && !policy.allowHttp && !policy.allowLoopback) throw refuse('scheme', 'url must use https');
  if (parsed.username || parsed.password) throw refuse('credentials', 'url must not contain credentials');

  // WHATWG URL has already normalised odd IPv4 spellings (0x7f.1, 2130706433) to dotted quads.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await resolve(host);
    } catch (cause) {
      throw refuse('unresolvable', `url host ${host} could not be resolved`, cause);
    }
    if (addresses.length === 0) throw refuse('unresolvable', `url host ${host} could not be resolved`);
  }

  for (const address of addresses) {
    const cls = classifyAddress(address);
    const allowed =
      cls === 'public' || (cls === 'private' && policy.allowPrivate) || (cls === 'loopback' && policy.allowLoopback);
    if (!allowed) throw refuse('forbidden_address', `url host resolves to ${address}, a ${cls} address`);
  }
  if (isHttp && !policy.allowHttp && !addresses.every((a) => classifyAddress(a) === 'loopback')) {
    throw refuse('scheme', 'url must use https');
  }
  return { url: parsed, addresses };
}

function refuse(reason: string, message: string, cause?: unknown): KycError {
  return new KycError('invalid_request', message, { param: 'url', details: { reason }, cause });
}

type Rule = { prefix: bigint; bits: number; cls: AddressClass };

const rules = (parse: (ip: string) => bigint | undefined, list: [string, number, AddressClass][]): Rule[] =>
  list.map(([ip, bits, cls]) => ({ prefix: parse(ip)!, bits, cls }));

// First match wins. Sources: IANA IPv4/IPv6 special-purpose address registries.
const V4_RULES = rules(parseV4, [
  ['0.0.0.0', 8, 'forbidden'], // "this network"; connecting to 0.0.0.0 reaches localhost on Linux
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'], // CGNAT; also Alibaba Cloud's metadata 100.100.100.200
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'forbidden'], // link-local: cloud metadata 169.254.169.254 lives here
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'forbidden'],
  ['192.0.2.0', 24, 'forbidden'],
  ['192.88.99.0', 24, 'forbidden'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'private'], // benchmarking; "fake-IP" proxies hand these out on dev machines
  ['198.51.100.0', 24, 'forbidden'],
  ['203.0.113.0', 24, 'forbidden'],
  ['224.0.0.0', 4, 'forbidden'], // multicast
  ['240.0.0.0', 4, 'forbidden'], // reserved, incl. broadcast
]);

// An allow-list in effect: only 2000::/3 is global unicast, and whatever is not listed is forbidden
// (link-local fe80::/10, multicast ff00::/8, discard 100::/64, …).
const V6_RULES = rules(parseV6, [
  ['2001:db8::', 32, 'forbidden'], // documentation
  ['2001::', 32, 'forbidden'], // Teredo: tunnels to an embedded IPv4 address
  ['2002::', 16, 'forbidden'], // 6to4: same
  ['3fff::', 20, 'forbidden'], // documentation (RFC 9637)
  ['2000::', 3, 'public'],
  ['fd00:ec2::', 32, 'forbidden'], // AWS instance metadata over IPv6
  ['fc00::', 7, 'private'], // unique local
  ['fec0::', 10, 'private'], // deprecated site-local
  ['64:ff9b:1::', 48, 'private'], // local-use NAT64
]);

// Prefixes whose last 32 bits are an IPv4 address that the packet actually reaches: judge that address.
const V4_EMBEDDING = rules(parseV6, [
  ['::ffff:0:0', 96, 'forbidden'], // IPv4-mapped
  ['64:ff9b::', 96, 'forbidden'], // well-known NAT64
  ['::', 96, 'forbidden'], // deprecated IPv4-compatible
]);

export function classifyAddress(ip: string): AddressClass {
  const v4 = parseV4(ip);
  if (v4 !== undefined) return match(v4, 32, V4_RULES, 'public');
  const v6 = parseV6(ip);
  if (v6 === undefined || v6 === 0n) return 'forbidden';
  if (v6 === 1n) return 'loopback';
  if (V4_EMBEDDING.some((r) => inPrefix(v6, 128, r))) return match(v6 & 0xffffffffn, 32, V4_RULES, 'public');
  return match(v6, 128, V6_RULES, 'forbidden');
}

function match(addr: bigint, width: number, list: Rule[], fallback: AddressClass): AddressClass {
  return list.find((r) => inPrefix(addr, width, r))?.cls ?? fallback;
}

function inPrefix(addr: bigint, width: number, rule: Rule): boolean {
  const shift = BigInt(width - rule.bits);
  return addr >> shift === rule.prefix >> shift;
}

function parseV4(ip: string): bigint | undefined {
  if (isIP(ip) !== 4) return undefined;
  return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(part), 0n);
}

function parseV6(ip: string): bigint | undefined {
  let s = ip.replace(/%.*/, '').toLowerCase(); // a zone id (fe80::1%eth0) does not change the class
  if (isIP(s) !== 6) return undefined;
  const lastColon = s.lastIndexOf(':');
  const dotted = parseV4(s.slice(lastColon + 1));
  if (dotted !== undefined) {
    s = s.slice(0, lastColon + 1) + (dotted >> 16n).toString(16) + ':' + (dotted & 0xffffn).toString(16);
  }
  const [head, tail] = s.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce((acc, g) => (acc << 16n) | BigInt('0x' + g), 0n);
}
