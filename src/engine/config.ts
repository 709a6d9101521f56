/**
 * The engine's one typed configuration object. Every option has a doc comment and a default in
 * DEFAULT_ENGINE_CONFIG; `resolveEngineConfig` merges a partial override onto the defaults and
 * validates it. Thresholds are general (derived from the physics/ICAO spec or from the models'
 * published operating points), not tuned on the test corpus; README.md explains each one.
 */

export interface EngineThresholds {
  /** Minimum decoded frames of the face video below which the capture counts as truncated (1201). */
  minFaceFrames: number;
  /** Minimum decoded frames over all document media (1201). Stills count as one frame. */
  minDocumentFrames: number;
  /** Crété-Roffet blur effect (0 sharp … 1 blurred) of the inner face above which a frame is blurry (1310). */
  faceMaxBlurEffect: number;
  /** Crété-Roffet blur effect of the document region above which a frame is blurry (1301). */
  documentMaxBlurEffect: number;
  /** Share of usable frames that must be sharp, else 1301/1310. */
  minSharpFrameShare: number;
  /** Mean luma (0-255) of the face below which lighting is too dark (1320). */
  minFaceLuma: number;
  /** Mean luma above which the face is overexposed (1320). */
  maxFaceLuma: number;
  /** Share of pixels of the face at 250+ above which it is overexposed (1320). */
  maxClippedShare: number;
  /** Human face detector confidence to accept a face. */
  minFaceScore: number;
  /** |yaw| and |pitch| (degrees) within which a frame counts as frontal. */
  frontalMaxAngleDeg: number;
  /** Share of face frames in which the face must be detected, else 1311. */
  minFacePresentShare: number;
  /** Yaw (degrees) the head must reach for a turn_left/turn_right challenge. */
  turnMinYawDeg: number;
  /** Pitch (degrees) the head must reach for a look_up/look_down challenge. */
  nodMinPitchDeg: number;
  /** Relative eye-aspect drop (closed vs open) that counts as a blink. */
  blinkMinEarDrop: number;
  /** Relative mouth-width increase that counts as a smile. */
  smileMinWidthGain: number;
  /**
   * Still-photo replay: a printed/screen photo moved in 2D keeps the same 3-D pose and landmark
   * geometry. Below this spread (degrees, p95-p5 of yaw and pitch combined) AND without any
   * non-rigid landmark change (blink/mouth), the video is a replay (1313).
   */
  replayMaxPoseSpreadDeg: number;
  /**
   * Replay (photo/screen) test: share of face texture points (LK-tracked between frames 0.2 s apart)
   * that the best RANSAC homography cannot explain, max over frame pairs. A plane gives only
   * tracking noise (≈ 0-6 %); a real head gives parallax and deformation.
   */
  replayMinTextureOutlierShare: number;
  /** Non-rigid landmark deformation (p95 of normalised landmark residual after a similarity fit) below which the face is rigid. */
  replayMaxNonRigid: number;
  /**
   * Face match (2304), euclidean distance between 128-d descriptors (face/match.ts): below this the
   * portrait and the face are the same person (accept). 0.6 is dlib's published operating point for
   * this network (99.38 % on LFW).
   */
  faceMatchAcceptDistance: number;
  /** From this distance on the faces are different people (refuse, 2304); between accept and this: human review. */
  faceMatchRefuseDistance: number;
  /** Maximum distance between frontal frames of one video (2305, identity consistency). */
  sameVideoMaxDistance: number;
  /** Document chroma (mean saturation 0-1) below which it looks like a greyscale photocopy (2201). */
  photocopyMaxSaturation: number;
  /** Screen signs (2202): lowest spatial frequency searched for a display's pixel lattice (cycles/px); below it lie text and pictures. */
  screenMinFrequency: number;
  /** Screen signs: spectral peak / ring median from which a periodic component is reported. */
  screenMinPeakRatio: number;
  /** Screen signs: lattice ratio (second direction's peak) from which the document goes to human review. */
  screenReviewLatticeRatio: number;
  /** Screen signs: lattice ratio from which the document is refused as shown on a screen (2202). */
  screenRefuseLatticeRatio: number;
  /** Minimum change of the document quadrilateral's shape (normalised corner displacement after a similarity fit) for a dynamic view (1305). */
  tiltMinPerspectiveChange: number;
  /** Frame timing: a gap larger than this multiple of the median inter-frame interval is a discontinuity (2307). */
  timingGapFactor: number;
  /** Connection: downlink (Mbps) under which the capture is flagged as bad connection (1201). */
  minDownlinkMbps: number;
  /** Dropped frames share (dropped / decoded) above which the capture is flagged (1201). */
  maxDroppedFrameShare: number;
}

export interface EngineConfig {
  /** ISO 3166 alpha-3 (MRZ form; Germany is 'D') issuing countries accepted. Empty = all. */
  acceptedCountries: string[];
  /** MRZ document type first letters accepted: 'P' passport, 'I' identity card, 'A'/'C' residence permits. Empty = all. */
  acceptedDocumentCodes: string[];
  /** Lost/stolen document numbers (MRZ form, upper case, no fillers). 2302 when matched. */
  denylist: string[];
  /** Frames per second sampled from the face video. */
  faceSampleFps: number;
  /** Frames per second sampled from document videos. */
  documentSampleFps: number;
  /** Width frames are scaled to for face analysis (height follows the aspect ratio). */
  faceFrameWidth: number;
  /** Width frames are scaled to for document analysis. */
  documentFrameWidth: number;
  /** Maximum frames analysed per face medium (a long video is sampled more sparsely). */
  maxFramesPerMedium: number;
  /** Maximum frames analysed per document medium (frames are large: memory). */
  maxDocumentFrames: number;
  /** Replace fraud codes (23xx/2402) by 2399 for the certified method. */
  certifiedFraudCode2399: boolean;
  /** Path to ffmpeg. */
  ffmpegPath: string;
  /** Directory of Human's models; default: node_modules/@vladmandic/human/models. */
  humanModelsDir?: string;
  /** Directory of face-api's models (the face matcher, face/match.ts); default: node_modules/@vladmandic/face-api/model. */
  faceApiModelsDir?: string;
  /** Directory of the tfjs wasm binaries; default: node_modules/@tensorflow/tfjs-backend-wasm/dist. */
  wasmDir?: string;
  /** OCR-B font used to build the MRZ glyph prototypes (Debian package fonts-ocr-b). */
  ocrbFontPath: string;
  /** Known virtual camera device label fragments (lower case) → 2402. */
  virtualCameraLabels: string[];
  /** Reference date for expiry checks; default: now. */
  now?: () => Date;
  /** Timeout per ffmpeg decode (ms). */
  decodeTimeoutMs: number;
  /**
   * Bounds on the work one medium may cost: a small file can hold 4K at 60 fps for minutes (a
   * decode bomb). The size is probed before any frame is decoded; frames are counted as they are
   * (declared frame rates cannot be trusted), and only the first maxMediaSeconds are decoded. What
   * is over is refused as unplayable (1911).
   */
  maxMediaPixels: number;
  maxMediaFps: number;
  maxMediaSeconds: number;
  /** Stills (sharp): a decompression bomb is refused above this many pixels. */
  maxStillPixels: number;
  thresholds: EngineThresholds;
  /** Whether the synthesis report is marked as simulated (sandbox). */
  simulated: boolean;
}

export const DEFAULT_THRESHOLDS: EngineThresholds = {
  minFaceFrames: 6,
  minDocumentFrames: 1,
  faceMaxBlurEffect: 0.6,
  documentMaxBlurEffect: 0.55,
  minSharpFrameShare: 0.3,
  minFaceLuma: 45,
  maxFaceLuma: 225,
  maxClippedShare: 0.25,
  minFaceScore: 0.6,
  frontalMaxAngleDeg: 20,
  minFacePresentShare: 0.5,
  turnMinYawDeg: 8,
  nodMinPitchDeg: 8,
  blinkMinEarDrop: 0.35,
  smileMinWidthGain: 0.08,
  replayMaxPoseSpreadDeg: 4,
  replayMaxNonRigid: 0.012,
  replayMinTextureOutlierShare: 0.09,
  faceMatchAcceptDistance: 0.6,
  faceMatchRefuseDistance: 0.7,
  sameVideoMaxDistance: 0.7,
  photocopyMaxSaturation: 0.06,
  tiltMinPerspectiveChange: 0.02,
  screenMinFrequency: 0.15,
  screenMinPeakRatio: 20,
  screenReviewLatticeRatio: 300,
  screenRefuseLatticeRatio: 1000,
  timingGapFactor: 8,
  minDownlinkMbps: 0.5,
  maxDroppedFrameShare: 0.3,
};

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  acceptedCountries: [],
  acceptedDocumentCodes: ['P', 'I', 'A', 'C'],
  denylist: [],
  faceSampleFps: 5,
  documentSampleFps: 4,
  faceFrameWidth: 480,
  documentFrameWidth: 1280,
  maxFramesPerMedium: 72,
  maxDocumentFrames: 24,
  certifiedFraudCode2399: false,
  ffmpegPath: '/usr/bin/ffmpeg',
  ocrbFontPath: '/usr/share/fonts/opentype/ocr-b/OCRB.otf',
  virtualCameraLabels: [
    'obs virtual',
    'obs-camera',
    'manycam',
    'snap camera',
    'xsplit',
    'splitcam',
    'droidcam',
    'e2esoft',
    'vcam',
    'virtual cam',
    'virtual camera',
    'v4l2loopback',
    'dummy video',
    'fake',
    'chromium fake',
    'camtwist',
    'youcam',
    'altercam',
  ],
  decodeTimeoutMs: 60_000,
  // 1920 x 1440: a phone's 1080p in either orientation, or 4:3 at 1440 lines
  maxMediaPixels: 1920 * 1440,
  maxMediaFps: 120,
  maxMediaSeconds: 30,
  maxStillPixels: 50_000_000,
  thresholds: DEFAULT_THRESHOLDS,
  simulated: false,
};

export type EngineConfigInput = Partial<Omit<EngineConfig, 'thresholds'>> & { thresholds?: Partial<EngineThresholds> };

export function resolveEngineConfig(input: EngineConfigInput = {}): EngineConfig {
  const cfg: EngineConfig = {
    ...DEFAULT_ENGINE_CONFIG,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    thresholds: { ...DEFAULT_THRESHOLDS, ...(input.thresholds ?? {}) },
  } as EngineConfig;
  if (!(cfg.faceSampleFps > 0 && cfg.faceSampleFps <= 30))
    throw new Error('engine config: faceSampleFps must be in (0, 30]');
  if (!(cfg.documentSampleFps > 0 && cfg.documentSampleFps <= 30))
    throw new Error('engine config: documentSampleFps must be in (0, 30]');
  if (cfg.maxFramesPerMedium < 4) throw new Error('engine config: maxFramesPerMedium must be >= 4');
  cfg.denylist = cfg.denylist.map((d) => d.toUpperCase().replace(/[^A-Z0-9]/g, ''));
  cfg.acceptedCountries = cfg.acceptedCountries.map((c) => c.toUpperCase());
  cfg.acceptedDocumentCodes = cfg.acceptedDocumentCodes.map((c) => c.toUpperCase());
  return cfg;
}
