import { describe, expect, it } from 'vitest';
import { ago, usableLocale } from './session';

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
