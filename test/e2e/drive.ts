/**
 * Drives the hosted capture app the way a person does, with Chromium's fake camera fed from .y4m
 * files made here with ffmpeg. Shared by the Playwright suites and scripts/e2e-capture.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.KYCLIVE_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = new URL('../../', import.meta.url).pathname;

export function mediaDir(): string | null {
  const d = resolve(ROOT, process.env.KYCLIVE_MEDIA_DIR ?? '../shared/media');
  return existsSync(d) ? d : null;
}

export function chromiumMissing(): string | undefined {
  if (!existsSync(CHROMIUM))
    return `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set KYCLIVE_CHROMIUM)`;
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
  } catch {
    return 'ffmpeg not found (apt-get install ffmpeg)';
  }
  return undefined;
}

const Y4M = ['-an', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe'];
/** An image held in front of the camera: smaller than the frame, drifting slowly, on a dark background. */
const MOVING_IMAGE =
  "[1]scale=420:290:force_original_aspect_ratio=decrease[d];[0][d]overlay=x='(W-w)/2+24*sin(t*1.3)':y='(H-h)/2+14*cos(t*1.7)':shortest=1,format=yuv420p";

/**
 * Any video or image → a small .y4m Chromium can use as its camera (640×480, 15 fps, a few
 * seconds, looped by Chromium). An image is slowly panned so the "camera" shows movement.
 */
export function toY4m(input: string, out: string, seconds = 4): string {
  const isImage = /\.(jpe?g|png|webp)$/i.test(input);
  const scale = 'scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1';
  const args = isImage
    ? [
        '-y',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        `color=c=0x3a3f47:s=640x480:r=15:d=${seconds}`,
        '-loop',
        '1',
        '-i',
        input,
        '-filter_complex',
        MOVING_IMAGE,
        '-t',
        String(seconds),
        ...Y4M,
        out,
      ]
    : ['-y', '-loglevel', 'error', '-i', input, '-t', String(seconds), '-vf', `${scale},fps=15`, ...Y4M, out];
  execFileSync('ffmpeg', args);
  return out;
}

/** A camera video for the tests: a face from the corpus, or a generated pattern without it. */
export function fixtureCamera(dir: string): { file: string; source: string } {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'camera.y4m');
  const media = mediaDir();
  const faces =
    media && existsSync(join(media, 'faces-video'))
      ? readdirSync(join(media, 'faces-video'))
          .filter((f) => f.endsWith('.mp4'))
          .sort()
      : [];
  const face = faces.find((f) => f.includes('d18')) ?? faces[0];
  if (media && face) return { file: toY4m(join(media, 'faces-video', face), out, 4), source: `corpus ${face}` };
  execFileSync('ffmpeg', [
    '-y',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x480:rate=15:duration=3',
    ...Y4M,
    out,
  ]);
  return { file: out, source: 'generated testsrc2 (no media corpus)' };
}

/**
 * Chromium with a fake camera playing `camera` (a .y4m path); 'deny' answers the permission prompt
 * with a refusal; 'none' has no camera at all (the sandbox has no /dev/video*).
 */
export async function launch(camera: string | 'deny' | 'none'): Promise<Browser> {
  const media =
    camera === 'deny'
      ? ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream=deny']
      : camera === 'none'
        ? ['--use-fake-ui-for-media-stream']
        : [
            '--use-fake-device-for-media-stream',
            '--use-fake-ui-for-media-stream',
            `--use-file-for-fake-video-capture=${camera}`,
          ];
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...media,
    ],
  });
}

export const MOBILE = {
  viewport: { width: 360, height: 800 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 1,
} as const;
export const DESKTOP = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 } as const;

export async function newPage(
  browser: Browser,
  device: typeof MOBILE | typeof DESKTOP,
  locale = 'en-GB',
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ ...device, locale });
  return { context, page: await context.newPage() };
}

export const onScreen = (page: Page, name: string, timeout = 20_000) =>
  page.waitForSelector(`body[data-screen="${name}"]`, { timeout });

export interface DriveOptions {
  method: 'liveness' | 'certified';
  documentType?: 'id_card' | 'passport' | 'residence_permit';
  country?: string;
  /** Saves a PNG per step as <dir>/<prefix>-<step>.png. */
  shots?: { dir: string; prefix: string };
  /** Called with each step name once it is on screen. */
  onStep?: (step: string) => void;
  /** A phone reached through a desktop's QR code ends on a "go back to your computer" page, not a redirect. */
  handoff?: boolean;
  /** Keep the in-browser face feedback on (slower: the models load and run on the CPU). */
  feedback?: boolean;
}

async function shot(page: Page, o: DriveOptions, step: string) {
  o.onStep?.(step);
  // Mobile first: no step may scroll sideways, down to a 360 px wide screen.
  const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
  if (overflow > 0 && !page.url().includes('identification_id='))
    throw new Error(`step ${step} overflows the viewport by ${overflow} px`);
  if (!o.shots) return;
  mkdirSync(o.shots.dir, { recursive: true });
  await page.screenshot({ path: join(o.shots.dir, `${o.shots.prefix}-${step}.png`) });
}

/** Waits until the preview really shows camera frames, so screenshots are not black. */
async function cameraLive(page: Page) {
  await page.waitForFunction(
    () => {
      const v = document.querySelector('video');
      return !!v && v.readyState >= 2 && v.videoWidth > 0;
    },
    undefined,
    { timeout: 15_000 },
  );
}

/** The whole happy path, from the identification-url to the integrator's redirect URL. */
export async function completeFlow(page: Page, url: string, o: DriveOptions): Promise<string> {
  await page.goto(o.feedback ? url : `${url}#nofeedback`);
  await onScreen(page, 'welcome');
  await shot(page, o, '01-welcome');
  await page.getByTestId('consent').check();
  await page.getByTestId('start').click();
  await onScreen(page, 'document-choice');
  await page.getByTestId(`doctype-${o.documentType ?? 'id_card'}`).check();
  if (o.country) await page.getByTestId('country').selectOption(o.country);
  await shot(page, o, '02-document-choice');
  await page.getByTestId('continue').click();
  const sides = o.documentType === 'passport' ? ['front'] : ['front', 'back'];
  for (const side of sides) {
    await onScreen(page, `document-${side}`);
    await cameraLive(page);
    await page.getByTestId('record').click();
    if (o.method === 'certified') {
      await page.getByTestId('challenge-done').waitFor({ timeout: 10_000 });
      await shot(page, o, `03-document-${side}`);
      await page.getByTestId('challenge-done').click();
    } else {
      await page.waitForTimeout(1800);
      await shot(page, o, `03-document-${side}`);
    }
  }
  await onScreen(page, 'face');
  await cameraLive(page);
  if (o.feedback)
    await page
      .waitForFunction(() => !!document.querySelector('[data-testid="feedback"]')?.textContent, undefined, {
        timeout: 90_000,
      })
      .catch(() => {});
  await page.getByTestId('record').click();
  if (o.method === 'certified') {
    const n = await page.evaluate(
      async () =>
        (await (await fetch(`/capture/v1/sessions/${location.pathname.split('/').pop()}`)).json()).challenges
          .length as number,
    );
    for (let i = 0; i < n; i++) {
      const done = page.getByTestId('challenge-done');
      await done.waitFor({ timeout: 10_000 });
      if (i === 0) await shot(page, o, '04-face-challenge');
      await done.click();
      await done.waitFor({ state: 'detached', timeout: 5_000 }).catch(() => {});
    }
  } else {
    await page.waitForTimeout(2000);
    await shot(page, o, '04-face');
  }
  if (o.handoff) {
    await onScreen(page, 'phone-end', 60_000);
    await shot(page, o, '05-phone-end');
    return page.url();
  }
  await page.waitForURL((u) => u.searchParams.has('identification_id'), { timeout: 60_000 });
  await shot(page, o, '05-redirected');
  return page.url();
}

/** Any video or image → a small WebM a page can play (an image is slowly panned, as in toY4m). */
export function toWebm(input: string, out: string, seconds = 6): string {
  const isImage = /\.(jpe?g|png|webp)$/i.test(input);
  const src = isImage
    ? [
        '-f',
        'lavfi',
        '-i',
        `color=c=0x3a3f47:s=640x480:r=15:d=${seconds}`,
        '-loop',
        '1',
        '-i',
        input,
        '-filter_complex',
        MOVING_IMAGE,
      ]
    : [
        '-i',
        input,
        '-vf',
        'scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=15',
      ];
  execFileSync('ffmpeg', [
    '-y',
    '-loglevel',
    'error',
    ...src,
    '-t',
    String(seconds),
    '-an',
    '-c:v',
    'libvpx',
    '-b:v',
    '1M',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    out,
  ]);
  return out;
}

/**
 * Chromium's fake camera plays one file for the whole browser, but a person shows a different
 * thing at each step. This init script makes getUserMedia return a canvas stream drawn from the
 * video for the step on screen (document front/back, face), served from the page's own origin.
 */
export function stepCameraScript(urls: { front: string; back: string; face: string }): string {
  return `(() => {
    const urls = ${JSON.stringify(urls)};
    const md = navigator.mediaDevices;
    if (!md) return;
    md.getUserMedia = async (c) => {
      const step = document.body.dataset.camera || '';
      const src = step === 'face' ? urls.face : step === 'document-back' ? urls.back : urls.front;
      const v = document.createElement('video');
      v.muted = true; v.loop = true; v.playsInline = true; v.src = src;
      await v.play();
      const canvas = document.createElement('canvas');
      canvas.width = v.videoWidth || 640; canvas.height = v.videoHeight || 480;
      const ctx = canvas.getContext('2d');
      let on = true;
      const draw = () => { if (!on) return; ctx.drawImage(v, 0, 0, canvas.width, canvas.height); requestAnimationFrame(draw); };
      draw();
      const stream = canvas.captureStream(15);
      const track = stream.getVideoTracks()[0];
      const stop = track.stop.bind(track);
      track.stop = () => { on = false; v.pause(); stop(); };
      return stream;
    };
  })();`;
}
