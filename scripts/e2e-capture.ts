/**
 * npm run e2e:capture -- --base URL --client-id ID --client-secret SECRET --face FILE --document FILE [--document FILE] [--method certified]
 *
 * Runs the whole hosted flow headless against a running kyclive, with the given files as what
 * the camera sees at each step (videos or images; converted here with ffmpeg): creates a user,
 * subscribes its own webhook receiver, initiates the verification, drives Chromium through the
 * capture app, waits for the analysis, and prints `redirect: URL` and one `webhook: JSON` line per
 * kycliveness webhook. Screenshots of every step go to the folder printed as `screenshots: DIR`.
 * Options: --out DIR (default: a new folder under the system temp dir), --timeout SECONDS (analysis wait, default 600), --receiver-host HOST (the
 * address the server uses to reach this script's webhook receiver, default 127.0.0.1),
 * --redirect-url URL, --document-type id_card|passport|residence_permit, --country FR,
 * --device mobile|desktop (360×800 or 1280×800), --feedback (keep the in-browser face models on).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KycliveClient } from '../src/sdk/index.ts';
import {
  chromiumMissing,
  completeFlow,
  DESKTOP,
  launch,
  MOBILE,
  newPage,
  stepCameraScript,
  toWebm,
} from '../test/e2e/drive.ts';

function fail(msg: string): never {
  console.error(`e2e-capture: ${msg}`);
  process.exit(2);
}

const { values: a } = parseArgs({
  options: {
    base: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    face: { type: 'string' },
    document: { type: 'string', multiple: true },
    method: { type: 'string' },
    out: { type: 'string' },
    timeout: { type: 'string', default: '600' },
    'receiver-host': { type: 'string', default: '127.0.0.1' },
    'redirect-url': { type: 'string' },
    device: { type: 'string', default: 'mobile' },
    feedback: { type: 'boolean', default: false },
    'document-type': { type: 'string' },
    country: { type: 'string', default: 'FR' },
  },
  strict: true,
});
for (const k of ['base', 'client-id', 'client-secret', 'face'] as const) if (!a[k]) fail(`--${k} is required`);
if (!a.document?.length) fail('--document is required (once for the front, twice for front and back)');
if (a.document.length > 2) fail('--document may be given at most twice (front, back)');
if (a.device !== 'mobile' && a.device !== 'desktop') fail('--device must be mobile (360×800) or desktop (1280×800)');
if (a.method && a.method !== 'liveness' && a.method !== 'certified') fail('--method must be liveness or certified');
for (const f of [a.face!, ...a.document]) if (!existsSync(f)) fail(`no such file: ${f}`);
const missing = chromiumMissing();
if (missing) fail(missing);
const base = a.base!.replace(/\/+$/, '');
const documentType = (a['document-type'] ?? (a.document.length === 1 ? 'passport' : 'id_card')) as
  | 'id_card'
  | 'passport'
  | 'residence_permit';
if (!['id_card', 'passport', 'residence_permit'].includes(documentType))
  fail('--document-type must be id_card, passport or residence_permit');

const out = resolve(a.out ?? join(tmpdir(), `kyclive-e2e-capture-${new Date().toISOString().replace(/[:.]/g, '-')}`));
mkdirSync(out, { recursive: true });
console.log(`screenshots: ${out}`);

// What the camera shows at each step.
const camDir = join(out, 'camera');
mkdirSync(camDir, { recursive: true });
const front = toWebm(resolve(a.document[0]), join(camDir, 'front.webm'));
const back = toWebm(resolve(a.document[1] ?? a.document[0]), join(camDir, 'back.webm'));
const face = toWebm(resolve(a.face!), join(camDir, 'face.webm'));

// Webhook receiver.
const events: Record<string, any>[] = [];
const receiver = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    try {
      const e = JSON.parse(Buffer.concat(parts).toString('utf8'));
      events.push(e);
      if (String(e.webhook ?? '').startsWith('kycliveness.')) console.log(`webhook: ${JSON.stringify(e)}`);
    } catch {
      /* not JSON: ignore */
    }
    res.writeHead(200).end('ok');
  });
});
await new Promise<void>((r) => receiver.listen(0, a['receiver-host'], r));
const hookUrl = `http://${a['receiver-host']}:${(receiver.address() as AddressInfo).port}/kyclive`;

let sdk = new KycliveClient({ baseUrl: base, clientId: a['client-id']!, clientSecret: a['client-secret']! });
const exitWith = async (code: number) => {
  receiver.close();
  process.exit(code);
};

try {
  await sdk.createWebhookSubscription(hookUrl);
  const user = await sdk.createUser({
    userTypeId: 1,
    specifiedUSPerson: 0,
    email: `e2e-${Date.now()}@example.com`,
    firstname: 'Camille',
    lastname: 'Martin',
    birthday: '1990-01-01',
  });
  let start = await sdk.createKycliveness(user.userId, {
    redirectUrl: a['redirect-url'] ?? `${base}/identification/done`,
  });
  const token = start.identificationUrl.split('/').pop()!;
  const session = (await (await fetch(`${base}/capture/v1/sessions/${token}`)).json()) as { method: string };
  if (a.method && session.method !== a.method) {
    // The method is a per-client setting (as at Treezor): use a dedicated client with the asked one.
    console.log(`note: this client uses ${session.method}; creating a client with method ${a.method}`);
    const tokenRes = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: a['client-id']!,
        client_secret: a['client-secret']!,
      }),
    });
    const access = ((await tokenRes.json()) as { access_token: string }).access_token;
    const c = await fetch(`${base}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `e2e-capture ${a.method}`,
        scopes: ['read_only', 'read_write', 'admin', 'legal'],
        method: a.method,
      }),
    });
    if (c.status !== 201)
      fail(`could not create a ${a.method} client (admin scope needed): ${c.status} ${await c.text()}`);
    const cc = (await c.json()) as { client_id: string; client_secret: string };
    // Same look as the caller's client, so screenshots of both methods match.
    const branding = (await (
      await fetch(`${base}/settings/branding`, { headers: { authorization: `Bearer ${access}` } })
    ).json()) as Record<string, unknown>;
    const subToken = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: cc.client_id,
        client_secret: cc.client_secret,
      }),
    });
    const subAccess = ((await subToken.json()) as { access_token: string }).access_token;
    await fetch(`${base}/settings/branding`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${subAccess}`, 'content-type': 'application/json' },
      body: JSON.stringify(branding),
    });
    sdk = new KycliveClient({ baseUrl: base, clientId: cc.client_id, clientSecret: cc.client_secret });
    await sdk.createWebhookSubscription(hookUrl);
    const u2 = await sdk.createUser({
      userTypeId: 1,
      specifiedUSPerson: 0,
      email: `e2e-${Date.now()}@example.com`,
      firstname: 'Camille',
      lastname: 'Martin',
      birthday: '1990-01-01',
    });
    start = await sdk.createKycliveness(u2.userId, { redirectUrl: a['redirect-url'] ?? `${base}/identification/done` });
  }
  const origin = new URL(start.identificationUrl).origin;
  const browser = await launch('none');
  let redirect: string;
  try {
    const { page } = await newPage(browser, a.device === 'desktop' ? DESKTOP : MOBILE);
    const files: Record<string, string> = { front, back, face };
    await page.route(`${origin}/__e2e-camera/*`, (route) =>
      route.fulfill({
        status: 200,
        contentType: 'video/webm',
        body: readFileSync(files[basename(new URL(route.request().url()).pathname, '.webm')]),
      }),
    );
    await page.addInitScript(
      stepCameraScript({
        front: '/__e2e-camera/front.webm',
        back: '/__e2e-camera/back.webm',
        face: '/__e2e-camera/face.webm',
      }),
    );
    const method = (a.method ?? session.method) as 'liveness' | 'certified';
    redirect = await completeFlow(page, start.identificationUrl, {
      method,
      documentType,
      country: a.country,
      feedback: a.feedback,
      shots: { dir: out, prefix: `${a.device}-${method}` },
      onStep: (s) => console.log(`step: ${s}`),
    });
  } finally {
    await browser.close();
  }
  console.log(`redirect: ${redirect}`);
  const id = start.identificationId;
  const deadline = Date.now() + Number(a.timeout) * 1000;
  const seen = (name: string) => events.some((e) => e.webhook === name && JSON.stringify(e).includes(id));
  while (Date.now() < deadline && !seen('kycliveness.update')) await new Promise((r) => setTimeout(r, 500));
  if (!seen('kycliveness.update')) {
    console.error(`e2e-capture: no kycliveness.update within ${a.timeout} s`);
    await exitWith(1);
  }
  await exitWith(new URL(redirect).searchParams.get('status') === 'processing' ? 0 : 1);
} catch (e) {
  console.error(`e2e-capture: ${(e as Error).message}`);
  await exitWith(1);
}
