import { describe, expect, it } from 'vitest';
import type { StaffEntry } from './bindings';
import { appendPage, dayOf, parseAreas, replaceEntry, whoOf } from './staff';

function entry(id: string, extra: Partial<StaffEntry> = {}): StaffEntry {
  return {
    id,
    issuer: 'http://127.0.0.1:9000',
    subject: `sub-${id}`,
    email: null,
    role: 'staff',
    areas: [],
    granted_by: 'admin:root',
    granted_at: '2026-12-01T08:00:00Z',
    changed_by: null,
    changed_at: null,
    revoked_by: null,
    revoked_at: null,
    ...extra,
  };
}

describe('parseAreas', () => {
  it('splits on commas, spaces and new lines and drops blanks', () => {
    expect(parseAreas(' KE.30, KE.31\nKE.32 ;KE.33 ')).toEqual(['KE.30', 'KE.31', 'KE.32', 'KE.33']);
  });
  it('gives no areas for an empty field', () => {
    expect(parseAreas('  \n ')).toEqual([]);
  });
  it('keeps a repeat for the registry to name', () => {
    expect(parseAreas('KE.30 KE.30')).toEqual(['KE.30', 'KE.30']);
  });
});

describe('whoOf', () => {
  it('prefers the e-mail address', () => {
    expect(whoOf({ subject: null, email: 'a@example.org' })).toBe('a@example.org');
    expect(whoOf({ subject: 'abc', email: null })).toBe('abc');
  });
});

describe('dayOf', () => {
  it('words the date in the language asked', () => {
    expect(dayOf('2026-12-01T08:00:00Z', 'en')).toBe('Dec 1, 2026');
    expect(dayOf('2026-12-01T08:00:00Z', 'fr')).toBe('1 déc. 2026');
  });
  it('shows nothing for no date and the text itself for a bad one', () => {
    expect(dayOf(null, 'en')).toBe('');
    expect(dayOf('soon', 'en')).toBe('soon');
  });
});

describe('pages and changes', () => {
  it('appends a page without repeating an entry', () => {
    expect(appendPage([entry('1'), entry('2')], [entry('2'), entry('3')]).map((e) => e.id)).toEqual(['1', '2', '3']);
  });
  it('replaces a changed entry where it was', () => {
    const changed = entry('2', { role: 'admin' });
    expect(replaceEntry([entry('1'), entry('2')], changed, false).map((e) => [e.id, e.role])).toEqual([
      ['1', 'staff'],
      ['2', 'admin'],
    ]);
  });
  it('adds a new entry at the end', () => {
    expect(replaceEntry([entry('1')], entry('9'), false).map((e) => e.id)).toEqual(['1', '9']);
  });
  it('drops a revoked entry unless revoked ones are shown', () => {
    const revoked = entry('2', { revoked_at: '2026-12-02T08:00:00Z', revoked_by: 'admin:root' });
    expect(replaceEntry([entry('1'), entry('2')], revoked, false).map((e) => e.id)).toEqual(['1']);
    expect(replaceEntry([entry('1'), entry('2')], revoked, true).map((e) => e.id)).toEqual(['1', '2']);
  });
});
