import { describe, expect, it } from 'vitest';
import type { Area } from './bindings';
import { areaField, childrenOf, countryOfAreas, levelsOf, pick, sameAreas, startingAreas } from './areas';

const area = (code: string, parent: string | null, level: number, name: string): Area => ({ code, parent, level, name });
const kenya: Area[] = [
  area('KE.31', null, 1, 'Siaya'),
  area('KE.30', null, 1, 'Kisumu'),
  area('KE.30.2', 'KE.30', 2, 'Nyalenda A'),
  area('KE.30.1', 'KE.30', 2, 'Kondele'),
  area('KE.30.1.7', 'KE.30.1', 3, 'Manyatta'),
  area('KE.31.1', 'KE.31', 2, 'Yala Township'),
];
const chosen = (...codes: string[]) => codes.map((c) => {
  const a = kenya.find((k) => k.code === c)!;
  return { level: a.level, code: a.code, name: a.name };
});

describe('the area picker', () => {
  it('offers level 1, then the areas within each choice, by name', () => {
    expect(childrenOf(kenya, null, 'en').map((a) => a.name)).toEqual(['Kisumu', 'Siaya']);
    expect(levelsOf(kenya, [], 'en')).toEqual([{ index: 0, level: 1, options: childrenOf(kenya, null, 'en'), value: '' }]);
    const levels = levelsOf(kenya, chosen('KE.30', 'KE.30.1'), 'en');
    expect(levels.map((l) => [l.level, l.value, l.options.map((o) => o.code)])).toEqual([
      [1, 'KE.30', ['KE.30', 'KE.31']],
      [2, 'KE.30.1', ['KE.30.1', 'KE.30.2']],
      [3, '', ['KE.30.1.7']],
    ]);
    // A ward without villages ends the cascade.
    expect(levelsOf(kenya, chosen('KE.31', 'KE.31.1'), 'en')).toHaveLength(2);
  });

  it('drops the levels below a changed choice, and clears from a level down', () => {
    const before = chosen('KE.30', 'KE.30.1', 'KE.30.1.7');
    expect(pick(kenya, before, 0, 'KE.31')).toEqual(chosen('KE.31'));
    expect(pick(kenya, before, 1, 'KE.30.2')).toEqual(chosen('KE.30', 'KE.30.2'));
    expect(pick(kenya, before, 1, '')).toEqual(chosen('KE.30'));
    expect(pick(kenya, before, 0, 'KE.99')).toEqual([]);
    expect(before).toEqual(chosen('KE.30', 'KE.30.1', 'KE.30.1.7'));
  });

  it('shows a choice no longer in the list as not chosen, and stops there', () => {
    const stale = [{ level: 1, code: 'KE.47', name: 'Nairobi' }];
    expect(levelsOf(kenya, stale, 'en').map((l) => l.value)).toEqual(['']);
  });

  it('starts with the agent’s own areas and their country', () => {
    const own = chosen('KE.30', 'KE.30.1');
    const start = startingAreas({ known: true, areas: kenya, own });
    expect(start).toEqual(own);
    expect(start).not.toBe(own);
    expect(startingAreas(null)).toEqual([]);
    expect(sameAreas(start, own)).toBe(true);
    expect(sameAreas(start, chosen('KE.30'))).toBe(false);
    expect(countryOfAreas(own, ['KE', 'FR'])).toBe('KE');
    expect(countryOfAreas(own, ['FR'])).toBe('');
    expect(countryOfAreas([{ level: 1, code: '30.1', name: 'x' }], ['KE'])).toBe('');
    expect(countryOfAreas([], ['KE'])).toBe('');
    expect(areaField(2)).toBe('area-2');
  });
});
