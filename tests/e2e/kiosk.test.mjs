// The walk-in kiosk: sign-in happens in the app's own window (no system browser), that window's
// web view keeps no cookies or storage, and signing out leaves nothing of the person behind.
//
// The provider logs the kiosk's visitors in by itself (--auto-login) and prints a `login-step`
// line each time it had to authenticate someone. A second visit that needed no login step would
// mean the provider's session cookie survived in the kiosk: the test requires two.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { accessibilityViolations, artifactsDir, launchApp } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

const IDLE_SECONDS = 10;
let app;
let $, press, setLanguage;

before(async () => {
  app = await launchApp({ mode: 'kiosk', autoLogin: 'person-1', env: { DOORSTEP_KIOSK_IDLE_SECONDS: String(IDLE_SECONDS) } });
  ({ $, press, setLanguage } = drive(app));
});

after(async () => {
  await app?.close();
});

const loginSteps = () => (app.providerOutput().match(/^login-step person-1$/gm) ?? []).length;

async function visit(n) {
  await press('[data-testid="sign-in"]');
  await (await $('[data-testid="home"]')).waitForDisplayed({
    ...WAIT,
    timeoutMsg: `visit ${n}: not signed in:\n${await (await $('main')).getText()}\n${app.logs()}`,
  });
  assert.equal(loginSteps(), n, `visit ${n}: the provider authenticated the visitor afresh`);
  assert.match(await (await $('main')).getText(), /Hello, Amina Njoroge/);
  // The sign-in window is gone once the sign-in is over.
  await app.browser.waitUntil(async () => (await app.browser.getWindowHandles()).length === 1, {
    ...WAIT,
    timeoutMsg: 'the sign-in window stayed open',
  });
}

function partitionsLeft() {
  return readdirSync(join(app.dataDir, 'partitions'));
}

test('a visitor signs in in the app window, without a passphrase step, and is online', async () => {
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
  const welcome = await (await $('main')).getText();
  assert.doesNotMatch(welcome, /Stay signed in/, 'a kiosk never offers to remember anyone');
  assert.doesNotMatch(welcome, /Open your data on this device/, 'a kiosk never offers offline profiles');
  await visit(1);
  await app.browser.saveScreenshot(join(artifactsDir, 'kiosk-home.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on kiosk-home');
  assert.equal(partitionsLeft().length, 1, 'the visit has its encrypted data while signed in');
});

test('signing out leaves no data, and the next visitor starts with a clean sign-in window', async () => {
  await press('[data-testid="sign-out"]');
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
  assert.deepEqual(partitionsLeft(), [], 'nothing of the visitor stays on disk');
  await visit(2);
  // The visitor reads in French; the next one must not find the kiosk in their language.
  await setLanguage('fr');
  await press('[data-testid="sign-out"]');
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
  assert.deepEqual(partitionsLeft(), []);
  assert.notEqual(
    await app.browser.execute(() => document.documentElement.lang),
    'fr',
    "the visitor's language stayed for the next one",
  );
  await app.browser.saveScreenshot(join(artifactsDir, 'kiosk-signed-out.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on kiosk-signed-out');
});

test('a visitor who walks away is warned, then signed out, and their data is gone', async () => {
  await visit(3);
  // Input resets the count: the warning does not come while someone is using the screen.
  await new Promise((r) => setTimeout(r, (IDLE_SECONDS - 3) * 1000));
  await app.browser.keys('Shift');
  await new Promise((r) => setTimeout(r, 4_000));
  assert.equal(await (await $('[data-testid="idle-warning"]')).isExisting(), false, 'warned despite input');
  const warning = await $('[data-testid="idle-warning"]');
  await warning.waitForDisplayed({ ...WAIT, timeoutMsg: 'no idle warning' });
  assert.match(await warning.getText(), /signed out in \d+ seconds/);
  await app.browser.saveScreenshot(join(artifactsDir, 'kiosk-idle-warning.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on kiosk-idle-warning');
  await (await $('[data-testid="sign-in"]')).waitForDisplayed({ ...WAIT, timeoutMsg: 'not signed out after the warning' });
  assert.deepEqual(partitionsLeft(), [], 'nothing of the visitor stays on disk');
});
