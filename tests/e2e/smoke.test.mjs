// The citizen's journey in the real app, under Xvfb, driven like a person would (keyboard first):
// sign in through the test identity provider, choose a passphrase, register, go offline and keep
// working, come back online and sync, and settle a conflict with an edit made at the office.
// Then: nothing was requested from outside this machine and no CSP rule was broken.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { accessibilityViolations, artifactsDir, launchApp } from './harness.mjs';
import { drive, png, WAIT } from './driving.mjs';

const PASSPHRASE = 'river stone 42';
let app;
let $, mainText, pressOn, press, choose, typeInto, waitForText, setLanguage, chooseFile;

before(async () => {
  // WebKit's mock camera: the webcam path is tested for real on a machine without a camera.
  app = await launchApp({ env: { DOORSTEP_TEST_MOCK_CAMERA: '1' } });
  ({ $, mainText, pressOn, press, choose, typeInto, waitForText, setLanguage, chooseFile } = drive(app));
});

after(async () => {
  await app?.close();
});

const $$ = (selector) => app.browser.$$(selector);
const field = (key) => $(`[name="data[${key}]"]`);
/** Screenshot a screen and check it with axe-core: every screen the journey passes must have no
 *  WCAG 2.2 A/AA violation. */
async function shot(name) {
  await app.browser.saveScreenshot(join(artifactsDir, `${name}.png`));
  assert.deepEqual(await accessibilityViolations(app.browser), [], `accessibility violations on the ${name} screen`);
}

/** Screenshot (and check with axe) the screen on show in French and Arabic too, then English again. */
async function inEachLanguage(name, selector) {
  for (const lang of ['fr', 'ar', 'en']) {
    await setLanguage(lang);
    await (await $(selector)).waitForDisplayed(WAIT);
    if (lang !== 'en') await shot(`${name}-${lang}`);
  }
}

/** A second client on the registry's HTTP API: the office (staff) reads; the same person on
 *  another device (a citizen token linked by their national ID) writes. */
async function office(method, path, body, headers = {}) {
  const token =
    method === 'GET' ? await app.staffToken() : await app.devToken('citizen', 'person-1-phone', ['--individual-id', '4918273645']);
  const response = await fetch(`${app.registryUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function registeredPerson() {
  const page = await office('GET', '/v1/search?q=4918273645');
  const mine = page.items.filter((i) => i.reg_ids?.some((r) => r.value === '4918273645'));
  assert.equal(mine.length, 1, `exactly one registration: ${JSON.stringify(page.items)}`);
  return mine[0];
}

/** Wait (bounded) until the registry's copy of the person has `given_name` — the sync indicator
 *  alone could still be showing the round before the change. */
async function registryHasGivenName(name) {
  let last;
  await app.browser.waitUntil(
    async () => {
      last = await registeredPerson().catch((e) => ({ error: e.message }));
      return last.given_name === name;
    },
    { ...WAIT, timeoutMsg: `the registry never got given_name ${name}: ${JSON.stringify(last)}` },
  );
  return last;
}

async function submitDetails() {
  await pressOn(await $('button[name="data[submit]"]'), 'Enter');
}

test('the welcome screen offers sign-in and sees the registry online', async () => {
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
  await waitForText('[data-testid="registry-status"]', /Online/, 'registry status');
  assert.match(await (await $('footer')).getText(), new RegExp(app.registryUrl.replace(/[.]/g, '\\.')));
  await shot('welcome');
});

test('first sign-in: the person chooses a passphrase, and a mismatch is explained', async () => {
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed({ ...WAIT, timeoutMsg: `no passphrase screen:\n${await mainText()}\n${app.logs()}` });
  assert.match(await mainText(), /Hello, Amina Njoroge/);
  assert.match(await mainText(), /Nobody can recover this passphrase/);
  await shot('choose-passphrase');
  await inEachLanguage('choose-passphrase', '#passphrase');
  await typeInto('#passphrase', PASSPHRASE);
  await typeInto('#passphrase-repeat', 'something else');
  await press('[data-testid="passphrase-submit"]');
  await waitForText('#pass-error', /not the same/, 'mismatch message');
  await typeInto('#passphrase-repeat', PASSPHRASE);
  await press('[data-testid="passphrase-submit"]');
  await (await $('[data-testid="not-registered"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no home screen:\n${await mainText()}` });
});

test('the registration form starts from what the ID provider vouched for and refuses a bad phone number', async () => {
  await (await field('givenName')).waitForDisplayed(WAIT);
  await app.browser.waitUntil(async () => (await (await field('givenName')).getValue()) === 'Amina', {
    ...WAIT,
    timeoutMsg: 'the form was not prefilled from the sign-in',
  });
  assert.equal(await (await field('familyName')).getValue(), 'Njoroge');
  await typeInto(`[name="data[phone]"]`, '0712');
  await submitDetails();
  await app.browser.waitUntil(async () => (await mainText()).includes('with + and the country code'), {
    ...WAIT,
    timeoutMsg: 'no message explaining the phone format',
  });
  await shot('register-invalid-phone');
});

test('registering saves on the device and syncs to the registry', async () => {
  await typeInto(`[name="data[phone]"]`, '+254712345678');
  await typeInto(`[name="data[email]"]`, 'amina@example.org');
  await choose('[name="data[preferredLanguage]"]', 'sw');
  // An address without its country is explained inline, and nothing is saved until it is given.
  await typeInto(`[name="data[locality]"]`, 'Nakuru');
  await typeInto(`[name="data[addressLine2]"]`, 'Behind the market');
  await pressOn(await field('confirm'), ' ');
  await submitDetails();
  await waitForText('main', /Choose the country of this address/, 'the missing country explained');
  await choose('[name="data[country]"]', 'KE');
  await shot('register-filled');
  await submitDetails();
  await (await $('[data-testid="saved"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `not saved:\n${await mainText()}` });
  const person = await registryHasGivenName('Amina');
  assert.equal(person.preferred_language, 'sw');
  let contact;
  await app.browser.waitUntil(
    async () => {
      const page = await office('GET', '/v1/contacts?limit=500');
      contact = page.items.find((c) => c.registrant_id === person.id);
      return contact?.address?.locality === 'Nakuru';
    },
    { ...WAIT, timeoutMsg: `the address never reached the registry: ${JSON.stringify(contact)}` },
  );
  assert.equal(contact.address.country, 'KE');
  assert.equal(contact.address.line2, 'Behind the market');
  await waitForText('[data-testid="sync-status"]', /Up to date/, 'first sync');
  await waitForText('[data-testid="registration-state"]', /with the registry/, 'home after sync');
  await shot('home-registered');
});

test('the household: create it, add two members, see them listed; the registry has the memberships', async () => {
  await press('[data-testid="manage-household"]');
  await press('[data-testid="create-household"]');
  await waitForText('[data-testid="members"]', /Amina Njoroge[\s\S]*Head of the household/, 'the household created');
  // A wrong date is explained next to the field, before anything is saved.
  await (await $('#member-givenName')).waitForEnabled(WAIT);
  await typeInto('#member-givenName', 'Baraka');
  await typeInto('#member-familyName', 'Njoroge');
  await typeInto('#member-birthdate', '12/03/1986');
  await press('[data-testid="save-member"]');
  await waitForText('#member-birthdate-error', /year-month-day/, 'the date explained');
  assert.equal(await app.browser.execute(() => document.activeElement?.id), 'member-birthdate');
  await shot('household-invalid-date');
  await typeInto('#member-birthdate', '1986-03-12');
  await choose('#member-relationship', 'spouse');
  // The ID number's rule is the vault's: its refusal comes back and is shown under the field.
  await typeInto('#member-nationalId', '12/34');
  await press('[data-testid="save-member"]');
  await waitForText('#member-nationalId-error', /letters and digits/, 'the ID number explained');
  assert.equal(await app.browser.execute(() => document.activeElement?.id), 'member-nationalId');
  await typeInto('#member-nationalId', `ZB ${Date.now() % 100000000}`);
  await press('[data-testid="save-member"]');
  await waitForText('[data-testid="household-message"]', /Baraka Njoroge is added/, 'the first member added');
  await typeInto('#member-givenName', 'Zawadi');
  await typeInto('#member-familyName', 'Njoroge');
  await typeInto('#member-birthdate', '2015-03-02');
  await choose('#member-relationship', 'child');
  await press('[data-testid="save-member"]');
  await waitForText('[data-testid="household-message"]', /Zawadi Njoroge is added/, 'the second member added');
  await waitForText('[data-testid="household-count"]', /3 people/, 'three members listed');
  const members = await (await $('[data-testid="members"]')).getText();
  assert.match(members, /Baraka Njoroge[\s\S]*Spouse or partner/);
  assert.match(members, /Zawadi Njoroge[\s\S]*Child/);
  await shot('household');
  // Removing asks first; cancelling keeps the member.
  const zawadi = (await $$('[data-testid="member"]')).length;
  assert.equal(zawadi, 3);
  await press('[data-testid="remove-member"]');
  await (await $('[data-testid="confirm-remove"]')).waitForDisplayed(WAIT);
  assert.equal(await app.browser.execute(() => document.activeElement?.dataset.testid), 'confirm-remove');
  await shot('household-confirm-remove');
  await app.browser.keys('Tab');
  await app.browser.keys('Enter');
  await app.browser.waitUntil(async () => !(await (await $('[data-testid="confirm-remove"]')).isExisting()), WAIT);
  await waitForText('[data-testid="household-count"]', /3 people/, 'still three members');

  // After sync the registry has the household: the person heads it, with a spouse and a child.
  const me = await registeredPerson();
  let last;
  await app.browser.waitUntil(
    async () => {
      const page = await office('GET', '/v1/memberships?limit=500').catch((e) => ({ items: [], error: e.message }));
      const mine = page.items.find((m) => m.individual_id === me.id && m.kind === 'head');
      last = mine ? page.items.filter((m) => m.group_id === mine.group_id && !m.end_date) : page;
      return Array.isArray(last) && last.length === 3;
    },
    { ...WAIT, timeoutMsg: `the registry never got the memberships: ${JSON.stringify(last)}` },
  );
  assert.deepEqual(last.map((m) => m.kind).sort(), ['child', 'head', 'spouse']);
  await waitForText('[data-testid="sync-status"]', /Up to date/, 'household synced');
  await press('[data-testid="household-back"]');
  await waitForText('[data-testid="home"]', /Household: 3 people/, 'home counts the household');
});

async function editGivenName(value) {
  await press('[data-testid="edit-details"]');
  await (await field('givenName')).waitForDisplayed(WAIT);
  await app.browser.waitUntil(async () => (await (await field('givenName')).getValue()) !== '', WAIT);
  await typeInto(`[name="data[givenName]"]`, value);
  if (!(await (await field('confirm')).isSelected())) await pressOn(await field('confirm'), ' ');
  await submitDetails();
  await (await $('[data-testid="saved"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `not saved:\n${await mainText()}` });
}

test('payment details: a wallet is added and gets the payments; a wrong IBAN is explained; the registry has it', async () => {
  await press('[data-testid="open-finance"]');
  await (await $('[data-testid="finance"]')).waitForDisplayed(WAIT);
  await typeInto('#account-provider', 'mpesa');
  await typeInto('#account-number', '+254 712 345 678');
  await typeInto('#account-holder', 'Amina Njoroge');
  await press('[data-testid="add-account"]');
  await waitForText('[data-testid="finance"]', /payments go here/, 'the first account gets the payments');
  // A bank account with a broken IBAN check digit: refused with a message saying what is wrong.
  await choose('#account-kind', 'bank_account');
  await typeInto('#account-provider', 'KCBLKENX');
  await typeInto('#account-number', 'DE89 3704 0044 0532 0130 01');
  await typeInto('#account-holder', 'Amina Njoroge');
  await press('[data-testid="add-account"]');
  await waitForText('[data-testid="finance-error"]', /IBAN|check/i, 'bad IBAN explained');
  assert.equal((await app.browser.$$('[data-testid="account"]')).length, 1, 'nothing added');
  await shot('payment-details');
  const person = await registeredPerson();
  let mine = [];
  await app.browser.waitUntil(
    async () => {
      const page = await office('GET', '/v1/financial-accounts');
      mine = page.items.filter((a) => a.registrant_id === person.id);
      return mine.length === 1;
    },
    { ...WAIT, timeoutMsg: 'the account never reached the registry' },
  );
  assert.equal(mine[0].account_number, '+254712345678');
  assert.equal(mine[0].preferred_for_payments, true);
  await press('[data-testid="finance-back"]');
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
});

/** The office (staff) moves an application on, as a reviewer would in the back office. */
async function review(applicationId, to, note) {
  const response = await fetch(`${app.registryUrl}/v1/applications/${applicationId}/transitions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await app.staffToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to, note }),
  });
  assert.ok(response.ok, `${to}: ${response.status} ${await response.text()}`);
}

/** The registry's copy of the person's application, once `done` holds for it (bounded). */
async function registryApplication(done, what) {
  const person = await registeredPerson();
  let mine;
  await app.browser.waitUntil(
    async () => {
      const page = await office('GET', '/v1/applications?limit=500');
      mine = page.items.find((a) => a.applicant_id === person.id);
      return mine !== undefined && done(mine);
    },
    { ...WAIT, timeoutMsg: `${what}: ${JSON.stringify(mine)}` },
  );
  return mine;
}

async function documentRows() {
  const texts = [];
  for (const row of await $$('[data-testid="document"]')) texts.push(await row.getText());
  return texts;
}

// Before applying: the registry takes an application as submitted only once the programme's
// documents are there (issue 17).
test('documents: a scan is added, viewed and replaced, a webcam photo is taken and deleted, a bill added; the registry has them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'doorstep-e2e-scans-'));
  const scan = join(dir, 'id-scan.png');
  const better = join(dir, 'id-scan-better.png');
  const billFile = join(dir, 'water-bill.png');
  writeFileSync(scan, png(1200, 900, 1));
  writeFileSync(better, png(1000, 700, 2));
  writeFileSync(billFile, png(800, 600, 3));
  await press('[data-testid="tab-documents"]');
  await (await $('[data-testid="documents"]')).waitForDisplayed(WAIT);
  await waitForText('[data-testid="documents"]', /Child Benefit[\s\S]*Identity card[\s\S]*Still needed/, 'what the programme needs');

  // A scan from a file: added at once, kept on the device, then sent.
  await choose('[data-testid="document-kind"]', 'id_card');
  await chooseFile('[data-testid="document-file"]', scan);
  await waitForText('[data-testid="documents-message"]', /Document added/, 'the scan is added');
  assert.match((await documentRows()).join('\n'), /id-scan\.png/);
  await shot('documents');

  // View it: the picture decrypted on the device, in a dialog that Escape closes.
  await press('[data-testid="document-preview"]');
  const image = await $('[data-testid="document-preview-image"]');
  await image.waitForDisplayed(WAIT);
  await app.browser.waitUntil(async () => (await app.browser.execute((img) => img.naturalWidth, image)) === 1200, {
    ...WAIT,
    timeoutMsg: 'the preview never showed the picture',
  });
  await shot('document-preview');
  await app.browser.keys('Escape');
  await (await $('[data-testid="document-preview-dialog"]')).waitForDisplayed({ ...WAIT, reverse: true });

  // Replace it with a better scan: one document, the new file.
  await press('[data-testid="document-replace"]');
  await chooseFile('[data-testid="document-file"]', better);
  await waitForText('[data-testid="documents-message"]', /Document replaced/, 'the scan is replaced');
  const rows = await documentRows();
  assert.equal(rows.length, 1, rows.join('\n'));
  assert.match(rows[0], /id-scan-better\.png/);

  // A photo with the webcam (WebKit's mock camera under test), then deleted after a confirmation.
  await choose('[data-testid="document-kind"]', 'photo');
  await press('[data-testid="document-camera"]');
  const shoot = await $('[data-testid="camera-shoot"]');
  await shoot.waitForDisplayed(WAIT);
  await app.browser.waitUntil(async () => (await shoot.getAttribute('aria-disabled')) !== 'true', {
    ...WAIT,
    timeoutMsg: `the camera never started:\n${await mainText()}`,
  });
  await shot('camera');
  await pressOn(shoot, 'Enter');
  await press('[data-testid="camera-use"]');
  await waitForText('[data-testid="documents-message"]', /Document added: Photo/, 'the photo is added');
  assert.equal((await documentRows()).length, 2);
  const photoRow = (await $$('[data-testid="document"]'))[0];
  assert.match(await photoRow.getText(), /Photo/);
  await pressOn(await photoRow.$('[data-testid="document-delete"]'), 'Enter');
  await press('[data-testid="document-confirm-delete"]');
  await waitForText('[data-testid="documents-message"]', /was deleted/, 'the photo is deleted');
  assert.equal((await documentRows()).length, 1);

  // A proof of address too: the programme needs both before an application is submitted.
  await choose('[data-testid="document-kind"]', 'proof_of_address');
  await chooseFile('[data-testid="document-file"]', billFile);
  await waitForText('[data-testid="documents-message"]', /Document added/, 'the bill is added');
  assert.equal((await documentRows()).length, 2);

  // The registry: the better scan, byte for byte, and the bill; the replaced scan and the photo
  // deleted.
  const person = await registeredPerson();
  let live = [];
  let bill;
  await app.browser.waitUntil(
    async () => {
      await press('[data-testid="sync-now"]');
      const page = await office('GET', '/v1/documents?limit=500&include_deleted=true');
      const mine = page.items.filter((d) => d.linked_record === person.id);
      live = mine.filter((d) => !d.deleted_at && d.kind === 'id_card');
      bill = mine.find((d) => !d.deleted_at && d.kind === 'proof_of_address');
      return mine.length === 4 && live.length === 1 && bill !== undefined;
    },
    { ...WAIT, interval: 1000, timeoutMsg: `the registry never had exactly the better scan and the bill: ${JSON.stringify(live)}` },
  );
  assert.equal(live[0].file_name, 'id-scan-better.png');
  const content = async (document) => {
    let bytes;
    await app.browser.waitUntil(
      async () => {
        const response = await fetch(`${app.registryUrl}/v1/documents/${document.id}/content`, {
          headers: { authorization: `Bearer ${await app.staffToken()}` },
        });
        if (!response.ok) return false;
        bytes = Buffer.from(await response.arrayBuffer());
        return true;
      },
      { ...WAIT, interval: 1000, timeoutMsg: `the bytes of ${document.file_name} never reached the registry` },
    );
    return bytes;
  };
  assert.ok((await content(live[0])).equals(readFileSync(better)), 'the registry has the scan byte for byte');
  assert.ok((await content(bill)).equals(readFileSync(billFile)), 'and the bill');
  // The screen again, as it is now: both sent.
  await press('[data-testid="tab-home"]');
  await press('[data-testid="tab-documents"]');
  await (await $('[data-testid="documents"]')).waitForDisplayed(WAIT);
  let states = [];
  await app.browser
    .waitUntil(
      async () => {
        states = [];
        for (const state of await $$('[data-testid="document-state"]')) states.push(await state.getText());
        return states.length === 2 && states.every((text) => /Sent to the registry/.test(text));
      },
      { ...WAIT, timeoutMsg: 'the states shown never said both were sent' },
    )
    .catch((e) => {
      throw new Error(`${e.message}: ${states.join(' | ')}`);
    });
  await waitForText('[data-testid="documents"]', /Identity card[\s\S]*Received/, 'the requirement is met');
  await waitForText('[data-testid="documents"]', /Proof of address[\s\S]*Received/, 'both requirements are met');
  rmSync(dir, { recursive: true, force: true });
  await press('[data-testid="tab-home"]');
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
});

test('applying: answers are kept as typed, the application is submitted, and the office asks for more', async () => {
  await press('[data-testid="tab-programmes"]');
  await (await $('[data-code="child-benefit"]')).waitForDisplayed(WAIT);
  await shot('programmes');
  await press('[data-code="child-benefit"] [data-testid="apply"]');
  await typeInto('[name="data[childGivenName]"]', 'Zawadi');
  await waitForText('[data-testid="draft-saved"]', /Saved on this device/, 'the draft is saved as the person types');
  await shot('application-form');
  // Leave and come back: what was typed is still there.
  await press('[data-testid="application-back"]');
  await waitForText('[data-code="child-benefit"] [data-testid="apply"]', /Continue my application/, 'the draft is offered');
  await press('[data-code="child-benefit"] [data-testid="apply"]');
  await app.browser.waitUntil(async () => (await (await field('childGivenName')).getValue()) === 'Zawadi', {
    ...WAIT,
    timeoutMsg: 'the draft was not restored',
  });
  await typeInto('[name="data[childFamilyName]"]', 'Njoroge');
  await typeInto('[name="data[childAgeYears]"]', '7');
  await pressOn(await $('button[name="data[submit]"]'), 'Enter');
  await (await $('[data-testid="application-submitted"]')).waitForDisplayed(WAIT);
  await shot('application-submitted');
  await press('[data-testid="application-done"]');
  const submitted = await registryApplication((a) => a.status === 'submitted', 'the application reached the registry');
  assert.equal(submitted.data.childGivenName, 'Zawadi');

  // The office asks for more; the request arrives with sync, as a notification and a to-do.
  await review(submitted.id, 'under_review');
  await review(submitted.id, 'more_information_needed', 'How old is the child now?');
  await press('[data-testid="sync-now"]');
  await waitForText('[data-testid="tab-notifications"]', /\d/, 'the unread count');
  await press('[data-testid="tab-notifications"]');
  await (await $('[data-testid="notification"]')).waitForDisplayed(WAIT);
  await shot('notifications');
  const unreadBefore = (await $$('[data-testid="mark-read"]')).length;
  assert.ok(unreadBefore >= 3, `one notification per status change, got ${unreadBefore}`);
  await press('[data-testid="mark-read"]');
  await app.browser.waitUntil(async () => (await $$('[data-testid="mark-read"]')).length === unreadBefore - 1, WAIT);
  await press('[data-testid="tab-home"]');
  await waitForText('[data-testid="pending-actions"]', /How old is the child now\?/, 'the request is a to-do on the home screen');
  await shot('home-to-do');
  await press('[data-kind="answerRequest"] button');
  await waitForText('[data-testid="application-request"]', /How old is the child now\?/, 'the request above the form');
  await typeInto('[name="data[childAgeYears]"]', '8');
  await pressOn(await $('button[name="data[submit]"]'), 'Enter');
  await (await $('[data-testid="application-submitted"]')).waitForDisplayed(WAIT);
  await press('[data-testid="application-done"]');
  const answered = await registryApplication(
    (a) => a.status === 'submitted' && a.status_history.length === 4,
    'the answers reached the registry',
  );
  assert.equal(answered.data.childAgeYears, 8);
  await waitForText('[data-code="child-benefit"] [data-testid="application-status"]', /Submitted/, 'the status shown');
  await press('[data-testid="tab-home"]');
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
});

test('offline: the edit is kept on the device and sent when the registry is back', async () => {
  await app.stopRegistry();
  await editGivenName('Aminah');
  await waitForText('[data-testid="sync-status"]', /No connection|waiting to be sent/, 'offline status');
  await shot('offline-pending');
  await app.startRegistry();
  await press('[data-testid="sync-now"]');
  await registryHasGivenName('Aminah');
  await waitForText('[data-testid="sync-status"]', /Up to date/, 'sync after reconnecting');
});

test('a conflict with an edit made on another device is shown side by side and resolved in the app', async () => {
  // The person edits offline here while changing the same field on their phone.
  await app.stopRegistry();
  await editGivenName('Amina W.');
  await app.startRegistry();
  const current = await registeredPerson();
  await office('PUT', `/v1/individuals/${current.id}`, { ...current, given_name: 'Amina Wanjiru' }, { 'if-match': `"${current.rev}"` });

  await press('[data-testid="sync-now"]');
  await press('[data-testid="open-conflicts"]');
  await (await $('[data-testid="conflicts"]')).waitForDisplayed(WAIT);
  const text = await mainText();
  assert.match(text, /Yours: Amina W\./);
  assert.match(text, /Registry's: Amina Wanjiru/);
  assert.match(text, /was: Aminah/);
  await shot('conflict');
  await inEachLanguage('conflict', '[data-testid="conflicts"]');
  // Keyboard: pick "Something else" and type the merged value.
  await pressOn(await $('input[type="radio"][value="value"]'), ' ');
  await typeInto('input[aria-label^="New value"]', 'Amina Wanjiru W.');
  await press('[data-testid="resolve"]');
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
  await press('[data-testid="sync-now"]');
  await registryHasGivenName('Amina Wanjiru W.');
  await waitForText('[data-testid="sync-status"]', /Up to date/, 'sync after resolving');
  assert.equal(await (await $('[data-testid="open-conflicts"]')).isExisting(), false);
  await shot('conflict-resolved');
});

test('signing out and opening the data offline with the passphrase', async () => {
  await press('[data-testid="sign-out"]');
  await (await $('[data-testid="unlock-offline"]')).waitForDisplayed(WAIT);
  await app.stopRegistry();
  await typeInto('#offline-passphrase', 'wrong passphrase');
  await press('[data-testid="unlock-offline"]');
  await waitForText('[data-testid="welcome-error"]', /passphrase is not right/, 'wrong passphrase');
  await typeInto('#offline-passphrase', PASSPHRASE);
  await press('[data-testid="unlock-offline"]');
  await (await $('[data-testid="offline-notice"]')).waitForDisplayed(WAIT);
  await waitForText('[data-testid="home"]', /Hello, Amina Wanjiru W\./, 'home from the vault, offline');
  await shot('unlocked-offline');
  await app.startRegistry();
});

test('settings: the passphrase is changed with the current one, and a wrong one is refused', async () => {
  await press('[data-testid="open-settings"]');
  await (await $('[data-testid="settings"]')).waitForDisplayed(WAIT);
  assert.match(await mainText(), new RegExp(app.registryUrl.replace(/[.]/g, '\\.')));
  const change = async (current, next) => {
    await typeInto('#old-passphrase', current);
    await typeInto('#new-passphrase', next);
    await typeInto('#new-passphrase-repeat', next);
    await press('[data-testid="change-passphrase"]');
  };
  await change('not the passphrase', 'brand new words');
  await waitForText('[data-testid="settings"]', /passphrase is not right/, 'wrong current passphrase');
  await change(PASSPHRASE, 'brand new words');
  await waitForText('[data-testid="settings"]', /Your passphrase is changed/, 'changed');
  await shot('settings');
  await change('brand new words', PASSPHRASE);
  await waitForText('[data-testid="settings"]', /Your passphrase is changed/, 'changed back');
  await press('[data-testid="settings-back"]');
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
});

test('French and Arabic: every screen of the journey is translated, and Arabic mirrors', async () => {
  const html = () => app.browser.execute(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));
  for (const [lang, dir, hello, givenLabel, signOut, pensionLabel] of [
    ['fr', 'ltr', /Bonjour, Amina/, 'Prénom', 'Se déconnecter', 'Je reçois une autre pension'],
    ['ar', 'rtl', /مرحباً، Amina/, 'الاسم الأول', 'تسجيل الخروج', 'أتلقى معاشًا آخر'],
  ]) {
    await choose('[data-testid="language"]', lang);
    await app.browser.waitUntil(async () => (await html()).lang === lang, WAIT);
    assert.equal((await html()).dir, dir);
    await waitForText('[data-testid="home"]', hello, `home in ${lang}`);
    assert.equal(await (await $('[data-testid="sign-out"]')).getText(), signOut);
    await shot(`home-${lang}`);
    await press('[data-testid="manage-household"]');
    await (await $('[data-testid="members"]')).waitForDisplayed(WAIT);
    await shot(`household-${lang}`);
    await press('[data-testid="household-back"]');
    // Every other section, for the screenshots and the accessibility check in this language.
    for (const tab of ['programmes', 'documents', 'finance', 'notifications']) {
      await press(`[data-testid="tab-${tab}"]`);
      await (await $(`[data-testid="${tab}"]`)).waitForDisplayed(WAIT);
      await shot(`${tab}-${lang}`);
    }
    // A programme's Form.io form, translated through its own i18n, and the settings.
    await press('[data-testid="tab-programmes"]');
    await press('[data-code="old-age-pension"] [data-testid="apply"]');
    await app.browser.waitUntil(async () => (await mainText()).includes(pensionLabel), {
      ...WAIT,
      timeoutMsg: `the programme's form is not in ${lang}:\n${await mainText()}`,
    });
    await shot(`application-form-${lang}`);
    await press('[data-testid="application-back"]');
    await press('[data-testid="open-settings"]');
    await (await $('[data-testid="settings"]')).waitForDisplayed(WAIT);
    await shot(`settings-${lang}`);
    await press('[data-testid="tab-home"]');
    await (await $('[data-testid="edit-details"]')).waitForDisplayed(WAIT);
    await press('[data-testid="edit-details"]');
    await app.browser.waitUntil(async () => (await mainText()).includes(givenLabel), {
      ...WAIT,
      timeoutMsg: `the Form.io form is not in ${lang}:\n${await mainText()}`,
    });
    await shot(`details-form-${lang}`);
    await press('[data-testid="sign-out"]');
    await (await $('[data-testid="unlock-offline"]')).waitForDisplayed(WAIT);
    await shot(`welcome-${lang}`);
    await typeInto('#offline-passphrase', PASSPHRASE);
    await press('[data-testid="unlock-offline"]');
    await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
  }
  if ((await (await $('[dir="rtl"] .topbar')).isExisting()) === false) {
    assert.fail('the top bar is not inside the right-to-left document');
  }
  // Mirrored for real: in Arabic the brand sits at the right edge, the sign-out at the left.
  const [brand, signOutBox] = await app.browser.execute(() =>
    ['.topbar h1', '[data-testid="sign-out"]'].map((sel) => document.querySelector(sel).getBoundingClientRect().left),
  );
  assert.ok(brand > signOutBox, `right to left layout: brand at ${brand}, sign-out at ${signOutBox}`);
  await choose('[data-testid="language"]', 'en');
  await app.browser.waitUntil(async () => (await html()).dir === 'ltr', WAIT);
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

test('the log file holds nothing personal of the journey above (marker strings)', async () => {
  // Everything this journey typed or received that is the person's: names, contact details,
  // address, IDs, account numbers, answers, the passphrase. None may be in the log file, which
  // is not encrypted (the support desk reads it).
  const markers = [
    'Amina', 'Njoroge', 'Baraka', 'Zawadi', 'Wanjiru', '712345678', '712 345 678', 'amina@example.org',
    'Nakuru', 'Behind the market', '1986-03-12', '2015-03-02', 'DE89', '3704 0044', 'KCBLKENX',
    PASSPHRASE, 'wrong passphrase', 'id-card', 'something else',
  ];
  const dir = join(app.dataDir, 'logs');
  const files = readdirSync(dir);
  assert.ok(files.length > 0, `no log file in ${dir}`);
  const text = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('');
  // The log is really written (a test of an empty file would prove nothing): the start and the
  // first screens are there.
  assert.match(text, /starting/);
  assert.match(text, /first form rendered/);
  const found = markers.filter((m) => text.toLowerCase().includes(m.toLowerCase()));
  assert.deepEqual(found, [], `personal data in the log file:\n${text.split('\n').filter((l) => found.some((m) => l.toLowerCase().includes(m.toLowerCase()))).slice(0, 10).join('\n')}`);
});
