// Small helpers shared by the screens: unwrap command results into a value or a message the
// person can read, and keep the sync status current from the core's events.

import { commands, events, type SyncStatus, type UserError } from './bindings';
import { fieldName, hasText, locale, t } from '../i18n/i18n.svelte';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: UserError };

/**
 * Any IPC failure as a UserError: the Rust side's own (passed through), or a failure before the
 * command ran — an argument Tauri could not read arrives as plain text — or in JavaScript.
 */
export function asUserError(e: unknown): UserError {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    const u = e as Partial<UserError>;
    return { code: u.code as UserError['code'], message: String(u.message), fields: Array.isArray(u.fields) ? u.fields : [], key: u.key ?? null, params: u.params ?? {} };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'storage', message, fields: [], key: null, params: {} };
}

/** Turn a generated command's `Result` into an `Outcome`; a thrown IPC failure becomes an error too. */
export async function attempt<T>(
  call: () => Promise<{ status: 'ok'; data: T } | { status: 'error'; error: UserError }>,
): Promise<Outcome<T>> {
  try {
    const result = await call();
    return result.status === 'ok' ? { ok: true, value: result.data } : { ok: false, error: asUserError(result.error) };
  } catch (e) {
    return { ok: false, error: asUserError(e) };
  }
}

/** Subscribe to sync status changes; returns the unsubscribe function.
 *
 *  The current status is asked for once, after listening starts. Its answer can arrive after
 *  an event sent later (a round ending meanwhile): shown then, that older status would stay on
 *  screen until the next round ("Syncing…" for minutes). So it is shown only if no event came
 *  first. */
export async function watchSync(onStatus: (s: SyncStatus) => void): Promise<() => void> {
  let heard = false;
  const unlisten = await events.syncStatusChanged.listen((e) => {
    heard = true;
    onStatus(e.payload);
  });
  const current = await commands.syncStatus();
  if (!heard) onStatus(current);
  return unlisten;
}

/**
 * Whether each status in turn ends a sync that succeeded after watching began. The first status
 * seen only sets the mark (what is on screen was read after it), unless a sync is running then:
 * its end counts.
 */
export function newSyncSuccesses(): (s: Pick<SyncStatus, 'running' | 'lastSuccess'>) => boolean {
  let last: string | null | undefined;
  return (s) => {
    if (last === undefined) {
      last = s.lastSuccess ?? null;
      if (!s.running) return false;
    }
    if (s.running || !s.lastSuccess || s.lastSuccess === last) return false;
    last = s.lastSuccess;
    return true;
  };
}

/** Run `then` after each sync that succeeds from now on: screens showing what syncs (the
 *  office's decisions, notifications, documents sent) read it again. Returns the unsubscribe
 *  function. */
export function afterEachSync(then: () => void): Promise<() => void> {
  const isNew = newSyncSuccesses();
  return watchSync((s) => {
    if (isNew(s)) then();
  });
}

/** A locale Intl accepts: the given one, else English (POSIX "C" is not a language tag). */
export function usableLocale(locale: string | undefined): string {
  try {
    return Intl.getCanonicalLocales(locale ?? 'en')[0] ?? 'en';
  } catch {
    return 'en';
  }
}

/** "5 minutes ago"-style text for an RFC 3339 time, in the person's language. */
export function ago(iso: string | null, now = Date.now(), lang: string = locale()): string {
  if (!iso) return '';
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(usableLocale(lang), { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

/**
 * An error from the Rust side in the person's language. English shows the Rust message as it is.
 * Other languages word it from the catalogs: a refused input by its reason (`problem.<key>`, with
 * the values it names), each field problem by the domain's code (`validation.<code>`), and
 * anything else by the error's stable code.
 */
export function errorText(error: UserError): string {
  if (locale() === 'en') return [error.message, ...error.fields.map((f) => f.message)].join(' ');
  const reason = error.key ? `problem.${error.key}` : null;
  const params = Object.fromEntries(Object.entries(error.params ?? {}).filter((e): e is [string, string] => e[1] != null));
  const main = reason && hasText(reason) ? t(reason, params) : t(`error.${error.code}`);
  const fields = (error.fields ?? [])
    .filter((f) => hasText(`validation.${f.code}`))
    .map((f) => t(`validation.${f.code}`, { field: fieldName(leafOf(f.field)) }));
  return [main, ...fields].join(' ');
}

/** `address.postal_code` → `postal_code`; `reg_ids[0].value` → `value`. */
function leafOf(path: string): string {
  return path.split('.').pop()?.replace(/\[\d+\]$/, '') ?? path;
}

/** What a command that returns a screen's new data answers. */
export type CommandResult<T> = Promise<{ status: 'ok'; data: T } | { status: 'error'; error: UserError }>;

/**
 * Run a change whose answer is the screen's new data: `apply` takes the data; the result is the
 * error to show, in the person's language, or null when it worked.
 */
export async function change<T>(call: () => CommandResult<T>, apply: (data: T) => void): Promise<string | null> {
  const r = await attempt(call);
  if (!r.ok) return errorText(r.error);
  apply(r.value);
  return null;
}
