/**
 * Capture-level checks: playable media (1911), enough frames / connection (1201), frame timing
 * discontinuities (2307) and device tampering from the capture metadata (2402). Pure functions.
 */
import type { CaptureMetadata } from '../app/ports.ts';
import type { EngineConfig } from './config.ts';
import { analyseTiming, type DecodedMedia } from './decode.ts';
import type { CheckResult } from './types.ts';

export function playableCheck(media: { step: string; decoded: DecodedMedia }[]): CheckResult {
  const bad = media.filter((m) => !m.decoded.ok);
  return {
    name: 'capture.playable',
    status: bad.length ? 'fail' : 'pass',
    reason: 1911,
    measurement: media.map((m) => ({
      step: m.step,
      ok: m.decoded.ok,
      error: m.decoded.error ?? null,
      kind: m.decoded.kind,
    })),
    threshold: 'every medium decodes to at least one frame',
  };
}

export function connectionCheck(
  media: { step: string; decoded: DecodedMedia; sampledFrames: number }[],
  meta: CaptureMetadata,
  cfg: EngineConfig,
): CheckResult {
  const th = cfg.thresholds;
  const face = media.filter((m) => m.step === 'face' && m.decoded.ok);
  const faceFrames = face.reduce((s, m) => s + m.sampledFrames, 0);
  const faceVideo = face.some((m) => m.decoded.kind === 'video');
  const truncated = media.some((m) => m.decoded.ok && m.decoded.truncated);
  const sourceFrames = media.reduce((s, m) => s + m.decoded.sourceTimes.length, 0);
  const dropped = typeof meta.droppedFrames === 'number' ? meta.droppedFrames : 0;
  const droppedShare = sourceFrames > 0 ? dropped / (dropped + sourceFrames) : 0;
  const downlink = meta.connection?.downlinkMbps;
  const problems: string[] = [];
  if (faceVideo && faceFrames < th.minFaceFrames) problems.push('too few face frames');
  if (truncated) problems.push('truncated or corrupt video');
  if (droppedShare > th.maxDroppedFrameShare) problems.push('too many dropped frames');
  if (typeof downlink === 'number' && downlink < th.minDownlinkMbps) problems.push('low downlink');
  return {
    name: 'capture.connection',
    status: problems.length ? 'fail' : 'pass',
    reason: 1201,
    measurement: {
      faceFrames,
      truncated,
      droppedShare: Math.round(droppedShare * 1000) / 1000,
      downlinkMbps: downlink ?? null,
      problems,
    },
    threshold: {
      minFaceFrames: th.minFaceFrames,
      maxDroppedFrameShare: th.maxDroppedFrameShare,
      minDownlinkMbps: th.minDownlinkMbps,
    },
  };
}

/** Timestamps that go backwards are a splice (2307). Long freezes are suspicious but also happen on slow phones: human review. */
export function timingCheck(media: { step: string; decoded: DecodedMedia }[], cfg: EngineConfig): CheckResult {
  const rows = media
    .filter((m) => m.decoded.ok && m.decoded.kind === 'video')
    .map((m) => ({ step: m.step, ...analyseTiming(m.decoded.sourceTimes, cfg.thresholds.timingGapFactor) }));
  const backwards = rows.some((r) => r.backwards > 0);
  const bigGap = rows.some((r) => r.maxGap > 2);
  return {
    name: 'capture.timing',
    status: backwards ? 'fail' : bigGap ? 'inconclusive' : 'pass',
    reason: 2307,
    measurement: rows.map((r) => ({
      step: r.step,
      frames: r.frames,
      fps: Math.round(r.fps * 10) / 10,
      maxGapSec: Math.round(r.maxGap * 1000) / 1000,
      gaps: r.gaps,
      backwards: r.backwards,
    })),
    threshold: { backwardsTimestamps: 0, maxGapSec: 2, gapFactor: cfg.thresholds.timingGapFactor },
  };
}

/**
 * Container tags written by transcoders and editors. A capture recorded by the browser's
 * MediaRecorder and uploaded as is carries the browser's own tag (Chrome writes "Chrome"); one of
 * these means the file went through a tool after recording.
 */
const EDITING_TOOLS =
  /\b(lavf|lavc|libav|ffmpeg|handbrake|adobe|premiere|after effects|final cut|imovie|capcut|davinci|resolve|kdenlive|shotcut|openshot|vsdc|movavi|filmora|camtasia|avidemux|mencoder|inshot|kinemaster|vn video)/i;

/**
 * 2307, re-encoding signs. When the capture metadata says the media were recorded by the browser
 * (`mimeType` of the MediaRecorder), a video whose container or stream names an editing or
 * transcoding tool, or whose codec is not the one recorded, was edited after the capture: refused.
 * Without that metadata (files given to the CLI, imports) the tags are only recorded as evidence:
 * such files legitimately come from anywhere.
 */
export function reencodingCheck(media: { step: string; decoded: DecodedMedia }[], meta: CaptureMetadata): CheckResult {
  const declared =
    typeof meta.mimeType === 'string' && meta.mimeType.startsWith('video/') ? meta.mimeType.toLowerCase() : null;
  const declaredCodecs = declared
    ? (/codecs="?([^";]+)/.exec(declared)?.[1] ?? '')
        .split(',')
        .map((c) =>
          c
            .trim()
            .replace(/\..*$/, '')
            .replace(/^avc1$/, 'h264')
            .replace(/^(vp08|vp8)$/, 'vp8')
            .replace(/^(vp09|vp9)$/, 'vp9'),
        )
        .filter(Boolean)
    : [];
  const rows = media
    .filter((m) => m.decoded.ok && m.decoded.kind === 'video')
    .map((m) => {
      const tool = (m.decoded.encoders ?? []).find((e) => EDITING_TOOLS.test(e)) ?? null;
      const codecMismatch = declaredCodecs.length > 0 && !!m.decoded.codec && !declaredCodecs.includes(m.decoded.codec);
      return {
        step: m.step,
        codec: m.decoded.codec ?? null,
        encoders: m.decoded.encoders ?? [],
        editingTool: tool,
        codecMismatch,
      };
    });
  const signs = rows.filter((r) => r.editingTool || r.codecMismatch);
  const threshold = {
    browserRecording: declared !== null,
    declaredCodecs,
    rule: 'a browser recording carries no editing/transcoding tool tag and the recorded codec',
  };
  if (!declared)
    return {
      name: 'capture.reencoded',
      status: rows.length ? 'pass' : 'skipped',
      reason: 2307,
      measurement: rows,
      threshold,
      note: signs.length
        ? 'tool tags present, but no browser recording was declared: recorded as evidence only'
        : undefined,
    };
  return {
    name: 'capture.reencoded',
    status: signs.length ? 'fail' : rows.length ? 'pass' : 'skipped',
    reason: 2307,
    measurement: rows,
    threshold,
  };
}

export function deviceCheck(meta: CaptureMetadata, cfg: EngineConfig): CheckResult {
  const label = (meta.cameraLabel ?? '').toLowerCase();
  const ua = (meta.userAgent ?? '').toLowerCase();
  const virtualCam = cfg.virtualCameraLabels.find((v) => label.includes(v)) ?? null;
  const automation = meta.webdriver === true || /headlesschrome|phantomjs|puppeteer|playwright|selenium/.test(ua);
  return {
    name: 'device.integrity',
    status: virtualCam || automation ? 'fail' : 'pass',
    reason: 2402,
    measurement: {
      webdriver: meta.webdriver ?? null,
      automationUserAgent: /headlesschrome|phantomjs|puppeteer|playwright|selenium/.test(ua),
      virtualCameraLabel: virtualCam,
    },
    threshold: 'no automation, no known virtual camera',
  };
}
