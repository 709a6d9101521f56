/**
 * Camera failures a real browser produces: the user refuses the permission prompt
 * (device_not_allowed) and a device with no camera at all (device_not_found). Each needs its own
 * Chromium (the fake camera and prompt answers are browser-wide switches).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openPgliteThread } from '../../src/storage/db/pglite-thread.ts';
import { startTestServer, type TestServer } from '../helpers/runtime.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';
import { newTenant, startVerification } from '../capture/helpers.ts';
import { chromiumMissing, launch, MOBILE, newPage } from './drive.ts';

describe('camera failures in Chromium', { skip: chromiumMissing() }, () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    server = await startTestServer(await openPgliteThread());
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await server?.close();
  });

  for (const [camera, errorType] of [
    ['deny', 'device_not_allowed'],
    ['none', 'device_not_found'],
  ] as const) {
    test(`${camera === 'deny' ? 'a refused camera permission' : 'a device without a camera'} ends as ${errorType}`, async () => {
      const tenant = await newTenant(server);
      await tenant.sdk.createWebhookSubscription(receiver.url);
      const v = await startVerification(server, { tenant, redirectUrl: `${server.baseUrl}/identification/done` });
      const browser = await launch(camera);
      try {
        const { page } = await newPage(browser, MOBILE);
        await page.goto(`${v.identificationUrl}#nofeedback`);
        await page.getByTestId('consent').check();
        await page.getByTestId('start').click();
        await page.waitForURL((u) => u.searchParams.has('identification_id'), { timeout: 20_000 });
        const u = new URL(page.url());
        assert.equal(u.searchParams.get('status'), 'aborted');
        assert.equal(u.searchParams.get('return_reason'), 'error');
        assert.equal(u.searchParams.get('error_type'), errorType);
      } finally {
        await browser.close();
      }
      await server.settle();
      const ev = receiver.events('kycliveness.create').filter((e) => JSON.stringify(e).includes(v.identificationId));
      assert.equal(ev.length, 1);
      assert.equal(ev[0].object_payload['error-type'], errorType);
    });
  }
});
