// Wording shared by the registration screens: problems and values in the agent's language.

import { fieldName, t } from '../../i18n/i18n.svelte';
import type { Reason } from '../../lib/bindings';
import { reasonText, type Problem } from '../../lib/registration';

/** A problem shown by its field. */
export function problemText(p: Problem): string {
  return t(p.key, p.field ? { field: fieldName(p.field) } : undefined);
}

/** An ID type's name: ours where we have one, else the registry's code as it is. */
export function idTypeName(code: string): string {
  const text = t(`idType.${code}`);
  return text === `idType.${code}` ? code.replaceAll('_', ' ') : text;
}

/** Why someone may be the same person, in words (the ID type and similarity as people read them). */
export function reasonWords(r: Reason, percent: (ratio: number) => string): string {
  const { key, params } = reasonText(r);
  if (r.reason === 'same_id') return t(key, { idType: idTypeName(r.id_type) });
  if (r.reason === 'similar_name') return t(key, { similarity: percent(r.similarity / 100) });
  return t(key, params);
}
