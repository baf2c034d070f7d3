// The virtualised list in a DOM: with ten thousand items only a screenful (plus overscan) is
// rendered, scrolling renders the rows at the new position, and the keyboard moves through the
// whole list, keeping the active row rendered and in view. jsdom does no layout, so the
// viewport's height is given here (clientHeight); scrollTop is stored as set, like a browser's.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import VirtualList from './VirtualList.svelte';

interface Item {
  id: string;
  name: string;
}

const ROW = 40;
const VIEWPORT = 400; // ten rows in view
const OVERSCAN = 4;
/** The most rows the list may render: those in view, a partly visible one, overscan both sides,
 *  and the active row when scrolled away from it. */
const MOST = VIEWPORT / ROW + 1 + 2 * OVERSCAN + 1;

const many = (n: number, prefix = 'Person'): Item[] => Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, name: `${prefix} ${i}` }));

const row = createRawSnippet((item: () => Item) => ({ render: () => `<span class="name">${item().name}</span>` }));

let clientHeight: PropertyDescriptor | undefined;
beforeAll(() => {
  clientHeight = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight');
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
    configurable: true,
    get(this: HTMLElement) {
      return this.getAttribute('role') === 'listbox' ? VIEWPORT : 0;
    },
  });
});
afterAll(() => {
  if (clientHeight) Object.defineProperty(HTMLElement.prototype, 'clientHeight', clientHeight);
});
afterEach(() => cleanup());

function setup(items = many(10_000)) {
  const onactivate = vi.fn();
  const view = render(VirtualList<Item>, {
    props: { items, rowHeight: ROW, key: (i: Item) => i.id, label: 'People found', overscan: OVERSCAN, onactivate, row },
  });
  const listbox = view.getByRole('listbox');
  const options = () => [...listbox.querySelectorAll<HTMLElement>('[role="option"]')];
  const names = () => options().map((o) => o.textContent?.trim());
  const activeName = () => {
    const id = listbox.getAttribute('aria-activedescendant');
    return id ? document.getElementById(id)?.textContent?.trim() : undefined;
  };
  const key = (k: string) => fireEvent.keyDown(listbox, { key: k });
  return { ...view, listbox, options, names, activeName, key, onactivate };
}

describe('VirtualList', () => {
  it('renders only a bounded window of 10,000 items, each telling its place in the whole', () => {
    const { listbox, options, names } = setup();
    expect(options().length).toBeGreaterThanOrEqual(VIEWPORT / ROW);
    expect(options().length).toBeLessThanOrEqual(MOST);
    expect(names()[0]).toBe('Person 0');
    expect(options()[0].getAttribute('aria-setsize')).toBe('10000');
    expect(options()[0].getAttribute('aria-posinset')).toBe('1');
    // The spacer is as tall as all rows, so the scroll bar stands for the whole list.
    expect((listbox.firstElementChild as HTMLElement).style.height).toBe(`${10_000 * ROW}px`);
    // One stop in the Tab order, named.
    expect(listbox.tabIndex).toBe(0);
    expect(listbox.getAttribute('aria-label')).toBe('People found');
  });

  it('renders the rows at the scroll position, and only those', async () => {
    const { listbox, options, names } = setup();
    listbox.scrollTop = 5_000 * ROW;
    await fireEvent.scroll(listbox);
    expect(options().length).toBeLessThanOrEqual(MOST);
    expect(names()).toContain('Person 5000');
    expect(names()).toContain('Person 5009');
    expect(names()).not.toContain('Person 0');
    const first = options().find((o) => o.textContent?.trim() === 'Person 5000')!;
    expect(first.getAttribute('aria-posinset')).toBe('5001');
    expect(first.style.transform).toBe(`translateY(${5_000 * ROW}px)`);
    listbox.scrollTop = 9_990 * ROW;
    await fireEvent.scroll(listbox);
    expect(names()).toContain('Person 9999');
    expect(names()).not.toContain('Person 5000');
  });

  it('moves through the list with the keyboard, keeping the active row rendered and in view', async () => {
    const { listbox, options, activeName, key, onactivate } = setup();
    // Tabbing in makes the first row in view active (a screen reader has something to read).
    await fireEvent.focus(listbox);
    expect(activeName()).toBe('Person 0');
    await key('ArrowDown');
    await key('ArrowDown');
    expect(activeName()).toBe('Person 2');
    expect(document.getElementById(listbox.getAttribute('aria-activedescendant')!)?.getAttribute('aria-selected')).toBe('true');
    await key('ArrowUp');
    expect(activeName()).toBe('Person 1');
    // A page is the rows in view less one: 1 + 9.
    await key('PageDown');
    expect(activeName()).toBe('Person 10');
    // Row 10 ends at 440 px: scrolled just enough to show it whole.
    expect(listbox.scrollTop).toBe(11 * ROW - VIEWPORT);
    await key('End');
    expect(activeName()).toBe('Person 9999');
    expect(listbox.scrollTop).toBe(10_000 * ROW - VIEWPORT);
    expect(options().length).toBeLessThanOrEqual(MOST);
    await key('ArrowDown');
    expect(activeName()).toBe('Person 9999');
    await key('PageUp');
    expect(activeName()).toBe('Person 9990');
    await key('Home');
    expect(activeName()).toBe('Person 0');
    expect(listbox.scrollTop).toBe(0);
    await key('ArrowUp');
    expect(activeName()).toBe('Person 0');
    await key('ArrowDown');
    await key('Enter');
    expect(onactivate).toHaveBeenCalledExactlyOnceWith({ id: 'Person-1', name: 'Person 1' }, 1);
    await key(' ');
    expect(onactivate).toHaveBeenCalledTimes(2);
  });

  it('keeps the active row in the DOM when the list is scrolled away from it', async () => {
    const { listbox, names, options, activeName, key } = setup();
    await fireEvent.focus(listbox);
    await key('ArrowDown');
    expect(activeName()).toBe('Person 1');
    listbox.scrollTop = 7_000 * ROW;
    await fireEvent.scroll(listbox);
    expect(names()).toContain('Person 7000');
    expect(activeName()).toBe('Person 1');
    expect(options().length).toBeLessThanOrEqual(MOST);
    // The keyboard goes on from the active row, bringing it back into view.
    await key('ArrowDown');
    expect(activeName()).toBe('Person 2');
    expect(listbox.scrollTop).toBe(2 * ROW);
  });

  it('activates a row on click', async () => {
    const { getByText, onactivate, activeName } = setup();
    await fireEvent.click(getByText('Person 3'));
    expect(onactivate).toHaveBeenCalledExactlyOnceWith({ id: 'Person-3', name: 'Person 3' }, 3);
    expect(activeName()).toBe('Person 3');
  });

  it('starts again from the top when the items change', async () => {
    const { listbox, names, key, rerender, activeName } = setup();
    await fireEvent.focus(listbox);
    await key('End');
    await rerender({ items: many(50, 'Match') });
    expect(listbox.scrollTop).toBe(0);
    expect(listbox.getAttribute('aria-activedescendant')).toBeNull();
    expect(names()[0]).toBe('Match 0');
    expect(names()).not.toContain('Person 9999');
    expect(listbox.querySelector('[role="option"]')?.getAttribute('aria-setsize')).toBe('50');
    await key('ArrowDown');
    expect(activeName()).toBe('Match 0');
  });
});
