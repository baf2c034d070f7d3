import { describe, expect, it } from 'vitest';
import type { DaySummary } from './bindings';
import { doneLines, needs, startOfDay } from './day';
import { setLocale, tn } from '../i18n/i18n.svelte';

const day = (over: Partial<DaySummary> = {}): DaySummary => ({
  changesMade: 0,
  sent: 0,
  waiting: 0,
  refused: 0,
  conflicts: 0,
  householdsRegistered: 0,
  peopleRegistered: 0,
  peopleServed: 0,
  registrationsInProgress: 0,
  waitingAll: 0,
  duplicateNotices: 0,
  wipeInDays: null,
  ...over,
});

describe('the end of the day in words', () => {
  it('counts from the start of the local day', () => {
    const start = new Date(startOfDay(new Date(2026, 2, 14, 17, 30)));
    expect([start.getFullYear(), start.getMonth(), start.getDate(), start.getHours(), start.getMinutes()]).toEqual([2026, 2, 14, 0, 0]);
    expect(startOfDay(new Date(2026, 2, 14, 17, 30))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('says nothing was done in one sentence, not a list of zeros', () => {
    expect(doneLines(day())).toEqual([{ key: 'day.nothing', count: 0 }]);
  });

  it('says what was done, leaving out what did not happen', () => {
    const lines = doneLines(day({ changesMade: 12, sent: 10, waiting: 2, householdsRegistered: 1, peopleRegistered: 4, peopleServed: 5 }));
    setLocale('en');
    expect(lines.map((l) => tn(l.key, l.count))).toEqual([
      'You made 12 changes on this device.',
      '10 of them have reached the registry.',
      '2 are still waiting to be sent.',
      'You registered 1 household.',
      '4 people are new to the registry.',
      'You served 5 people.',
    ]);
    expect(doneLines(day({ changesMade: 3, sent: 3 })).map((l) => l.key)).toEqual(['day.changes', 'day.sent']);
  });

  it('lists what needs the agent, most pressing first, each with where to go', () => {
    expect(needs(day({ changesMade: 3, sent: 3 }))).toEqual([]);
    const list = needs(day({ refused: 1, conflicts: 2, waitingAll: 3, registrationsInProgress: 1, duplicateNotices: 2 }));
    expect(list.map((n) => n.action)).toEqual(['conflicts', 'conflicts', 'sync', 'resume', 'notices']);
    setLocale('fr');
    expect(tn(list[2].key, list[2].count)).toBe('3 modifications ne sont que sur cet appareil. Connectez-vous et synchronisez avant de partir.');
    setLocale('en');
    expect(tn(list[0].key, list[0].count)).toBe('1 change was refused by the registry. Fix it or discard it.');
  });
});

describe('a laptop about to forget its data', () => {
  it('says so first, with the days left, or today', () => {
    expect(needs(day()).find((n) => n.key.startsWith('day.need.wipe'))).toBeUndefined();
    expect(needs(day({ wipeInDays: 2, refused: 1 }))[0]).toEqual({ key: 'day.need.wipe', count: 2, action: 'sync' });
    expect(needs(day({ wipeInDays: 0 }))[0].key).toBe('day.need.wipeToday');
    for (const lang of ['en', 'fr', 'ar'] as const) {
      setLocale(lang);
      expect(tn('day.need.wipeToday', 0)).not.toContain('day.need');
      expect(tn('day.need.wipe', 3)).not.toContain('day.need');
    }
    setLocale('en');
  });
});
