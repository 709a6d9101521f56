import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { analyseTiming, decodeMedia } from '../../src/engine/decode.ts';
import { reencodingCheck } from '../../src/engine/capture-checks.ts';
import { background, encodeFrames, makeBrokenVideo, makeTruncatedVideo } from '../../src/engine/fixtures/generate.ts';
import { tempDir } from './helpers.ts';

const tmp = tempDir();
after(() => tmp.cleanup());
const opts = { ffmpegPath: '/usr/bin/ffmpeg', fps: 5, width: 160, maxFrames: 40, timeoutMs: 30_000 };

async function clip(name: string, seconds: number, codec: 'h264' | 'vp8' = 'h264', fps = 15): Promise<string> {
  const bg = background(160, 120, 2);
  const frames = Array.from({ length: seconds * fps }, (_, i) => {
    const b = Buffer.from(bg.data);
    b.fill((i * 3) % 255, 0, 160 * 3 * 10);
    return b;
  });
  const p = join(tmp.dir, name);
  await encodeFrames(frames, 160, 120, fps, p, { codec });
  return p;
}

test('decode: samples frames at the requested fps with timings from the stream', async () => {
  const p = await clip('a.mp4', 3);
  const d = await decodeMedia(p, 'video/mp4', opts);
  assert.equal(d.ok, true);
  assert.equal(d.kind, 'video');
  assert.ok(d.frames.length >= 14 && d.frames.length <= 16, `frames ${d.frames.length}`);
  assert.equal(d.frames[0].data.length, 160 * 120 * 3);
  assert.ok(Math.abs(d.measuredDuration - 2.93) < 0.1, `duration ${d.measuredDuration}`);
  assert.equal(d.sourceTimes.length, 45);
  assert.equal(d.truncated, false);
});

test('decode: WebM without container duration (MediaRecorder-like) decodes by timestamps', async () => {
  const p = await clip('b.webm', 2, 'vp8');
  const d = await decodeMedia(p, 'video/webm', opts);
  assert.equal(d.ok, true);
  assert.ok(d.frames.length >= 9, `frames ${d.frames.length}`);
});

test('decode: never keeps more than maxFrames (uniform decimation)', async () => {
  const p = await clip('c.mp4', 4, 'h264', 30);
  const d = await decodeMedia(p, 'video/mp4', { ...opts, fps: 30, maxFrames: 10 });
  assert.ok(d.frames.length <= 10 && d.frames.length >= 5, `frames ${d.frames.length}`);
  assert.ok(d.frames[d.frames.length - 1].t > 2.5, 'spans the whole clip');
});

test('decode: garbage bytes are unplayable (1911 material), never a throw', async () => {
  const p = join(tmp.dir, 'broken.mp4');
  makeBrokenVideo(p);
  const d = await decodeMedia(p, 'video/mp4', opts);
  assert.equal(d.ok, false);
  assert.ok(d.error);
});

test('decode: a truncated upload decodes partially and is flagged (1201 material)', async () => {
  const p = await clip('d.webm', 4, 'vp8');
  const t = join(tmp.dir, 'trunc.webm');
  makeTruncatedVideo(p, t, 0.4);
  const d = await decodeMedia(t, 'video/webm', opts);
  assert.equal(d.ok, true);
  assert.ok(d.frames.length < 20, `frames ${d.frames.length}`);
});

test('decode: still images go through sharp with EXIF orientation applied', async () => {
  const p = join(tmp.dir, 'rot.jpg');
  writeFileSync(
    p,
    await sharp({ create: { width: 200, height: 100, channels: 3, background: '#808080' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer(),
  );
  const d = await decodeMedia(p, 'image/jpeg', opts);
  assert.equal(d.ok, true);
  assert.equal(d.kind, 'still');
  assert.equal(d.frames[0].width, 100);
  assert.equal(d.frames[0].height, 200);
});

test('timing: backwards timestamps and gaps are counted', () => {
  const t = analyseTiming([0, 0.033, 0.066, 0.1, 3.1, 3.133, 1.0], 8);
  assert.equal(t.backwards, 1);
  assert.ok(t.maxGap > 1.9);
});

test('decode: container and stream encoder tags are read (re-encoding evidence)', async () => {
  const d = await decodeMedia(await clip('tags.webm', 1, 'vp8'), 'video/webm', opts);
  assert.ok(
    d.encoders?.some((e) => /^Lavf/.test(e)),
    `encoders ${d.encoders}`,
  );
});

test('2307: a declared browser recording that names an editing tool, or another codec, is refused; undeclared files are evidence only', () => {
  const m = (encoders: string[], codec = 'vp8') => [
    {
      step: 'face',
      decoded: {
        path: '',
        kind: 'video' as const,
        ok: true,
        truncated: false,
        codec,
        encoders,
        frames: [],
        sourceTimes: [0, 0.1],
        measuredDuration: 0.1,
        decodeMs: 1,
      },
    },
  ];
  const browser = { mimeType: 'video/webm;codecs=vp8' };
  assert.equal(reencodingCheck(m(['Chrome']), browser).status, 'pass');
  assert.equal(reencodingCheck(m(['Chrome', 'Lavc59.37.100 libvpx']), browser).status, 'fail');
  assert.equal(reencodingCheck(m(['HandBrake 1.6.1']), browser).status, 'fail');
  assert.equal(reencodingCheck(m(['Chrome'], 'h264'), browser).status, 'fail', 'recorded as VP8, uploaded as H.264');
  assert.equal(
    reencodingCheck(m([], 'h264'), { mimeType: 'video/mp4' }).status,
    'pass',
    'no codec declared: only tool tags count',
  );
  const undeclared = reencodingCheck(m(['Lavf59.27.100']), {});
  assert.equal(undeclared.status, 'pass');
  assert.match(undeclared.note ?? '', /evidence only/);
  assert.equal(reencodingCheck(m(['Lavf59.27.100']), browser).reason, 2307);
});

/** A synthetic video from ffmpeg's test source: cheap to make at any size and rate. */
function lavfi(name: string, size: string, rate: number, seconds: number): string {
  const p = join(tmp.dir, name);
  execFileSync('/usr/bin/ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${size}:rate=${rate}`,
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    p,
  ]);
  return p;
}

test('decode bombs (issue 25, item 5): too many pixels refused before decoding, too many frames stopped while decoding', async () => {
  const limits = { ...opts, maxPixels: 1920 * 1440, maxFps: 120, maxSeconds: 30 };
  const big = await decodeMedia(lavfi('big.mp4', '2560x1600', 5, 1), 'video/mp4', limits);
  assert.equal(big.ok, false);
  assert.match(big.error ?? '', /2560x1600, over the 2764800 pixels/);
  assert.equal(big.sourceTimes.length, 0, 'not a frame decoded');
  // 240 frames a second for 20 s: 4 800 frames where a capture has at most 120 × 30 = 3 600
  const fast = await decodeMedia(lavfi('fast.mp4', '64x48', 240, 20), 'video/mp4', limits);
  assert.equal(fast.ok, false);
  assert.match(fast.error ?? '', /more than 3600 frames in its first 30 s/);
  // Only the first maxSeconds are decoded.
  const long = await decodeMedia(lavfi('long.mp4', '64x48', 10, 12), 'video/mp4', { ...limits, maxSeconds: 5 });
  assert.equal(long.ok, true);
  assert.ok(long.measuredDuration < 5.1, `decoded ${long.measuredDuration} s`);
  // A still over its pixel bound is refused by the image decoder.
  const still = join(tmp.dir, 'still.png');
  await sharp({ create: { width: 400, height: 400, channels: 3, background: '#888' } })
    .png()
    .toFile(still);
  const s = await decodeMedia(still, 'image/png', { ...limits, maxStillPixels: 100_000 });
  assert.equal(s.ok, false);
  assert.match(s.error ?? '', /pixel limit/i);
});
