// The text size setting (WCAG 1.4.4, resize text to 200%). It zooms the whole web view through
// Tauri rather than raising the root font size: text, controls, spacing and pixel-sized borders
// grow together and the layout reflows into a narrower viewport, exactly as browser zoom does, so
// no screen needs sizes of its own for it. Like the language, the choice is remembered on the
// device (it is not personal data) and applied again when the app starts, since the web view
// always starts at 100%.

import { getCurrentWebview } from '@tauri-apps/api/webview';

/** The offered sizes, as zoom factors (1 = 100%). */
export const TEXT_SIZES = [1, 1.5, 2] as const;
export type TextSize = (typeof TEXT_SIZES)[number];
const STORAGE_KEY = 'doorstep.textSize';

/** The saved choice when it is one of the offered sizes, else 100%. */
export function initialTextSize(saved: string | null): TextSize {
  return TEXT_SIZES.find((size) => String(size) === saved) ?? 1;
}

function readSaved(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

let current = $state<TextSize>(initialTextSize(readSaved()));

export function textSize(): TextSize {
  return current;
}

/**
 * Zoom the web view to `next` and remember it. Rejects (changing and saving nothing) when Tauri
 * refuses, e.g. without the `core:webview:allow-set-webview-zoom` capability, so the screen can
 * say so instead of showing a size that is not in effect.
 */
export async function setTextSize(next: TextSize): Promise<void> {
  await getCurrentWebview().setZoom(next);
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, String(next));
  } catch {
    /* private mode: the choice lasts for this run */
  }
}

/** At start: bring back the remembered size. 100% is what the web view starts with anyway. */
export async function applyTextSize(): Promise<void> {
  if (current === 1) return;
  try {
    await getCurrentWebview().setZoom(current);
  } catch (e) {
    // The app stays usable at 100%; Settings still offers the choice (and reports its failure).
    console.warn(`could not restore the text size ${current}: ${e}`);
    current = 1;
  }
}
