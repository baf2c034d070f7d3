// What the consent screen needs besides its markup: the statement in the language chosen for
// the person (not necessarily the app's), the upload that carries it, and the signature pad's
// strokes (kept as points, so the pad can be drawn again at any size and judged empty or not).

import { CATALOGS, LOCALES, type Locale } from '../i18n/i18n.svelte';
import type { ConsentMethod, ConsentTerms } from './bindings';
import type { UploadMeta } from './bytes';

/**
 * The statement shown, by its stable id. The id travels with the consent (ConsentTerms.statement),
 * so the registry knows which wording the person agreed to: a change of wording is a new id with
 * new catalog keys (`consent.statement.<version>.*`), never an edit of these.
 */
export const STATEMENT_ID = 'agent-consent-1';
/** The catalog keys of each statement, in reading order: its title, then its paragraphs. */
export const STATEMENTS: Record<string, { prefix: string; parts: readonly string[] }> = {
  'agent-consent-1': { prefix: 'consent.statement.1', parts: ['title', 'intro', 'keeps', 'sees', 'acts', 'withdraw'] },
};

/** The statement `id` in `lang`, the person's name filled in: its title and paragraphs. */
export function statementText(lang: Locale, name: string, id: string = STATEMENT_ID): { title: string; paragraphs: string[] } {
  const s = STATEMENTS[id];
  if (!s) throw new Error(`unknown consent statement ${id}`);
  const catalog = CATALOGS[lang];
  const text = (part: string) => (catalog[`${s.prefix}.${part}`] ?? CATALOGS.en[`${s.prefix}.${part}`] ?? '').replace(/\{name\}/g, name);
  const [title, ...rest] = s.parts;
  return { title: text(title), paragraphs: rest.map(text) };
}

/** The language to show the statement in first: the person's own when Doorstep speaks it
 *  (a BCP 47 tag such as "fr-CM" counts by its language), else the app's. */
export function consentLanguage(preferred: string | null | undefined, app: Locale): Locale {
  const base = preferred?.toLowerCase().split(/[-_]/)[0];
  return base && base in LOCALES ? (base as Locale) : app;
}

/** The terms sent with the document: only a ticked "I agree" makes a consent. */
export function consentTerms(language: Locale, method: ConsentMethod, agreed: boolean, statement: string = STATEMENT_ID): ConsentTerms | null {
  if (!agreed) return null;
  return { statement, language, agreed: true, method };
}

/** The upload that carries a consent: a document of kind `consent`, with its terms, for the
 *  person served (no `registration`) or for a household being registered. */
export function consentUpload(terms: ConsentTerms, fileName: string, registration: string | null = null, maxBytes?: number): UploadMeta {
  return { kind: 'consent', fileName, replaces: null, consent: terms, registration, maxBytes };
}

/** The file name of a signature drawn on the pad: "consent-signature-2026-03-14-0930.png". */
export function signatureFileName(at: Date = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `consent-signature-${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}-${two(at.getHours())}${two(at.getMinutes())}.png`;
}

// ——— The signature pad ———

export type Point = { x: number; y: number };

/**
 * A signature's strokes, in CSS pixels of the pad. A pad counts as signed once the ink drawn
 * adds up to MIN_INK pixels: a stray tap or a brush of the palm is not a signature.
 */
export class Strokes {
  static readonly MIN_INK = 20;
  readonly strokes: Point[][] = [];
  private current: Point[] | null = null;

  start(p: Point): void {
    this.current = [p];
    this.strokes.push(this.current);
  }

  /** Add a point to the stroke being drawn; false when no stroke is (the pointer is up). */
  move(p: Point): boolean {
    if (!this.current) return false;
    this.current.push(p);
    return true;
  }

  end(): void {
    this.current = null;
  }

  get drawing(): boolean {
    return this.current !== null;
  }

  clear(): void {
    this.strokes.length = 0;
    this.current = null;
  }

  /** Length of all the lines drawn. */
  ink(): number {
    let total = 0;
    for (const s of this.strokes) for (let i = 1; i < s.length; i++) total += Math.hypot(s[i].x - s[i - 1].x, s[i].y - s[i - 1].y);
    return total;
  }

  isEmpty(): boolean {
    return this.ink() < Strokes.MIN_INK;
  }
}

/** The canvas's own pixels for a pad of `width` × `height` CSS px: enough for the screen's
 *  density (devicePixelRatio), so the line is sharp on a tablet, whole pixels, at least 1. */
export function canvasPixels(width: number, height: number, ratio: number): { width: number; height: number; scale: number } {
  const scale = Number.isFinite(ratio) && ratio > 0 ? ratio : 1;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), scale };
}
