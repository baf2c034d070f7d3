// The agent's end-of-day summary in plain words: pure helpers (the start of the local day the
// core counts from, and which sentences the counts make), so the screen only lays them out.

import type { DaySummary } from './bindings';

/** The start of the agent's local day as RFC 3339 (UTC): what `daySummary` counts from. */
export function startOfDay(now: Date = new Date()): string {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).toISOString();
}

/** One sentence: a plural catalog key and its count. */
export type Line = { key: string; count: number };

/** What was done today, in reading order. Nothing done reads as one sentence, not a list of zeros. */
export function doneLines(s: DaySummary): Line[] {
  if (s.changesMade === 0) return [{ key: 'day.nothing', count: 0 }];
  const lines: Line[] = [{ key: 'day.changes', count: s.changesMade }];
  lines.push({ key: 'day.sent', count: s.sent });
  if (s.waiting > 0) lines.push({ key: 'day.waiting', count: s.waiting });
  if (s.householdsRegistered > 0) lines.push({ key: 'day.households', count: s.householdsRegistered });
  if (s.peopleRegistered > 0) lines.push({ key: 'day.people', count: s.peopleRegistered });
  if (s.peopleServed > 0) lines.push({ key: 'day.served', count: s.peopleServed });
  return lines;
}

/** What needs the agent before the day ends, most pressing first, each with where to go. */
export type Need = Line & { action: 'conflicts' | 'sync' | 'resume' | 'notices' };

export function needs(s: DaySummary): Need[] {
  const list: Need[] = [];
  // The installation wipes a laptop that stays away from the registry too long: say so first.
  if (s.wipeInDays !== null) {
    const key = s.wipeInDays === 0 ? 'day.need.wipeToday' : 'day.need.wipe';
    list.push({ key, count: s.wipeInDays, action: 'sync' });
  }
  if (s.refused > 0) list.push({ key: 'day.need.refused', count: s.refused, action: 'conflicts' });
  if (s.conflicts > 0) list.push({ key: 'day.need.conflicts', count: s.conflicts, action: 'conflicts' });
  if (s.waitingAll > 0) list.push({ key: 'day.need.waiting', count: s.waitingAll, action: 'sync' });
  if (s.registrationsInProgress > 0) list.push({ key: 'day.need.inProgress', count: s.registrationsInProgress, action: 'resume' });
  if (s.duplicateNotices > 0) list.push({ key: 'day.need.notices', count: s.duplicateNotices, action: 'notices' });
  return list;
}
