// The household registration's area picker: the registry's administrative areas (as the last
// sync kept them on the device) offered level by level — level 1, then the areas within the one
// chosen, and so on — as plain selects, so the keyboard and screen readers work as usual.

import type { AdminArea, Area, AreaPicker } from './bindings';

/** The deepest level an address records (domain `MAX_ADMIN_LEVEL`). */
export const MAX_AREA_LEVELS = 6;

/** One select of the picker: the areas to choose from at one level, and the one chosen. */
export type AreaLevel = {
  /** Position in the address's list (0 for level 1): also the select's id suffix. */
  index: number;
  level: number;
  options: Area[];
  /** The chosen code, or '' when none (or when the one kept is no longer in the list). */
  value: string;
};

/** The areas directly within `parent` (null: level 1), by name in the agent's language. */
export function childrenOf(areas: readonly Area[], parent: string | null, locale: string): Area[] {
  return areas.filter((a) => (a.parent ?? null) === parent).sort((a, b) => a.name.localeCompare(b.name, locale) || a.code.localeCompare(b.code));
}

/** The selects to show for what is chosen: level 1's, then under each chosen area its own
 *  areas', for as long as there are any. A choice not in the list ends the cascade there. */
export function levelsOf(areas: readonly Area[], chosen: readonly AdminArea[], locale: string): AreaLevel[] {
  const out: AreaLevel[] = [];
  let parent: string | null = null;
  for (let index = 0; index < MAX_AREA_LEVELS; index++) {
    const options = childrenOf(areas, parent, locale);
    if (options.length === 0) break;
    const code = chosen[index]?.code ?? '';
    const value = options.some((o) => o.code === code) ? code : '';
    out.push({ index, level: options[0].level, options, value });
    if (value === '') break;
    parent = value;
  }
  return out;
}

/** What is chosen after picking `code` at `index`: the areas above kept, those below dropped
 *  (they were within the previous choice); '' clears that level and below. */
export function pick(areas: readonly Area[], chosen: readonly AdminArea[], index: number, code: string): AdminArea[] {
  const kept = chosen.slice(0, index).map((a) => ({ ...a }));
  const area = code === '' ? undefined : areas.find((a) => a.code === code);
  return area ? [...kept, { level: area.level, code: area.code, name: area.name }] : kept;
}

/** What a new registration starts with: the agent's own area and those above it. */
export function startingAreas(picker: AreaPicker | null): AdminArea[] {
  return (picker?.own ?? []).map((a) => ({ ...a }));
}

/** Whether two lists name the same areas. */
export function sameAreas(a: readonly AdminArea[], b: readonly AdminArea[]): boolean {
  return a.length === b.length && a.every((x, i) => x.code === b[i].code);
}

/**
 * The country the chosen areas are in, when their codes say so: gazetteers conventionally start
 * a code with the country's ISO code (`KE.30.1`, OCHA's `KE030`), so a new registration can start
 * with the country too. Only a code of `countries` is offered; otherwise ''.
 */
export function countryOfAreas(chosen: readonly AdminArea[], countries: readonly string[]): string {
  const prefix = chosen[0]?.code.slice(0, 2).toUpperCase() ?? '';
  return /^[A-Z]{2}$/.test(prefix) && countries.includes(prefix) ? prefix : '';
}

/** The picker's problem key for the area at `index` of the address (`area-0`, …). */
export function areaField(index: number): string {
  return `area-${index}`;
}
