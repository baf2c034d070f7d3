// The review desk's small pieces of logic, kept out of the components so they are tested alone.
// What a reviewer may do next is the registry's answer (`ReviewCase.next_statuses`), never
// worked out here.

import type { ApplicationStatus, DocumentKind, ReviewQueueItem } from './bindings';

/** The statuses the queue's filter offers: those an application waits in. */
export const REVIEW_STATUSES: readonly ApplicationStatus[] = ['submitted', 'under_review', 'more_information_needed'];

/** Whole days since `iso` (0 for today or a time in the future). */
export function waitedDays(iso: string, now = Date.now()): number {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return 0;
  return Math.max(0, Math.floor((now - at) / 86_400_000));
}

/** A later page appended, each application once. */
export function appendById(shown: ReviewQueueItem[], page: ReviewQueueItem[]): ReviewQueueItem[] {
  const seen = new Set(shown.map((i) => i.application_id));
  return [...shown, ...page.filter((i) => !seen.has(i.application_id))];
}

/** Moves that the applicant reads a note for: the registry refuses them without one. */
export function needsNote(to: ApplicationStatus): boolean {
  return to === 'more_information_needed' || to === 'rejected';
}

/** The order the decision buttons come in: the usual next step first, the final ones last. */
const ORDER: ApplicationStatus[] = ['under_review', 'more_information_needed', 'approved', 'rejected', 'submitted', 'draft'];
export function decisionOrder(next: readonly ApplicationStatus[]): ApplicationStatus[] {
  return [...next].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
}

/** Missing document kinds, for the sentence that lists them. */
export function missingList(kinds: readonly DocumentKind[], word: (k: DocumentKind) => string): string {
  return kinds.map(word).join(', ');
}
