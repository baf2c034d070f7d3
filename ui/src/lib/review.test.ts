import { describe, expect, it } from 'vitest';
import type { ReviewQueueItem } from './bindings';
import { appendById, decisionOrder, missingList, needsNote, waitedDays } from './review';

function item(id: string): ReviewQueueItem {
  return {
    application_id: id,
    rev: 1,
    status: 'submitted',
    waiting_since: '2026-12-01T08:00:00Z',
    programme_id: 'p',
    programme_name: 'Child Benefit',
    form_version: 1,
    applicant_id: 'a',
    applicant_name: 'Amina',
    area: 'KE.30',
    documents_pending: 0,
  };
}

describe('waitedDays', () => {
  const now = Date.parse('2026-12-07T10:00:00Z');
  it('counts whole days', () => {
    expect(waitedDays('2026-12-01T08:00:00Z', now)).toBe(6);
    expect(waitedDays('2026-12-07T09:00:00Z', now)).toBe(0);
  });
  it('never goes below zero and ignores a bad time', () => {
    expect(waitedDays('2026-12-08T09:00:00Z', now)).toBe(0);
    expect(waitedDays('soon', now)).toBe(0);
  });
});

describe('the queue and the decisions', () => {
  it('appends a page without repeating an application', () => {
    expect(appendById([item('1'), item('2')], [item('2'), item('3')]).map((i) => i.application_id)).toEqual(['1', '2', '3']);
  });
  it('asks for a note where the applicant must be told why', () => {
    expect(needsNote('rejected')).toBe(true);
    expect(needsNote('more_information_needed')).toBe(true);
    expect(needsNote('approved')).toBe(false);
    expect(needsNote('under_review')).toBe(false);
  });
  it('orders the buttons with the final decisions last', () => {
    expect(decisionOrder(['rejected', 'approved', 'more_information_needed'])).toEqual(['more_information_needed', 'approved', 'rejected']);
  });
  it('lists missing documents in words', () => {
    expect(missingList(['id_card', 'photo'], (k) => k.toUpperCase())).toBe('ID_CARD, PHOTO');
  });
});
