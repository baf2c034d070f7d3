// A registry administrator designs a programme's form in the app, keyboard first: creates the
// programme, imports part of the form from a JSON file (a select, a date and a file field: the
// builder's drag-and-drop and its choices.js option lists are not drivable through WebDriver,
// so those come in through the builder's import path), adds a number and a conditional text
// field with the builder's own keyboard UI (Enter on the palette, the settings dialog, the
// condition written as JSON logic), translates a label into French and Arabic, previews the
// form in Arabic (right to left), exports it to a file, and publishes version 1, which the
// registry then holds. Then: a file that needs JavaScript is refused naming the field; a
// version someone else published meanwhile is shown and the administrator publishes after it;
// without the registry, publishing says so and keeps the draft. A form whose labels, content
// and options carry script payloads runs none of them, in the builder and in the preview, in
// every language (no flag set, no CSP violation, nothing runnable in the DOM). Every screen
// around the builder: a photo and axe in en, fr and ar.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessibilityViolations, artifactsDir, launchApp } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

const files = mkdtempSync(join(tmpdir(), 'doorstep-builder-files-'));
const exports = join(files, 'exports');
let app;
let $, press, pressOn, typeInto, waitForText, mainText, staff, $$count, checkScreen;

before(async () => {
  app = await launchApp({ logName: 'builder', env: { DOORSTEP_TEST_LOGIN_HINT: 'admin-1', DOORSTEP_EXPORT_DIR: exports } });
  ({ $, press, pressOn, typeInto, waitForText, mainText, staff, $$count, checkScreen } = drive(app));
  // The registry's staff directory makes admin-1 an administrator, as on a new server.
  await app.registryCli(['admin', 'grant', '--issuer', app.issuer, '--subject', 'admin-1', '--role', 'admin']);
});

after(async () => {
  await app?.close();
});

const shot = (name) => app.browser.saveScreenshot(join(artifactsDir, `${name}.png`));
const CODE = 'school_meals';

/** Write `schema` as a JSON file and choose it in the import field. */
async function importForm(name, schema) {
  const file = join(files, name);
  writeFileSync(file, typeof schema === 'string' ? schema : JSON.stringify(schema, null, 2));
  const input = await $('[data-testid="form-import"]');
  await input.waitForExist(WAIT);
  await input.addValue(file);
}

/** What in the page could run script, and whether a payload ran or the CSP blocked one. */
function scriptState() {
  return app.browser.execute(() => {
    const runnable = [];
    for (const el of document.querySelectorAll('main *')) {
      if (el.tagName === 'SCRIPT') runnable.push('script');
      for (const attr of el.getAttributeNames()) {
        if (attr.startsWith('on')) runnable.push(`${el.tagName} ${attr}`);
        if (/^(href|src|action)$/.test(attr) && /^\s*javascript:/i.test(el.getAttribute(attr))) runnable.push(`${el.tagName} ${attr}`);
      }
    }
    return { runnable, pwned: window.__builderPwned ?? null, violations: window.__doorstepCspViolations };
  });
}

/** A time-ordered UUID (v7), as the app mints record ids. */
function uuidv7() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The programme's published versions at the registry. */
async function versions(programmeId) {
  return (await staff(`/v1/forms?parent=${programmeId}`)).items.sort((a, b) => a.version - b.version);
}

let programmeId;

test('an administrator signs in and reaches the programme forms', async () => {
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed(WAIT);
  await typeInto('#passphrase', 'forms for everyone');
  await typeInto('#passphrase-repeat', 'forms for everyone');
  await press('[data-testid="passphrase-submit"]');
  // The registry says this person is an administrator: the section is theirs.
  await (await $('[data-testid="tab-forms"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no forms tab:\n${await mainText()}` });
  await press('[data-testid="tab-forms"]');
  await app.browser.waitUntil(async () => (await $$count('[data-testid="admin-programme"]')) > 0, { ...WAIT, timeoutMsg: 'the demo programmes are not listed' });
  await waitForText('[data-testid="admin-programme"][data-code="child-benefit"] [data-testid="admin-programme-version"]', /Version 1/, 'the demo programme has its published form');
  await checkScreen('builder-list');
});

test('the administrator creates a programme', async () => {
  await press('[data-testid="new-programme"]');
  await typeInto('[data-testid="programme-code"]', 'School Meals');
  await typeInto('[data-testid="programme-name"]', 'School meals');
  await press('[data-testid="programme-save"]');
  // The domain's rule, shown by the field, the focus there.
  await (await $('#programme-code-error')).waitForDisplayed(WAIT);
  assert.equal(await app.browser.execute(() => document.activeElement?.id), 'programme-code');
  await checkScreen('builder-programme');
  await typeInto('[data-testid="programme-code"]', CODE);
  await typeInto('[data-testid="programme-description"]', 'A hot meal every school day for children of households in need.');
  await pressOn(await $('[data-testid="programme-document-id_card"]'), ' ');
  await press('[data-testid="programme-save"]');
  await waitForText('[data-testid="forms-message"]', /School meals was created/, 'the programme was created');
  const programmes = await staff('/v1/programmes?limit=500');
  const created = programmes.items.find((p) => p.code === CODE);
  assert.ok(created, 'the registry has the programme');
  assert.deepEqual(created.required_documents, ['id_card']);
  programmeId = created.id;
  await waitForText(`[data-testid="admin-programme"][data-code="${CODE}"]`, /No form yet/, 'the new programme has no form');
});

test('labels, content and options from a form never run script, in the builder and the preview', async () => {
  await press(`[data-testid="admin-programme"][data-code="${CODE}"] [data-testid="design-form"]`);
  await (await $('[data-testid="form-builder"] .formio')).waitForDisplayed(WAIT);
  const payloads = '<img src="x" onerror="window.__builderPwned = 1"><script>window.__builderPwned = 2</script><a href="javascript:window.__builderPwned = 3">link</a>';
  await importForm('hostile.json', {
    display: 'form',
    components: [
      { type: 'textfield', key: 'name', label: `Name ${payloads}`, description: `Help ${payloads}`, input: true },
      { type: 'content', key: 'note', html: `<p>Read this</p>${payloads}` },
      { type: 'radio', key: 'own', label: 'Own?', input: true, values: [{ label: `Yes ${payloads}`, value: 'yes' }] },
      { type: 'select', key: 'county', label: 'County', input: true, widget: 'choicesjs', data: { values: [{ label: `Kisumu ${payloads}`, value: 'ke30' }] } },
    ],
    i18n: { ar: { 'Read this': `اقرأ هذا ${payloads}` } },
  });
  await waitForText('[data-testid="form-file-message"]', /hostile\.json was imported/, 'the hostile form was imported');
  await waitForText('[data-testid="form-builder"]', /Read this/, 'the builder shows the imported form');
  await press('[data-testid="step-preview"]');
  for (const lang of ['en', 'fr', 'ar']) {
    await press(`[data-testid="preview-${lang}"]`, ' ');
    await waitForText('[data-testid="form-preview"]', lang === 'ar' ? /اقرأ هذا/ : /Read this/, `the preview in ${lang}`);
    // Any image the payloads left would have failed to load by now.
    await app.browser.waitUntil(() => app.browser.execute(() => [...document.images].every((i) => i.complete)), WAIT);
    const state = await scriptState();
    assert.deepEqual(state, { runnable: [], pwned: null, violations: [] }, `script payloads in the preview (${lang})`);
  }
  await press('[data-testid="step-build"]');
  await waitForText('[data-testid="form-builder"]', /Read this/, 'the builder again');
  assert.deepEqual(await scriptState(), { runnable: [], pwned: null, violations: [] }, 'script payloads in the builder');
});

test('a form that needs JavaScript, or is no form at all, is refused naming what is wrong', async () => {
  await importForm('scripted.json', {
    components: [
      { type: 'number', key: 'total', label: 'Total to pay', input: true, calculateValue: 'value = data.a * 2;' },
      { type: 'textfield', key: 'x', label: 'X', input: true },
    ],
  });
  await waitForText('[data-testid="form-file-error"]', /need JavaScript.*Total to pay/, 'the scripted form is refused');
  await importForm('broken.json', '{ "components": [ ');
  await waitForText('[data-testid="form-file-error"]', /not JSON/, 'the broken file is refused');
  await importForm('list.json', '[1, 2]');
  await waitForText('[data-testid="form-file-error"]', /no list of components/, 'a list is not a form');
});

test('the administrator builds the form: an import, then fields added from the keyboard', async () => {
  // Text, select, date and file fields through the import path.
  await importForm('school-meals.json', {
    display: 'form',
    components: [
      { type: 'textfield', key: 'childName', label: 'Child name', input: true, validate: { required: true } },
      { type: 'select', key: 'school', label: 'School', input: true, widget: 'html5', data: { values: [{ label: 'Kisumu Primary', value: 'kisumu' }, { label: 'Siaya Primary', value: 'siaya' }] }, validate: { required: true } },
      { type: 'datetime', key: 'birthDate', label: 'Date of birth', input: true, enableTime: false, format: 'yyyy-MM-dd' },
      { type: 'file', key: 'report', label: 'School report', input: true, storage: 'base64', fileMaxSize: '500KB' },
    ],
  });
  await waitForText('[data-testid="form-file-message"]', /school-meals\.json was imported/, 'the form was imported');
  await waitForText('[data-testid="form-builder"]', /School report/, 'the builder shows the imported form');

  /** Add a field of `type` from the palette with the keyboard, label it, and open its tab. */
  async function addField(type, label) {
    await press(`[data-testid="form-builder"] [ref="sidebar-component"][data-type="${type}"]`);
    const dialog = await $('.component-edit-container');
    await dialog.waitForDisplayed({ ...WAIT, timeoutMsg: `no settings dialog for ${type}` });
    await typeInto('.component-edit-container input[name="data[label]"]', label);
    await waitForText('.component-edit-container .component-preview', new RegExp(label), `the dialog previews ${label}`);
  }
  const save = async () => {
    await press('.component-edit-container [ref="saveButton"]');
    await app.browser.waitUntil(async () => (await $$count('.component-edit-container')) === 0, { ...WAIT, timeoutMsg: 'the dialog stayed open' });
  };

  await addField('number', 'Number of children');
  await save();
  await addField('textfield', 'School meals last year');
  // The condition, as JSON logic: shown only when there are children.
  await press('.component-edit-container a.nav-link[href="#conditional"]');
  const header = async (title) => {
    const headers = await app.browser.$$('.component-edit-container [ref="header"]');
    for (const h of headers) if ((await h.getText()).trim() === title) return h;
    throw new Error(`no panel ${title}: ${await (await $('.component-edit-container')).getText()}`);
  };
  await pressOn(await header('Advanced Conditions'), 'Enter');
  await pressOn(await header('JSONLogic'), 'Enter');
  assert.doesNotMatch(await (await $('.component-edit-container')).getText(), /JavaScript/, 'no JavaScript in the settings');
  await typeInto('.component-edit-container textarea[name="data[conditional.json]"]', '{">": [{"var": "data.numberOfChildren"}, 0]}');
  await save();
  await waitForText('[data-testid="design-status"]', /kept on this device/, 'the design is kept on the device');
  await checkScreen('builder-build');
});

/** Go to a step of the designer and wait until it is shown. */
async function step(name) {
  await press(`[data-testid="step-${name}"]`);
  await (await $(`#step-${name}-title`)).waitForDisplayed({
    ...WAIT,
    timeoutMsg: `the ${name} step did not open; script errors: ${JSON.stringify(await app.browser.execute(() => window.__doorstepBootErrors))}`,
  });
}

test('the administrator translates a label into French and Arabic', async () => {
  await step('translate');
  const row = '[data-testid="translation-row"][data-text="Child name"]';
  await typeInto(`${row} [data-testid="translation-fr"]`, "Nom de l'enfant");
  await typeInto(`${row} [data-testid="translation-ar"]`, 'اسم الطفل');
  await waitForText('[data-testid="design-status"]', /kept on this device/, 'the translations are kept');
  await checkScreen('builder-translate');
  await app.browser.execute(() => document.querySelector('[data-testid="translations-form"]').scrollIntoView({ block: 'start', behavior: 'instant' }));
  await shot('builder-translate-table');
});

test('the preview shows the form as a citizen sees it, in Arabic right to left, with its condition', async () => {
  await step('preview');
  await press('[data-testid="preview-en"]', ' ');
  const preview = '[data-testid="form-preview"]';
  await waitForText(preview, /Child name/, 'the English preview');
  assert.doesNotMatch(await (await $(preview)).getText(), /School meals last year/, 'the conditional field starts hidden');
  await typeInto(`${preview} [name="data[numberOfChildren]"]`, '2');
  await waitForText(preview, /School meals last year/, 'the conditional field shows when there are children');
  await press('[data-testid="preview-ar"]', ' ');
  await waitForText(preview, /اسم الطفل/, 'the Arabic label');
  assert.equal(await (await $(preview)).getAttribute('dir'), 'rtl');
  const [label, input] = await app.browser.execute(() => {
    const field = document.querySelector('[data-testid="form-preview"] [name="data[childName]"]');
    const l = field.closest('.formio-component').querySelector('label');
    return [getComputedStyle(l).direction, getComputedStyle(field).direction];
  });
  assert.deepEqual([label, input], ['rtl', 'rtl'], 'the Arabic form runs right to left');
  await app.browser.execute(() => document.querySelector('[data-testid="form-preview"]').scrollIntoView({ block: 'start', behavior: 'instant' }));
  await shot('builder-preview-ar');
  await checkScreen('builder-preview');
});

test('the administrator exports the form, then publishes version 1, which the registry holds', async () => {
  await press('[data-testid="step-build"]');
  await press('[data-testid="form-export"]');
  await waitForText('[data-testid="form-file-message"]', /Saved as/, 'the form was exported');
  const [exported] = readdirSync(exports);
  assert.equal(exported, `${CODE}-form.json`);
  const file = JSON.parse(readFileSync(join(exports, exported), 'utf8'));
  assert.deepEqual(file.components.map((c) => c.key).sort(), ['birthDate', 'childName', 'numberOfChildren', 'report', 'school', 'schoolMealsLastYear']);
  assert.equal(file.i18n.fr['Child name'], "Nom de l'enfant");

  await press('[data-testid="step-publish"]');
  await checkScreen('builder-publish');
  await press('[data-testid="publish"]');
  await waitForText('[data-testid="forms-message"]', /Version 1 of the form of School meals is published/, 'published');
  await waitForText(`[data-testid="admin-programme"][data-code="${CODE}"] [data-testid="admin-programme-version"]`, /Version 1/, 'the list shows version 1');
  const [v1, ...more] = await versions(programmeId);
  assert.equal(more.length, 0);
  assert.equal(v1.version, 1);
  const byKey = Object.fromEntries(v1.schema.components.map((c) => [c.key, c]));
  assert.deepEqual(Object.keys(byKey).sort(), ['birthDate', 'childName', 'numberOfChildren', 'report', 'school', 'schoolMealsLastYear']);
  assert.equal(byKey.numberOfChildren.type, 'number');
  assert.deepEqual(byKey.schoolMealsLastYear.conditional.json, { '>': [{ var: 'data.numberOfChildren' }, 0] });
  assert.equal(v1.schema.i18n.fr['Child name'], "Nom de l'enfant");
  assert.equal(v1.schema.i18n.ar['Child name'], 'اسم الطفل');
});

test('offline, publishing says so and keeps the draft; a version published meanwhile is shown and published after', async () => {
  // A change on top of version 1, kept on the device.
  await press(`[data-testid="admin-programme"][data-code="${CODE}"] [data-testid="design-form"]`);
  await waitForText('[data-testid="design-status"]', /Started from version 1\s*·\s*not changed yet/, 'the design starts from version 1');
  await press('[data-testid="step-translate"]');
  await typeInto('[data-testid="translation-row"][data-text="School"] [data-testid="translation-fr"]', 'École');
  await waitForText('[data-testid="design-status"]', /kept on this device/, 'the change is kept');

  // Without the registry: said plainly, nothing lost.
  await app.stopRegistry();
  await press('[data-testid="step-publish"]');
  await press('[data-testid="publish"]');
  await waitForText('[data-testid="publish-error"]', /cannot be reached now.*your draft is kept/, 'publishing offline');
  await shot('builder-publish-offline');
  // The list, offline: the forms being designed on this device, still open to work on.
  await press('[data-testid="designer-back"]');
  await (await $('[data-testid="forms-offline"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no offline notice:\n${await mainText()}` });
  await waitForText(`[data-testid="admin-programme"][data-code="${CODE}"]`, /School meals/, 'the design is listed offline');
  assert.equal(await $$count('[data-testid="admin-programme"]'), 1, 'only the designs on this device are listed offline');
  await shot('builder-list-offline');
  await press(`[data-testid="admin-programme"][data-code="${CODE}"] [data-testid="design-form"]`);
  await waitForText('[data-testid="design-status"]', /Started from version 1/, 'the design opens offline');
  await app.startRegistry();
  await press('[data-testid="step-publish"]');

  // Meanwhile another administrator publishes version 2 straight to the registry.
  const [v1] = await versions(programmeId);
  const token = await app.devToken('admin', 'another-admin');
  const now = new Date().toISOString();
  const theirs = { id: uuidv7(), created_at: now, updated_at: now, created_by: 'another-admin', programme_id: programmeId, version: 2, schema: { ...v1.schema, title: 'Theirs' } };
  const response = await fetch(`${app.registryUrl}/v1/forms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': uuidv7() },
    body: JSON.stringify(theirs),
  });
  assert.equal(response.status, 201, await response.text());

  await press('[data-testid="publish"]');
  await waitForText('[data-testid="publish-error"]', /Version 2 of this form was published by someone else/, 'the conflict is told');
  await shot('builder-publish-conflict');
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on the conflict');
  await press('[data-testid="publish-after"]');
  await waitForText('[data-testid="forms-message"]', /Version 3 of the form of School meals is published/, 'published after theirs');
  const all = await versions(programmeId);
  assert.deepEqual(all.map((f) => f.version), [1, 2, 3]);
  assert.equal(all[2].schema.i18n.fr.School, 'École');
  assert.equal(all[1].schema.title, 'Theirs', 'their version is untouched');
  await waitForText(`[data-testid="admin-programme"][data-code="${CODE}"] [data-testid="admin-programme-version"]`, /Version 3/, 'the list shows version 3');
});
