// The "Messages sent" screen's small pieces of logic, kept out of the component so they are
// tested on their own. What is listed, and to whom, is the registry's (GET /v1/outbox).

import type { SentMessage } from './bindings';

/** Messages of an older page appended to what is shown, each once (a retried page repeats none). */
export function appendMessages(shown: SentMessage[], page: SentMessage[]): SentMessage[] {
  const seen = new Set(shown.map((m) => m.id));
  return [...shown, ...page.filter((m) => !seen.has(m.id))];
}

/** An RFC 3339 time as a date and time in the person's language (their own time zone). */
export function timeOf(iso: string | null, lang: string): string {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(at);
}
