/**
 * The hosted capture app behind the identification-url: consent, device checks, document and
 * face videos, resumable uploads, and the final redirect with the documented query parameters.
 * Plain DOM, no framework: the whole app must stay small on a phone's data plan.
 * Every exit goes through leave() with one of the documented redirect rows; the server validates
 * the row again. Nothing the analysis may conclude (reasons) is ever displayed here.
 */
import { ApiError, createApi, type Session } from './api.ts';
import {
  browserSupported,
  cameraErrorRow,
  openCamera,
  pickMimeType,
  record,
  stopStream,
  type Recording,
} from './camera.ts';
import { preloadFeedback, startFeedback, type Feedback } from './feedback.ts';
import { getLang, setLang, t, type Key } from './i18n.ts';

type Child = Node | string | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, unknown> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const root = document.getElementById('app')!;
const token = location.pathname.split('/').filter(Boolean).pop() ?? '';
const api = createApi(token);
const noFeedback = location.hash.includes('nofeedback');

let session: Session;
let filming = false;
let finished = false;
let activeStream: MediaStream | null = null;
let activeFeedback: Feedback | null = null;
let rerender: (() => void) | null = null;
let documentType = 'id_card';
let documentCountry = '';
let uploadChain: Promise<void> = Promise.resolve();
const progress = new Map<string, number>();

const meta = {
  userAgent: navigator.userAgent,
  webdriver: navigator.webdriver === true,
  cameraLabel: '',
  documentCameraLabel: '',
  challengeShownAt: [] as number[],
  challengeDoneAt: [] as number[],
  // Epoch ms when the face video started: the engine maps challengeShownAt onto the video's timeline.
  faceRecordingStartedAt: 0,
  documentChallengeShownAt: [] as number[],
  droppedFrames: 0,
  uploadRetries: 0,
  connection: {} as { downlinkMbps?: number; probeMs?: number },
  mimeType: pickMimeType(),
  device: matchMedia('(pointer: coarse)').matches ? 'mobile' : 'desktop',
  handoff: false,
  screen: `${window.screen.width}x${window.screen.height}`,
};

// ---------- layout ----------

function relLuminance(hex: string): number {
  const c = [1, 3, 5]
    .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((x) => (x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

function applyBranding(b: Session['branding']) {
  const s = document.documentElement.style;
  s.setProperty('--primary', b.primaryColor);
  s.setProperty('--bg', b.backgroundColor);
  s.setProperty('--text', b.textColor);
  // Button text in whichever of black/white contrasts more with the client's colour.
  s.setProperty('--on-primary', relLuminance(b.primaryColor) > 0.179 ? '#000000' : '#ffffff');
}

function header(withLang: boolean): HTMLElement {
  const b = session?.branding;
  return h(
    'header',
    { class: 'top' },
    b?.logoUrl
      ? h('img', { src: b.logoUrl, alt: b.name, class: 'logo' })
      : h('span', { class: 'brand', text: b?.name ?? '' }),
    withLang &&
      h(
        'button',
        {
          type: 'button',
          class: 'link lang',
          lang: getLang() === 'fr' ? 'en' : 'fr',
          'data-testid': 'lang',
          onclick: () => {
            setLang(getLang() === 'fr' ? 'en' : 'fr');
            rerender?.();
          },
        },
        t('lang'),
      ),
  );
}

/** Replaces the screen; the heading takes focus so screen readers announce the new step. */
function show(name: string, title: string, content: Child[], opts: { lang?: boolean; render?: () => void } = {}) {
  rerender = opts.render ?? null;
  document.body.dataset.screen = name;
  const h1 = h('h1', { tabindex: '-1', text: title });
  root.replaceChildren(header(!!opts.lang), h1, ...content.filter((c): c is Node | string => !!c));
  document.title = `${title} – ${session?.branding?.name ?? ''}`;
  h1.focus({ preventScroll: true });
}

const button = (label: string, onclick: () => void, cls = 'primary', testid?: string) =>
  h('button', { type: 'button', class: cls, onclick, 'data-testid': testid }, label);

// ---------- exits ----------

function metadata() {
  return meta;
}

function stopCamera() {
  activeFeedback?.stop();
  activeFeedback = null;
  stopStream(activeStream);
  activeStream = null;
}

/** Where the user goes at the end. A phone reached through a handoff stays put: the desktop redirects. */
function go(url: string, outcome: 'done' | 'stopped') {
  if (session.via === 'handoff') {
    show('phone-end', outcome === 'done' ? t('phoneDone') : t('phoneStopped'), []);
    return;
  }
  show('leaving', t('leaving'), [h('p', { class: 'loading', role: 'status', text: t('leaving') })]);
  location.replace(url);
}

/** Ends the flow with a documented redirect row. */
async function leave(returnReason: string, errorType: string) {
  if (finished) return;
  finished = true;
  filming = false;
  stopCamera();
  show('leaving', t('leaving'), [h('p', { class: 'loading', role: 'status', text: t('leaving') })]);
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      const r = await api.abort(returnReason, errorType, metadata());
      return go(r.redirectUrl, 'stopped');
    } catch (e) {
      // Already closed (superseded, expired, or finished elsewhere): follow what the server says.
      if (e instanceof ApiError && e.status < 500) break;
      await sleep(1000 * (attempt + 1));
    }
  }
  try {
    const s = await api.session();
    if (s.redirectUrl) return go(s.redirectUrl, 'stopped');
  } catch {
    /* fall through */
  }
  fatal(t('notOpen'));
}

function fatal(message: string) {
  finished = true;
  stopCamera();
  show('error', t('errorTitle'), [h('p', { role: 'alert', text: message })]);
}

// ---------- screens ----------

function welcome() {
  const isDesktop = !matchMedia('(pointer: coarse)').matches && session.handoffAvailable;
  const render = () => {
    const consent = h('input', {
      type: 'checkbox',
      id: 'consent',
      'data-testid': 'consent',
      'aria-describedby': 'consent-error',
    });
    const err = h('p', { id: 'consent-error', class: 'error', role: 'alert' });
    const name = session.branding.name || '';
    show(
      'welcome',
      t('title'),
      [
        h('p', { text: t('intro', { name }) }),
        h('h2', { text: t('whatFilmed') }),
        h(
          'ul',
          { class: 'what' },
          h('li', { text: t('filmDoc') }),
          h('li', { text: session.method === 'certified' ? t('filmFaceCertified') : t('filmFace') }),
        ),
        h('div', { class: 'consent' }, consent, h('label', { for: 'consent', text: t('consent', { name }) })),
        err,
        h(
          'div',
          { class: 'actions' },
          button(
            t('start'),
            () => {
              if (!consent.checked) {
                err.textContent = t('consentMissing');
                consent.focus();
                return;
              }
              void checks();
            },
            'primary',
            'start',
          ),
          isDesktop && button(t('onPhone'), () => void phoneHandoff(), 'secondary', 'on-phone'),
          button(t('noDocument'), () => void leave('no_document', 'none'), 'link', 'no-document'),
          button(t('later'), () => void leave('verify_later', 'none'), 'link', 'later'),
          button(t('refuse'), () => void leave('refusal', 'none'), 'link', 'refuse'),
        ),
      ],
      { lang: true, render },
    );
  };
  render();
}

async function checks() {
  const row = (label: string) => {
    const status = h('span', { class: 'status', text: t('checking') });
    return {
      li: h('li', {}, h('span', { text: label }), status),
      done: () => {
        status.textContent = t('ok');
        status.className = 'status ok';
      },
    };
  };
  const b = row(t('checkBrowser')),
    c = row(t('checkCamera')),
    n = row(t('checkConnection'));
  show('checks', t('checks'), [h('ul', { class: 'checks', role: 'status' }, b.li, c.li, n.li)]);
  if (!browserSupported()) return leave('error', 'browser-not-supported');
  b.done();
  try {
    const s = await openCamera('environment');
    meta.documentCameraLabel = s.getVideoTracks()[0]?.label ?? '';
    stopStream(s);
  } catch (e) {
    const [r, et] = cameraErrorRow(e);
    return leave(r, et);
  }
  c.done();
  let best: { mbps: number; ms: number } | undefined;
  for (let i = 0; i < 3 && !best; i++) {
    try {
      best = await api.probe();
    } catch (e) {
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) return fatal(t('notOpen'));
      meta.uploadRetries++;
      await sleep(500 * (i + 1));
    }
  }
  // Below ~0.25 Mbit/s a 10 s video takes minutes to send: better to stop now than mid-upload.
  if (!best || best.mbps < 0.25) return leave('connections_issue', 'bad_connexion');
  meta.connection = { downlinkMbps: Math.round(best.mbps * 100) / 100, probeMs: best.ms };
  n.done();
  await sleep(300);
  docChoice();
}

const COUNTRIES =
  'AT BE BG CH CY CZ DE DK EE ES FI FR GB GR HR HU IE IS IT LI LT LU LV MC MT NL NO PL PT RO SE SI SK US CA MA DZ TN SN CI CM BR CN IN JP TR UA RU'.split(
    ' ',
  );

function docChoice() {
  if (!documentCountry) {
    const region = (navigator.language.split('-')[1] ?? '').toUpperCase();
    documentCountry = COUNTRIES.includes(region) ? region : 'FR';
  }
  const render = () => {
    const names = new Intl.DisplayNames([getLang()], { type: 'region' });
    const radios = (['id_card', 'passport', 'residence_permit'] as const).map((k) =>
      h(
        'label',
        { class: 'choice' },
        h('input', {
          type: 'radio',
          name: 'doctype',
          value: k,
          checked: documentType === k,
          'data-testid': `doctype-${k}`,
          onchange: () => {
            documentType = k;
          },
        }),
        h('span', { text: t(k) }),
      ),
    );
    const select = h(
      'select',
      {
        id: 'country',
        'data-testid': 'country',
        onchange: (e: Event) => {
          documentCountry = (e.target as HTMLSelectElement).value;
        },
      },
      ...COUNTRIES.map((c) => [c, names.of(c) ?? c] as const)
        .sort((a, b) => a[1].localeCompare(b[1], getLang()))
        .map(([c, name]) => h('option', { value: c, selected: c === documentCountry, text: name })),
    );
    show(
      'document-choice',
      t('docChoice'),
      [
        h('fieldset', {}, h('legend', { text: t('docType') }), ...radios),
        h('label', { for: 'country', class: 'field', text: t('country') }),
        select,
        h(
          'div',
          { class: 'actions' },
          button(t('continue'), () => void documentSteps(), 'primary', 'continue'),
        ),
      ],
      { lang: true, render },
    );
  };
  render();
}

interface CameraView {
  video: HTMLVideoElement;
  stream: MediaStream;
  guide: HTMLElement;
  hint: HTMLElement;
  actions: HTMLElement;
  timer: HTMLElement;
}

async function cameraScreen(
  name: string,
  title: string,
  hintText: string,
  facing: 'environment' | 'user',
  overlay: 'card' | 'oval',
): Promise<CameraView | null> {
  stopCamera();
  // Which step asked for the camera (automation and support tools read it; the screen is not drawn yet).
  document.body.dataset.camera = name;
  let stream: MediaStream;
  try {
    stream = await openCamera(facing);
  } catch (e) {
    const [r, et] = cameraErrorRow(e);
    void leave(r, et);
    return null;
  }
  if (finished) {
    stopStream(stream);
    return null;
  }
  activeStream = stream;
  const video = h('video', {
    autoplay: true,
    muted: true,
    playsinline: true,
    'aria-label': t('cameraFallback'),
    class: facing === 'user' ? 'mirror' : '',
  });
  video.srcObject = stream;
  const guide = h('p', { class: 'guide', role: 'status', 'aria-live': 'assertive', 'data-testid': 'guide' });
  const timer = h('p', { class: 'timer', 'aria-live': 'off', 'data-testid': 'timer' });
  const hint = h('p', { class: 'hint', 'aria-live': 'polite', 'data-testid': 'feedback' });
  const actions = h('div', { class: 'actions' });
  show(name, title, [
    h('p', { class: 'instructions', text: hintText }),
    h(
      'div',
      { class: `camera ${overlay}` },
      video,
      h('div', { class: 'overlay', 'aria-hidden': 'true' }),
      guide,
      timer,
    ),
    hint,
    actions,
  ]);
  await video.play().catch(() => {});
  return { video, stream, guide, hint, actions, timer };
}

/** Shows the record button, waits for it, then films; null when the flow ended meanwhile. */
async function startFilming(v: CameraView): Promise<Recording | null> {
  const rec = button(t('record'), () => {}, 'primary', 'record');
  v.actions.replaceChildren(rec);
  await waitClick(rec);
  if (finished) return null;
  filming = true;
  v.actions.replaceChildren(h('p', { class: 'recording', text: t('recording') }));
  return record(v.stream);
}

function waitClick(el: HTMLElement): Promise<void> {
  return new Promise((r) => el.addEventListener('click', () => r(), { once: true }));
}

/** Shows a countdown with a "Done" button; resolves false when the time runs out. */
function challenge(v: CameraView, seconds: number, detect?: () => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = Date.now() + seconds * 1000;
    const done = button(t('done'), () => finish(true), 'primary', 'challenge-done');
    v.actions.replaceChildren(done);
    done.focus();
    const tick = () => {
      if (finished) return finish(false);
      if (detect?.()) return finish(true);
      const left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) return finish(false);
      v.timer.textContent = t('secondsLeft', { n: left });
    };
    const iv = setInterval(tick, 200);
    tick();
    function finish(ok: boolean) {
      clearInterval(iv);
      v.timer.textContent = '';
      v.actions.replaceChildren();
      resolve(ok);
    }
  });
}

function countDropped(video: HTMLVideoElement) {
  const q = (
    video as HTMLVideoElement & { getVideoPlaybackQuality?: () => VideoPlaybackQuality }
  ).getVideoPlaybackQuality?.();
  if (q) meta.droppedFrames += q.droppedVideoFrames;
}

function queueUpload(step: string, blob: Blob) {
  progress.set(step, 0);
  uploadChain = uploadChain.then(() =>
    api.upload(step, blob, {
      onProgress: (f) => {
        progress.set(step, f);
        renderProgress?.();
      },
      onRetry: () => {
        meta.uploadRetries++;
        renderProgress?.(true);
      },
    }),
  );
  // A step that cannot be sent after the retries ends the flow now rather than after more filming.
  uploadChain.catch(() => {
    if (!finished) void leave('error', 'bad_connexion');
  });
}
let renderProgress: ((retrying?: boolean) => void) | null = null;

async function documentSteps() {
  if (!noFeedback) preloadFeedback().catch(() => {});
  const sides: [string, Key][] =
    documentType === 'passport'
      ? [['document_front', 'docPage']]
      : [
          ['document_front', 'docFront'],
          ['document_back', 'docBack'],
        ];
  for (const [step, title] of sides) {
    const v = await cameraScreen(
      `document-${step === 'document_front' ? 'front' : 'back'}`,
      t(title),
      t('docHint'),
      'environment',
      'card',
    );
    if (!v) return;
    v.guide.textContent = t('frameDoc');
    const r = await startFilming(v);
    if (!r) return;
    await sleep(1500);
    v.guide.textContent = t('tiltDoc');
    if (session.method === 'certified') {
      meta.documentChallengeShownAt.push(Date.now());
      // Certified: the movement is a challenge the user confirms in time.
      if (!(await challenge(v, 10))) return leave('doc_instructions_not_followed', 'challenge_timeout');
    } else {
      await sleep(2500);
    }
    if (finished) return;
    const blob = await r.stop();
    countDropped(v.video);
    queueUpload(step, blob);
  }
  await faceStep();
}

async function faceStep() {
  const certified = session.method === 'certified';
  const v = await cameraScreen(
    'face',
    t('face'),
    certified ? `${t('faceHint')} ${t('challengeIntro')}` : t('faceHint'),
    'user',
    'oval',
  );
  if (!v) return;
  meta.cameraLabel = v.stream.getVideoTracks()[0]?.label ?? '';
  if (!noFeedback) {
    let last: string | null = null;
    activeFeedback = startFeedback(v.video, (key) => {
      // Only changes are written: a live region re-announces every update to screen readers.
      if (key === last) return;
      last = key;
      v.hint.textContent = key ? t(key) : '';
      v.hint.className = key === 'good' ? 'hint ok' : key ? 'hint warn' : 'hint';
    });
  }
  v.guide.textContent = t('lookStraight');
  const r = await startFilming(v);
  if (!r) return;
  meta.faceRecordingStartedAt = r.startedAt;
  await sleep(1200);
  if (certified) {
    for (const c of session.challenges) {
      v.guide.textContent = t(c.kind as Key);
      meta.challengeShownAt.push(Date.now());
      const ok = await challenge(v, c.windowSeconds, activeFeedback ? () => activeFeedback!.saw(c.kind) : undefined);
      if (!ok) return leave('face_instructions_not_followed', 'challenge_timeout');
      meta.challengeDoneAt.push(Date.now());
      await sleep(400);
    }
  } else {
    for (const [k, ms] of [
      ['turn_left', 1500],
      ['turn_right', 1500],
      ['lookStraight', 1000],
    ] as [Key, number][]) {
      v.guide.textContent = t(k);
      await sleep(ms);
      if (finished) return;
    }
  }
  if (finished) return;
  const blob = await r.stop();
  countDropped(v.video);
  stopCamera();
  filming = false;
  queueUpload('face', blob);
  await finish();
}

async function finish() {
  const bar = h('progress', { max: '100', value: '0', 'aria-label': t('uploading') });
  const note = h('p', { class: 'hint', role: 'status' });
  renderProgress = (retrying) => {
    const vals = [...progress.values()];
    bar.value = Math.round((vals.reduce((a, b) => a + b, 0) / Math.max(1, vals.length)) * 100);
    note.textContent = retrying ? t('uploadRetry') : '';
  };
  show('uploading', t('uploading'), [bar, note]);
  renderProgress();
  try {
    await uploadChain;
  } catch {
    return; /* queueUpload's handler has left with bad_connexion */
  }
  if (finished) return;
  show('finishing', t('finishing'), [h('p', { class: 'loading', role: 'status', text: t('finishing') })]);
  try {
    const r = await api.complete({ documentType, documentCountry, metadata: metadata() });
    finished = true;
    go(r.redirectUrl, 'done');
  } catch (e) {
    if (e instanceof ApiError && e.status >= 500) return leave('error', 'bad_connexion');
    fatal(t('notOpen'));
  }
}

async function phoneHandoff() {
  let stop = false;
  const render = async () => {
    let h1: { url: string; expiresAt: string; qrSvg: string };
    try {
      h1 = await api.handoff();
    } catch {
      return fatal(t('notOpen'));
    }
    const status = h('p', { role: 'status', 'data-testid': 'handoff-status', text: t('phoneWaiting') });
    const actions = h(
      'div',
      { class: 'actions' },
      button(
        t('useComputer'),
        () => {
          stop = true;
          welcome();
        },
        'link',
        'use-computer',
      ),
    );
    show(
      'handoff',
      t('phoneTitle'),
      [
        h('p', { text: t('phoneHint') }),
        h('img', {
          class: 'qr',
          src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(h1.qrSvg)}`,
          alt: t('phoneTitle'),
          width: '220',
          height: '220',
          'data-testid': 'qr',
        }),
        h('p', { class: 'small', text: t('phoneLink') }),
        h('p', { class: 'url', 'data-testid': 'handoff-url', text: h1.url }),
        status,
        actions,
      ],
      {
        lang: true,
        render: () => {
          stop = true;
          void phoneHandoff();
        },
      },
    );
    const expires = Date.parse(h1.expiresAt);
    while (!stop) {
      await sleep(1500);
      if (stop) return;
      let s: Awaited<ReturnType<typeof api.progress>>;
      try {
        s = await api.progress();
      } catch {
        continue;
      }
      if (s.redirectUrl) {
        finished = true;
        location.replace(s.redirectUrl);
        return;
      }
      if (s.handoff === 'claimed') {
        status.textContent = `${t('phoneConnected')} ${t('phoneProgress', { n: s.uploadedSteps.length })}`;
      } else if (Date.now() > expires) {
        status.textContent = t('phoneExpired');
        actions.prepend(
          button(
            t('newCode'),
            () => {
              stop = true;
              void phoneHandoff();
            },
            'primary',
            'new-code',
          ),
        );
        return;
      }
    }
  };
  await render();
}

async function boot() {
  try {
    session = await api.session();
  } catch (e) {
    return fatal(e instanceof ApiError && e.status === 404 ? t('notOpen') : t('errorTitle'));
  }
  applyBranding(session.branding);
  setLang(getLang());
  meta.handoff = session.via === 'handoff';
  if (!session.acceptsUploads) return fatal(t('notOpen'));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden' && filming && !finished) void leave('focus-lost', 'none');
  });
  welcome();
}

void boot();
