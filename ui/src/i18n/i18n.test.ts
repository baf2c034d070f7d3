import { describe, expect, it } from 'vitest';
import { CATALOGS, configureLocales, formatDate, initialLocale, locale, offeredLocales, setLocale, t, tn, type Locale } from './i18n.svelte';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message catalogs', () => {
  const english = CATALOGS.en;
  for (const lang of ['fr', 'ar'] as Locale[]) {
    it(`${lang} translates every English message, with the same placeholders`, () => {
      const catalog = CATALOGS[lang];
      for (const [key, text] of Object.entries(english)) {
        const base = key.replace(/\.(zero|one|two|few|many|other)$/, '');
        const translated = catalog[key] ?? catalog[`${base}.other`];
        expect(translated, `${lang} lacks ${key}`).toBeTypeOf('string');
        // Plural forms may spell the number out ("شخص واحد"), so only {count} may be dropped.
        const need = placeholders(text).filter((p) => !(key !== base && p === 'count'));
        expect(placeholders(translated!).filter((p) => need.includes(p)), `${lang} ${key}`).toEqual(need);
      }
      for (const key of Object.keys(catalog)) {
        const base = key.replace(/\.(zero|one|two|few|many|other)$/, '');
        expect(key in english || `${base}.other` in english, `${lang} has an unknown key ${key}`).toBe(true);
      }
    });
  }
});

describe('catalog files', () => {
  // JSON.parse keeps the last of two equal keys without a word, so a merge that adds a key twice
  // would silently change a message: each key is written once.
  const files = import.meta.glob('./*.json', { query: '?raw', import: 'default', eager: true });
  for (const lang of ['en', 'fr', 'ar']) {
    it(`${lang}.json names each key once`, () => {
      const text = files[`./${lang}.json`] as string;
      const keys = [...text.matchAll(/^\s*"([^"]+)":/gm)].map((m) => m[1]);
      expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    });
  }
});

describe('t and tn', () => {
  it('fills placeholders and follows each language’s plural rules', () => {
    setLocale('en');
    expect(t('home.hello', { name: 'Amina' })).toBe('Hello, Amina');
    expect(tn('sync.pending', 1)).toBe('1 change waiting to be sent');
    expect(tn('sync.pending', 3)).toBe('3 changes waiting to be sent');
    setLocale('fr');
    expect(tn('home.household', 1)).toBe('Ménage : 1 personne');
    expect(tn('home.household', 4)).toBe('Ménage : 4 personnes');
    setLocale('ar');
    expect(tn('home.household', 2)).toBe('الأسرة: شخصان');
    // Digits follow the platform's CLDR data for Arabic (Latin or Arabic-Indic).
    expect(tn('home.household', 5)).toMatch(/^الأسرة: [5٥] أشخاص$/);
    expect(document.documentElement.dir).toBe('rtl');
    expect(document.documentElement.lang).toBe('ar');
    setLocale('en');
    expect(document.documentElement.dir).toBe('ltr');
    expect(locale()).toBe('en');
  });

  it('formats dates per language', () => {
    setLocale('fr');
    expect(formatDate('1988-04-12')).toBe('12 avr. 1988');
    setLocale('en');
    expect(formatDate('1988-04-12')).toBe('Apr 12, 1988');
  });

  it('starts from the saved choice, else the system language, else English', () => {
    expect(initialLocale('ar', ['fr-FR'])).toBe('ar');
    expect(initialLocale(null, ['sw-KE', 'fr-CA'])).toBe('fr');
    expect(initialLocale('xx', ['C'])).toBe('en');
  });

  it('keeps to the languages the device offers, starting in its configured one', () => {
    expect(initialLocale(null, ['fr-FR'], ['en', 'ar'], null)).toBe('en');
    expect(initialLocale('fr', ['fr-FR'], ['ar', 'en'], null)).toBe('ar');
    expect(initialLocale(null, ['en-GB'], ['en', 'fr'], 'fr')).toBe('fr');
    // A person's own choice in the app wins over the device's language.
    expect(initialLocale('en', [], ['en', 'fr'], 'fr')).toBe('en');
    configureLocales(['ar', 'fr'], null);
    expect(offeredLocales()).toEqual(['ar', 'fr']);
    expect(['ar', 'fr']).toContain(locale());
    configureLocales(['en', 'fr', 'ar'], null);
  });
});

describe('the reasons the Rust core gives', () => {
  it('every refusal key used in crates/client/src/app has a catalog sentence', () => {
    // The Rust sources, read at test time (Vite's raw glob import).
    const sources = import.meta.glob('../../../crates/client/src/app/*.rs', { query: '?raw', import: 'default', eager: true });
    const used = new Set<string>();
    for (const text of Object.values(sources) as string[]) {
      for (const m of text.matchAll(/(?:refused|Refusal::new)\(\s*"([A-Za-z]+)"/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(30);
    const missing = [...used].filter((key) => !(`problem.${key}` in CATALOGS.en));
    expect(missing).toEqual([]);
  });
});
