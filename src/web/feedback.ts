/**
 * Live feedback on the face step with the same face models the engine uses (@vladmandic/human:
 * BlazeFace + FaceMesh, emotion for smiles), served by kyclive itself and loaded only on the
 * face step so the first screens stay light. It only helps the user fix framing before the
 * upload and can tick a challenge early; the server's analysis decides anyway. Any failure
 * (no WebGL, slow device) silently turns it off: the flow never waits for it.
 */
import type { Key } from './i18n.ts';

export interface Feedback {
  stop(): void;
  /** Whether the models have seen the user perform this challenge since it was shown. */
  saw(kind: string): boolean;
}

const HUMAN_URL = '/identification/assets/human/human.esm.js';

interface HumanFace {
  boxRaw: [number, number, number, number];
  emotion?: { score: number; emotion: string }[];
}
interface HumanResult {
  face: HumanFace[];
  gesture: { gesture: string }[];
}
interface HumanLike {
  load(): Promise<void>;
  detect(input: HTMLVideoElement): Promise<HumanResult>;
}

let loading: Promise<HumanLike> | undefined;

/** Starts fetching the library and models (a few MB) while the user films the document. */
export function preloadFeedback(): Promise<HumanLike> {
  loading ??= (async () => {
    const mod = (await import(/* @vite-ignore */ HUMAN_URL)) as { Human: new (cfg: object) => HumanLike };
    const human = new mod.Human({
      modelBasePath: '/identification/assets/human/models/',
      backend: 'webgl',
      warmup: 'none',
      debug: false,
      cacheSensitivity: 0,
      face: {
        enabled: true,
        detector: { rotation: false, maxDetected: 1, return: false },
        mesh: { enabled: true },
        iris: { enabled: true },
        emotion: { enabled: true },
        description: { enabled: false },
        antispoof: { enabled: false },
        liveness: { enabled: false },
        attention: { enabled: false },
      },
      body: { enabled: false },
      hand: { enabled: false },
      object: { enabled: false },
      segmentation: { enabled: false },
      gesture: { enabled: true },
      filter: { enabled: false },
    });
    await human.load();
    return human;
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

export function startFeedback(video: HTMLVideoElement, onHint: (key: Key | null) => void): Feedback {
  let stopped = false;
  const seen = new Set<string>();
  let lastKind = '';
  (async () => {
    const human = await preloadFeedback();
    while (!stopped) {
      const t0 = performance.now();
      const r = await human.detect(video);
      if (stopped) break;
      const f = r.face[0];
      if (!f) onHint('noFace');
      else {
        const [x, y, w, hgt] = f.boxRaw;
        if (w < 0.22) onHint('closer');
        else if (Math.abs(x + w / 2 - 0.5) > 0.15 || Math.abs(y + hgt / 2 - 0.5) > 0.2) onHint('centre');
        else onHint('good');
        for (const g of r.gesture) {
          if (g.gesture === 'facing left') seen.add('turn_left');
          if (g.gesture === 'facing right') seen.add('turn_right');
          if (g.gesture.startsWith('blink')) seen.add('blink');
          if (g.gesture === 'head up') seen.add('look_up');
          if (g.gesture === 'head down') seen.add('look_down');
        }
        if (f.emotion?.some((e) => e.emotion === 'happy' && e.score > 0.6)) seen.add('smile');
      }
      // ~4 detections a second is enough for guidance and spares a phone's battery.
      await new Promise((res) => setTimeout(res, Math.max(50, 250 - (performance.now() - t0))));
    }
  })().catch(() => {
    if (!stopped) onHint(null);
  });
  return {
    stop() {
      stopped = true;
      onHint(null);
    },
    saw(kind) {
      // Only movements made after the challenge appeared count.
      if (kind !== lastKind) {
        lastKind = kind;
        seen.clear();
        return false;
      }
      return seen.has(kind);
    },
  };
}
