// An administrator in the real app (issue 17): the registry's staff directory makes `admin-1`
// an administrator (`doorstep-registry admin grant`, as on a new server); they sign in and get
// only the staff sections, then add a field agent, change them to staff and revoke them, by
// keyboard alone, with the registry's reason shown for a bad entry. Each screen is checked with
// axe in English, French and Arabic.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchApp } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

const PASSPHRASE = 'river stone 42';
let app;
let $, mainText, press, typeInto, waitForText, $$count, focusedId, checkScreen;

before(async () => {
  app = await launchApp({ logName: 'admin', env: { DOORSTEP_TEST_LOGIN_HINT: 'admin-1' } });
  ({ $, mainText, press, typeInto, waitForText, $$count, focusedId, checkScreen } = drive(app));
  await app.registryCli(['admin', 'grant', '--issuer', app.issuer, '--subject', 'admin-1', '--role', 'admin']);
});

after(async () => {
  await app?.close();
});

const rows = () => $$count('[data-testid="staff-entry"]');

test('an administrator signs in and gets the staff sections only', async () => {
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed({ ...WAIT, timeoutMsg: `no passphrase screen:\n${await mainText()}` });
  await typeInto('#passphrase', PASSPHRASE);
  await typeInto('#passphrase-repeat', PASSPHRASE);
  await press('[data-testid="passphrase-submit"]');
  // Staff start at the review desk; the directory is one of their sections.
  await (await $('[data-testid="review"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no review desk:\n${await mainText()}` });
  for (const tab of ['review', 'announce', 'staff']) assert.equal(await $$count(`[data-testid="tab-${tab}"]`), 1, tab);
  await press('[data-testid="tab-staff"]');
  await (await $('[data-testid="staff-table"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no staff directory:\n${await mainText()}` });
  for (const citizens of ['home', 'household', 'finance', 'programmes', 'people']) {
    assert.equal(await $$count(`[data-testid="tab-${citizens}"]`), 0, `no ${citizens} section for an administrator`);
  }
  assert.equal(await rows(), 1);
  assert.match(await mainText(), /admin-1/);
  await checkScreen('staff-directory');
});

test('they add a field agent, change them to staff and revoke them, by keyboard', async () => {
  await press('[data-testid="staff-add"]');
  await (await $('[data-testid="staff-form"]')).waitForDisplayed(WAIT);
  assert.equal(await focusedId(), 'staff-form-title', 'the form is announced by its title');
  assert.equal(await (await $('#staff-issuer')).getValue(), app.issuer, "the administrator's provider is filled in");
  await checkScreen('staff-add');

  // Two areas for an agent: the registry says why, and nothing is kept.
  await typeInto('#staff-identity', 'agent-1');
  await press('[data-testid="staff-role-agent"]', ' ');
  await typeInto('#staff-areas', 'KE.30, KE.31');
  await press('[data-testid="staff-save"]');
  await waitForText('[data-testid="staff-form-error"]', /exactly one area/);
  assert.equal(await focusedId(), 'staff-form-error', 'the reason is read out first');
  await checkScreen('staff-add-error');

  await typeInto('#staff-areas', 'KE.30');
  await press('[data-testid="staff-save"]');
  await waitForText('[data-testid="staff-message"]', /agent-1 now has the role: Field agent/);
  assert.equal(await rows(), 2);
  assert.equal(await focusedId(), 'staff-title');

  // Change: staff of every area.
  await press('[data-testid="staff-entry"]:nth-child(2) [data-testid="staff-change"]');
  await (await $('[data-testid="staff-form"]')).waitForDisplayed(WAIT);
  await press('[data-testid="staff-role-staff"]', ' ');
  await typeInto('#staff-areas', '');
  await press('[data-testid="staff-save"]');
  await waitForText('[data-testid="staff-message"]', /entry of agent-1 is changed/);
  await waitForText('[data-testid="staff-entry"]:nth-child(2)', /Staff member/);

  // Revoke, after a confirmation that says what happens.
  await press('[data-testid="staff-entry"]:nth-child(2) [data-testid="staff-revoke-start"]');
  await (await $('[data-testid="staff-revoke"]')).waitForDisplayed(WAIT);
  assert.equal(await focusedId(), 'revoke-title');
  await checkScreen('staff-revoke');
  await press('[data-testid="staff-revoke-confirm"]');
  await waitForText('[data-testid="staff-message"]', /agent-1 no longer has a role/);
  assert.equal(await rows(), 1);

  // The trail: revoked entries on request.
  await press('[data-testid="staff-include-revoked"]', ' ');
  await app.browser.waitUntil(async () => (await rows()) === 2, { ...WAIT, timeoutMsg: 'the revoked entry never came back as the trail' });
  await waitForText('[data-testid="staff-entry"]:nth-child(2)', /Revoked on/);
});
