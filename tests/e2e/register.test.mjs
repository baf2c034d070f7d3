// A field agent registers a new household on their laptop: the head (with a slip first: a birth
// date in the future, shown by the field with the focus moved there), two members, one of them
// typed like a person of the agent's area already on the laptop (same family name and birth
// date, the given name spelled a little differently), so "Is this the same person?" comes up
// and is answered "No, a different person"; a payment account; the check page; saved. After
// "Sync now" the registry holds the three new people, the look-alike carrying `not_duplicate_of`,
// and the household's address the areas chosen from the keyboard in the area picker (the
// agent's county to start with, then one of its wards).
// Then a registration left for later shows on the agent's home, to resume or discard.
// Every new screen is photographed and checked with axe in English, French and Arabic.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { accessibilityViolations, artifactsDir, launchApp } from './harness.mjs';
import { drive, png, WAIT } from './driving.mjs';

let app;
let $, press, typeInto, choose, chooseFile, waitForText, setLanguage, mainText, staff, $$count, checkScreen, focusedId;

before(async () => {
  app = await launchApp({ mode: 'agent', env: { DOORSTEP_TEST_LOGIN_HINT: 'agent-1' } });
  ({ $, press, typeInto, choose, chooseFile, waitForText, setLanguage, mainText, staff, $$count, checkScreen, focusedId } = drive(app));
});

after(async () => {
  await app?.close();
});

const view = (name) => $(`[data-testid="register"][data-view="${name}"]`);
async function waitForView(name) {
  await (await view(name)).waitForDisplayed({ ...WAIT, timeoutMsg: `the ${name} page never came:\n${await mainText()}` });
}

/** Choose a radio button or tick a box from the keyboard. */
async function tick(selector) {
  await press(selector, ' ');
}

test('an agent registers a household, answers "Is this the same person?", and the registry gets it', async () => {
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed(WAIT);
  await (await $('#passphrase')).setValue('field work 2026');
  await (await $('#passphrase-repeat')).setValue('field work 2026');
  await press('[data-testid="passphrase-submit"]');

  // The first sync brings the agent's area (the demo households of KE.30) to the laptop.
  await press('[data-testid="tab-people"]');
  await app.browser.waitUntil(async () => (await $$count('.person')) > 0, { ...WAIT, timeoutMsg: 'no people synced to the laptop' });
  // The round ends with the registry's areas (after the people): wait for it to end. An agent's
  // first round (the whole caseload) takes a while on a slow machine.
  await (await $('[data-testid="sync-ok"]')).waitForDisplayed({ ...WAIT, timeout: 180_000 }).catch(async (e) => {
    await app.browser.saveScreenshot(join(artifactsDir, 'failed-first-sync.png'));
    throw new Error(`the first sync never finished: ${await (await $('[data-testid="sync-status"]')).getText()}`, { cause: e });
  });
  // Someone of the area, found in the registry by their ID number: the look-alike is typed from them.
  const ids = await app.browser.execute(() =>
    [...document.querySelectorAll('.person .muted')].map((e) => e.textContent.split(' ')[0]).filter((t) => /^\d+$/.test(t)),
  );
  assert.ok(ids.length > 0, 'some people of the area have ID numbers');
  const found = await staff(`/v1/search?q=${ids[0]}`);
  const existing = found.items.find((p) => p.reg_ids?.some((r) => r.value === ids[0]));
  assert.ok(existing?.birthdate, `a person with a birth date: ${JSON.stringify(found.items)}`);
  const lookAlike = { given: existing.given_name.endsWith('h') ? `${existing.given_name}a` : `${existing.given_name}h`, family: existing.family_name };

  // The People screen's new parts: Register a household, the attention filter.
  await (await $('[data-testid="attention-only"]')).waitForDisplayed(WAIT);
  await checkScreen('agent-register-people');
  await press('[data-testid="register-household"]');
  await waitForView('head');
  assert.equal(await (await $('[data-testid="tab-people"]')).getAttribute('aria-current'), 'page');
  await checkScreen('agent-register-head');

  // The head, with a slip: a birth date in the future. The form says so by the field and puts
  // the focus there, before anything is sent.
  await typeInto('#head-givenName', 'Esther');
  await typeInto('#head-familyName', 'Langat');
  await typeInto('#head-birthdate', '2099-05-17');
  await tick('#head-gender-female');
  await typeInto('#head-nationalId', '31415926');
  await typeInto('#head-phone', '+254 722 000 111');
  await choose('#head-disability-walking', 'some_difficulty');
  await typeInto('#address-locality', 'Kisumu');
  await choose('#address-country', 'KE');
  // The areas: the agent's own county is chosen to start with; its wards are offered below,
  // and one is chosen from the keyboard (the first by name: Kondele).
  assert.equal(await (await $('#address-area-0')).getValue(), 'KE.30');
  await (await $('#address-area-1')).waitForDisplayed({ ...WAIT, timeoutMsg: `no ward select:\n${await mainText()}` });
  await press('#address-area-1', 'ArrowDown');
  await app.browser.waitUntil(async () => (await (await $('#address-area-1')).getValue()) === 'KE.30.1', { ...WAIT, timeoutMsg: 'the ward was not chosen from the keyboard' });
  assert.equal(await focusedId(), 'address-area-1', 'the focus stays on the ward');
  await press('[data-testid="register-continue"]');
  await waitForText('[data-testid="head-birthdate-error"]', /future/, 'the birth date problem');
  await app.browser.waitUntil(async () => (await focusedId()) === 'head-birthdate', { ...WAIT, timeoutMsg: `the focus is on ${await focusedId()}` });
  assert.equal(await (await $('#head-birthdate')).getAttribute('aria-invalid'), 'true');
  assert.match(await (await $('#head-birthdate')).getAttribute('aria-describedby'), /head-birthdate-error/);
  await app.browser.saveScreenshot(join(artifactsDir, 'agent-register-head-problem.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on agent-register-head-problem');
  await typeInto('#head-birthdate', '1990-05-17');
  await press('[data-testid="register-continue"]');
  await waitForView('members');
  await checkScreen('agent-register-members');

  // A first member, nobody alike.
  await press('[data-testid="add-member"]');
  await waitForView('member');
  await typeInto('#member-givenName', 'Peter');
  await typeInto('#member-familyName', 'Langat');
  await choose('#member-relationship', 'spouse');
  await typeInto('#member-birthdate', '1988-02-03');
  await checkScreen('agent-register-member');
  // A slip only the core sees (the household as a whole): the head's ID number again. Its
  // problem comes back by the member's ID field, with the focus there.
  await typeInto('#member-nationalId', '31415926');
  await press('[data-testid="save-member"]');
  await waitForText('[data-testid="member-nationalId-error"]', /same ID number/, 'the ID number given twice');
  await app.browser.waitUntil(async () => (await focusedId()) === 'member-nationalId', { ...WAIT, timeoutMsg: `the focus is on ${await focusedId()}` });
  assert.equal(await (await view('member')).isDisplayed(), true, 'still on the member form');
  await typeInto('#member-nationalId', '27182818');
  await press('[data-testid="save-member"]');
  await waitForView('members');
  await waitForText('[data-testid="register-message"]', /Peter Langat is added/, 'the first member');

  // The look-alike: the same family name and birth date, the given name spelled differently.
  await press('[data-testid="add-member"]');
  await waitForView('member');
  await typeInto('#member-givenName', lookAlike.given);
  await typeInto('#member-familyName', lookAlike.family);
  await choose('#member-relationship', 'other_relative');
  await typeInto('#member-birthdate', existing.birthdate);
  await press('[data-testid="save-member"]');
  await waitForView('question');
  const table = await (await $('[data-testid="same-table"]')).getText();
  assert.match(table, new RegExp(`${existing.given_name} ${existing.family_name}`), 'the existing person is a column');
  // The given names differ: highlighted and marked in words.
  assert.ok((await $$count('[data-testid="differs"]')) > 0, 'differences are marked');
  assert.match(await (await $('[data-testid="differs"]')).getText(), /Different/);
  assert.match(await (await $('[data-testid="reasons"]')).getText(), /Same date of birth/);
  await checkScreen('agent-register-same-person');
  await press('[data-testid="same-no"]');
  await waitForView('members');
  assert.equal(await $$count('[data-testid="register-member"]'), 2);

  // The documents: the head's ID card, scanned (a file).
  await press('[data-testid="register-continue"]');
  await waitForView('documents');
  const scans = mkdtempSync(join(tmpdir(), 'doorstep-e2e-register-'));
  const card = join(scans, 'esther-id.png');
  writeFileSync(card, png(600, 400, 7));
  assert.match(await (await $('[data-testid="register-document-owner"]')).getValue(), /./, 'the head is chosen first');
  await chooseFile('[data-testid="register-document-file"]', card);
  await app.browser.waitUntil(async () => (await $$count('[data-testid="register-document"]')) === 1, {
    ...WAIT,
    timeoutMsg: `the ID card was not added:\n${await mainText()}`,
  });
  await waitForText('[data-testid="register-documents-message"]', /Identity card for Esther Langat/, 'the document is named with its person');
  await checkScreen('agent-register-documents');
  rmSync(scans, { recursive: true, force: true });

  // The payment account, then the check page.
  await press('[data-testid="register-continue"]');
  await waitForView('account');
  await checkScreen('agent-register-account');
  await typeInto('#account-providerCode', 'mpesa');
  await typeInto('#account-accountNumber', '+254722000111');
  await typeInto('#account-holderName', 'Esther Langat');
  await press('[data-testid="register-continue"]');
  await waitForView('review');
  const review = await mainText();
  assert.match(review, /Esther Langat/);
  assert.match(review, /Peter Langat/);
  assert.match(review, new RegExp(lookAlike.given));
  assert.match(review, /mpesa/);
  assert.match(review, /esther-id\.png/);
  assert.match(review, /Kondele, Kisumu/, 'the areas, smallest first');
  await checkScreen('agent-register-review');
  await press('[data-testid="register-save"]');
  await waitForView('done');
  await waitForText('[data-testid="register-saved"]', /3 people/, 'the household is saved');
  await checkScreen('agent-register-saved');

  // Sent with the next sync: three new people, the look-alike judged someone else.
  await press('[data-testid="sync-now"]');
  let people = [];
  await app.browser.waitUntil(
    async () => {
      people = (await staff('/v1/search?q=Langat')).items.filter((p) => p.family_name === 'Langat');
      const alike = (await staff(`/v1/search?q=${encodeURIComponent(lookAlike.given)}`)).items.filter(
        (p) => p.given_name === lookAlike.given && p.birthdate === existing.birthdate,
      );
      people = [...people, ...alike.filter((a) => !people.some((p) => p.id === a.id))];
      return people.length >= 3;
    },
    { ...WAIT, timeoutMsg: `the household never reached the registry: ${JSON.stringify(people)}` },
  );
  const names = people.map((p) => `${p.given_name} ${p.family_name}`).sort();
  assert.deepEqual(names, [`${lookAlike.given} ${lookAlike.family}`, 'Esther Langat', 'Peter Langat'].sort());
  assert.ok(people.find((p) => p.given_name === 'Peter').reg_ids.some((r) => r.value === '27182818'), 'the corrected ID number was sent');
  const head = people.find((p) => p.given_name === 'Esther');
  assert.ok(head.reg_ids.some((r) => r.id_type === 'national_id' && r.value === '31415926'), JSON.stringify(head.reg_ids));
  const alike = people.find((p) => p.given_name === lookAlike.given);
  assert.deepEqual(alike.not_duplicate_of, [existing.id], 'the look-alike carries the agent’s answer');
  assert.equal(people.find((p) => p.given_name === 'Peter').not_duplicate_of, undefined);
  // The ID card is the head's at the registry, its bytes sent.
  await app.browser.waitUntil(async () => (await staff(`/v1/documents?owner=${head.id}`)).items.length === 1, {
    ...WAIT,
    timeoutMsg: 'the head’s ID card never reached the registry',
  });
  const [document] = (await staff(`/v1/documents?owner=${head.id}`)).items;
  assert.equal(document.kind, 'id_card');
  assert.equal(document.file_name, 'esther-id.png');
  // The household's address names the areas picked, as the registry's list has them.
  const memberships = await staff(`/v1/memberships?owner=${head.id}`);
  const household = await staff(`/v1/groups/${memberships.items[0].group_id}`);
  assert.deepEqual(household.address.admin_areas, [
    { level: 1, code: 'KE.30', name: 'Kisumu' },
    { level: 2, code: 'KE.30.1', name: 'Kondele' },
  ]);
});

test('a registration left for later waits on the agent’s home, to resume or discard', async () => {
  await press('[data-testid="register-to-people"]');
  await press('[data-testid="register-household"]');
  await waitForView('head');
  await typeInto('#head-givenName', 'Halima');
  await typeInto('#head-familyName', 'Chege');
  await press('[data-testid="register-later"]');
  await (await $('[data-testid="people"]')).waitForDisplayed(WAIT);

  await press('[data-testid="tab-home"]');
  await waitForText('[data-testid="in-progress"]', /Halima Chege/, 'the registration in progress');
  await checkScreen('agent-home-in-progress');
  // Resumed where it was left, with what was typed.
  await press('[data-testid="resume-registration"]');
  await waitForView('head');
  await app.browser.waitUntil(async () => (await (await $('#head-givenName')).getValue()) === 'Halima', { ...WAIT, timeoutMsg: 'the typed name is gone' });
  await press('[data-testid="register-later"]');
  await (await $('[data-testid="people"]')).waitForDisplayed(WAIT);

  // Discarded, after saying yes.
  await press('[data-testid="tab-home"]');
  await press('[data-testid="discard-registration"]');
  await (await $('[data-testid="confirm-discard"]')).waitForDisplayed(WAIT);
  assert.equal(await focusedId(), 'confirm-discard');
  await press('[data-testid="confirm-discard"]');
  await waitForText('[data-testid="in-progress-message"]', /Halima Chege is discarded/, 'the discard');
  assert.equal(await $$count('[data-testid="in-progress-row"]'), 0);
});
