// Every string the UI shows comes from a message catalog (en, fr, ar). The current language is
// reactive state: screens call t() in their markup and re-render when it changes. The choice is
// remembered on the device (it is not personal data); the first time, the system's language is
// used when Doorstep speaks it.

import en from './en.json';
import fr from './fr.json';
import ar from './ar.json';
import { applyDirection } from '../lib/theme';

export const LOCALES = {
  en: { name: 'English', dir: 'ltr' },
  fr: { name: 'Français', dir: 'ltr' },
  ar: { name: 'العربية', dir: 'rtl' },
} as const;
export type Locale = keyof typeof LOCALES;
export type Catalog = Record<string, string>;

export const CATALOGS: Record<Locale, Catalog> = { en, fr, ar };
const STORAGE_KEY = 'doorstep.locale';

function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && value in LOCALES;
}

/** The languages this device offers (its configuration may offer fewer than Doorstep has),
 *  and the one it starts in when nobody chose (`null`: the system's). */
let offered = $state<Locale[]>(Object.keys(LOCALES) as Locale[]);
let configured: Locale | null = null;

export function offeredLocales(): readonly Locale[] {
  return offered;
}

/** The saved choice, else the device's configured language, else the first system language
 *  Doorstep speaks, else the first offered — each only if this device offers it. */
export function initialLocale(
  saved: string | null,
  system: readonly string[],
  offer: readonly Locale[] = offered,
  preferred: Locale | null = configured,
): Locale {
  const ok = (l: unknown): l is Locale => isLocale(l) && offer.includes(l);
  if (ok(saved)) return saved;
  if (ok(preferred)) return preferred;
  for (const tag of system) {
    const base = tag.toLowerCase().split(/[-_]/)[0];
    if (ok(base)) return base;
  }
  return offer[0] ?? 'en';
}

/** Apply the device configuration's languages (AppInfo): the picker shows only those, and the
 *  language switches if the current one is not among them. */
export function configureLocales(languages: readonly string[], language: string | null): void {
  const list = languages.filter(isLocale);
  if (list.length > 0) offered = list;
  configured = isLocale(language) ? language : null;
  const next = initialLocale(readSaved(), typeof navigator === 'undefined' ? [] : navigator.languages ?? []);
  if (next !== current) {
    current = next;
    applyLocale();
  }
}

/** The language a new visitor of a kiosk starts in (nobody's choice remembered). */
export function defaultLocale(): Locale {
  return initialLocale(null, typeof navigator === 'undefined' ? [] : navigator.languages ?? []);
}

function readSaved(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

let current = $state<Locale>(initialLocale(readSaved(), typeof navigator === 'undefined' ? [] : navigator.languages ?? []));

export function locale(): Locale {
  return current;
}

/** Switch language: catalog, `lang` and `dir` of the page, and the stylesheet direction. */
export function setLocale(next: Locale): void {
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    /* private mode: the choice lasts for this run */
  }
  applyLocale();
}

export function applyLocale(): void {
  if (typeof document === 'undefined') return;
  document.documentElement.lang = current;
  applyDirection(LOCALES[current].dir);
}

function fill(text: string, params?: Record<string, string | number>): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** The message `key` in the current language (English if missing there), with `{name}`s filled. */
/** Whether the current language's catalog has `key` (for texts that may come from elsewhere). */
export function hasText(key: string): boolean {
  return key in CATALOGS[current];
}

export function t(key: string, params?: Record<string, string | number>): string {
  return fill(CATALOGS[current][key] ?? CATALOGS.en[key] ?? key, params);
}

/** A message that depends on a count: `key.zero|one|two|few|many|other` by the language's plural rules. */
export function tn(key: string, count: number, params?: Record<string, string | number>): string {
  const rule = new Intl.PluralRules(current).select(count);
  const catalog = CATALOGS[current];
  const text = catalog[`${key}.${rule}`] ?? catalog[`${key}.other`] ?? CATALOGS.en[`${key}.${count === 1 ? 'one' : 'other'}`] ?? key;
  return fill(text, { count: formatNumber(count), ...params });
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(current).format(n);
}

/** A ratio as a percentage the way the language writes it (1.5 → "150%", "150 %", "١٥٠٪"). */
export function formatPercent(ratio: number): string {
  return new Intl.NumberFormat(current, { style: 'percent' }).format(ratio);
}

/** A calendar date (YYYY-MM-DD or RFC 3339) as the language writes it. */
export function formatDate(iso: string): string {
  const date = new Date(iso.length === 10 ? `${iso}T12:00:00Z` : iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeZone: iso.length === 10 ? 'UTC' : undefined }).format(date);
}

/** A moment (RFC 3339) as the language writes a date and time, in the device's time zone. */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** Field names of records (conflict screen): the catalog's wording, else the raw name. */
export function fieldName(field: string): string {
  const key = `field.${field}`;
  return key in CATALOGS.en ? t(key) : field.replaceAll('_', ' ');
}

/** A kind of record in words; `agent`: for a field agent, whose records are other people's
 *  ("A person's details", not "Your details"), where the catalog words it apart. */
export function kindName(kind: string, agent = false): string {
  const key = `kind.${kind}`;
  if (agent && `${key}.agent` in CATALOGS.en) return t(`${key}.agent`);
  return key in CATALOGS.en ? t(key) : kind.replaceAll('_', ' ');
}
