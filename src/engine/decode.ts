/**
 * Decoding: ffmpeg runs as a child process and pipes sampled frames as raw RGB24 on stdout, scaled
 * to a known size. The container's duration is never trusted (MediaRecorder WebM has none): the
 * real timing comes from the presentation timestamps ffmpeg's `showinfo` filter prints for every
 * decoded source frame. Still images go through sharp (which applies EXIF orientation).
 */
import { spawn } from 'node:child_process';
import { extname } from 'node:path';
import sharp from 'sharp';

export interface RgbFrame {
  width: number;
  height: number;
  /** RGB24, row-major, width*height*3 bytes. */
  data: Buffer;
  /** Presentation time (s) of the sampled frame. */
  t: number;
  /** Index in the sampled sequence. */
  index: number;
}

export interface DecodedMedia {
  path: string;
  kind: 'video' | 'still';
  ok: boolean;
  /** Why decoding failed or was partial, when it did. */
  error?: string;
  /** The decoder reported corrupt/truncated input (frames were still produced). */
  truncated: boolean;
  codec?: string;
  /** Encoder/writing-application tags of the container and the video stream (e.g. "Chrome", "Lavf59.27.100"). */
  encoders?: string[];
  sourceWidth?: number;
  sourceHeight?: number;
  frames: RgbFrame[];
  /** Timestamps (s) of every decoded source frame (video only). */
  sourceTimes: number[];
  /** Duration measured from the decoded timestamps (never from the container). */
  measuredDuration: number;
  decodeMs: number;
}

export interface DecodeOptions {
  ffmpegPath: string;
  fps: number;
  /** Target width; never upscales. Height follows the display aspect ratio (rounded to even). */
  width: number;
  maxFrames: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Refused above these (EngineConfig.maxMediaPixels…): by probing before decoding, by counting frames while decoding. */
  maxPixels?: number;
  maxFps?: number;
  /** Only this many seconds from the start are decoded. */
  maxSeconds?: number;
  maxStillPixels?: number;
}

const STILL_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff', '.gif', '.avif']);

export function isStillPath(path: string, contentType?: string): boolean {
  if (contentType?.startsWith('image/')) return true;
  return STILL_EXT.has(extname(path).toLowerCase());
}

interface ProbeInfo {
  width: number;
  height: number;
  codec: string;
  rotation: number;
  encoders: string[];
}

function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    const onAbort = () => p.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => {
      if (err.length < 200_000) err += d.toString();
    });
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

async function probe(
  ffmpegPath: string,
  path: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeInfo | { error: string }> {
  const ffprobe = ffmpegPath.replace(/ffmpeg$/, 'ffprobe');
  const r = await run(
    ffprobe,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height,codec_name:stream_tags=encoder:stream_side_data=rotation:format_tags=encoder',
      '-of',
      'json',
      path,
    ],
    timeoutMs,
    signal,
  );
  if (r.code !== 0) return { error: r.stderr.trim().split('\n').slice(-1)[0] || `ffprobe exit ${r.code}` };
  try {
    const j = JSON.parse(r.stdout.toString()) as {
      streams?: {
        width?: number;
        height?: number;
        codec_name?: string;
        tags?: Record<string, string>;
        side_data_list?: { rotation?: number }[];
      }[];
      format?: { tags?: Record<string, string> };
    };
    const s = j.streams?.[0];
    if (!s?.width || !s.height) return { error: 'no video stream' };
    const rotation = Number(s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0);
    // Matroska writes ENCODER, MP4 encoder: the tag names are case-insensitive in practice
    const tag = (t?: Record<string, string>) =>
      Object.entries(t ?? {})
        .filter(([k]) => k.toLowerCase() === 'encoder')
        .map(([, v]) => String(v).slice(0, 100));
    return {
      width: s.width,
      height: s.height,
      codec: s.codec_name ?? 'unknown',
      rotation,
      encoders: [...tag(j.format?.tags), ...tag(s.tags)],
    };
  } catch {
    return { error: 'ffprobe output unreadable' };
  }
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

export async function decodeStill(path: string, width: number, maxPixels = 50_000_000): Promise<DecodedMedia> {
  const t0 = performance.now();
  try {
    const img = sharp(path, { failOn: 'error', limitInputPixels: maxPixels }).rotate();
    const meta = await img.metadata();
    const w0 = (meta.orientation ?? 1) >= 5 ? meta.height! : meta.width!;
    const w = Math.min(width, w0);
    const { data, info } = await img
      .resize({ width: w })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      path,
      kind: 'still',
      ok: true,
      truncated: false,
      codec: meta.format,
      sourceWidth: meta.width,
      sourceHeight: meta.height,
      frames: [{ width: info.width, height: info.height, data, t: 0, index: 0 }],
      sourceTimes: [0],
      measuredDuration: 0,
      decodeMs: performance.now() - t0,
    };
  } catch (e) {
    return {
      path,
      kind: 'still',
      ok: false,
      error: `image unreadable: ${(e as Error).message}`,
      truncated: false,
      frames: [],
      sourceTimes: [],
      measuredDuration: 0,
      decodeMs: performance.now() - t0,
    };
  }
}

/** Decodes a video to sampled RGB frames. Never throws for bad media: `ok` is false with an `error`. */
export async function decodeVideo(path: string, opts: DecodeOptions): Promise<DecodedMedia> {
  const t0 = performance.now();
  const fail = (error: string): DecodedMedia => ({
    path,
    kind: 'video',
    ok: false,
    error,
    truncated: false,
    frames: [],
    sourceTimes: [],
    measuredDuration: 0,
    decodeMs: performance.now() - t0,
  });
  const info = await probe(opts.ffmpegPath, path, opts.timeoutMs, opts.signal);
  if ('error' in info) return fail(info.error);
  // What decoding would cost is known before a frame is decoded: refuse what no capture needs.
  if (opts.maxPixels && info.width * info.height > opts.maxPixels)
    return fail(`the video is ${info.width}x${info.height}, over the ${opts.maxPixels} pixels a capture may have`);

  const rotated = Math.abs(info.rotation) % 180 === 90;
  const dispW = rotated ? info.height : info.width;
  const dispH = rotated ? info.width : info.height;
  const W = even(Math.min(opts.width, dispW));
  const H = even((dispH * W) / dispW);
  const frameBytes = W * H * 3;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-v',
    'info',
    ...(opts.maxSeconds ? ['-t', String(opts.maxSeconds)] : []),
    '-i',
    path,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-vf',
    `showinfo=checksum=0,fps=${opts.fps},scale=${W}:${H}:flags=area,showinfo=checksum=0`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
  return new Promise((resolve) => {
    const p = spawn(opts.ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stride = 1;
    let seen = 0;
    let frames: RgbFrame[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let stderrTail = '';
    const sourceTimes: number[] = [];
    const sampledTimes: number[] = [];
    const maxSourceFrames = opts.maxFps && opts.maxSeconds ? Math.ceil(opts.maxFps * opts.maxSeconds) : 0;
    let tooManyFrames = false;
    let lineBuf = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs);
    const onAbort = () => p.kill('SIGKILL');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const takeFrame = (buf: Buffer) => {
      const idx = seen++;
      if (idx % stride !== 0) return;
      frames.push({ width: W, height: H, data: buf, t: NaN, index: idx });
      if (frames.length > opts.maxFrames) {
        // decimate: keep every other, double the stride
        frames = frames.filter((_, i) => i % 2 === 0);
        stride *= 2;
      }
    };
    p.stdout.on('data', (d: Buffer) => {
      pending.push(d);
      pendingBytes += d.length;
      while (pendingBytes >= frameBytes) {
        const all = Buffer.concat(pending);
        let off = 0;
        while (all.length - off >= frameBytes) {
          takeFrame(Buffer.from(all.subarray(off, off + frameBytes)));
          off += frameBytes;
        }
        pending = off < all.length ? [all.subarray(off)] : [];
        pendingBytes = all.length - off;
      }
    });
    p.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      lineBuf += s;
      const lines = lineBuf.split('\n');
      lineBuf = lines.pop() ?? '';
      for (const l of lines) {
        const m = /Parsed_showinfo_(\d+).*?pts_time:\s*(-?[\d.]+)/.exec(l);
        if (m) {
          (m[1] === '0' ? sourceTimes : sampledTimes).push(Number(m[2]));
          // The declared frame rate cannot be trusted (MediaRecorder's WebM declares none): the
          // frames are counted as they are decoded, and a video with more than a capture can have
          // is stopped there.
          if (maxSourceFrames && sourceTimes.length > maxSourceFrames && !tooManyFrames) {
            tooManyFrames = true;
            p.kill('SIGKILL');
          }
          continue;
        }
        if (!l.includes('Parsed_showinfo')) stderrTail = (stderrTail + l + '\n').slice(-4000);
      }
    });
    p.on('error', (e) => {
      clearTimeout(timer);
      resolve(fail(`ffmpeg not runnable: ${e.message}`));
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      for (const f of frames) {
        const t = sampledTimes[f.index];
        f.t = Number.isFinite(t) ? t : f.index / opts.fps;
      }
      frames.forEach((f, i) => {
        f.index = i;
      });
      const corrupt =
        /invalid data|corrupt|truncat|partial file|error while decoding|end of file|missing picture|concealing/i.test(
          stderrTail,
        );
      const duration = sourceTimes.length > 1 ? Math.max(...sourceTimes) - Math.min(...sourceTimes) : 0;
      const base = {
        path,
        kind: 'video' as const,
        codec: info.codec,
        encoders: info.encoders,
        sourceWidth: dispW,
        sourceHeight: dispH,
        frames,
        sourceTimes,
        measuredDuration: duration,
        decodeMs: performance.now() - t0,
      };
      if (opts.signal?.aborted) {
        resolve({ ...base, ok: false, error: 'aborted', truncated: false, frames: [] });
        return;
      }
      if (tooManyFrames) {
        resolve({
          ...base,
          ok: false,
          error: `the video has more than ${maxSourceFrames} frames in its first ${opts.maxSeconds} s, more than a capture may have`,
          truncated: false,
          frames: [],
        });
        return;
      }
      if (frames.length === 0) {
        resolve({
          ...base,
          ok: false,
          error: (stderrTail.trim().split('\n').slice(-1)[0] || `ffmpeg exit ${code}`).slice(0, 300),
          truncated: false,
        });
        return;
      }
      resolve({
        ...base,
        ok: true,
        truncated: code !== 0 || corrupt,
        error: code !== 0 ? `ffmpeg exit ${code}` : undefined,
      });
    });
  });
}

export async function decodeMedia(
  path: string,
  contentType: string | undefined,
  opts: DecodeOptions,
): Promise<DecodedMedia> {
  if (isStillPath(path, contentType)) return decodeStill(path, opts.width, opts.maxStillPixels);
  return decodeVideo(path, opts);
}

/** Frame-timing analysis over the decoded source timestamps (2307 discontinuities, 1201 frame rate). */
export function analyseTiming(
  times: number[],
  gapFactor: number,
): { frames: number; medianInterval: number; maxGap: number; gaps: number; backwards: number; fps: number } {
  const ts = times.slice();
  let backwards = 0;
  for (let i = 1; i < ts.length; i++) if (ts[i] < ts[i - 1] - 1e-6) backwards++;
  ts.sort((a, b) => a - b);
  const d: number[] = [];
  for (let i = 1; i < ts.length; i++) d.push(ts[i] - ts[i - 1]);
  if (d.length === 0) return { frames: ts.length, medianInterval: 0, maxGap: 0, gaps: 0, backwards, fps: 0 };
  const sorted = d.slice().sort((a, b) => a - b);
  const med = sorted[Math.floor(sorted.length / 2)];
  const maxGap = sorted[sorted.length - 1];
  const gaps = med > 0 ? d.filter((x) => x > gapFactor * med && x > 0.25).length : 0;
  return { frames: ts.length, medianInterval: med, maxGap, gaps, backwards, fps: med > 0 ? 1 / med : 0 };
}
