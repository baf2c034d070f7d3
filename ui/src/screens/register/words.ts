// Wording shared by the registration screens: problems and values in the agent's language.

import { fieldName, t } from '../../i18n/i18n.svelte';
import type { Problem } from '../../lib/registration';

/** A problem shown by its field. */
export function problemText(p: Problem): string {
  return t(p.key, p.field ? { field: fieldName(p.field) } : undefined);
}

/** An ID type's name: ours where we have one, else the registry's code as it is. */
export function idTypeName(code: string): string {
  const text = t(`idType.${code}`);
  return text === `idType.${code}` ? code.replaceAll('_', ' ') : text;
}
