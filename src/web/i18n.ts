/** The app's language, and its strings from the one catalogue (`messages.ts`). */
import { APP, type AppKey, fill, type Lang } from './messages.ts';

export type Key = AppKey;
let lang: Lang = typeof navigator !== 'undefined' && /^fr\b/i.test(navigator.language || '') ? 'fr' : 'en';

export const getLang = () => lang;
export function setLang(l: Lang) {
  lang = l;
  document.documentElement.lang = l;
}
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  return fill((lang === 'fr' ? APP.fr[key] : undefined) ?? APP.en[key], vars);
}
