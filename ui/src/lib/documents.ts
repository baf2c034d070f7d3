// What the documents screen needs besides its markup: the checks made before a file is sent,
// sizes and names as people read them, the programmes' requirements grouped, and whether this
// computer has a camera.

import type { DocumentKind, DocumentView, Requirement } from './bindings';
import { locale, t } from '../i18n/i18n.svelte';
import { usableLocale } from './session';

export const DOCUMENT_KINDS: readonly DocumentKind[] = ['id_card', 'proof_of_address', 'income_certificate', 'photo', 'other'];

/** What the file chooser offers: photos, scans and PDFs (what the registry accepts). */
export const ACCEPT = 'image/jpeg,image/png,image/webp,image/heic,image/tiff,application/pdf';
/** Types refused before sending. The registry also takes HEIF; an empty type (unknown to the system) is left to the registry. */
const ACCEPTED_TYPES = new Set([...ACCEPT.split(','), 'image/heif']);

const KB = 1024;
const MB = 1024 * 1024;

/**
 * A size as the person's language writes it: "850 kB", "3.4 MB", "3,4 Mo", in binary units like
 * the registry's limit. The unit is the one `like` would get, so "0 MB of 3 MB" reads evenly.
 */
export function formatSize(bytes: number, lang: string = locale(), like: number = bytes): string {
  const loc = usableLocale(lang);
  if (like < MB) {
    const kb = Math.max(bytes > 0 ? 1 : 0, Math.round(bytes / KB));
    return new Intl.NumberFormat(loc, { style: 'unit', unit: 'kilobyte', maximumFractionDigits: 0 }).format(kb);
  }
  const mb = bytes / MB;
  return new Intl.NumberFormat(loc, { style: 'unit', unit: 'megabyte', maximumFractionDigits: mb < 10 ? 1 : 0 }).format(mb);
}

/** Why a file cannot be added, in the person's language; null when it can. Checked before anything is sent. */
export function fileProblem(file: { size: number; type: string }, maxBytes: number): string | null {
  if (file.size === 0) return t('documents.empty');
  if (file.size > maxBytes) return t('documents.tooLarge', { size: formatSize(file.size), max: formatSize(maxBytes) });
  if (file.type !== '' && !ACCEPTED_TYPES.has(file.type)) return t('documents.wrongType');
  return null;
}

/** The requirements by programme, in the order the programmes come. */
export function byProgramme(requirements: readonly Requirement[]): [string, Requirement[]][] {
  const groups = new Map<string, Requirement[]>();
  for (const r of requirements) {
    const group = groups.get(r.programme);
    if (group) group.push(r);
    else groups.set(r.programme, [r]);
  }
  return [...groups];
}

/** What a preview of `doc` can show: the picture, or why there is none. */
export type PreviewKind = 'image' | 'pdf' | 'notOnDevice' | 'other';

export function previewKind(doc: Pick<DocumentView, 'mimeType' | 'onDevice'>): PreviewKind {
  if (!doc.onDevice) return 'notOnDevice';
  if (doc.mimeType.startsWith('image/')) return 'image';
  if (doc.mimeType === 'application/pdf') return 'pdf';
  return 'other';
}

/** A file name for a photo taken with the camera: "photo-2026-03-14-0930.jpg" (local time). */
export function photoFileName(at: Date = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `photo-${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}-${two(at.getHours())}${two(at.getMinutes())}.jpg`;
}

/** Whether this computer has a camera the page may ask for (false when the web view offers none). */
export async function hasCamera(): Promise<boolean> {
  const devices = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
  if (typeof devices?.enumerateDevices !== 'function') return false;
  try {
    return (await devices.enumerateDevices()).some((d) => d.kind === 'videoinput');
  } catch {
    return false;
  }
}

/** The file chosen in a file input's `change` event, the input cleared so the same file can be
 *  chosen again after a failure. */
export function takeChosenFile(e: Event): File | null {
  const input = e.currentTarget as HTMLInputElement;
  const file = input.files?.[0] ?? null;
  input.value = '';
  return file;
}
