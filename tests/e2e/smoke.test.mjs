// Smoke test: the real app, under Xvfb, driven like a person would: the first screen renders the
// Form.io form, the registry shows as online, the form is filled and submitted, the result is read
// back from the page, and nothing was requested from outside this machine.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { artifactsDir, launchApp } from './harness.mjs';

const WAIT = { timeout: 30_000, interval: 200 };
let app;

before(async () => {
  app = await launchApp();
});

after(async () => {
  await app?.close();
});

const field = (key) => app.browser.$(`[name="data[${key}]"]`);

/** Operate a control from the keyboard, as someone without a mouse would: focus it, press a key.
 *  (WebKitWebDriver also refuses pointer clicks near the window's lower edge under Xvfb.) */
async function pressOn(element, key) {
  await app.browser.execute((el) => {
    el.scrollIntoView({ block: 'center' });
    el.focus();
  }, element);
  await app.browser.keys(key);
}

async function clickSubmit() {
  await pressOn(await app.browser.$('button[name="data[submit]"]'), 'Enter');
}

test('first screen renders the Form.io form and sees the registry online', async () => {
  const { browser } = app;
  await (await field('givenName')).waitForDisplayed(WAIT);
  const status = await browser.$('[data-testid="registry-status"]');
  await browser.waitUntil(async () => (await status.getText()).includes('Online'), {
    ...WAIT,
    timeoutMsg: 'registry status never became Online',
  });
  assert.match(await browser.$('#form-title').getText(), /Update your contact details/);
  assert.match(await browser.$('footer').getText(), new RegExp(app.registryUrl.replace(/[.]/g, '\\.')));
  await browser.saveScreenshot(join(artifactsDir, 'smoke-form.png'));
});

test('an invalid phone number is refused with a message that says how to fix it', async () => {
  const { browser } = app;
  await (await field('phone')).setValue('0712 345 678');
  await clickSubmit();
  await browser.waitUntil(async () => (await browser.$('main').getText()).includes('with + and the country code'), {
    ...WAIT,
    timeoutMsg: 'no phone validation message',
  });
  assert.equal(await browser.$('[data-testid="submission-result"]').isExisting(), false);
  await (await field('phone')).clearValue();
});

test('filling and submitting the form shows what was saved', async () => {
  const { browser } = app;
  await (await field('givenName')).setValue('Amina');
  await (await field('familyName')).setValue('Odhiambo');
  // The date field is a flatpickr calendar bundled with the app; typing into it is allowed.
  const birthdate = await browser.$('.formio-component-birthdate input.input');
  // Form.io attaches flatpickr after the field renders; on a busy machine the first click can
  // land before that, so click again (bounded) until the calendar opens.
  await browser.waitUntil(
    async () => {
      await birthdate.click();
      return browser.$('.flatpickr-calendar.open').isDisplayed();
    },
    { ...WAIT, interval: 1000, timeoutMsg: 'the date picker never opened' },
  );
  await birthdate.setValue('2001-04-13');
  await browser.keys('Tab');
  await (await field('phone')).setValue('+254712345678');
  await (await field('email')).setValue('amina@example.org');
  await (await field('preferredLanguage')).selectByAttribute('value', 'sw');
  await (await field('householdSize')).setValue('4');
  await pressOn(await field('confirm'), ' ');
  assert.equal(await (await field('confirm')).isSelected(), true, 'confirmation box ticked');
  await browser.saveScreenshot(join(artifactsDir, 'smoke-filled.png'));
  await clickSubmit();

  const result = await browser.$('[data-testid="submission-result"]');
  await result.waitForDisplayed({ ...WAIT, timeoutMsg: `form was not submitted:\n${await browser.$('main').getText()}` });
  const value = async (key) => (await browser.$(`[data-testid="submission-result"] dd[data-key="${key}"]`)).getText();
  assert.equal(await value('givenName'), 'Amina');
  assert.equal(await value('familyName'), 'Odhiambo');
  assert.equal(await value('birthdate'), '2001-04-13');
  assert.equal(await value('phone'), '+254712345678');
  assert.equal(await value('preferredLanguage'), 'Kiswahili');
  assert.equal(await value('householdSize'), '4');
  assert.equal(await value('confirm'), 'Yes');
  await browser.saveScreenshot(join(artifactsDir, 'smoke-result.png'));
});

test('the page requested nothing from outside this machine and broke no CSP rule', async () => {
  const { browser } = app;
  const { resources, violations, bootErrors, origin } = await browser.execute(() => ({
    resources: performance.getEntriesByType('resource').map((e) => e.name),
    violations: window.__doorstepCspViolations ?? null,
    bootErrors: window.__doorstepBootErrors ?? null,
    origin: location.origin,
  }));
  assert.deepEqual(bootErrors, [], 'script errors recorded by boot-guard.js');
  assert.ok(Array.isArray(violations), 'the app records CSP violations in window.__doorstepCspViolations');
  // Every request for something not bundled (a CDN script, font, stylesheet, time-zone data)
  // would have been blocked by the CSP and recorded here.
  assert.deepEqual(violations, [], 'Content-Security-Policy violations');
  // WebKit lists only http(s) loads in resource timing (not the app's own tauri:// assets), so
  // any entry at all would be a request that went to a network.
  const local = (url) =>
    url.startsWith(origin) || /^(tauri|ipc|asset|data|blob):/.test(url) || /^https?:\/\/(ipc|tauri|asset)\.localhost\//.test(url);
  assert.deepEqual(resources.filter((u) => !local(u)), [], 'requests that left the app');
});

test('the CSP is in force: a request to another origin is blocked and recorded', async () => {
  // Proves the check above can fail. The target is a closed loopback port, so even a broken
  // policy would send nothing off this machine.
  const { browser } = app;
  await browser.execute(() => {
    const img = new Image();
    img.src = 'http://127.0.0.1:9/doorstep-csp-probe.png';
    document.body.appendChild(img);
  });
  await browser.waitUntil(
    async () => (await browser.execute(() => window.__doorstepCspViolations)).some((v) => v.blocked.includes('doorstep-csp-probe')),
    { ...WAIT, timeoutMsg: 'a cross-origin image was not blocked by the CSP' },
  );
  const [violation] = await browser.execute(() => window.__doorstepCspViolations);
  assert.equal(violation.directive, 'img-src');
});
