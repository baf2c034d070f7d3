// The Form.io parity table (tests/formio-parity/cases.json) in the app's real web view: the
// renderer the citizen's form runs on, as the app configured it, gives each case's expected
// outcome; the registry (crates/domain/tests/formio_parity.rs) and Vitest
// (ui/src/lib/formio-parity.test.ts) run the same table.
//
// No hook is added to the app for this: @formio/js puts itself on `window.Formio` when the app
// loads it (Formio.addToGlobal), so WebDriver runs the shared runner (parity.mjs `parityRun`,
// sent as the script itself, which the CSP does not govern) against that same instance, once
// the app has shown a form and so configured Form.io (no eval, nothing from a CDN).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchApp, repoRoot } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';
import { cases, differences, parityRun, RENDER_OPTIONS, typing } from '../formio-parity/parity.mjs';

const table = JSON.parse(readFileSync(join(repoRoot, 'tests/formio-parity/cases.json'), 'utf8'));
let app;
let $, press, typeInto, mainText;

before(async () => {
  // The table's dates are what a browser in UTC stores, and Form.io compares date limits in the
  // browser's time zone: the app runs in UTC here (the Vitest run pins it too).
  app = await launchApp({ env: { TZ: 'UTC' }, logName: 'formio-parity' });
  ({ $, press, typeInto, mainText } = drive(app));
});

after(async () => {
  await app?.close();
});

test('every case of the parity table gives its expected outcome in the app’s web view', async () => {
  // Sign in and reach the registration form: the app has rendered Form.io, configured.
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed({ ...WAIT, timeoutMsg: `no passphrase screen:\n${await mainText()}` });
  await typeInto('#passphrase', 'parity table 17');
  await typeInto('#passphrase-repeat', 'parity table 17');
  await press('[data-testid="passphrase-submit"]');
  await (await $('[name="data[givenName]"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no form on screen:\n${await mainText()}` });

  const setup = await app.browser.execute(() => ({
    formio: typeof window.Formio?.createForm === 'function',
    noeval: window.FormioUtils?.Evaluator?.noeval === true,
    cdn: String(window.Formio?.cdn?.baseUrl ?? ''),
  }));
  assert.deepEqual(setup, { formio: true, noeval: true, cdn: '/formio-cdn-disabled' }, 'Form.io as the app configures it');

  const all = cases(table);
  assert.ok(all.length >= 60, `${all.length} cases`);
  await app.browser.setTimeout({ script: 60_000 });
  const failures = [];
  for (const testCase of all) {
    const outcome = await app.browser.executeAsync(parityRun, testCase.schema, typing(testCase), RENDER_OPTIONS);
    for (const problem of differences(testCase, outcome)) failures.push(`${testCase.name}: ${problem}`);
  }
  assert.deepEqual(failures, [], `${failures.length} of ${all.length} cases differ in the web view`);
});
