/**
 * Planarity of the face's image motion (replay detection). A photo or a screen moved in front of the
 * camera is a plane: between any two frames, the texture points of the "face" move exactly by one
 * homography. A real head is not: turning gives parallax (nose vs cheeks), blinking and talking
 * deform it. We track corner features inside the face box with pyramidal Lucas-Kanade between
 * frames about a second apart, fit a RANSAC homography, and measure the share of points it cannot
 * explain. The statistic is physical, not learned; the threshold is in README.md.
 */
import type { RgbFrame } from '../decode.ts';
import type { CV } from '../models/opencv.ts';
import type { FaceObservation } from './observe.ts';

export interface PlanarityPair {
  a: number;
  b: number;
  points: number;
  outlierShare: number;
  medianMotionPx: number;
}

export function textureMotionPlanarity(
  cv: CV,
  frames: RgbFrame[],
  obs: FaceObservation[],
  opts: { fps: number; maxPairs?: number; gapSec?: number },
): { pairs: PlanarityPair[]; maxOutlierShare: number; medianOutlierShare: number } {
  const withFace = obs.filter((o) => o.faces >= 1 && o.box);
  const gap = Math.max(1, Math.round(opts.fps * (opts.gapSec ?? 0.2)));
  const cand: [FaceObservation, FaceObservation][] = [];
  for (let i = 0; i < withFace.length; i++) {
    const a = withFace[i];
    const b = withFace.find((o) => o.frame >= a.frame + gap);
    if (b) cand.push([a, b]);
  }
  const maxPairs = opts.maxPairs ?? 12;
  const step = Math.max(1, Math.floor(cand.length / maxPairs));
  const chosen = cand.filter((_, i) => i % step === 0).slice(0, maxPairs);
  const pairs: PlanarityPair[] = [];
  const grayOf = (f: RgbFrame) => {
    const m = cv.matFromArray(f.height, f.width, cv.CV_8UC3, f.data);
    const g = new cv.Mat();
    cv.cvtColor(m, g, cv.COLOR_RGB2GRAY);
    m.delete();
    return g;
  };
  for (const [oa, ob] of chosen) {
    const fa = frames[oa.frame];
    const fb = frames[ob.frame];
    if (!fa || !fb) continue;
    const ga = grayOf(fa);
    const gb = grayOf(fb);
    const mask = cv.Mat.zeros(fa.height, fa.width, cv.CV_8UC1);
    const p0 = new cv.Mat();
    const p1 = new cv.Mat();
    const st = new cv.Mat();
    const err = new cv.Mat();
    try {
      const [x, y, w, h] = oa.box!;
      cv.rectangle(
        mask,
        new cv.Point(Math.round(x + 0.12 * w), Math.round(y + 0.1 * h)),
        new cv.Point(Math.round(x + 0.88 * w), Math.round(y + 0.95 * h)),
        new cv.Scalar(255),
        -1,
      );
      cv.goodFeaturesToTrack(ga, p0, 200, 0.005, Math.max(3, Math.round(w / 40)), mask, 5);
      if (p0.rows < 12) continue;
      cv.calcOpticalFlowPyrLK(
        ga,
        gb,
        p0,
        p1,
        st,
        err,
        new cv.Size(21, 21),
        3,
        new cv.TermCriteria(cv.TermCriteria_COUNT + cv.TermCriteria_EPS, 30, 0.01),
      );
      const src: number[] = [];
      const dst: number[] = [];
      const motion: number[] = [];
      for (let i = 0; i < p0.rows; i++) {
        if (!st.data[i]) continue;
        src.push(p0.data32F[i * 2], p0.data32F[i * 2 + 1]);
        dst.push(p1.data32F[i * 2], p1.data32F[i * 2 + 1]);
        motion.push(Math.hypot(p1.data32F[i * 2] - p0.data32F[i * 2], p1.data32F[i * 2 + 1] - p0.data32F[i * 2 + 1]));
      }
      const n = src.length / 2;
      if (n < 12) continue;
      const sm = cv.matFromArray(n, 1, cv.CV_32FC2, src);
      const dm = cv.matFromArray(n, 1, cv.CV_32FC2, dst);
      const inl = new cv.Mat();
      const tol = Math.max(1.5, 0.012 * w);
      const H = cv.findHomography(sm, dm, cv.RANSAC, tol, inl);
      let outliers = 0;
      if (H.rows === 3) {
        const hd = H.data64F;
        for (let i = 0; i < n; i++) {
          const xx = src[i * 2];
          const yy = src[i * 2 + 1];
          const ww = hd[6] * xx + hd[7] * yy + hd[8];
          const u = (hd[0] * xx + hd[1] * yy + hd[2]) / ww;
          const v = (hd[3] * xx + hd[4] * yy + hd[5]) / ww;
          if (Math.hypot(u - dst[i * 2], v - dst[i * 2 + 1]) > tol) outliers++;
        }
      } else outliers = n;
      sm.delete();
      dm.delete();
      inl.delete();
      H.delete();
      motion.sort((p, q) => p - q);
      pairs.push({
        a: oa.frame,
        b: ob.frame,
        points: n,
        outlierShare: Math.round((outliers / n) * 1000) / 1000,
        medianMotionPx: Math.round(motion[Math.floor(n / 2)] * 10) / 10,
      });
    } finally {
      ga.delete();
      gb.delete();
      mask.delete();
      p0.delete();
      p1.delete();
      st.delete();
      err.delete();
    }
  }
  const shares = pairs.map((p) => p.outlierShare).sort((a, b) => a - b);
  return {
    pairs,
    maxOutlierShare: shares.length ? shares[shares.length - 1] : 0,
    medianOutlierShare: shares.length ? shares[Math.floor(shares.length / 2)] : 0,
  };
}
