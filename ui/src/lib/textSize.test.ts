// The text size setting: it zooms the web view through Tauri, is remembered on the device, is
// applied again at start, and a zoom Tauri refuses is neither shown as chosen nor remembered.
// Tauri's web view API is replaced here; the end-to-end test (tests/e2e/zoom.test.mjs) zooms the
// real one.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const setZoom = vi.hoisted(() => vi.fn(async (_factor: number) => undefined));
vi.mock('@tauri-apps/api/webview', () => ({ getCurrentWebview: () => ({ setZoom }) }));

const KEY = 'doorstep.textSize';

/** The module keeps the size as state from its first import: import it afresh per test. */
async function fresh() {
  vi.resetModules();
  return import('./textSize.svelte');
}

beforeEach(() => {
  localStorage.clear();
  setZoom.mockReset();
  setZoom.mockResolvedValue(undefined);
});
afterEach(() => localStorage.clear());

describe('text size', () => {
  it('starts from the saved size when it is one of those offered', async () => {
    const { initialTextSize } = await fresh();
    expect(initialTextSize('2')).toBe(2);
    expect(initialTextSize('1.5')).toBe(1.5);
    expect(initialTextSize(null)).toBe(1);
    expect(initialTextSize('3')).toBe(1);
    expect(initialTextSize('big')).toBe(1);
  });

  it('zooms the web view and remembers the choice', async () => {
    const { setTextSize, textSize } = await fresh();
    await setTextSize(2);
    expect(setZoom).toHaveBeenCalledExactlyOnceWith(2);
    expect(textSize()).toBe(2);
    expect(localStorage.getItem(KEY)).toBe('2');
  });

  it('applies the remembered size at start, and nothing at 100%', async () => {
    localStorage.setItem(KEY, '1.5');
    let m = await fresh();
    await m.applyTextSize();
    expect(setZoom).toHaveBeenCalledExactlyOnceWith(1.5);
    expect(m.textSize()).toBe(1.5);

    setZoom.mockClear();
    localStorage.setItem(KEY, '1');
    m = await fresh();
    await m.applyTextSize();
    expect(setZoom).not.toHaveBeenCalled();
  });

  it('keeps the size in effect when Tauri refuses the zoom', async () => {
    const { setTextSize, textSize } = await fresh();
    setZoom.mockRejectedValueOnce('webview.set_webview_zoom not allowed');
    await expect(setTextSize(2)).rejects.toBe('webview.set_webview_zoom not allowed');
    expect(textSize()).toBe(1);
    expect(localStorage.getItem(KEY)).toBeNull();
  });
});
