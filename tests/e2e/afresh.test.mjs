// A forgotten passphrase: the person signs in, cannot unlock, starts afresh, and their record
// comes back from the registry. The screen first says what only this device held: here, the
// answers of an application form never sent.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accessibilityViolations, artifactsDir, launchApp } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

let app;
let $, mainText, press, pressOn, choose, typeInto, waitForText;

before(async () => {
  app = await launchApp({ logName: 'afresh' });
  ({ $, mainText, press, pressOn, choose, typeInto, waitForText } = drive(app));
});

after(async () => {
  await app?.close();
});

const partitions = () => readdirSync(join(app.dataDir, 'partitions'));

test('registered and synced, with answers typed but never sent, then signed out', async () => {
  await press('[data-testid="sign-in"]');
  await typeInto('#passphrase', 'first passphrase 1');
  await typeInto('#passphrase-repeat', 'first passphrase 1');
  await press('[data-testid="passphrase-submit"]');
  const given = await $('[name="data[givenName]"]');
  await app.browser.waitUntil(async () => (await given.getValue()) === 'Amina', { ...WAIT, timeoutMsg: 'the form was not prefilled' });
  await typeInto('[name="data[phone]"]', '+254712345678');
  await choose('[name="data[preferredLanguage]"]', 'en');
  await pressOn(await $('[name="data[confirm]"]'), ' ');
  await pressOn(await $('button[name="data[submit]"]'), 'Enter');
  await (await $('[data-testid="saved"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `not saved:\n${await mainText()}` });
  await waitForText('[data-testid="sync-status"]', /Up to date/, 'the registration synced');

  // Answers of an application, kept as a draft on this device only.
  await press('[data-testid="tab-programmes"]');
  await press('[data-code="child-benefit"] [data-testid="apply"]');
  await typeInto('[name="data[childGivenName]"]', 'Zawadi');
  await waitForText('[data-testid="draft-saved"]', /Saved on this device/, 'the draft is saved as the person types');
  // The counts reach the profile list while the data is open (every half minute at most).
  const drafts = () => JSON.parse(readProfiles() || '{}').profiles?.[0]?.unsent?.drafts ?? 0;
  await app.browser.waitUntil(async () => drafts() === 1, { timeout: 45_000, interval: 500, timeoutMsg: `the draft was not counted:\n${readProfiles()}` });
  await press('[data-testid="sign-out"]');
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
});

function readProfiles() {
  try {
    return readFileSync(join(app.dataDir, 'profiles.json'), 'utf8');
  } catch {
    return '';
  }
}

test('signed in again, the passphrase is forgotten: the screen says what is lost, then starts afresh', async () => {
  const before = partitions();
  assert.equal(before.length, 1);
  await press('[data-testid="sign-in"]');
  await typeInto('#passphrase', 'not the passphrase');
  await press('[data-testid="passphrase-submit"]');
  await waitForText('#pass-error', /passphrase/i, 'a wrong passphrase refused');
  await press('[data-testid="forgot-passphrase"]');
  const lost = await $('[data-testid="afresh-lost"]');
  await lost.waitForDisplayed({ ...WAIT, timeoutMsg: `no list of what is lost:\n${await mainText()}` });
  assert.match(await lost.getText(), /1 form you had started filling in/);
  await app.browser.saveScreenshot(join(artifactsDir, 'afresh-preview.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on the start-afresh screen');
  await press('[data-testid="afresh-confirm"]');

  // A new passphrase, and the old data is gone from the disk.
  await typeInto('#passphrase', 'second passphrase 2');
  await typeInto('#passphrase-repeat', 'second passphrase 2');
  assert.ok(!existsSync(join(app.dataDir, 'partitions', before[0])), 'the old partition was erased');
  await press('[data-testid="passphrase-submit"]');

  // The registry's copy comes back: registered, with the phone number sent before.
  await waitForText('[data-testid="home"]', /Hello, Amina Njoroge/, 'home after starting afresh');
  await app.browser.waitUntil(async () => !/not registered yet/i.test(await mainText()), { ...WAIT, timeoutMsg: `the record did not come back:\n${await mainText()}` });
  await app.browser.saveScreenshot(join(artifactsDir, 'afresh-home.png'));
});
