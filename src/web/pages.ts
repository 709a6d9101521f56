/**
 * The HTML the server renders at the identification-url (Node side): the app shell, the pages for
 * links that no longer work and the end page, and the headers every one of them carries. The texts
 * come from the one catalogue (`messages.ts`).
 */
import type { WebAssets } from './build.ts';
import { APP, fill, type Lang, PAGES } from './messages.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The capture pages load nothing from third parties; the logo may be the integrator's https URL.
const CSP =
  "default-src 'self'; img-src 'self' data: https:; media-src 'self' blob:; connect-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** The headers of every HTML page: the URL holds the end user's token, so no cache and no referrer. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Permissions-Policy': 'camera=(self), microphone=()',
};

export type StaticPage = 'superseded' | 'expired' | 'notFound' | 'submitted' | 'handoffGone' | 'done';

// A page may quote the app, e.g. the name of a button: `{onPhone}` is the app's string in the page's language.
const APP_TEXT = { en: APP.en, fr: { ...APP.en, ...APP.fr } };

function text(lang: Lang, page: StaticPage) {
  const vars = APP_TEXT[lang];
  return { title: esc(PAGES[lang][`${page}Title`]), body: esc(fill(PAGES[lang][`${page}Body`], vars)) };
}

// Static pages speak both languages: they render before (or without) the app's language switch.
function render(page: StaticPage): string {
  const en = text('en', page);
  const fr = text('fr', page);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${en.title}</title><link rel="stylesheet" href="/identification/assets/style.css"></head>
<body><main class="static"><h1>${en.title}</h1><p>${en.body}</p><hr><section lang="fr"><h2>${fr.title}</h2><p>${fr.body}</p></section></main></body></html>`;
}

/** Each static page, rendered once. */
export const STATIC_PAGES: Readonly<Record<StaticPage, string>> = {
  superseded: render('superseded'),
  expired: render('expired'),
  notFound: render('notFound'),
  submitted: render('submitted'),
  handoffGone: render('handoffGone'),
  done: render('done'),
};

/** The page that loads the app, its bundle addressed by hash so that browsers may cache it for ever. */
export function appShell(assets: WebAssets): string {
  const both = (k: 'loading' | 'noScript') => `${esc(PAGES.en[k])} / ${esc(PAGES.fr[k])}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<meta name="robots" content="noindex"><title>${esc(PAGES.en.shellTitle)}</title>
<link rel="stylesheet" href="/identification/assets/style.css?v=${assets['style.css'].hash}"><script type="module" src="/identification/assets/app.js?v=${assets['app.js'].hash}"></script></head>
<body><main id="app" tabindex="-1"><p class="loading">${both('loading')}</p></main>
<noscript><p>${both('noScript')}</p></noscript></body></html>`;
}
