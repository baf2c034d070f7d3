// The staff directory screen's small pieces of logic, kept out of the component so they are
// tested on their own. The rules themselves (which areas suit which role, which issuer may
// grant what) are the registry's: it answers with a reason the screen shows.

import type { StaffEntry, StaffRole } from './bindings';

/** Every role the directory gives, in the order the form offers them. */
export const STAFF_ROLES: readonly StaffRole[] = ['agent', 'staff', 'admin'];

/**
 * Area codes as typed: separated by commas, spaces or new lines, blanks dropped. Kept in the
 * order typed; a repeat is left for the registry to name.
 */
export function parseAreas(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((a) => a.trim())
    .filter((a) => a !== '');
}

/** How an entry's person is named on the screen: their e-mail address, else their subject. */
export function whoOf(entry: Pick<StaffEntry, 'subject' | 'email'>): string {
  return entry.email ?? entry.subject ?? '';
}

/** The date part of an RFC 3339 time, in the person's language. */
export function dayOf(iso: string | null, lang: string): string {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(at);
}

/** Entries of a later page appended to what is shown, each once (a retried page repeats none). */
export function appendPage(shown: StaffEntry[], page: StaffEntry[]): StaffEntry[] {
  const seen = new Set(shown.map((e) => e.id));
  return [...shown, ...page.filter((e) => !seen.has(e.id))];
}

/** The shown list after the registry answered a change: the entry replaced where it was. */
export function replaceEntry(shown: StaffEntry[], changed: StaffEntry, includeRevoked: boolean): StaffEntry[] {
  const kept = shown.map((e) => (e.id === changed.id ? changed : e));
  const present = kept.some((e) => e.id === changed.id) ? kept : [...kept, changed];
  return includeRevoked ? present : present.filter((e) => !e.revoked_at);
}
