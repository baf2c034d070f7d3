// One programme's life across roles and devices (issue 17), each on its own computer with its
// own app and data, all on one registry and one identity provider:
// 1. an administrator builds a programme's form (text, number, select, date, file and a field
//    shown on a condition), translates a label and publishes it;
// 2. a citizen syncs once, then with the registry gone registers nothing new but adds an ID card
//    and fills in and submits the form: all kept on the laptop and sent when it is back;
// 3. a staff member opens the application at the review desk, rejects the ID card with a reason
//    and asks for more information;
// 4. the citizen sees both, in their language, replaces the card and answers;
// 5. staff verify the new card and approve; the decision reaches the citizen's laptop.
// Also: the registry itself refuses her application edited over HTTP with answers that break
// the form, naming each field.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactsDir, launchWorld } from './harness.mjs';
import { drive, png, WAIT } from './driving.mjs';

const CODE = 'school_meals';
const FORM = {
  display: 'form',
  components: [
    { type: 'textfield', key: 'childName', label: 'Child name', input: true, validate: { required: true, maxLength: 60 } },
    { type: 'number', key: 'numberOfChildren', label: 'Number of children', input: true, validate: { required: true, min: 1, max: 12 } },
    {
      type: 'select',
      key: 'school',
      label: 'School',
      input: true,
      widget: 'html5',
      data: { values: [{ label: 'Kisumu Primary', value: 'kisumu' }, { label: 'Siaya Primary', value: 'siaya' }] },
      validate: { required: true },
    },
    { type: 'datetime', key: 'birthDate', label: 'Date of birth', input: true, enableTime: false, format: 'yyyy-MM-dd' },
    { type: 'file', key: 'report', label: 'School report', input: true, storage: 'base64', fileMaxSize: '500KB' },
    {
      type: 'textfield',
      key: 'siblingsAtSchool',
      label: 'Brothers and sisters at the same school',
      input: true,
      validate: { required: true },
      conditional: { json: { '>': [{ var: 'data.numberOfChildren' }, 1] } },
    },
    // No submit button: the builder offers none; the app adds its own "Send my application".
  ],
};

/** Time-ordered ids, as the app mints them (UUIDv7). */
function uuid7() {
  const hex = Date.now().toString(16).padStart(12, '0');
  const rest = crypto.randomUUID().replace(/-/g, '').slice(12);
  const v = `${hex}7${rest.slice(1, 4)}${((parseInt(rest[4], 16) & 3) | 8).toString(16)}${rest.slice(5, 20)}`;
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20, 32)}`;
}

let world;
const devices = {};
const scans = mkdtempSync(join(tmpdir(), 'doorstep-journey-'));

/** Open a computer for `who` (a test provider account), with the usual helpers bound to it. */
async function computer(name, who) {
  const device = await world.openDevice({ logName: `journey-${name}`, env: { DOORSTEP_TEST_LOGIN_HINT: who } });
  const app = {
    get browser() {
      return device.browser;
    },
    registryUrl: world.registryUrl,
    staffToken: world.staffToken,
    devToken: world.devToken,
  };
  devices[name] = { device, app, ...drive(app), shot: (screen) => device.browser.saveScreenshot(join(artifactsDir, `journey-${name}-${screen}.png`)) };
  return devices[name];
}

/** Sign in for the first time on this computer and choose its passphrase. */
async function firstSignIn({ press, typeInto, $, mainText }, passphrase) {
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed({ ...WAIT, timeoutMsg: `no passphrase screen:\n${await mainText()}` });
  await typeInto('#passphrase', passphrase);
  await typeInto('#passphrase-repeat', passphrase);
  await press('[data-testid="passphrase-submit"]');
}

/** The registry's copy of the one application to the programme (read with a staff token). */
async function registryApplication(predicate, what) {
  let last;
  const { app } = devices.citizen;
  await app.browser.waitUntil(
    async () => {
      const programmes = await devices.citizen.staff('/v1/programmes?limit=500');
      const programme = programmes.items.find((p) => p.code === CODE);
      const page = await devices.citizen.staff('/v1/applications?limit=500');
      last = page.items.filter((a) => a.programme_id === programme?.id);
      return last.length === 1 && predicate(last[0]);
    },
    { ...WAIT, timeoutMsg: `${what}: ${JSON.stringify(last)}` },
  );
  return last[0];
}

before(async () => {
  world = await launchWorld({ logName: 'journey' });
  await world.registryCli(['admin', 'grant', '--issuer', world.issuer, '--subject', 'admin-1', '--role', 'admin']);
  await world.registryCli(['admin', 'grant', '--issuer', world.issuer, '--subject', 'staff-1', '--role', 'staff']);
});

after(async () => {
  for (const { device } of Object.values(devices)) await device.close();
  await world?.close();
});

test('an administrator builds the form, translates it and publishes it', async () => {
  const admin = await computer('admin', 'admin-1');
  const { press, pressOn, typeInto, waitForText, $, mainText, staff } = admin;
  await firstSignIn(admin, 'forms for everyone');
  await (await $('[data-testid="tab-forms"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no forms tab:\n${await mainText()}` });
  await press('[data-testid="tab-forms"]');

  await press('[data-testid="new-programme"]');
  await typeInto('[data-testid="programme-code"]', CODE);
  await typeInto('[data-testid="programme-name"]', 'School meals');
  await typeInto('[data-testid="programme-description"]', 'A hot meal every school day for children of households in need.');
  await pressOn(await $('[data-testid="programme-document-id_card"]'), ' ');
  await press('[data-testid="programme-save"]');
  await waitForText('[data-testid="forms-message"]', /School meals was created/, 'the programme was created');

  await press(`[data-testid="admin-programme"][data-code="${CODE}"] [data-testid="design-form"]`);
  const file = join(scans, 'school-meals.json');
  writeFileSync(file, JSON.stringify(FORM, null, 2));
  const input = await $('[data-testid="form-import"]');
  await input.waitForExist(WAIT);
  await input.addValue(file);
  await waitForText('[data-testid="form-file-message"]', /school-meals\.json was imported/, 'the form was imported');

  await press('[data-testid="step-translate"]');
  const row = '[data-testid="translation-row"][data-text="Child name"]';
  await typeInto(`${row} [data-testid="translation-fr"]`, "Nom de l'enfant");
  await typeInto(`${row} [data-testid="translation-ar"]`, 'اسم الطفل');
  await waitForText('[data-testid="design-status"]', /kept on this device/, 'the translations are kept');

  await press('[data-testid="step-publish"]');
  await press('[data-testid="publish"]');
  await waitForText('[data-testid="forms-message"]', /Version 1 of the form of School meals is published/, 'published');
  await admin.shot('published');
  const programme = (await staff('/v1/programmes?limit=500')).items.find((p) => p.code === CODE);
  const [form] = (await staff(`/v1/forms?parent=${programme.id}`)).items;
  assert.equal(form.version, 1);
  assert.equal(form.schema.i18n.fr['Child name'], "Nom de l'enfant");
  assert.deepEqual(programme.required_documents, ['id_card']);
  // The administrator's part is done: their computer is shut.
  await admin.device.close();
  delete devices.admin;
});

test('a citizen syncs once, then offline adds an ID card and submits the form; it is sent when the registry is back', async () => {
  const citizen = await computer('citizen', 'person-1');
  const { press, pressOn, typeInto, choose, waitForText, chooseFile, $, mainText } = citizen;
  const field = (key) => $(`[name="data[${key}]"]`);
  await firstSignIn(citizen, 'a meal a day 7');
  // Registering, online: the person's record, with French as the language to be written to in.
  await (await field('givenName')).waitForDisplayed({ ...WAIT, timeoutMsg: `no registration form:\n${await mainText()}` });
  await typeInto('[name="data[phone]"]', '+254712345678');
  await choose('[name="data[preferredLanguage]"]', 'fr');
  await typeInto('[name="data[locality]"]', 'Kisumu');
  await choose('[name="data[country]"]', 'KE');
  await pressOn(await field('confirm'), ' ');
  await pressOn(await $('button[name="data[submit]"]'), 'Enter');
  await (await $('[data-testid="saved"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `not saved:\n${await mainText()}` });
  await waitForText('[data-testid="sync-status"]', /Up to date/, 'the first sync');
  await press('[data-testid="tab-programmes"]');
  await (await $(`[data-code="${CODE}"]`)).waitForDisplayed({ ...WAIT, timeoutMsg: `the new programme did not arrive:\n${await mainText()}` });

  // The registry goes away: the rest of the morning is offline (and it comes back whatever
  // happens here, so one failure does not take the later steps with it).
  await world.stopRegistry();
  try {
    await offlineMorning(citizen);
  } finally {
    await world.startRegistry();
  }

  // Back online: "Sync now" sends the card, the answers and the submission.
  await press('[data-testid="registry-status"] button');
  await press('[data-testid="sync-now"]');
  const sent = await registryApplication((a) => a.status === 'submitted', 'the application reached the registry');
  assert.equal(sent.form_version, 1);
  assert.equal(sent.data.childName, 'Zawadi Njoroge');
  assert.equal(sent.data.numberOfChildren, 2);
  assert.equal(sent.data.siblingsAtSchool, 'Baraka, class 3');
  assert.match(String(sent.data.birthDate), /^2016-03-14/);
  assert.equal(sent.data.report?.[0]?.originalName, 'school-report.png', JSON.stringify(sent.data.report).slice(0, 200));
  assert.match(sent.data.report[0].url, /^data:image\/png;base64,/);
});

/** Offline: an ID card added, the form filled in (the conditional field appears at two
 *  children, a school report attached) and submitted; all of it waits on the laptop. */
async function offlineMorning(citizen) {
  const { press, pressOn, typeInto, choose, waitForText, chooseFile, $, mainText } = citizen;
  const field = (key) => $(`[name="data[${key}]"]`);
  await press('[data-testid="tab-documents"]');
  await (await $('[data-testid="documents"]')).waitForDisplayed(WAIT);
  const card = join(scans, 'id-card.png');
  writeFileSync(card, png(900, 600, 11));
  await choose('[data-testid="document-kind"]', 'id_card');
  await chooseFile('[data-testid="document-file"]', card);
  await waitForText('[data-testid="documents-message"]', /Document added/, 'the card is added');

  await press('[data-testid="tab-programmes"]');
  await press(`[data-code="${CODE}"] [data-testid="apply"]`);
  await typeInto('[name="data[childName]"]', 'Zawadi Njoroge');
  await choose('[name="data[school]"]', 'siaya');
  await typeInto('.formio-component-birthDate input.form-control:not([type="hidden"])', '2016-03-14');
  assert.doesNotMatch(await mainText(), /Brothers and sisters/, 'the conditional field starts hidden');
  await typeInto('[name="data[numberOfChildren]"]', '2');
  await waitForText('main', /Brothers and sisters at the same school/, 'the conditional field shows for two children');
  await typeInto('[name="data[siblingsAtSchool]"]', 'Baraka, class 3');
  // The school report: a file kept inside the answers (the form's file field). Form.io makes its
  // file chooser only when "Browse Files" is clicked and the system dialog is out of WebDriver's
  // reach, so the file is dropped on the field's drop zone, as a person dragging it there does.
  await citizen.app.browser.execute(
    (base64, name) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const files = new DataTransfer();
      files.items.add(new File([bytes], name, { type: 'image/png' }));
      const zone = document.querySelector('.formio-component-report [ref="fileDrop"]');
      zone.scrollIntoView({ block: 'center' });
      for (const type of ['dragenter', 'dragover', 'drop']) zone.dispatchEvent(new DragEvent(type, { dataTransfer: files, bubbles: true, cancelable: true }));
    },
    png(120, 90, 13).toString('base64'),
    'school-report.png',
  );
  await waitForText('.formio-component-report', /school-report\.png/, 'the report is attached');
  await citizen.shot('form-filled-offline');
  await pressOn(await $('button[name="data[submit]"]'), 'Enter');
  await (await $('[data-testid="application-submitted"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `not submitted:\n${await mainText()}` });
  await press('[data-testid="application-done"]');
  await waitForText(`[data-code="${CODE}"]`, /waiting to be sent|will be sent/i, 'the application waits on the laptop');
  await citizen.shot('submitted-offline');
}

test('a staff member rejects the ID card with a reason and asks for more information', async () => {
  const desk = await computer('staff', 'staff-1');
  const { press, typeInto, waitForText, $, mainText, $$count } = desk;
  await firstSignIn(desk, 'review desk 24');
  await (await $('[data-testid="review"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no review desk:\n${await mainText()}` });
  await desk.app.browser.waitUntil(async () => (await $$count('[data-testid="review-item"]')) > 0, { ...WAIT, timeoutMsg: `the queue is empty:\n${await mainText()}` });
  await waitForText('[data-testid="review-table"]', /School meals/, 'the application is queued');
  await press('[data-testid="review-item"]:first-child [data-testid="review-open"]');
  await waitForText('[data-testid="case-document"]', /id-card\.png/, 'the card is listed');
  await press('[data-testid="case-document-reject"]');
  await typeInto('#refuse-reason', 'The photo is blurred: the number cannot be read.');
  await press('[data-testid="case-refuse-confirm"]');
  await waitForText('[data-testid="case-document-status"]', /blurred/, 'the card is rejected with its reason');
  await press('[data-testid="case-decide-under_review"]');
  await waitForText('[data-testid="case-status"]', /Under review/, 'the review started');
  await typeInto('#case-note', 'Which class is Zawadi in?');
  await press('[data-testid="case-decide-more_information_needed"]');
  await waitForText('[data-testid="case-status"]', /More information needed/, 'more information asked for');
  await desk.shot('asked');
  await press('[data-testid="review-back"]');
});

test('her application edited over HTTP with answers that break the form is refused, naming each field, and nothing changes', async () => {
  // The same person from another program (a citizen token for her national ID), while the office
  // waits for her answers: the registry checks what the form allows, not what the app sent.
  const token = await world.devToken('citizen', 'person-1-script', ['--individual-id', '4918273645']);
  const before = await registryApplication((a) => a.status === 'more_information_needed', 'the application waits for answers');
  const response = await fetch(`${world.registryUrl}/v1/applications/${before.id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'if-match': `"${before.rev}"`, 'idempotency-key': crypto.randomUUID() },
    // No child's name, too many children, a school that is not an option, and the sibling
    // answer (required once shown) left out.
    body: JSON.stringify({ ...before, data: { numberOfChildren: 13, school: 'elsewhere' } }),
  });
  const problem = await response.json();
  assert.equal(response.status, 422, JSON.stringify(problem));
  for (const key of ['childName', 'numberOfChildren', 'school', 'siblingsAtSchool']) {
    assert.ok(
      problem.errors.some((e) => String(e.field).endsWith(key)),
      `${key} is named: ${JSON.stringify(problem.errors)}`,
    );
  }
  const after = await registryApplication(() => true, 'the application');
  assert.deepEqual([after.rev, after.data], [before.rev, before.data], 'nothing changed');
});

test('the citizen sees why, in French, replaces the card and answers', async () => {
  const citizen = devices.citizen;
  const { press, pressOn, typeInto, waitForText, chooseFile, $, setLanguage } = citizen;
  await press('[data-testid="tab-home"]');
  await press('[data-testid="sync-now"]');
  await waitForText('[data-testid="pending-actions"]', /Which class is Zawadi in\?/, 'the request is a to-do');
  await waitForText('[data-testid="pending-actions"]', /The photo is blurred/, 'the rejected card is a to-do with its reason');
  await setLanguage('fr');
  await waitForText('[data-testid="pending-actions"]', /Le bureau n'a pas accepté votre document/, 'the to-do in French');
  await citizen.shot('home-to-do-fr');
  // The registry wrote to them in French, their language.
  await press('[data-testid="tab-notifications"]');
  await waitForText('[data-testid="notifications"]', /Veuillez renvoyer votre document/, 'the rejection, in French');
  await waitForText('[data-testid="notifications"]', /Informations complémentaires demandées/, 'the request, in French');
  await setLanguage('en');

  await press('[data-testid="tab-documents"]');
  await waitForText('[data-testid="document-review"]', /Not accepted by the office[\s\S]*blurred/, 'the reason on the document');
  const sharper = join(scans, 'id-card-sharp.png');
  writeFileSync(sharper, png(1200, 800, 12));
  await press('[data-testid="document-replace"]');
  await chooseFile('[data-testid="document-file"]', sharper);
  await waitForText('[data-testid="documents-message"]', /replaced/i, 'the card is replaced');

  await press('[data-testid="tab-home"]');
  await press('[data-kind="answerRequest"] button');
  await waitForText('[data-testid="application-request"]', /Which class is Zawadi in\?/, 'the request above the form');
  await typeInto('[name="data[siblingsAtSchool]"]', 'Baraka, class 3; Zawadi is in class 1');
  await pressOn(await $('button[name="data[submit]"]'), 'Enter');
  await (await $('[data-testid="application-submitted"]')).waitForDisplayed(WAIT);
  await press('[data-testid="application-done"]');
  await press('[data-testid="sync-now"]');
  const answered = await registryApplication((a) => a.status === 'submitted' && a.status_history.length === 4, 'the answers reached the registry');
  assert.match(answered.data.siblingsAtSchool, /class 1/);
});

test('staff verify the new card and approve; the decision reaches the citizen', async () => {
  const desk = devices.staff;
  const { press, typeInto, waitForText, $$count } = desk;
  await press('[data-testid="review-apply"]');
  await desk.app.browser.waitUntil(async () => (await $$count('[data-testid="review-item"]')) > 0, WAIT);
  await press('[data-testid="review-item"]:first-child [data-testid="review-open"]');
  await waitForText('[data-testid="case-document"]', /id-card-sharp\.png/, 'the new card');
  await press('[data-testid="case-document-verify"]');
  await waitForText('[data-testid="case-document-status"]', /Verified|verified/, 'the card is verified');
  await press('[data-testid="case-decide-under_review"]');
  await waitForText('[data-testid="case-status"]', /Under review/, 'the review started again');
  await typeInto('#case-note', 'Meals start on Monday.');
  await press('[data-testid="case-decide-approved"]');
  await waitForText('[data-testid="case-status"]', /Approved/, 'approved');
  await desk.shot('approved');

  const citizen = devices.citizen;
  await citizen.press('[data-testid="sync-now"]');
  await citizen.press('[data-testid="tab-notifications"]');
  await citizen.waitForText('[data-testid="notifications"]', /Demande approuvée[\s\S]*Meals start on Monday/, 'the approval, in French, with the note');
  await citizen.press('[data-testid="tab-programmes"]');
  await citizen.waitForText(`[data-code="${CODE}"] [data-testid="application-status"]`, /Approved/, 'the status on the laptop');
  await citizen.shot('approved');
});
