/**
 * Per-client look of the hosted capture app (Treezor: "colors, logo, redirection URL"), set by
 * the client itself through the admin API. Everything here ends up in a page shown to the end
 * user, so each field is validated strictly: colours as #rrggbb, text/background contrast at
 * WCAG AA, logos as https URLs or small raster data URLs (no SVG: it can carry script).
 */
import { findClient, updateBranding as saveBranding } from '../../storage/db/repo/clients.ts';
import { KycError } from '../../domain/errors.ts';
import type { AppDeps } from '../deps.ts';
import { validateRedirectUrl } from '../verifications/initiate-verification.ts';

export interface Branding {
  name: string | null;
  primaryColor: string | null;
  backgroundColor: string | null;
  textColor: string | null;
  logoUrl: string | null;
  defaultRedirectUrl: string | null;
}

export const DEFAULT_COLORS = { primaryColor: '#1d4ed8', backgroundColor: '#ffffff', textColor: '#111827' };
const FIELDS = ['name', 'primaryColor', 'backgroundColor', 'textColor', 'logoUrl', 'defaultRedirectUrl'] as const;
export const LOGO_DATA_MAX_CHARS = 128 * 1024;

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5]
    .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrastRatio(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

function validateLogo(raw: string): string {
  if (raw.startsWith('data:')) {
    if (raw.length > LOGO_DATA_MAX_CHARS)
      throw new KycError(
        'payload_too_large',
        `logoUrl as a data URL may be at most ${LOGO_DATA_MAX_CHARS} characters.`,
        { param: 'logoUrl' },
      );
    if (!/^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/]+={0,2}$/.test(raw)) {
      throw new KycError('invalid_request', 'logoUrl data URLs must be base64 PNG, JPEG or WebP images.', {
        param: 'logoUrl',
      });
    }
    return raw;
  }
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new KycError('invalid_request', 'logoUrl must be an https URL or a data:image URL.', { param: 'logoUrl' });
  }
  if (u.protocol !== 'https:' || u.username || u.password || raw.length > 2000) {
    throw new KycError(
      'invalid_request',
      'logoUrl must be an https URL (at most 2000 characters, no credentials) or a data:image URL.',
      { param: 'logoUrl' },
    );
  }
  return u.toString();
}

function validateName(raw: string): string {
  const s = raw.trim();
  // eslint-disable-next-line no-control-regex
  if (s.length < 1 || s.length > 80 || /[\u0000-\u001f\u007f]/.test(s))
    throw new KycError('invalid_request', 'name must be 1 to 80 printable characters.', { param: 'name' });
  return s;
}

async function load(deps: AppDeps, clientId: string): Promise<Branding> {
  const c = await findClient(deps.db, clientId);
  const b = c?.branding ?? {};
  const s = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : null);
  return {
    name: s('name'),
    primaryColor: s('primaryColor'),
    backgroundColor: s('backgroundColor'),
    textColor: s('textColor'),
    logoUrl: s('logoUrl'),
    defaultRedirectUrl: c?.defaultRedirectUrl ?? null,
  };
}

export const getBranding = load;

/**
 * Partial update: fields present are set, null clears one, absent ones are kept. Validates the
 * merged result (contrast depends on two fields) before writing anything.
 */
export type BrandingPatch = Partial<Record<(typeof FIELDS)[number], string | null>>;

export async function updateBranding(deps: AppDeps, clientId: string, b: BrandingPatch): Promise<Branding> {
  const next = await load(deps, clientId);
  for (const k of FIELDS) {
    const v = b[k];
    if (v === undefined) continue;
    if (v === null) next[k] = null;
    else if (k === 'name') next.name = validateName(v);
    else if (k === 'logoUrl') next.logoUrl = validateLogo(v);
    else if (k === 'defaultRedirectUrl') next.defaultRedirectUrl = validateRedirectUrl(v, 'defaultRedirectUrl');
    else next[k] = v.toLowerCase(); // a colour, #rrggbb
  }
  const text = next.textColor ?? DEFAULT_COLORS.textColor;
  const bg = next.backgroundColor ?? DEFAULT_COLORS.backgroundColor;
  const ratio = contrastRatio(text, bg);
  if (ratio < 4.5) {
    throw new KycError(
      'invalid_request',
      `textColor on backgroundColor has a contrast of ${ratio.toFixed(2)}:1; at least 4.5:1 is required (WCAG AA).`,
      { param: 'textColor' in b ? 'textColor' : 'backgroundColor' },
    );
  }
  const { defaultRedirectUrl, ...look } = next;
  const stored = Object.fromEntries(Object.entries(look).filter(([, v]) => v !== null));
  await saveBranding(deps.db, clientId, stored, defaultRedirectUrl);
  return next;
}

/** What the capture app may show: never the redirect URL (it is per verification). */
export function publicBranding(clientName: string, stored: Record<string, unknown>): Record<string, string | null> {
  const s = (k: string) => (typeof stored[k] === 'string' ? (stored[k] as string) : null);
  return {
    name: s('name') ?? clientName,
    primaryColor: s('primaryColor') ?? DEFAULT_COLORS.primaryColor,
    backgroundColor: s('backgroundColor') ?? DEFAULT_COLORS.backgroundColor,
    textColor: s('textColor') ?? DEFAULT_COLORS.textColor,
    logoUrl: s('logoUrl'),
  };
}
