// The device configuration from the outside: a mistake in /etc/doorstep/config.toml stops the app
// with a page naming the file, the key and the fix (not a line on a stderr nobody sees), and a
// valid file alone, with no DOORSTEP_* variables, points the app at its registry and provider.
// "Copy support details" then says where each setting came from.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { accessibilityViolations, artifactsDir, launchWorld } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

let world;
let device;

after(async () => {
  await device?.close();
  await world?.close();
});

/** Nothing from the environment but the data folder and the config files' places. */
const NO_ENV = {
  DOORSTEP_REGISTRY_URL: '',
  DOORSTEP_MODE: '',
  DOORSTEP_OIDC_ISSUER: '',
  DOORSTEP_OIDC_CLIENT_ID: '',
  DOORSTEP_OIDC_REDEEM: '',
  DOORSTEP_OIDC_RESOURCE: '',
  DOORSTEP_OIDC_CLAIMS_FROM: '',
};

test('a mistake in the configuration file is shown in the window: file, key and fix', async () => {
  world = await launchWorld({ logName: 'config' });
  device = await world.openDevice({ logName: 'config-broken', env: NO_ENV, systemConfig: '[device]\nmode = "kiosk"\n[kiosk]\nidle_secs = 60\n' });
  // Closed whatever happens: the next test opens a device of its own.
  try {
    const d = drive(device);
    const page = await d.$('[data-testid="startup-problem"]');
    await page.waitForDisplayed({ ...WAIT, timeoutMsg: 'no startup problem shown' });
    assert.equal(await (await d.$('[data-testid="config-where"]')).getText(), device.configFile);
    assert.equal(await (await d.$('[data-testid="config-key"]')).getText(), 'kiosk.idle_secs');
    assert.match(await (await d.$('[data-testid="config-fix"]')).getText(), /Did you mean kiosk\.idle_seconds\?/);
    await device.browser.saveScreenshot(join(artifactsDir, 'config-problem.png'));
    assert.deepEqual(await accessibilityViolations(device.browser), [], 'accessibility violations on the startup problem');
    // The page speaks the person's language; the technical lines stay as they are.
    await d.choose('[data-testid="startup-problem"] select', 'fr');
    await d.waitForText('#startup-title', /Doorstep ne peut pas démarrer/, 'the page in French');
  } finally {
    await device.close();
    device = undefined;
  }
});

test('the configuration file alone sets the registry and the provider; support details say so', async () => {
  const file = [
    '[registry]',
    `url = "${world.registryUrl}"`,
    '[signin]',
    `issuer = "${world.issuer}"`,
    'client_id = "doorstep-public"',
    'redeem = "app"',
    'resource = "urn:doorstep:registry"',
    'claims_from = "id_token"',
    '[device]',
    'mode = "personal"',
    'languages = ["en", "fr"]',
    '',
  ].join('\n');
  device = await world.openDevice({ logName: 'config-file', env: NO_ENV, systemConfig: file });
  const d = drive(device);
  await (await d.$('[data-testid="sign-in"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no sign-in offered:\n${device.logs()}` });
  await d.waitForText('[data-testid="registry-status"]', /Online/, 'the registry from the file answers');
  // Only the languages the file offers.
  const offered = await device.browser.execute(() => [...document.querySelectorAll('[data-testid="language"] option')].map((o) => o.value));
  assert.deepEqual(offered, ['en', 'fr']);
  await device.browser.saveScreenshot(join(artifactsDir, 'config-file-welcome.png'));

  await d.press('[data-testid="open-support"]');
  await d.press('[data-testid="copy-support"]');
  const box = await d.$('[data-testid="support-text"]');
  await box.waitForDisplayed(WAIT);
  const text = await box.getValue();
  assert.match(text, /^Doorstep \d+\.\d+\.\d+/);
  assert.match(text, /Device mode: personal/);
  assert.ok(text.includes(`registry.url = ${world.registryUrl}  (${device.configFile})`), text);
  assert.ok(text.includes(`file ${device.configFile}`), text);
  assert.match(text, /Sync: nobody signed in/);
  assert.deepEqual(await accessibilityViolations(device.browser), [], 'accessibility violations with the support details open');
});
