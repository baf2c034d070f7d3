// Operating the app the way the tests do, shared by every E2E file: keyboard first (as someone
// without a mouse would), and around two WebKitWebDriver quirks under Xvfb: it refuses pointer
// clicks and typing near the window's lower edge ("not interactable"), so controls are centred
// in the window first, and typing is retried while Form.io or Svelte re-renders a field. Every
// wait is bounded.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { accessibilityViolations, artifactsDir } from './harness.mjs';

export const WAIT = { timeout: 30_000, interval: 200 };

/** A real PNG of `width`×`height` noisy pixels (noise does not compress: a few MB). */
export function png(width, height, seed) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, tail]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let x = seed;
  for (let i = 0; i < raw.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    raw[i] = i % (width * 3 + 1) === 0 ? 0 : x >>> 24;
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}


/** Helpers bound to one launched app (see harness.mjs `launchApp`). */
export function drive(app) {
  const $ = (selector) => app.browser.$(selector);
  const mainText = async () => (await $('main')).getText();

  /** Focus a control (centred in the window) and press a key. */
  async function pressOn(element, key) {
    await app.browser.execute((el) => {
      el.scrollIntoView({ block: 'center' });
      el.focus();
    }, element);
    await app.browser.keys(key);
  }

  async function press(selector, key = 'Enter') {
    const element = await $(selector);
    await element.waitForDisplayed({ ...WAIT, timeoutMsg: `${selector} never appeared:\n${await mainText()}` });
    await pressOn(element, key);
  }

  async function typeInto(selector, value) {
    const element = await $(selector);
    await element.waitForDisplayed({ ...WAIT, timeoutMsg: `${selector} never appeared:\n${await mainText()}` });
    let lastError = '';
    await app.browser.waitUntil(
      async () => {
        // Found again each try: a screen that re-renders (a sync finishing, a language switch)
        // replaces the element, and a detached one is never interactable.
        const current = await $(selector);
        if (!(await current.isExisting())) return false;
        await app.browser.execute((e) => e.scrollIntoView({ block: 'center' }), current);
        // WebDriver cannot send an empty text: emptying a field is done with the keys below.
        if (value !== '') {
          try {
            await current.setValue(value);
            return true;
          } catch (e) {
            if (!/interactable|stale|detached|no such element/i.test(e.message)) throw e;
            lastError = e.message;
          }
        }
        // WebKitWebDriver sometimes calls a visible, uncovered field "not interactable" when the
        // page is zoomed (200% text size): its hit test uses unzoomed coordinates. Type the way a
        // person does instead: focus the field, select what is there, press the keys. Key presses
        // fire the same input events a binding listens to.
        const focused = await app.browser
          .execute((el) => {
            if (!el.isConnected) return false;
            el.scrollIntoView({ block: 'center' });
            el.focus();
            if (typeof el.select === 'function') el.select();
            return document.activeElement === el;
          }, current)
          .catch(() => false);
        if (!focused) return false;
        if (value === '') await app.browser.keys(['Backspace']);
        else await app.browser.keys([...String(value)]);
        if ((await current.getValue().catch(() => null)) === String(value)) return true;
        // Keys can be lost while the screen re-renders around the field (a search list
        // refreshing as each key arrives, on a loaded machine): then set the value and send the
        // input and change events a person's typing ends with, which is what the bindings read.
        await app.browser
          .execute(
            (el, text) => {
              const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
              Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, text);
              el.dispatchEvent(new Event('input', { bubbles: true }));
              el.dispatchEvent(new Event('change', { bubbles: true }));
            },
            current,
            String(value),
          )
          .catch(() => {});
        return (await current.getValue().catch(() => null)) === String(value);
      },
      { ...WAIT, interval: 500, timeoutMsg: `${selector} never became interactable` },
    ).catch(async (e) => {
      // Keep what the window showed, to tell an overlay from a screen that never settled.
      const shot = join(artifactsDir, `failed-type-${selector.replace(/\W+/g, '')}.png`);
      await app.browser.saveScreenshot(shot).catch(() => {});
      throw new Error(`${e.message} (last refusal: ${lastError}; screenshot ${shot}); page:\n${await mainText()}`);
    });
  }

  /** Choose the option with `value` in the select `selector` (a screen that re-renders finds
   *  it again). WebKitWebDriver sometimes calls a visible select "not interactable" (Form.io's
   *  select while the form redraws, or a zoomed page: see typeInto): then choose the way the
   *  keyboard does, which fires the same change event the bindings listen to. */
  async function choose(selector, value) {
    const first = await $(selector);
    await first.waitForDisplayed({ ...WAIT, timeoutMsg: `${selector} never appeared:\n${await mainText()}` });
    let lastError = '';
    await app.browser.waitUntil(
      async () => {
        const select = await $(selector);
        if (!(await select.isExisting())) return false;
        try {
          await select.selectByAttribute('value', value);
        } catch (e) {
          if (!/interactable|stale|detached|no such element/i.test(e.message)) throw e;
          lastError = e.message;
          await app.browser
            .execute(
              (el, want) => {
                if (!el.isConnected) return;
                el.scrollIntoView({ block: 'center', behavior: 'instant' });
                el.focus();
                el.value = want;
                el.dispatchEvent(new Event('input', { bubbles: true }));
                el.dispatchEvent(new Event('change', { bubbles: true }));
              },
              select,
              value,
            )
            .catch(() => {});
        }
        return (await (await $(selector)).getValue().catch(() => null)) === value;
      },
      { ...WAIT, interval: 500, timeoutMsg: `${selector}: ${value} could not be chosen (last refusal: ${lastError})` },
    );
  }

  /** Choose a file in a file input, as WebDriver does it (the path is typed into the input). */
  async function chooseFile(selector, path) {
    const input = await $(selector);
    await input.waitForExist({ ...WAIT, timeoutMsg: `${selector} never appeared:\n${await mainText()}` });
    await input.addValue(path);
  }

  async function waitForText(selector, pattern, what) {
    await app.browser.waitUntil(async () => pattern.test(await (await $(selector)).getText().catch(() => '')), {
      ...WAIT,
      timeoutMsg: `${what}: ${selector} never matched ${pattern}; page:\n${await (await $('body')).getText()}`,
    });
  }

  /** Switch the language from the top bar and wait until the page is in it, its Bootstrap build
   *  (left to right or right to left, lib/theme.ts) loaded: a photo or an axe run taken while the
   *  other build loads sees a page without styles. */
  async function setLanguage(lang) {
    // The top bar is at the top: a screen scrolled down hides it from WebKitWebDriver.
    await app.browser.execute(() => window.scrollTo({ top: 0, behavior: 'instant' }));
    await choose('[data-testid="language"]', lang);
    await app.browser.waitUntil(
      async () =>
        app.browser.execute((want) => {
          const link = document.getElementById('bootstrap-css');
          return document.documentElement.lang === want && !!link?.sheet && link.sheet.href === link.href && link.sheet.cssRules.length > 0;
        }, lang),
      { ...WAIT, timeoutMsg: `the page never switched to ${lang}` },
    );
  }

  /** GET a registry path as staff (who see everything), as JSON; the answer must be a success. */
  let staffToken;
  async function staff(path) {
    staffToken ??= await app.devToken('staff', 'auditor');
    const response = await fetch(`${app.registryUrl}${path}`, { headers: { authorization: `Bearer ${staffToken}` } });
    assert.ok(response.ok, `${path}: ${response.status}`);
    return response.json();
  }

  /** How many elements match `selector` now. */
  const $$count = async (selector) => (await app.browser.$$(selector)).length;

  /** The id of the focused element ('' for none). */
  const focusedId = () => app.browser.execute(() => document.activeElement?.id ?? '');

  /** Photograph the screen and check it with axe in each language, ending in English. */
  async function checkScreen(name) {
    for (const lang of ['en', 'fr', 'ar']) {
      await setLanguage(lang);
      const file = lang === 'en' ? `${name}.png` : `${name}-${lang}.png`;
      await app.browser.saveScreenshot(join(artifactsDir, file));
      assert.deepEqual(await accessibilityViolations(app.browser), [], `accessibility violations on ${name} (${lang})`);
    }
    await setLanguage('en');
  }

  /** Draw one stroke on `pad` through `points` (CSS px from its centre), pressing, moving,
   *  lifting. Window coordinates: WebKitWebDriver's element origin refuses points inside a
   *  canvas. */
  async function sign(pad, points) {
    const centre = await app.browser.execute((el) => {
      // 'instant': Bootstrap makes page scrolling smooth, and the box would still be moving.
      el.scrollIntoView({ block: 'center', behavior: 'instant' });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    }, pad);
    const at = ([dx, dy]) => ({ origin: 'viewport', x: Math.round(centre.x + dx), y: Math.round(centre.y + dy) });
    let action = app.browser.action('pointer', { parameters: { pointerType: 'mouse' } }).move(at(points[0])).down();
    for (const p of points.slice(1)) action = action.move({ ...at(p), duration: 50 });
    await action.up().perform();
  }

  return { $, mainText, pressOn, press, typeInto, choose, chooseFile, waitForText, setLanguage, staff, $$count, focusedId, checkScreen, sign };
}
