/**
 * Face checks over observations (pure functions, unit-testable without models):
 * presence (1311), whole + frontal (1312), blur (1310), lighting (1320), liveness against the
 * challenge script with a planarity test against photo/screen replays (1313), one identity
 * through the video (2305), presentation-attack scores (evidence; human review when low).
 */
import type { Challenge, ChallengeKind } from '../../app/ports.ts';
import type { EngineThresholds } from '../config.ts';
import type { CheckResult } from '../types.ts';
import { median, percentile } from '../image.ts';
import { planarResidual } from './geometry.ts';
import { faceDistance } from './match.ts';
import type { FaceObservation } from './observe.ts';

const r2 = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
const r4 = (x: number) => (Number.isFinite(x) ? Math.round(x * 10000) / 10000 : null);

export function faceQualityChecks(obs: FaceObservation[], th: EngineThresholds): CheckResult[] {
  const out: CheckResult[] = [];
  const n = obs.length;
  const withFace = obs.filter((o) => o.faces >= 1);
  const share = n ? withFace.length / n : 0;
  out.push({
    name: 'face.presence',
    status: share >= th.minFacePresentShare ? 'pass' : 'fail',
    reason: 1311,
    measurement: { shareWithFace: r2(share), frames: n, multiFaceFrames: obs.filter((o) => o.faces > 1).length },
    threshold: { minShare: th.minFacePresentShare, minScore: th.minFaceScore },
    frames: withFace.map((o) => o.frame),
    step: 'face',
  });
  if (!withFace.length) return out;
  const frontal = withFace.filter(
    (o) => o.whole && Math.abs(o.yaw) <= th.frontalMaxAngleDeg && Math.abs(o.pitch) <= th.frontalMaxAngleDeg,
  );
  const needFrontal = Math.min(3, Math.max(1, Math.ceil(withFace.length * 0.1)));
  out.push({
    name: 'face.frontal_whole',
    status: frontal.length >= needFrontal ? 'pass' : 'fail',
    reason: 1312,
    measurement: {
      frontalWholeFrames: frontal.length,
      faceFrames: withFace.length,
      medianYaw: r2(median(withFace.map((o) => o.yaw))),
      medianPitch: r2(median(withFace.map((o) => o.pitch))),
    },
    threshold: { maxAngleDeg: th.frontalMaxAngleDeg, minFrames: needFrontal },
    frames: frontal.map((o) => o.frame),
    step: 'face',
  });
  const sharp = withFace.filter((o) => o.blur <= th.faceMaxBlurEffect);
  const sharpShare = sharp.length / withFace.length;
  out.push({
    name: 'face.blur',
    status: sharpShare >= th.minSharpFrameShare ? 'pass' : 'fail',
    reason: 1310,
    measurement: {
      sharpShare: r2(sharpShare),
      medianBlurEffect: r4(median(withFace.map((o) => o.blur))),
      medianLaplacianVar: r2(median(withFace.map((o) => o.blurVar))),
    },
    threshold: { maxBlurEffect: th.faceMaxBlurEffect, minSharpShare: th.minSharpFrameShare },
    frames: withFace.map((o) => o.frame),
    step: 'face',
  });
  const luma = median(withFace.map((o) => o.luma));
  const clipped = median(withFace.map((o) => o.clippedHigh));
  const lightOk = luma >= th.minFaceLuma && luma <= th.maxFaceLuma && clipped <= th.maxClippedShare;
  out.push({
    name: 'face.lighting',
    status: lightOk ? 'pass' : 'fail',
    reason: 1320,
    measurement: { medianLuma: r2(luma), medianClippedShare: r2(clipped) },
    threshold: { minLuma: th.minFaceLuma, maxLuma: th.maxFaceLuma, maxClippedShare: th.maxClippedShare },
    frames: withFace.map((o) => o.frame),
    step: 'face',
  });
  return out;
}

export interface ChallengeEvent {
  kind: ChallengeKind;
  t: number;
  frame: number;
  value: number;
}

type Cond = (o: FaceObservation, base: { yaw: number; pitch: number; ear: number; mouth: number }) => number;

/** Signed margin by which a frame satisfies a challenge (≥ 0 means satisfied). */
export function challengeMargin(kind: ChallengeKind, th: EngineThresholds): Cond {
  switch (kind) {
    case 'turn_left':
      return (o, b) => o.yaw - b.yaw - th.turnMinYawDeg;
    case 'turn_right':
      return (o, b) => -(o.yaw - b.yaw) - th.turnMinYawDeg;
    case 'look_down':
      return (o, b) => o.pitch - b.pitch - th.nodMinPitchDeg;
    case 'look_up':
      return (o, b) => -(o.pitch - b.pitch) - th.nodMinPitchDeg;
    case 'blink':
      return (o, b) => 1 - o.ear / b.ear - th.blinkMinEarDrop;
    case 'smile':
      return (o, b) => o.mouth / b.mouth - 1 - th.smileMinWidthGain;
  }
}

const POSE_KINDS: ChallengeKind[] = ['turn_left', 'turn_right', 'look_up', 'look_down'];

/**
 * Liveness: (a) the landmark motion must not be explained by a plane (a photo or screen moved in 2-D
 * or tilted is planar); (b) every challenge of the script must be performed, in order, inside its
 * time window when the capture recorded when each challenge was shown; the first head-pose event
 * must be the first head-pose challenge (a pre-recorded video rarely follows a random script).
 * Without challenges (liveness method), (a) plus some head or face movement is required.
 */
export function livenessCheck(
  obs: FaceObservation[],
  challenges: Challenge[],
  shownAtSec: number[] | undefined,
  th: EngineThresholds,
  texture?: {
    maxOutlierShare: number;
    medianOutlierShare: number;
    pairs: { a: number; b: number; points: number; outlierShare: number }[];
  },
): CheckResult[] {
  const v = obs.filter((o) => o.faces >= 1 && o.mesh && Number.isFinite(o.yaw));
  if (v.length < 3) {
    return [
      {
        name: 'face.liveness',
        status: 'fail',
        reason: 1313,
        measurement: { usableFrames: v.length },
        threshold: { minUsableFrames: 3 },
        step: 'face',
      },
    ];
  }
  // neutral pose: the near-frontal frames (a challenge clip spends much of its time turned away)
  const near = v.filter(
    (o) =>
      Math.abs(o.yaw) <= th.turnMinYawDeg && Math.abs(o.pitch - median(v.map((x) => x.pitch))) <= th.nodMinPitchDeg,
  );
  const ref0 = near.length >= 3 ? near : v;
  const base = {
    yaw: median(ref0.map((o) => o.yaw)),
    pitch: median(ref0.map((o) => o.pitch)),
    ear: median(v.map((o) => o.ear)),
    mouth: median(v.map((o) => o.mouth)),
  };
  const ref = v
    .slice()
    .sort(
      (a, b) =>
        Math.abs(a.yaw - base.yaw) +
        Math.abs(a.pitch - base.pitch) -
        (Math.abs(b.yaw - base.yaw) + Math.abs(b.pitch - base.pitch)),
    )[0];
  const residuals = v.filter((o) => o !== ref).map((o) => planarResidual(ref.mesh!, o.mesh!));
  const nonPlanar = percentile(residuals, 0.9);
  const yawSpread =
    percentile(
      v.map((o) => o.yaw),
      0.95,
    ) -
    percentile(
      v.map((o) => o.yaw),
      0.05,
    );
  const pitchSpread =
    percentile(
      v.map((o) => o.pitch),
      0.95,
    ) -
    percentile(
      v.map((o) => o.pitch),
      0.05,
    );
  // primary test: image texture motion (see planarity.ts); the mesh residual is kept as evidence
  const planar = texture
    ? !(texture.maxOutlierShare >= th.replayMinTextureOutlierShare)
    : !(nonPlanar > th.replayMaxNonRigid);
  const out: CheckResult[] = [];
  out.push({
    name: 'face.liveness.non_planar',
    status: planar ? 'fail' : 'pass',
    reason: 1313,
    measurement: {
      textureOutlierShareMax: texture ? texture.maxOutlierShare : null,
      textureOutlierShareMedian: texture ? texture.medianOutlierShare : null,
      trackedPairs: texture?.pairs.length ?? 0,
      meshPlanarResidualP90: r4(nonPlanar),
      yawSpreadDeg: r2(yawSpread),
      pitchSpreadDeg: r2(pitchSpread),
    },
    threshold: texture
      ? { minTextureOutlierShare: th.replayMinTextureOutlierShare }
      : { minMeshPlanarResidual: th.replayMaxNonRigid },
    frames: texture ? texture.pairs.flatMap((p) => [p.a, p.b]) : v.map((o) => o.frame),
    step: 'face',
    note: planar ? 'the face moves like a flat picture: photo or screen moved in front of the camera' : undefined,
  });
  if (!challenges.length) return out;
  // challenge script
  const events: (ChallengeEvent | null)[] = [];
  let after = -Infinity;
  const slack = 0.5;
  for (let i = 0; i < challenges.length; i++) {
    const c = challenges[i];
    const m = challengeMargin(c.kind, th);
    const lo = shownAtSec?.[i] !== undefined ? Math.max(after, shownAtSec[i] - slack) : after;
    const hi = shownAtSec?.[i] !== undefined ? shownAtSec[i] + c.windowSeconds + slack : Infinity;
    const hit = v.find((o) => o.t > lo && o.t <= hi && m(o, base) >= 0);
    events.push(hit ? { kind: c.kind, t: hit.t, frame: hit.frame, value: r2(m(hit, base)) ?? 0 } : null);
    if (hit) after = hit.t;
    else break;
  }
  const allDone = events.length === challenges.length && events.every(Boolean);
  // first head-pose event must match the first head-pose challenge
  const firstPoseChallenge = challenges.find((c) => POSE_KINDS.includes(c.kind));
  let firstPoseSeen: ChallengeKind | null = null;
  if (firstPoseChallenge) {
    for (const o of v) {
      const k = POSE_KINDS.find((kind) => challengeMargin(kind, th)(o, base) >= 0);
      if (k) {
        firstPoseSeen = k;
        break;
      }
    }
  }
  const orderOk = !firstPoseChallenge || firstPoseSeen === firstPoseChallenge.kind;
  out.push({
    name: 'face.liveness.challenges',
    status: allDone && orderOk ? 'pass' : 'fail',
    reason: 1313,
    measurement: {
      script: challenges.map((c) => c.kind),
      events: events.map((e) => (e ? { kind: e.kind, t: r2(e.t), frame: e.frame, margin: e.value } : null)),
      firstPoseEvent: firstPoseSeen,
      windowsKnown: !!shownAtSec,
      baseline: { yaw: r2(base.yaw), pitch: r2(base.pitch), ear: r4(base.ear), mouth: r4(base.mouth) },
    },
    threshold: {
      turnMinYawDeg: th.turnMinYawDeg,
      nodMinPitchDeg: th.nodMinPitchDeg,
      blinkMinEarDrop: th.blinkMinEarDrop,
      smileMinWidthGain: th.smileMinWidthGain,
      windowSlackSec: slack,
    },
    frames: events.filter(Boolean).map((e) => e!.frame),
    step: 'face',
    note: !orderOk
      ? `first head movement was ${firstPoseSeen ?? 'none'}, script asked ${firstPoseChallenge!.kind} first`
      : undefined,
  });
  return out;
}

/** One identity through the face video: every pair of embedded frames must look like the same person (2305). */
export function identityConsistencyCheck(obs: FaceObservation[], th: EngineThresholds): CheckResult {
  const e = obs.filter((o) => o.embedding?.length);
  if (e.length < 2)
    return {
      name: 'face.identity_consistency',
      status: 'skipped',
      measurement: { embeddedFrames: e.length },
      threshold: { maxDistance: th.sameVideoMaxDistance },
      step: 'face',
    };
  let max = 0;
  for (let i = 0; i < e.length; i++)
    for (let j = i + 1; j < e.length; j++) max = Math.max(max, faceDistance(e[i].embedding!, e[j].embedding!));
  return {
    name: 'face.identity_consistency',
    status: max < th.sameVideoMaxDistance ? 'pass' : 'fail',
    reason: 2305,
    measurement: { maxPairDistance: r4(max), embeddedFrames: e.length },
    threshold: { maxDistance: th.sameVideoMaxDistance },
    frames: e.map((o) => o.frame),
    step: 'face',
  };
}

/**
 * Presentation-attack signals from Human's antispoof ('real') and liveness ('live') models. These
 * models are small and uncalibrated for our capture conditions, so a low score sends the case to a
 * human (inconclusive) instead of refusing it; the planarity test above is the hard gate.
 */
export function presentationAttackCheck(obs: FaceObservation[]): CheckResult {
  const e = obs.filter((o) => o.real !== undefined);
  if (!e.length)
    return { name: 'face.presentation_attack', status: 'skipped', measurement: null, threshold: null, step: 'face' };
  const real = median(e.map((o) => o.real!));
  const live = median(e.map((o) => o.live ?? NaN));
  const suspicious = real < 0.25 || live < 0.25;
  return {
    name: 'face.presentation_attack',
    status: suspicious ? 'inconclusive' : 'pass',
    reason: 2306,
    measurement: { medianReal: r2(real), medianLive: r2(live) },
    threshold: { minReal: 0.25, minLive: 0.25 },
    frames: e.map((o) => o.frame),
    step: 'face',
  };
}
