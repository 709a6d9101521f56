import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KycError } from '../domain/errors.ts';
import { assertWebhookUrl, classifyAddress, type WebhookUrlPolicy } from './url-guard.ts';

const STRICT: WebhookUrlPolicy = { allowPrivate: false, allowLoopback: false, allowHttp: false };
const DEV: WebhookUrlPolicy = { allowPrivate: false, allowLoopback: true, allowHttp: false };

const dns = (table: Record<string, string[]>) => async (host: string) => {
  const found = table[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found;
};
const resolver = dns({
  'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'mixed.example.com': ['93.184.215.14', '10.0.0.7'],
  'metadata.example.com': ['169.254.169.254'],
  'mapped.example.com': ['::ffff:192.168.1.1'],
  localhost: ['127.0.0.1', '::1'],
  'empty.example.com': [],
});

async function refused(url: string, policy: WebhookUrlPolicy, reason: string): Promise<void> {
  await assert.rejects(assertWebhookUrl(url, policy, resolver), (e: unknown) => {
    assert.ok(e instanceof KycError, String(e));
    assert.equal(e.code, 'invalid_request');
    assert.equal(e.param, 'url');
    assert.equal(e.details?.reason, reason, e.message);
    return true;
  });
}

test('accepts a public https URL and returns every address it checked', async () => {
  const { url, addresses } = await assertWebhookUrl('https://hooks.example.com/kyc?x=1', STRICT, resolver);
  assert.equal(url.href, 'https://hooks.example.com/kyc?x=1');
  assert.deepEqual(addresses, ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
});

test('refuses malformed URLs, other schemes and credentials', async () => {
  await refused('not a url', STRICT, 'malformed');
  await refused('/relative', STRICT, 'malformed');
  await refused('ftp://hooks.example.com/', STRICT, 'scheme');
  await refused('file:///etc/passwd', STRICT, 'scheme');
  await refused('https://user:pw@hooks.example.com/', STRICT, 'credentials');
});

test('plain http only with allowHttp, or to loopback when loopback is allowed', async () => {
  await refused('http://hooks.example.com/', STRICT, 'scheme');
  await refused('http://hooks.example.com/', DEV, 'scheme');
  assert.ok(await assertWebhookUrl('http://hooks.example.com/', { ...STRICT, allowHttp: true }, resolver));
  assert.ok(await assertWebhookUrl('http://localhost:3000/', DEV, resolver));
  assert.ok(await assertWebhookUrl('http://127.0.0.1:3000/', DEV, resolver));
});

test('refuses a host if ANY of its addresses is private', async () => {
  await refused('https://mixed.example.com/', STRICT, 'forbidden_address');
  assert.ok(await assertWebhookUrl('https://mixed.example.com/', { ...STRICT, allowPrivate: true }, resolver));
});

test('refuses cloud metadata and link-local even when private addresses are allowed', async () => {
  const lax = { allowPrivate: true, allowLoopback: true, allowHttp: true };
  await refused('https://metadata.example.com/', lax, 'forbidden_address');
  await refused('http://169.254.169.254/latest/meta-data/', lax, 'forbidden_address');
  await refused('http://[fe80::1]/', lax, 'forbidden_address');
  await refused('http://[fd00:ec2::254]/', lax, 'forbidden_address');
  await refused('http://0.0.0.0:8080/', lax, 'forbidden_address');
});

test('sees through IPv4-mapped IPv6 and odd IPv4 spellings', async () => {
  await refused('https://mapped.example.com/', STRICT, 'forbidden_address');
  await refused('https://[::ffff:10.0.0.1]/', STRICT, 'forbidden_address');
  await refused('https://[::ffff:7f00:1]/', STRICT, 'forbidden_address');
  await refused('https://0x7f.1/', STRICT, 'forbidden_address');
  await refused('https://2130706433/', STRICT, 'forbidden_address');
  await refused('https://localhost/', STRICT, 'forbidden_address');
  await refused('https://[::1]/', STRICT, 'forbidden_address');
});

test('refuses hosts that do not resolve, as a distinct reason', async () => {
  await refused('https://nope.example.com/', STRICT, 'unresolvable');
  await refused('https://empty.example.com/', STRICT, 'unresolvable');
});

test('classifies addresses by IANA special-purpose ranges', () => {
  const cases: Record<string, string> = {
    '8.8.8.8': 'public',
    '1.1.1.1': 'public',
    '172.32.0.1': 'public',
    '100.128.0.1': 'public',
    '10.1.2.3': 'private',
    '172.16.0.1': 'private',
    '172.31.255.255': 'private',
    '192.168.0.1': 'private',
    '100.64.0.1': 'private',
    '100.100.100.200': 'private',
    '127.0.0.1': 'loopback',
    '127.255.255.254': 'loopback',
    '::1': 'loopback',
    '::ffff:127.0.0.1': 'loopback',
    '0.0.0.0': 'forbidden',
    '169.254.169.254': 'forbidden',
    '224.0.0.1': 'forbidden',
    '255.255.255.255': 'forbidden',
    '192.0.2.1': 'forbidden',
    '::': 'forbidden',
    '2606:4700::1111': 'public',
    '2001:db8::1': 'forbidden',
    '2002:a00:1::': 'forbidden',
    'fc00::1': 'private',
    'fd12:3456::1': 'private',
    'fe80::1%eth0': 'forbidden',
    'ff02::1': 'forbidden',
    '64:ff9b::a00:1': 'private',
    '64:ff9b::808:808': 'public',
    '::ffff:8.8.8.8': 'public',
    'not-an-ip': 'forbidden',
  };
  for (const [ip, cls] of Object.entries(cases)) assert.equal(classifyAddress(ip), cls, ip);
});
