/**
 * The hosted capture app as a person uses it: Debian's Chromium driven by playwright-core, its
 * fake camera fed from a .y4m made at test time, against a real kyclive on PGlite with a real
 * webhook receiver. One test per method completing the flow, one per redirect row a browser can
 * produce, and the desktop → phone handoff. One browser for the whole file.
 * Step screenshots go to a temp folder; KYCLIVE_UPDATE_SCREENSHOTS=1 writes the handoff ones into
 * docs/screenshots/ (the other documented steps come from scripts/e2e-capture.ts, which shows a
 * real document at the document steps).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openPgliteThread } from '../../src/storage/db/pglite-thread.ts';
import { call, startTestServer, type TestServer } from '../helpers/runtime.ts';
import { approveVerificationCase } from '../helpers/review.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';
import { newTenant, startVerification } from '../capture/helpers.ts';
import { chromiumMissing, completeFlow, DESKTOP, fixtureCamera, launch, MOBILE, newPage, onScreen } from './drive.ts';
import { shrinkScreenshots } from './screenshots.ts';

const skip = chromiumMissing();
const SHOTS = join(new URL('../../', import.meta.url).pathname, 'docs/screenshots');

describe('hosted capture app in Chromium', { skip }, () => {
  let server: TestServer;
  let browser: Browser;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let work: string;
  const shotsDir = () => join(work, 'shots');
  const docShot = async (page: Page, name: string) => {
    if (process.env.KYCLIVE_UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: join(SHOTS, name) });
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'kyclive-e2e-'));
    const cam = fixtureCamera(work);
    console.log(`fake camera: ${cam.source}`);
    server = await startTestServer(await openPgliteThread());
    receiver = await startReceiver();
    browser = await launch(cam.file);
  });
  after(async () => {
    await browser?.close();
    await receiver?.close();
    await server?.close();
    if (process.env.KYCLIVE_UPDATE_SCREENSHOTS === '1') await shrinkScreenshots(SHOTS);
    rmSync(work, { recursive: true, force: true });
  });

  /** A verification whose tenant's webhooks go to the shared receiver, redirecting back to this server. */
  async function verification(
    method: 'liveness' | 'certified' = 'liveness',
    tenantName?: string,
    branding?: Record<string, string>,
  ) {
    const tenant = await newTenant(server, method, tenantName);
    await tenant.sdk.createWebhookSubscription(receiver.url);
    if (branding) {
      const r = await call(server.baseUrl, 'PUT', '/settings/branding', {
        token: await server.token(tenant.creds),
        body: branding,
      });
      assert.equal(r.status, 200, r.text);
    }
    return startVerification(server, { tenant, redirectUrl: `${server.baseUrl}/identification/done?integrator=demo` });
  }

  async function webhooksFor(identificationId: string, name: string, count = 1) {
    for (let i = 0; i < 100; i++) {
      await server.settle();
      const ev = receiver
        .events(name)
        .filter(
          (e) =>
            e.object_payload['identification-id'] === identificationId ||
            e.object_payload.identification_id === identificationId ||
            JSON.stringify(e).includes(identificationId),
        );
      if (ev.length >= count) return ev;
      await new Promise((r) => setTimeout(r, 100));
    }
    return [];
  }

  async function metadataOf(id: string) {
    const r = await server.runtime.deps.db.query<{ capture_metadata: Record<string, any> }>(
      'select capture_metadata from verifications where id = $1',
      [id],
    );
    return r.rows[0].capture_metadata;
  }

  function assertRedirect(url: string, id: string, status: string, returnReason: string, errorType: string) {
    const u = new URL(url);
    assert.equal(u.pathname, '/identification/done');
    assert.equal(u.searchParams.get('integrator'), 'demo');
    assert.equal(u.searchParams.get('identification_id'), id);
    assert.equal(u.searchParams.get('status'), status);
    assert.equal(u.searchParams.get('return_reason'), returnReason);
    assert.equal(u.searchParams.get('error_type'), errorType);
  }

  async function assertAbortWebhook(id: string, returnReason: string, errorType: string) {
    const ev = await webhooksFor(id, 'kycliveness.create');
    assert.equal(ev.length, 1, `kycliveness.create for ${id}`);
    assert.equal(ev[0].object_payload['kyc-status'], 'aborted');
    assert.equal(ev[0].object_payload['return-reason'], returnReason);
    assert.equal(ev[0].object_payload['error-type'], errorType);
  }

  /** Consent, start, the document type (ID card by default), then the front-of-document camera screen. */
  async function toDocumentFront(page: Page, url: string, docType?: 'passport') {
    await page.goto(url);
    await page.getByTestId('consent').check();
    await page.getByTestId('start').click();
    await onScreen(page, 'document-choice');
    if (docType) await page.getByTestId(`doctype-${docType}`).check();
    await page.getByTestId('continue').click();
    await onScreen(page, 'document-front');
  }

  async function withPage<T>(
    device: typeof MOBILE | typeof DESKTOP,
    fn: (page: Page) => Promise<T>,
    locale?: string,
  ): Promise<T> {
    const { context, page } = await newPage(browser, device, locale);
    try {
      return await fn(page);
    } finally {
      await context.close();
    }
  }

  test('liveness on a 360 px phone: consent, checks, ID card front and back, face, redirect with status=processing', async () => {
    const v = await verification('liveness', 'Banque Exemple');
    await withPage(MOBILE, async (page) => {
      const url = await completeFlow(page, v.identificationUrl, {
        method: 'liveness',
        country: 'FR',
        shots: { dir: shotsDir(), prefix: 'mobile-liveness' },
      });
      assertRedirect(url, v.identificationId, 'processing', 'none', 'none');
    });
    const created = await webhooksFor(v.identificationId, 'kycliveness.create');
    assert.equal(created[0].object_payload['kyc-status'], 'processing');
    // The sandbox analyzer does not analyse the fake camera's media (-1): a reviewer decides.
    await server.settle();
    await approveVerificationCase(server.runtime.deps, v.identificationId);
    const updated = await webhooksFor(v.identificationId, 'kycliveness.update');
    assert.equal(updated[0].object_payload['kyc-status'], 'processed');
    const steps = await server.runtime.deps.db.query<{ step: string; content_type: string; bytes: string }>(
      'select step, content_type, bytes from capture_media where verification_id = $1 order by step',
      [v.identificationId],
    );
    assert.deepEqual(
      steps.rows.map((r) => r.step),
      ['document_back', 'document_front', 'face'],
    );
    for (const r of steps.rows) {
      assert.equal(r.content_type, 'video/webm');
      assert.ok(Number(r.bytes) > 1000);
    }
    // What the browser recorded is a video the server's ffmpeg decodes.
    const face = await server.runtime.deps.db.query<{ blob_key: string }>(
      "select blob_key from capture_media where verification_id = $1 and step = 'face'",
      [v.identificationId],
    );
    const file = join(work, 'face.webm');
    await pipeline(await server.runtime.deps.blobs.get(face.rows[0].blob_key), createWriteStream(file));
    const probe = JSON.parse(
      execFileSync(
        'ffprobe',
        [
          '-v',
          'error',
          '-count_frames',
          '-select_streams',
          'v:0',
          '-show_entries',
          'stream=codec_name,width,height,nb_read_frames',
          '-of',
          'json',
          file,
        ],
        { encoding: 'utf8' },
      ),
    );
    assert.match(probe.streams[0].codec_name, /^(vp8|vp9|h264)$/);
    assert.ok(Number(probe.streams[0].nb_read_frames) >= 20, `frames: ${probe.streams[0].nb_read_frames}`);
    const m = await metadataOf(v.identificationId);
    assert.equal(m.webdriver, true);
    assert.match(m.userAgent, /Chrome/);
    assert.equal(typeof m.cameraLabel, 'string');
    assert.equal(m.uploadRetries, 0);
    assert.equal(typeof m.droppedFrames, 'number');
    assert.ok(m.connection.downlinkMbps > 0);
    assert.equal(m.device, 'mobile');
  });

  test('certified on a 1280 px desktop in French: every challenge shown with its time recorded, redirect with status=processing', async () => {
    const v = await verification('certified', 'Banque Exemple');
    await withPage(
      DESKTOP,
      async (page) => {
        const url = await completeFlow(page, v.identificationUrl, {
          method: 'certified',
          documentType: 'passport',
          country: 'FR',
          shots: { dir: shotsDir(), prefix: 'desktop-certified' },
        });
        assertRedirect(url, v.identificationId, 'processing', 'none', 'none');
      },
      'fr-FR',
    );
    const created = await webhooksFor(v.identificationId, 'kycliveness.create');
    assert.equal(created[0].object_payload['kyc-status'], 'processing');
    const m = await metadataOf(v.identificationId);
    assert.equal(m.challengeShownAt.length, 3);
    assert.ok(m.challengeShownAt.every((t: number, i: number, a: number[]) => i === 0 || t > a[i - 1]));
    // The engine places the challenges on the face video's timeline from its start.
    assert.ok(m.faceRecordingStartedAt > 0 && m.faceRecordingStartedAt < m.challengeShownAt[0]);
    assert.equal(m.documentChallengeShownAt.length, 1);
    const row = await server.runtime.deps.db.query<{ document_type: string; document_country: string }>(
      'select document_type, document_country from verifications where id = $1',
      [v.identificationId],
    );
    assert.deepEqual(row.rows[0], { document_type: 'passport', document_country: 'FR' });
  });

  for (const [testid, returnReason] of [
    ['refuse', 'refusal'],
    ['no-document', 'no_document'],
    ['later', 'verify_later'],
  ] as const) {
    test(`the "${testid}" exit ends as ${returnReason}`, async () => {
      const v = await verification();
      await withPage(MOBILE, async (page) => {
        await page.goto(`${v.identificationUrl}#nofeedback`);
        await onScreen(page, 'welcome');
        await page.getByTestId(testid).click();
        await page.waitForURL((u) => u.searchParams.has('identification_id'));
        assertRedirect(page.url(), v.identificationId, 'aborted', returnReason, 'none');
      });
      await assertAbortWebhook(v.identificationId, returnReason, 'none');
    });
  }

  test('consent is required, the language follows the browser and switches, and the start is reachable with the keyboard alone', async () => {
    const v = await verification();
    await withPage(
      DESKTOP,
      async (page) => {
        await page.goto(`${v.identificationUrl}#nofeedback`);
        await onScreen(page, 'welcome');
        await page.getByRole('heading', { name: 'Vérifiez votre identité' }).waitFor();
        await page.getByTestId('start').click();
        await page.getByText('Cochez la case').waitFor();
        assert.equal(await page.evaluate(() => document.body.dataset.screen), 'welcome');
        await page.getByTestId('lang').click();
        await page.getByRole('heading', { name: 'Verify your identity' }).waitFor();
        assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
        // Every control has an accessible name; the checkbox is labelled by the consent text.
        await page.getByRole('checkbox', { name: /I agree that my identity document/ }).waitFor();
        // Keyboard only: Space ticks the consent box, Tab reaches "Start", Enter starts.
        await page.getByTestId('consent').focus();
        await page.keyboard.press('Space');
        await page.keyboard.press('Tab');
        assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'start');
        await page.keyboard.press('Enter');
        await onScreen(page, 'document-choice');
        await page.getByRole('radio', { name: 'Passport' }).waitFor();
        await page.getByRole('combobox', { name: 'Issuing country' }).waitFor();
      },
      'fr-FR',
    );
  });

  test('a certified document movement not confirmed in time ends as doc_instructions_not_followed', async () => {
    const v = await verification('certified');
    await withPage(MOBILE, async (page) => {
      await toDocumentFront(page, `${v.identificationUrl}#nofeedback`);
      await page.getByTestId('record').click();
      await page.waitForURL((u) => u.searchParams.has('identification_id'), { timeout: 25_000 });
      assertRedirect(page.url(), v.identificationId, 'aborted', 'doc_instructions_not_followed', 'challenge_timeout');
    });
    await assertAbortWebhook(v.identificationId, 'doc_instructions_not_followed', 'challenge_timeout');
  });

  test('leaving the tab while filming ends as focus-lost', async () => {
    const v = await verification();
    await withPage(MOBILE, async (page) => {
      await toDocumentFront(page, `${v.identificationUrl}#nofeedback`);
      await page.getByTestId('record').click();
      await page.waitForTimeout(500);
      // What the browser does when the user switches tab or app (a string: tsx would inject helpers into a function).
      await page.evaluate(`Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
        document.dispatchEvent(new Event('visibilitychange'));`);
      await page.waitForURL((u) => u.searchParams.has('identification_id'));
      assertRedirect(page.url(), v.identificationId, 'aborted', 'focus-lost', 'none');
    });
    await assertAbortWebhook(v.identificationId, 'focus-lost', 'none');
  });

  test('a browser without MediaRecorder ends as browser-not-supported', async () => {
    const v = await verification();
    await withPage(MOBILE, async (page) => {
      await page.addInitScript('delete window.MediaRecorder;');
      await page.goto(`${v.identificationUrl}#nofeedback`);
      await page.getByTestId('consent').check();
      await page.getByTestId('start').click();
      await page.waitForURL((u) => u.searchParams.has('identification_id'));
      assertRedirect(page.url(), v.identificationId, 'aborted', 'error', 'browser-not-supported');
    });
    await assertAbortWebhook(v.identificationId, 'error', 'browser-not-supported');
  });

  test('a certified face challenge not done in time ends as challenge_timeout', async () => {
    const v = await verification('certified');
    await withPage(MOBILE, async (page) => {
      await toDocumentFront(page, `${v.identificationUrl}#nofeedback`, 'passport');
      await page.getByTestId('record').click();
      await page.getByTestId('challenge-done').click();
      await onScreen(page, 'face');
      await page.getByTestId('record').click();
      // The first challenge is left undone until its window (8 s) runs out.
      await page.waitForURL((u) => u.searchParams.has('identification_id'), { timeout: 20_000 });
      assertRedirect(page.url(), v.identificationId, 'aborted', 'face_instructions_not_followed', 'challenge_timeout');
    });
    await assertAbortWebhook(v.identificationId, 'face_instructions_not_followed', 'challenge_timeout');
    const m = await metadataOf(v.identificationId);
    assert.equal(m.challengeShownAt.length, 1);
  });

  test('an upload that keeps failing resumes, retries, then ends as bad_connexion', async () => {
    const v = await verification();
    await withPage(MOBILE, async (page) => {
      let patches = 0;
      // The network drops every chunk; the abort call itself still gets through.
      await page.route('**/uploads/**', (route) => {
        if (route.request().method() === 'PATCH') {
          patches++;
          return route.abort('connectionreset');
        }
        return route.continue();
      });
      await toDocumentFront(page, `${v.identificationUrl}#nofeedback`, 'passport');
      await page.getByTestId('record').click();
      await page.waitForURL((u) => u.searchParams.has('identification_id'), { timeout: 30_000 });
      assertRedirect(page.url(), v.identificationId, 'aborted', 'error', 'bad_connexion');
      assert.ok(patches >= 4, `retried ${patches} times`);
    });
    await assertAbortWebhook(v.identificationId, 'error', 'bad_connexion');
    const m = await metadataOf(v.identificationId);
    assert.ok(m.uploadRetries >= 4);
  });

  test('a dropped chunk is resumed from the offset the server holds and the flow completes', async () => {
    const v = await verification();
    await withPage(MOBILE, async (page) => {
      let dropped = 0;
      // Drop the first chunk after it reached the server: the answer is lost, the bytes are not.
      await page.route('**/uploads/**', async (route) => {
        if (route.request().method() === 'PATCH' && dropped === 0) {
          dropped++;
          await route.fetch();
          return route.abort('connectionreset');
        }
        return route.continue();
      });
      const url = await completeFlow(page, v.identificationUrl, { method: 'liveness', documentType: 'passport' });
      assertRedirect(url, v.identificationId, 'processing', 'none', 'none');
    });
    const m = await metadataOf(v.identificationId);
    assert.equal(m.uploadRetries, 1);
  });

  test('desktop offers a QR code; the phone claims the one-time link, films, and the desktop performs the redirect', async () => {
    const v = await verification('liveness', 'client-1', { name: 'Banque Exemple', primaryColor: '#0a7a3b' });
    const desk = await newPage(browser, DESKTOP);
    try {
      await desk.page.goto(`${v.identificationUrl}#nofeedback`);
      await onScreen(desk.page, 'welcome');
      // The client's branding, with button text that stays readable on its colour.
      assert.equal(await desk.page.textContent('header .brand'), 'Banque Exemple');
      assert.equal(
        await desk.page.getByTestId('start').evaluate((b) => getComputedStyle(b).backgroundColor),
        'rgb(10, 122, 59)',
      );
      assert.equal(
        await desk.page.getByTestId('start').evaluate((b) => getComputedStyle(b).color),
        'rgb(255, 255, 255)',
      );
      await docShot(desk.page, 'desktop-welcome-with-phone-option.png');
      await desk.page.getByTestId('on-phone').click();
      await onScreen(desk.page, 'handoff');
      await desk.page.getByTestId('qr').waitFor();
      await docShot(desk.page, 'desktop-handoff-qr.png');
      const link = (await desk.page.getByTestId('handoff-url').textContent())!;
      await withPage(MOBILE, async (phone) => {
        await phone.goto(link);
        await onScreen(phone, 'welcome');
        await desk.page.getByText('Your phone is connected').waitFor({ timeout: 10_000 });
        await docShot(desk.page, 'desktop-handoff-phone-connected.png');
        // The phone landed on its own token (not the desktop's), then films the whole flow.
        assert.notEqual(new URL(phone.url()).pathname, new URL(v.identificationUrl).pathname);
        await completeFlow(phone, phone.url(), { method: 'liveness', documentType: 'passport', handoff: true });
        assert.match((await phone.textContent('h1'))!, /go back to your computer/);
      });
      await desk.page.waitForURL((u) => u.searchParams.has('identification_id'), { timeout: 20_000 });
      assertRedirect(desk.page.url(), v.identificationId, 'processing', 'none', 'none');
      // Single use: the same link now shows a clear page.
      const again = await fetch(link, { redirect: 'manual' });
      assert.equal(again.status, 410);
    } finally {
      await desk.context.close();
    }
    const m = await metadataOf(v.identificationId);
    assert.equal(m.handoff, true);
  });

  test('live feedback from the face models (served by kyclive) tells the user how the face is placed', async () => {
    const v = await verification();
    await withPage(MOBILE, async (page) => {
      const external: string[] = [];
      page.on('request', (r) => {
        const u = new URL(r.url());
        if (u.origin !== new URL(server.baseUrl).origin && u.protocol !== 'data:' && u.protocol !== 'blob:')
          external.push(u.origin);
      });
      await toDocumentFront(page, v.identificationUrl, 'passport');
      await page.getByTestId('record').click();
      await onScreen(page, 'face');
      // Models load and run on the CPU-only test machine: allow time.
      await page.waitForFunction(
        () =>
          /^(Good|We can’t see your face|Come a little closer|Centre your face in the oval)$/.test(
            document.querySelector('[data-testid="feedback"]')?.textContent ?? '',
          ),
        undefined,
        { timeout: 90_000 },
      );
      assert.deepEqual(external, [], 'no third-party request');
    });
  });

  test('a superseded link shows a clear page in the browser', async () => {
    const v = await verification();
    await v.sdk.createKycliveness(v.userId);
    await withPage(MOBILE, async (page) => {
      const r = await page.goto(v.identificationUrl);
      assert.equal(r?.status(), 410);
      await page.getByRole('heading', { name: 'This link was replaced' }).waitFor();
    });
  });
});
