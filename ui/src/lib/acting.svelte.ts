// The person a field agent is serving ("Acting for"), shared by every screen. The core decides
// whose records a section shows (crates/client/src/app/who.rs); the UI only needs the name, for
// the banner and for wording: a sentence written to a citizen about themself ("your household")
// reads wrong to an agent about someone else, so such sentences have a variant for the agent.

import type { ActingFor } from './bindings';
import { hasText, t } from '../i18n/i18n.svelte';

let current = $state<ActingFor | null>(null);

/** The person served, or null (a citizen's device, or an agent at their caseload). */
export function acting(): ActingFor | null {
  return current;
}

export function setActing(next: ActingFor | null): void {
  current = next;
}

/** The key to word `key` with: its `.agent` variant while acting for someone, when the catalog
 *  has one; else `key` itself. */
export function variantKey(key: string, person: string | null, has: (key: string) => boolean): string {
  return person !== null && has(`${key}.agent`) ? `${key}.agent` : key;
}

/** `t(key)`, worded for the agent while they act for someone (the person's name as {person}). */
export function tFor(key: string, params?: Record<string, string | number>): string {
  const person = current?.name ?? null;
  return t(variantKey(key, person, hasText), person === null ? params : { person, ...params });
}
