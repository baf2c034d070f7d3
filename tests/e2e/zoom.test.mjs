// Text at 200% (WCAG 2.2 1.4.4 resize text, 1.4.10 reflow): a citizen picks "Very large" in
// Settings, which zooms the real web view through Tauri. In a 1280×800 window every screen then
// lays out in 640 CSS px, left to right and right to left: none may scroll sideways, cut anything
// off, or break an axe rule. The choice survives quitting and starting the app again.
// Screenshots: zoom-*.png (ZOOM_PAGES=1 also photographs every screen whole, page by page).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { accessibilityViolations, artifactsDir, launchApp, layoutProblems } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

const WINDOW = { width: 1280, height: 800 };
let app;
let $, mainText, pressOn, press, choose, typeInto, waitForText;

before(async () => {
  app = await launchApp();
  ({ $, mainText, pressOn, press, choose, typeInto, waitForText } = drive(app));
  await app.browser.setWindowSize(WINDOW.width, WINDOW.height);
});

after(async () => {
  await app?.close();
});

/** The zoom in effect: the window's width over the page's CSS viewport width. */
const zoom = () => app.browser.execute(() => window.outerWidth / window.innerWidth);

/** A screen at 200%: reflowed without loss, accessible, and photographed (from its top, or
 *  with `show` in the middle of the window). */
async function checkScreen(name, show) {
  // 'instant': Bootstrap makes page scrolling smooth, and the photo would catch it half way.
  await app.browser.execute((selector) => {
    if (selector) document.querySelector(selector)?.scrollIntoView({ block: 'center', behavior: 'instant' });
    else window.scrollTo({ top: 0, behavior: 'instant' });
  }, show ?? null);
  // The photo is of the last painted frame: two animation frames, and fonts and Form.io have
  // settled and the scroll is painted.
  await app.browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
  await app.browser.saveScreenshot(join(artifactsDir, `zoom-${name}.png`));
  if (process.env.ZOOM_PAGES) await photographPages(name);
  assert.ok(Math.abs((await zoom()) - 2) < 0.05, `${name}: the zoom is 200%, not ${await zoom()}`);
  assert.deepEqual(await layoutProblems(app.browser), [], `layout problems at 200% on ${name}`);
  assert.deepEqual(await accessibilityViolations(app.browser), [], `accessibility violations at 200% on ${name}`);
}

test('a citizen signs in and registers, with a household member and a wallet (at 100%)', async () => {
  assert.ok(Math.abs((await zoom()) - 1) < 0.05, `the app starts at 100%, not ${await zoom()}`);
  await press('[data-testid="sign-in"]');
  await typeInto('#passphrase', 'large print 2026');
  await typeInto('#passphrase-repeat', 'large print 2026');
  await press('[data-testid="passphrase-submit"]');
  const given = await $('[name="data[givenName]"]');
  await app.browser.waitUntil(async () => (await given.getValue()) === 'Amina', { ...WAIT, timeoutMsg: 'the form was not prefilled' });
  await typeInto('[name="data[phone]"]', '+254712345678');
  await typeInto('[name="data[email]"]', 'amina@example.org');
  await choose('[name="data[preferredLanguage]"]', 'sw');
  await pressOn(await $('[name="data[confirm]"]'), ' ');
  await pressOn(await $('button[name="data[submit]"]'), 'Enter');
  await (await $('[data-testid="saved"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `not saved:\n${await mainText()}` });

  await press('[data-testid="manage-household"]');
  await press('[data-testid="create-household"]');
  await waitForText('[data-testid="members"]', /Amina Njoroge/, 'the household created');
  await (await $('#member-givenName')).waitForEnabled(WAIT);
  await typeInto('#member-givenName', 'Baraka');
  await typeInto('#member-familyName', 'Njoroge');
  await typeInto('#member-birthdate', '1986-03-12');
  await choose('#member-relationship', 'spouse');
  await press('[data-testid="save-member"]');
  await waitForText('[data-testid="household-message"]', /Baraka Njoroge is added/, 'the member added');
  await press('[data-testid="household-back"]');

  await press('[data-testid="open-finance"]');
  await typeInto('#account-provider', 'mpesa');
  await typeInto('#account-number', '+254 712 345 678');
  await typeInto('#account-holder', 'Amina Njoroge');
  await press('[data-testid="add-account"]');
  await waitForText('[data-testid="finance"]', /payments go here/, 'the wallet added');
  await press('[data-testid="finance-back"]');
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
});

test('Settings: "Very large" is chosen with the keyboard and zooms the web view to 200%', async () => {
  await press('[data-testid="open-settings"]');
  const standard = await $('[data-testid="text-size-100"]');
  await standard.waitForDisplayed(WAIT);
  assert.equal(await standard.isSelected(), true);
  // A radio group: the arrow key moves to the next size and chooses it (150%, then 200%).
  await pressOn(standard, 'ArrowDown');
  await app.browser.waitUntil(async () => Math.abs((await zoom()) - 1.5) < 0.05, { ...WAIT, timeoutMsg: `150% never took effect: ${await zoom()}` });
  await app.browser.keys('ArrowDown');
  await app.browser.waitUntil(async () => Math.abs((await zoom()) - 2) < 0.05, { ...WAIT, timeoutMsg: `200% never took effect: ${await zoom()}` });
  assert.equal(await (await $('[data-testid="text-size-200"]')).isSelected(), true);
  assert.equal(await (await $('[data-testid="text-size-error"]')).isExisting(), false);
  // The page now lays out in half the window's width, in CSS px.
  assert.ok(Math.abs((await app.browser.execute(() => window.innerWidth)) - WINDOW.width / 2) <= 2);
  await checkScreen('settings', '[data-testid="text-size"]');
});

test('at 200% Home, the details form, Household and Payment details reflow without loss', async () => {
  await press('[data-testid="settings-back"]');
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
  await waitForText('[data-testid="home"]', /Household: 2 people/, 'home with its facts');
  await checkScreen('home');

  await press('[data-testid="edit-details"]');
  await (await $('[name="data[givenName]"]')).waitForDisplayed(WAIT);
  await app.browser.waitUntil(async () => (await (await $('[name="data[givenName]"]')).getValue()) === 'Amina', WAIT);
  await checkScreen('details-form');

  await press('[data-testid="manage-household"]');
  await waitForText('[data-testid="members"]', /Baraka Njoroge/, 'the household listed');
  await checkScreen('household');
  // The confirmation replaces a member's buttons: it must fit too.
  await press('[data-testid="remove-member"]');
  await (await $('[data-testid="confirm-remove"]')).waitForDisplayed(WAIT);
  await checkScreen('household-confirm');
  await app.browser.keys('Tab');
  await app.browser.keys('Enter');
  await press('[data-testid="household-back"]');

  await press('[data-testid="open-finance"]');
  await (await $('[data-testid="account"]')).waitForDisplayed(WAIT);
  await checkScreen('payment-details');
  await press('[data-testid="finance-back"]');
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
});

test('at 200% the programmes, an application form, documents and notifications reflow without loss', async () => {
  await press('[data-testid="tab-programmes"]');
  await (await $('[data-code="child-benefit"]')).waitForDisplayed(WAIT);
  await checkScreen('programmes');
  await press('[data-code="child-benefit"] [data-testid="apply"]');
  await (await $('[name="data[childGivenName]"]')).waitForDisplayed(WAIT);
  await checkScreen('application-form');
  await press('[data-testid="application-back"]');
  await press('[data-testid="tab-documents"]');
  await (await $('[data-testid="document-kind"]')).waitForDisplayed(WAIT);
  await checkScreen('documents');
  await press('[data-testid="tab-notifications"]');
  await (await $('[data-testid="notifications"]')).waitForDisplayed(WAIT);
  await checkScreen('notifications');
  await press('[data-testid="tab-home"]');
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
});

test('at 200% in Arabic, right to left, Settings and Home reflow without loss', async () => {
  // The language is chosen from the keyboard in Settings (WebKitWebDriver misplaces pointer
  // clicks on a zoomed page, and a person would use the keys anyway).
  const dir = () => app.browser.execute(() => document.documentElement.dir);
  await press('[data-testid="open-settings"]');
  await press('input[name="language"][value="ar"]', ' ');
  await app.browser.waitUntil(async () => (await dir()) === 'rtl', { ...WAIT, timeoutMsg: 'Arabic never took effect' });
  await waitForText('[data-testid="settings"]', /حجم النص/, 'settings in Arabic');
  assert.equal(await (await $('[data-testid="text-size-200"]')).isSelected(), true);
  await checkScreen('settings-ar', '[data-testid="text-size"]');
  await press('[data-testid="settings-back"]');
  await waitForText('[data-testid="home"]', /مرحباً/, 'home in Arabic');
  await checkScreen('home-ar');
  await press('[data-testid="open-settings"]');
  await press('input[name="language"][value="en"]', ' ');
  await app.browser.waitUntil(async () => (await dir()) === 'ltr', { ...WAIT, timeoutMsg: 'English never came back' });
  await press('[data-testid="settings-back"]');
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
});

test('the text size is remembered when the app starts again', async () => {
  await app.restart();
  await app.browser.setWindowSize(WINDOW.width, WINDOW.height);
  // Signed out, locked or straight in (whether sign-in was remembered): any first screen will do.
  await (await $('[data-testid="unlock-offline"], [data-testid="sign-in"], #passphrase, [data-testid="home"]')).waitForDisplayed({
    ...WAIT,
    timeoutMsg: `no first screen after the restart:\n${await mainText()}`,
  });
  await app.browser.waitUntil(async () => Math.abs((await zoom()) - 2) < 0.05, { ...WAIT, timeoutMsg: `the app started at ${await zoom()}, not 200%` });
  await checkScreen('welcome');
});

/** For a person reviewing the layout: the whole page, one window-height photo at a time. */
async function photographPages(name) {
  const [height, total] = await app.browser.execute(() => [window.innerHeight, document.documentElement.scrollHeight]);
  for (let i = 0, top = 0; top < total; i++, top += height) {
    await app.browser.execute((y) => window.scrollTo({ top: y, behavior: 'instant' }), top);
    await app.browser.saveScreenshot(join(artifactsDir, `page-${name}-${i}.png`));
  }
}
