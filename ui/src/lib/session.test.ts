import { afterEach, describe, expect, it } from 'vitest';
import { ago, errorText, newSyncSuccesses, usableLocale } from './session';
import { setLocale, t } from '../i18n/i18n.svelte';

describe('ago', () => {
  const now = Date.parse('2026-11-29T12:00:00Z');
  it('says how long ago in words', () => {
    expect(ago('2026-11-29T11:55:00Z', now, 'en')).toBe('5 minutes ago');
    expect(ago('2026-11-29T09:00:00Z', now, 'fr')).toBe('il y a 3 heures');
    expect(ago(null, now, 'en')).toBe('');
  });
  it('survives a POSIX locale such as "C" (as under a bare test machine)', () => {
    expect(usableLocale('C')).toBe('en');
    expect(usableLocale('ar-EG')).toBe('ar-EG');
    expect(ago('2026-11-29T11:59:30Z', now, 'C')).toBe('30 seconds ago');
  });
});

describe('errors in the person’s language', () => {
  const refused = {
    code: 'invalidInput' as const,
    message: 'You have already applied to Child Benefit. Its status is under Programmes.',
    fields: [],
    key: 'alreadyApplied',
    params: { programme: 'Child Benefit' },
  };
  const invalid = {
    code: 'invalidInput' as const,
    message: 'Some details need fixing; see the marked fields.',
    fields: [{ field: 'address.postal_code', code: 'invalid_format', message: 'Write the postal code with letters…' }],
    key: null,
    params: {},
  };
  afterEach(() => setLocale('en'));

  it('shows the Rust wording in English', () => {
    setLocale('en');
    expect(errorText(refused)).toBe(refused.message);
    expect(errorText(invalid)).toBe('Some details need fixing; see the marked fields. Write the postal code with letters…');
  });
  it('words a refusal by its reason, with the names it carries', () => {
    setLocale('fr');
    expect(errorText(refused)).toBe('Vous avez déjà fait une demande pour Child Benefit. Son état est dans Programmes.');
    setLocale('ar');
    expect(errorText(refused)).toBe('لقد تقدّمت بالفعل إلى Child Benefit. حالته في البرامج.');
  });
  it('words each field problem by its code and the field’s name', () => {
    setLocale('fr');
    expect(errorText(invalid)).toBe(`${t('error.invalidInput')} code postal : n'est pas écrit de la façon attendue.`);
  });
  it('falls back to the error’s code for a reason it does not know', () => {
    setLocale('fr');
    expect(errorText({ ...refused, key: 'somethingNew' })).toBe(t('error.invalidInput'));
  });
  it('says a misconfigured sign-in needs the office, not another try, in every language', () => {
    const misconfigured = {
      code: 'signInMisconfigured' as const,
      message: 'Sign-in is not set up correctly for this service, so trying again will not help. Please contact the office: they need to fix it.',
      fields: [],
      key: null,
      params: {},
    };
    setLocale('en');
    expect(errorText(misconfigured)).toBe(misconfigured.message);
    for (const lang of ['fr', 'ar'] as const) {
      setLocale(lang);
      expect(errorText(misconfigured)).toBe(t('error.signInMisconfigured'));
      expect(errorText(misconfigured)).not.toBe(t('error.signIn'));
      expect(errorText(misconfigured)).not.toBe('error.signInMisconfigured');
    }
  });
  it('has a sentence for every error code the Rust side can send', () => {
    const bindings = import.meta.glob('./bindings.ts', { query: '?raw', import: 'default', eager: true });
    const text = Object.values(bindings)[0] as string;
    const union = text.slice(text.indexOf('export type UserErrorCode ='));
    const codes = [...union.slice(0, union.indexOf('\nexport ')).matchAll(/^"(\w+)"/gm)].map((m) => m[1]);
    expect(codes).toContain('signIn');
    expect(codes).toContain('signInMisconfigured');
    setLocale('en');
    for (const code of codes) expect(t(`error.${code}`), code).not.toBe(`error.${code}`);
  });
});

describe('newSyncSuccesses', () => {
  it('counts only syncs that end after watching began', () => {
    const isNew = newSyncSuccesses();
    expect(isNew({ running: false, lastSuccess: 'A' })).toBe(false);
    expect(isNew({ running: true, lastSuccess: 'A' })).toBe(false);
    expect(isNew({ running: false, lastSuccess: 'B' })).toBe(true);
    expect(isNew({ running: false, lastSuccess: 'B' })).toBe(false);
    // A failed round keeps the last success: nothing new to read.
    expect(isNew({ running: false, lastSuccess: 'B' })).toBe(false);
  });
  it('counts the end of a sync already running when watching began', () => {
    const isNew = newSyncSuccesses();
    expect(isNew({ running: true, lastSuccess: null })).toBe(false);
    expect(isNew({ running: false, lastSuccess: 'A' })).toBe(true);
  });
});
