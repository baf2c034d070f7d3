import { describe, expect, it } from 'vitest';
import { canvasPixels, consentLanguage, consentTerms, consentUpload, signatureFileName, statementText, STATEMENT_ID, Strokes } from './consent';
import { CATALOGS } from '../i18n/i18n.svelte';

describe('the signature pad’s strokes', () => {
  it('is empty until enough ink is drawn: a tap or a brush of the palm is not a signature', () => {
    const s = new Strokes();
    expect(s.isEmpty()).toBe(true);
    s.start({ x: 10, y: 10 });
    s.end();
    expect(s.isEmpty()).toBe(true);
    s.start({ x: 10, y: 10 });
    s.move({ x: 15, y: 10 });
    s.end();
    expect(s.ink()).toBe(5);
    expect(s.isEmpty()).toBe(true);
    s.start({ x: 0, y: 0 });
    s.move({ x: 30, y: 40 });
    s.end();
    expect(s.ink()).toBe(55);
    expect(s.isEmpty()).toBe(false);
    expect(s.strokes).toHaveLength(3);
  });

  it('adds points only while the pointer is down, and Clear empties it', () => {
    const s = new Strokes();
    expect(s.move({ x: 1, y: 1 })).toBe(false);
    s.start({ x: 0, y: 0 });
    expect(s.drawing).toBe(true);
    expect(s.move({ x: 100, y: 0 })).toBe(true);
    s.end();
    expect(s.drawing).toBe(false);
    expect(s.move({ x: 200, y: 0 })).toBe(false);
    expect(s.ink()).toBe(100);
    s.clear();
    expect(s.isEmpty()).toBe(true);
    expect(s.strokes).toEqual([]);
  });

  it('sizes the canvas for the screen’s density, in whole pixels', () => {
    expect(canvasPixels(300, 150, 2)).toEqual({ width: 600, height: 300, scale: 2 });
    expect(canvasPixels(301.5, 100.2, 1.5)).toEqual({ width: 452, height: 150, scale: 1.5 });
    expect(canvasPixels(0, 0, 0)).toEqual({ width: 1, height: 1, scale: 1 });
    expect(canvasPixels(100, 50, Number.NaN).scale).toBe(1);
  });
});

describe('the consent sent', () => {
  it('is made only of a ticked "I agree", with the statement id, its language and the method', () => {
    expect(consentTerms('fr', 'signature_pad', false)).toBeNull();
    expect(consentTerms('fr', 'signature_pad', true)).toEqual({ statement: STATEMENT_ID, language: 'fr', agreed: true, method: 'signature_pad' });
  });

  it('travels as a document of kind consent, for the person served or for a registration', () => {
    const terms = consentTerms('ar', 'signed_paper', true)!;
    expect(consentUpload(terms, 'form.jpg')).toEqual({ kind: 'consent', fileName: 'form.jpg', replaces: null, consent: terms, registration: null, maxBytes: undefined });
    expect(consentUpload(terms, 'form.jpg', 'r-1', 1000)).toMatchObject({ registration: 'r-1', maxBytes: 1000 });
  });

  it('names a drawn signature by the local time it was made', () => {
    expect(signatureFileName(new Date(2026, 2, 14, 9, 5))).toBe('consent-signature-2026-03-14-0905.png');
  });
});

describe('the statement', () => {
  it('is shown in the person’s language when Doorstep speaks it, else the app’s', () => {
    expect(consentLanguage('fr-CM', 'en')).toBe('fr');
    expect(consentLanguage('ar', 'fr')).toBe('ar');
    expect(consentLanguage('sw', 'fr')).toBe('fr');
    expect(consentLanguage(null, 'ar')).toBe('ar');
  });

  it('exists whole in every language, with the person’s name in it', () => {
    for (const lang of ['en', 'fr', 'ar'] as const) {
      const s = statementText(lang, 'Amina Njoroge');
      expect(s.title.length).toBeGreaterThan(0);
      expect(s.paragraphs).toHaveLength(5);
      for (const p of s.paragraphs) expect(p.length).toBeGreaterThan(20);
      expect(s.paragraphs.join(' ')).toContain('Amina Njoroge');
      expect(s.paragraphs.join(' ')).not.toContain('{name}');
    }
    // Shown in the chosen language, whatever the app's.
    expect(statementText('fr', 'X').title).toBe(CATALOGS.fr['consent.statement.1.title']);
    expect(() => statementText('en', 'X', 'agent-consent-0')).toThrow();
  });
});
