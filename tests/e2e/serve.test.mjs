// A field agent serves a person of their area, where the registry asks agents for consent
// ([agents] require_consent = true): opening the person from People shows "Acting for <name>"
// and asks for their consent before anything else; the person's signature is drawn on the pad
// with pointer actions (as a finger or pen would), "I agree" ticked, the consent saved. Then every
// section is the person's, under the banner: the agent adds a payment account for them and
// applies to a programme for them. After "Sync now" the registry holds the consent (a document of
// kind consent) and the account, each written by the agent on the person's behalf. "Back to
// people" returns to the list; the end-of-day screen counts the day's work, and the possible
// duplicates list is reached from it when there are any. Every new screen: a photo and axe in en, fr and ar.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { accessibilityViolations, artifactsDir, launchApp, layoutProblems } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

let app;
let $, press, choose, typeInto, waitForText, setLanguage, mainText, pressOn, staff, $$count, checkScreen, sign, focusedId;

before(async () => {
  app = await launchApp({
    mode: 'agent',
    logName: 'serve',
    env: { DOORSTEP_TEST_LOGIN_HINT: 'agent-1' },
    registryConfig: '[agents]\nrequire_consent = true\n',
  });
  ({ $, press, choose, typeInto, waitForText, setLanguage, mainText, pressOn, staff, $$count, checkScreen, sign, focusedId } = drive(app));
});

after(async () => {
  await app?.close();
});


let person;
/** The ID numbers of people of the area, as the list shows them. */
let ids = [];

test('an agent opens a person, records their consent with a drawn signature, and acts for them', async () => {
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed(WAIT);
  await (await $('#passphrase')).setValue('field work 2026');
  await (await $('#passphrase-repeat')).setValue('field work 2026');
  await press('[data-testid="passphrase-submit"]');

  // The agent's own tabs: no citizen section.
  await (await $('[data-testid="tab-people"]')).waitForDisplayed(WAIT);
  assert.equal(await $$count('[data-testid="tab-finance"]'), 0, 'no citizen section at the caseload');
  await press('[data-testid="tab-people"]');
  await app.browser.waitUntil(async () => (await $$count('.person')) > 0, { ...WAIT, timeoutMsg: 'no people synced to the laptop' });
  ids = await app.browser.execute(() =>
    [...document.querySelectorAll('.person .muted')].map((e) => e.textContent.split(' ')[0]).filter((t) => /^\d+$/.test(t)),
  );
  assert.ok(ids.length > 0, 'some people of the area have ID numbers');
  const found = await staff(`/v1/search?q=${ids[0]}`);
  person = found.items.find((p) => p.reg_ids?.some((r) => r.value === ids[0]));
  assert.ok(person, `the person is in the registry: ${JSON.stringify(found.items)}`);
  await typeInto('#people-query', ids[0]);
  await app.browser.waitUntil(async () => (await $$count('.person')) === 1, { ...WAIT, timeoutMsg: `no single match for ${ids[0]}` });
  const name = (await (await $('.person-name strong')).getText()).trim();
  await press('[data-testid="people-list"]');

  // Acting for them: the banner, with its heading focused, and the consent before anything else.
  await waitForText('[data-testid="acting-for"]', new RegExp(`Acting for ${name}`), 'the Acting for banner');
  await app.browser.waitUntil(async () => (await focusedId()) === 'acting-title', { ...WAIT, timeoutMsg: `the focus is on ${await focusedId()}` });
  await (await $('[data-testid="consent"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no consent asked:\n${await mainText()}` });
  assert.equal(await $$count('[data-testid="tab-home"]'), 0, 'no section opens before the consent');
  await checkScreen('serve-consent');

  // Sent without anything: each problem by its field, the focus on the first.
  await press('[data-testid="consent-send"]');
  await (await $('#consent-agree-error')).waitForDisplayed(WAIT);
  await (await $('[data-testid="signature-error"]')).waitForDisplayed(WAIT);
  await app.browser.waitUntil(async () => (await focusedId()) === 'consent-agree', { ...WAIT, timeoutMsg: `the focus is on ${await focusedId()}` });
  assert.equal(await (await $('#consent-agree')).getAttribute('aria-invalid'), 'true');
  await app.browser.saveScreenshot(join(artifactsDir, 'serve-consent-problems.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on serve-consent-problems');

  // The statement in French for the person, whatever the app's language.
  await choose('[data-testid="consent-language"]', 'fr');
  await waitForText('[data-testid="consent-statement"]', /Consentement/, 'the statement in French');
  assert.equal(await (await $('[data-testid="consent-statement"]')).getAttribute('lang'), 'fr');

  // A signature drawn with the pointer, as a finger or a pen would. Moves are given in the
  // window's coordinates (WebKitWebDriver's element origin refuses points inside a canvas).
  const pad = await $('[data-testid="signature-pad"]');
  await sign(pad, [[-120, 10], [-80, -25], [-30, 20], [20, -20], [90, 15]]);
  await waitForText('[data-testid="signature-state"]', /^Signed$/, 'the pad signed');
  // Clear empties it; drawn again.
  await press('[data-testid="signature-clear"]');
  await waitForText('[data-testid="signature-state"]', /Nothing signed/, 'the pad cleared');
  await sign(pad, [[-100, 0], [-40, 30], [40, -30], [100, 0]]);
  await waitForText('[data-testid="signature-state"]', /^Signed$/, 'the pad signed again');
  await press('#consent-agree', ' ');
  await app.browser.saveScreenshot(join(artifactsDir, 'serve-consent-signed.png'));
  await press('[data-testid="consent-send"]');

  // The person's sections, each under the banner.
  await (await $('[data-testid="tab-home"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `the consent was not saved:\n${await mainText()}` });
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
  assert.equal(await $$count('[data-testid="tab-people"]'), 0, 'the person’s sections, not the caseload’s');
  await waitForText('#home-title', new RegExp(name), 'the person’s home');
  await checkScreen('serve-home');
  for (const [tab, section] of [
    ['programmes', 'programmes'],
    ['documents', 'documents'],
    ['household', 'household'],
    ['notifications', 'notifications'],
    ['finance', 'finance'],
  ]) {
    await press(`[data-testid="tab-${tab}"]`);
    await (await $(`[data-testid="${section}"]`)).waitForDisplayed({ ...WAIT, timeoutMsg: `${section} never opened:\n${await mainText()}` });
    await waitForText('[data-testid="acting-for"]', new RegExp(`Acting for ${name}`), `the banner on ${tab}`);
  }
  // The consent is among the person's documents.
  await press('[data-testid="tab-documents"]');
  await waitForText('[data-testid="documents"]', /Consent/, 'the consent among the documents');
  await waitForText('#documents-title', new RegExp(`Documents of ${name}`), 'the documents worded for the agent');

  // A payment account for the person.
  await press('[data-testid="tab-finance"]');
  await typeInto('#account-provider', 'mpesa');
  await typeInto('#account-number', '+254 711 222 333');
  await typeInto('#account-holder', name);
  await press('[data-testid="add-account"]');
  await (await $('[data-testid="finance-message"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no account added:\n${await mainText()}` });
  await checkScreen('serve-finance');

  // An application for the person.
  await press('[data-testid="tab-programmes"]');
  await press('[data-code="child-benefit"] [data-testid="apply"]');
  await typeInto('[name="data[childGivenName]"]', 'Wanjiru');
  await typeInto('[name="data[childFamilyName]"]', 'Ouma');
  await typeInto('[name="data[childAgeYears]"]', '6');
  await pressOn(await $('button[name="data[submit]"]'), 'Enter');
  await (await $('[data-testid="application-submitted"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `not submitted:\n${await mainText()}` });
  await waitForText('[data-testid="acting-for"]', new RegExp(`Acting for ${name}`), 'the banner on the application');

  // Sent with the next sync: the consent first, then what it allows.
  await press('[data-testid="sync-now"]');
  let consent;
  await app.browser.waitUntil(
    async () => {
      const docs = (await staff(`/v1/documents?owner=${person.id}&limit=500`)).items;
      consent = docs.find((d) => d.kind === 'consent');
      return !!consent;
    },
    { ...WAIT, timeoutMsg: `the consent never reached the registry:\n${await mainText()}` },
  );
  assert.equal(consent.consent?.statement, 'agent-consent-1', JSON.stringify(consent));
  assert.equal(consent.consent?.language, 'fr');
  assert.equal(consent.consent?.method, 'signature_pad');
  let account;
  await app.browser.waitUntil(
    async () => {
      const accounts = (await staff(`/v1/financial-accounts?owner=${person.id}&limit=500`)).items;
      // The demo may hold an account of theirs already: this one is found by its number.
      account = accounts.find((a) => JSON.stringify(a).includes('711222333'));
      return !!account;
    },
    { ...WAIT, timeoutMsg: `the account never reached the registry:\n${await mainText()}` },
  );
  for (const [collection, id] of [
    ['documents', consent.id],
    ['financial-accounts', account.id],
  ]) {
    const trail = await staff(`/v1/${collection}/${id}/history`);
    const mine = trail.find((e) => e.actor.includes('agent-1'));
    assert.ok(mine, `${collection} written by the agent: ${JSON.stringify(trail)}`);
    assert.equal(mine.on_behalf_of, person.id, `${collection} on the person’s behalf`);
  }
  let applications = [];
  await app.browser.waitUntil(
    async () => {
      applications = (await staff(`/v1/applications?owner=${person.id}&limit=500`)).items.filter((a) => a.data?.childGivenName === 'Wanjiru');
      return applications.length === 1;
    },
    { ...WAIT, timeoutMsg: `the application never reached the registry: ${JSON.stringify(applications)}` },
  );

  // Back to the caseload: the list, and the agent's own tabs again.
  await press('[data-testid="back-to-people"]');
  await (await $('[data-testid="people"]')).waitForDisplayed(WAIT);
  assert.equal(await $$count('[data-testid="acting-for"]'), 0, 'the banner is gone');
  assert.equal(await $$count('[data-testid="tab-finance"]'), 0, 'the person’s sections are gone');
});

test('the end of the day counts the work, and leads to what needs the agent', async () => {
  await press('[data-testid="tab-day"]');
  await (await $('[data-testid="day"]')).waitForDisplayed(WAIT);
  // The consent, the account and the application at least; all sent by now.
  await waitForText('[data-testid="day-done"]', /You made \d+ changes on this device\./, 'the changes counted');
  await waitForText('[data-testid="day-done"]', /You served \d+ (person|people)\./, 'the person served');
  await app.browser.waitUntil(async () => (await $$count('[data-testid="day-all-done"]')) === 1 || (await $$count('[data-testid="day-need"]')) > 0, WAIT);
  await checkScreen('serve-day');
});

test('at 200% text size the consent and the end of the day reflow without sideways scrolling', async () => {
  await app.browser.setWindowSize(1280, 800);
  await press('[data-testid="open-settings"]');
  await (await $('[data-testid="text-size-200"]')).waitForDisplayed(WAIT);
  await press('[data-testid="text-size-200"]', ' ');
  await app.browser.waitUntil(async () => Math.abs((await app.browser.execute(() => window.outerWidth / window.innerWidth)) - 2) < 0.05, {
    ...WAIT,
    timeoutMsg: 'the text size never became 200%',
  });
  const check = async (name) => {
    await app.browser.execute(() => window.scrollTo({ top: 0, behavior: 'instant' }));
    await app.browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
    for (const lang of ['en', 'ar']) {
      await setLanguage(lang);
      await app.browser.saveScreenshot(join(artifactsDir, `zoom-${name}${lang === 'en' ? '' : `-${lang}`}.png`));
      assert.deepEqual(await layoutProblems(app.browser), [], `layout problems at 200% on ${name} (${lang})`);
      assert.deepEqual(await accessibilityViolations(app.browser), [], `accessibility violations at 200% on ${name} (${lang})`);
    }
    await setLanguage('en');
  };
  await press('[data-testid="tab-day"]');
  await (await $('[data-testid="day"]')).waitForDisplayed(WAIT);
  await check('serve-day');

  // Someone else of the area, whose consent is not on the laptop yet (another household).
  await press('[data-testid="tab-people"]');
  for (const id of ids.slice(1)) {
    await (await $('[data-testid="people-list"], [data-testid="people-count"]')).waitForDisplayed(WAIT);
    await typeInto('#people-query', id);
    await app.browser.waitUntil(async () => (await $$count('.person')) === 1, { ...WAIT, timeoutMsg: `no single match for ${id}` });
    await press('[data-testid="people-list"]');
    await (await $('[data-testid="acting-for"]')).waitForDisplayed(WAIT);
    await app.browser.waitUntil(async () => (await $$count('[data-testid="consent"]')) + (await $$count('[data-testid="home"]')) > 0, WAIT);
    if ((await $$count('[data-testid="consent"]')) > 0) break;
    await press('[data-testid="back-to-people"]');
  }
  await (await $('[data-testid="consent"]')).waitForDisplayed({ ...WAIT, timeoutMsg: 'nobody else needs consent' });
  await check('serve-consent');
  await press('[data-testid="back-to-people"]');
  await (await $('[data-testid="people"]')).waitForDisplayed(WAIT);
});
