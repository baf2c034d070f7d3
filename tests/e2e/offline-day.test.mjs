// A field agent's day offline, where the registry asks agents for consent ([agents]
// require_consent = true). The registry holds 1,000 demo households (about 500 of them in the
// agent's area, KE.30); the agent signs in and the first sync brings that caseload to the laptop.
// Then the registry stops: the app says it is offline. Offline, the agent registers a household of
// five: one member typed like a person of the caseload (same family name and birth date, the given
// name spelled a little differently) brings "Is this the same person?", answered "a different
// person"; another is typed alike someone the registry holds in ANOTHER area (KE.31), whom the
// laptop cannot see, so nobody asks offline. (Not by the same ID number: the registry refuses an
// ID number held by another person.) Saving asks for the household's consent: the head's
// signature drawn on the pad, "I agree" ticked; the household is saved. Still offline, the agent
// updates 20 beneficiaries (the five new people, covered by the household's consent, and 15 people
// of the caseload, each one's consent captured first): a payment account each; and submits an
// application for the head (whose ID card and proof of address the registration captured). The registry comes back on the same port and data; "Sync now" sends
// everything. The registry then holds the household (its memberships, one head), the look-alike's
// `not_duplicate_of`, the consents, the 20 accounts written by the agent on each person's behalf,
// the submitted application; and its own duplicate check found the member alike the other area's
// person, which comes back to the laptop as a possible-duplicate notice. The new screens (the
// registration's consent step, the possible-duplicates list): photos and axe in en, fr and ar.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { accessibilityViolations, artifactsDir, launchApp } from './harness.mjs';
import { drive, png, WAIT } from './driving.mjs';

/** Longer waits, still bounded: the first sync of ~1,700 people and the push of the day's work. */
const LONG = { ...WAIT, timeout: 180_000, interval: 500 };

let app;
let $, press, choose, typeInto, waitForText, setLanguage, mainText, staff, $$count, checkScreen, sign, chooseFile;

before(async () => {
  app = await launchApp({
    mode: 'agent',
    logName: 'offline-day',
    env: { DOORSTEP_TEST_LOGIN_HINT: 'agent-1' },
    registryConfig: '[agents]\nrequire_consent = true\n',
    demoHouseholds: 1000,
  });
  ({ $, press, choose, typeInto, waitForText, setLanguage, mainText, staff, $$count, checkScreen, sign, chooseFile } = drive(app));
});

after(async () => {
  await app?.close();
});

/** Every record of a collection the caller may list, page after page. */
async function listAll(token, collection) {
  const items = [];
  let after = null;
  for (let page = 0; page < 100; page++) {
    const response = await fetch(`${app.registryUrl}/v1/${collection}?limit=500${after ? `&after=${after}` : ''}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.ok(response.ok, `${collection}: ${response.status}`);
    const body = await response.json();
    items.push(...body.items);
    after = body.next_after;
    if (!after) return items;
  }
  throw new Error(`${collection}: more than 100 pages`);
}

/** The consent on screen: a signature drawn, "I agree" ticked, sent. */
async function giveConsent() {
  const pad = await $('[data-testid="signature-pad"]');
  await pad.waitForDisplayed(WAIT);
  await sign(pad, [[-100, 0], [-40, 30], [40, -30], [100, 0]]);
  await waitForText('[data-testid="signature-state"]', /^Signed$/, 'the pad signed');
  await press('#consent-agree', ' ');
  await press('[data-testid="consent-send"]');
}

const view = (name) => $(`[data-testid="register"][data-view="${name}"]`);
async function waitForView(name) {
  await (await view(name)).waitForDisplayed({ ...WAIT, timeoutMsg: `the ${name} page never came:\n${await mainText()}` });
}

/** The demo generator's national ID number of household `h`'s member `m` (seed 2026; see
 *  crates/registry/src/demo/households.rs). Household h lives in KE.30 when h % 4 < 2, else KE.31. */
const demoId = (h, m) => String(10_000_000 + ((2026 * 7919 + h * 10 + m) % 89_999_999)).padStart(8, '0');

/** A person of the registry, found by their national ID number. */
async function byId(id, given) {
  const found = (await staff(`/v1/search?q=${id}`)).items.find(
    (p) => p.reg_ids?.some((r) => r.value === id) && (given === undefined || p.given_name === given),
  );
  assert.ok(found, `nobody in the registry with ID number ${id}`);
  return found;
}

/** People of the caseload to update: the heads of KE.30 demo households 4, 5, 8, 9, … */
const CASELOAD = 15;
const caseloadIds = Array.from({ length: CASELOAD }, (_, i) => demoId(4 + 4 * Math.floor(i / 2) + (i % 2), 0));
/** The person the look-alike is typed from (KE.30 household 100's head), and the one of another
 *  area (KE.31 household 2's head) a second look-alike is typed from. */
const lookAlikeOfId = demoId(100, 0);
const otherAreaId = demoId(2, 0);

/** The new household: head first; searched for on the laptop by ID number (or name). */
const household = {
  head: { given: 'Esther', family: 'Langat', birthdate: '1985-03-14', id: '31415926' },
  spouse: { given: 'Peter', family: 'Langat', birthdate: '1983-07-01', id: '27182818', relationship: 'spouse' },
  // The look-alike's names and birth date come from the caseload at run time.
  lookAlike: { id: '16180339', relationship: 'other_relative' },
  otherArea: { id: '26535897', relationship: 'other_relative' },
  child: { given: 'Baraka', family: 'Langat', birthdate: '2015-06-06', id: '14142135', relationship: 'child' },
};

/** A given name spelled a little differently. */
const alikeName = (given) => (given.endsWith('h') ? `${given}a` : `${given}h`);

let expectedCount;
let caseload = [];
let existing;
let otherPerson;
/** Every person updated: { search, name, number, consentAsked }. */
const updates = [];

test('the first sync brings the agent’s caseload of about 500 households to the laptop', async () => {
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed(WAIT);
  await (await $('#passphrase')).setValue('field work 2026');
  await (await $('#passphrase-repeat')).setValue('field work 2026');
  await press('[data-testid="passphrase-submit"]');
  await (await $('[data-testid="tab-people"]')).waitForDisplayed(WAIT);

  // What the registry holds for the area, as an agent of KE.30 lists it.
  const agentToken = await app.devToken('agent', 'counter', ['--area', 'KE.30']);
  expectedCount = (await listAll(agentToken, 'individuals')).length;
  const households = (await listAll(agentToken, 'groups')).length;
  assert.ok(households >= 450 && households <= 550, `about 500 households in the area: ${households}`);

  // The list counts the people on the laptop; it is read again until the first sync has them all.
  await app.browser.waitUntil(
    async () => {
      await press('[data-testid="tab-home"]');
      await press('[data-testid="tab-people"]');
      await (await $('[data-testid="people-count"]')).waitForDisplayed(WAIT);
      const text = await (await $('[data-testid="people-count"]')).getText();
      return Number(text.replace(/\D/g, '')) === expectedCount;
    },
    { ...LONG, interval: 2_000, timeoutMsg: `the People list never counted ${expectedCount} people:\n${await mainText()}` },
  );
  await waitForText('[data-testid="people-count"]', new RegExp(`^${expectedCount.toLocaleString('en')} people$`), 'the count in words');
  await (await $('[data-testid="sync-ok"]')).waitForDisplayed({ ...LONG, timeoutMsg: `the first sync never finished:\n${await mainText()}` });

  // Who the day is about, as the registry has them before it stops.
  caseload = [];
  for (const id of caseloadIds) {
    const p = await byId(id);
    caseload.push({ search: id, name: `${p.given_name} ${p.family_name}`, person: p });
  }
  existing = await byId(lookAlikeOfId);
  assert.ok(existing.birthdate, 'the look-alike’s model has a birth date');
  household.lookAlike.given = alikeName(existing.given_name);
  household.lookAlike.family = existing.family_name;
  household.lookAlike.birthdate = existing.birthdate;
  // The other area's person is in the registry, not on the laptop.
  otherPerson = await byId(otherAreaId);
  assert.ok(otherPerson.birthdate, 'the other area’s person has a birth date');
  household.otherArea.given = alikeName(otherPerson.given_name);
  household.otherArea.family = otherPerson.family_name;
  household.otherArea.birthdate = otherPerson.birthdate;
  await typeInto('#people-query', otherAreaId);
  await app.browser.waitUntil(async () => (await (await $('[data-testid="people-count"]')).getText()) === '0 people', {
    ...WAIT,
    timeoutMsg: `someone of KE.31 is on the laptop:\n${await mainText()}`,
  });
});

test('the registry stops: the app says it is offline', async () => {
  await app.stopRegistry();
  await press('[data-testid="sync-now"]');
  await waitForText('[data-testid="sync-error"]', /No connection to the registry/, 'the failed sync');
  await press('[data-testid="registry-status"] button');
  await waitForText('[data-testid="registry-status"]', /Offline/, 'the registry status');
  await app.browser.saveScreenshot(join(artifactsDir, 'offline-day-offline.png'));
});

test('offline, the agent registers a household: a look-alike answered, the head’s consent signed', async () => {
  await press('[data-testid="tab-people"]');
  await press('[data-testid="register-household"]');
  await waitForView('head');
  const { head } = household;
  await typeInto('#head-givenName', head.given);
  await typeInto('#head-familyName', head.family);
  await typeInto('#head-birthdate', head.birthdate);
  await press('#head-gender-female', ' ');
  await typeInto('#head-nationalId', head.id);
  await typeInto('#head-phone', '+254 722 000 111');
  await choose('#head-disability-walking', 'no_difficulty');
  await typeInto('#address-locality', 'Kisumu');
  await choose('#address-country', 'KE');
  await press('[data-testid="register-continue"]');
  await waitForView('members');

  for (const [i, key] of ['spouse', 'lookAlike', 'otherArea', 'child'].entries()) {
    const m = household[key];
    await press('[data-testid="add-member"]');
    await waitForView('member');
    await typeInto('#member-givenName', m.given);
    await typeInto('#member-familyName', m.family);
    await choose('#member-relationship', m.relationship);
    await typeInto('#member-birthdate', m.birthdate);
    if (m.id) await typeInto('#member-nationalId', m.id);
    await press('[data-testid="save-member"]');
    if (key === 'lookAlike') {
      // The laptop finds the caseload's person alike: asked, and answered "a different person".
      await waitForView('question');
      assert.match(await (await $('[data-testid="same-table"]')).getText(), new RegExp(`${existing.given_name} ${existing.family_name}`));
      assert.match(await (await $('[data-testid="reasons"]')).getText(), /Same date of birth/);
      await press('[data-testid="same-no"]');
    }
    await waitForView('members');
    await app.browser.waitUntil(async () => (await $$count('[data-testid="register-member"]')) === i + 1, {
      ...WAIT,
      timeoutMsg: `${key} was not added:\n${await mainText()}`,
    });
  }
  assert.equal(await $$count('[data-testid="register-member"]'), 4);

  await press('[data-testid="register-continue"]');
  await waitForView('documents');
  // The head's ID card and proof of address: the registry takes the application submitted
  // below only with the documents its programme requires.
  const scans = mkdtempSync(join(tmpdir(), 'doorstep-e2e-offline-day-'));
  for (const [i, kind] of ['id_card', 'proof_of_address'].entries()) {
    const file = join(scans, `${kind}.png`);
    writeFileSync(file, png(600, 400, 11 + i));
    await choose('[data-testid="register-document-kind"]', kind);
    await chooseFile('[data-testid="register-document-file"]', file);
    await app.browser.waitUntil(async () => (await $$count('[data-testid="register-document"]')) === i + 1, {
      ...WAIT,
      timeoutMsg: `the head's ${kind} was not added:\n${await mainText()}`,
    });
  }
  rmSync(scans, { recursive: true, force: true });
  await press('[data-testid="register-continue"]');
  await waitForView('account');
  await press('[data-testid="skip-account"]');
  await waitForView('review');
  await press('[data-testid="register-save"]');

  // The registry asks for the household's consent (learned at the first sync): the head signs.
  await waitForView('consent');
  await (await $('[data-testid="consent"]')).waitForDisplayed(WAIT);
  assert.match(await mainText(), /Esther Langat, the head, gives it for the household/);
  await checkScreen('offline-day-register-consent');
  // Sent without anything: each problem by its field.
  await press('[data-testid="consent-send"]');
  await (await $('#consent-agree-error')).waitForDisplayed(WAIT);
  await (await $('[data-testid="signature-error"]')).waitForDisplayed(WAIT);
  await app.browser.saveScreenshot(join(artifactsDir, 'offline-day-register-consent-problems.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on the consent step’s problems');
  await giveConsent();

  await waitForView('done');
  await waitForText('[data-testid="register-saved"]', /5 people/, 'the household is saved');
  await press('[data-testid="register-to-people"]');
  await (await $('[data-testid="people"]')).waitForDisplayed(WAIT);
});

/** Open someone from People by `search` (an ID number or a name), as the only match. */
async function open(search) {
  await typeInto('#people-query', search);
  await app.browser.waitUntil(
    async () => {
      const rows = await app.browser.$$('.person');
      return rows.length === 1 && (await rows[0].getText()).includes(search);
    },
    { ...WAIT, timeoutMsg: `no single match for ${search}:\n${await mainText()}` },
  );
  await press('[data-testid="people-list"]');
  await (await $('[data-testid="acting-for"]')).waitForDisplayed(WAIT);
  // Their consent first, or their sections.
  await app.browser.waitUntil(async () => (await $$count('[data-testid="consent"]')) + (await $$count('[data-testid="tab-home"]')) > 0, {
    ...WAIT,
    timeoutMsg: `neither consent nor sections for ${search}:\n${await mainText()}`,
  });
  return (await $$count('[data-testid="consent"]')) > 0;
}

test('still offline, the agent updates 20 beneficiaries, with consent, and applies for one', async () => {
  const newPeople = ['head', 'spouse', 'lookAlike', 'otherArea', 'child'].map((key) => {
    const m = household[key];
    return { key, search: m.id, given: m.given, name: `${m.given} ${m.family}` };
  });
  const everyone = [...newPeople, ...caseload];
  assert.equal(everyone.length, 20);
  for (const [i, who] of everyone.entries()) {
    const consentAsked = await open(who.search);
    // The new household's consent covers its people; each person of the caseload gives theirs.
    assert.equal(consentAsked, !who.key, `consent asked for ${who.name}: ${consentAsked}`);
    if (consentAsked) {
      await giveConsent();
      await (await $('[data-testid="tab-home"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `the consent of ${who.name} was not saved:\n${await mainText()}` });
    }
    await waitForText('[data-testid="acting-for"]', new RegExp(`Acting for ${who.name}`), 'the banner');
    who.number = `+2547119000${String(i).padStart(2, '0')}`;
    await press('[data-testid="tab-finance"]');
    await typeInto('#account-provider', 'mpesa');
    await typeInto('#account-number', who.number);
    await typeInto('#account-holder', who.name);
    await press('[data-testid="add-account"]');
    await (await $('[data-testid="finance-message"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no account added for ${who.name}:\n${await mainText()}` });
    if (who.key === 'head') {
      await press('[data-testid="tab-programmes"]');
      await press('[data-code="child-benefit"] [data-testid="apply"]');
      await typeInto('[name="data[childGivenName]"]', 'Baraka');
      await typeInto('[name="data[childFamilyName]"]', 'Langat');
      await typeInto('[name="data[childAgeYears]"]', '10');
      await press('button[name="data[submit]"]');
      await (await $('[data-testid="application-submitted"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `not submitted:\n${await mainText()}` });
    }
    updates.push(who);
    await press('[data-testid="back-to-people"]');
    await (await $('[data-testid="people"]')).waitForDisplayed(WAIT);
  }
  // Nothing has left the laptop.
  assert.match(await (await $('[data-testid="sync-status"]')).getText(), /No connection|waiting to be sent/);
});

test('the registry comes back: "Sync now" sends the day’s work', async () => {
  await app.startRegistry();
  await press('[data-testid="registry-status"] button');
  await waitForText('[data-testid="registry-status"]', /Online/, 'the registry status');
  await press('[data-testid="sync-now"]');
  // Until nothing waits: a sync already under way (its backoff ended) counts too.
  await app.browser.waitUntil(
    async () => {
      if ((await $$count('[data-testid="sync-ok"]')) > 0) return true;
      const now = await $('[data-testid="sync-now"]');
      if ((await $$count('[data-testid="sync-error"]')) > 0 && (await now.isEnabled())) await press('[data-testid="sync-now"]');
      return false;
    },
    { ...LONG, interval: 2_000, timeoutMsg: `the day’s work was never all sent:\n${await (await $('[data-testid="sync-status"]')).getText()}` },
  );
  if ((await $$count('[data-testid="open-refused"]')) > 0) {
    await press('[data-testid="open-refused"]');
    await new Promise((r) => setTimeout(r, 1_000));
    assert.fail(`the registry refused some of the day’s work:\n${await mainText()}`);
  }
  assert.equal(await $$count('[data-testid="open-conflicts"]'), 0, 'no conflicts');
});

test('the registry holds the household, the consents, the 20 updates on each person’s behalf, the application', async () => {
  const head = await byId(household.head.id, household.head.given);
  const headships = (await staff(`/v1/memberships?owner=${head.id}`)).items;
  assert.equal(headships.length, 1, JSON.stringify(headships));
  const group = headships[0].group_id;
  const memberships = (await staff(`/v1/memberships?group=${group}`)).items;
  assert.equal(memberships.length, 5, JSON.stringify(memberships));
  assert.deepEqual(memberships.filter((m) => m.kind === 'head').map((m) => m.individual_id), [head.id], 'one head');
  const members = await Promise.all(
    memberships.map(async (m) => {
      const p = (await staff(`/v1/individuals/${m.individual_id}`));
      return `${p.given_name} ${p.family_name}`;
    }),
  );
  const newNames = ['head', 'spouse', 'lookAlike', 'otherArea', 'child'].map((k) => `${household[k].given} ${household[k].family}`);
  assert.deepEqual(members.sort(), [...newNames].sort());

  const alike = await byId(household.lookAlike.id, household.lookAlike.given);
  assert.deepEqual(alike.not_duplicate_of, [existing.id], 'the look-alike carries the agent’s answer');

  // The household's consent (the head signed for it), and each caseload person's own.
  const householdDocs = [
    ...(await staff(`/v1/documents?group=${group}&limit=500`)).items,
    ...(await staff(`/v1/documents?owner=${head.id}&limit=500`)).items,
  ];
  assert.ok(householdDocs.some((d) => d.kind === 'consent'), `the household's consent: ${JSON.stringify(householdDocs)}`);
  for (const c of caseload) {
    const docs = (await staff(`/v1/documents?owner=${c.person.id}&limit=500`)).items;
    assert.ok(docs.some((d) => d.kind === 'consent' && d.consent?.method === 'signature_pad'), `the consent of ${c.name}: ${JSON.stringify(docs)}`);
  }

  // Each update: the agent's, on the person's behalf.
  assert.equal(updates.length, 20);
  for (const who of updates) {
    const person = who.person ?? (await byId(who.search, who.given));
    const accounts = (await staff(`/v1/financial-accounts?owner=${person.id}&limit=500`)).items;
    const account = accounts.find((a) => a.account_number.replace(/\D/g, '') === who.number.replace(/\D/g, ''));
    assert.ok(account, `${who.name}'s account ${who.number}: ${JSON.stringify(accounts)}`);
    const trail = await staff(`/v1/financial-accounts/${account.id}/history`);
    const mine = trail.find((e) => e.actor.includes('agent-1'));
    assert.ok(mine, `${who.name}'s account written by the agent: ${JSON.stringify(trail)}`);
    assert.equal(mine.on_behalf_of, person.id, `${who.name}'s account on their behalf`);
  }

  const applications = (await staff(`/v1/applications?owner=${head.id}&limit=500`)).items.filter((a) => a.data?.childGivenName === 'Baraka');
  assert.equal(applications.length, 1, JSON.stringify(applications));
  assert.equal(applications[0].status, 'submitted');
});

test('the registry’s duplicate check finds the member alike someone of another area: a notice on the laptop', async () => {
  // The registry flagged the new member against the KE.31 person the laptop never saw.
  const other = otherPerson;
  const flags = (await staff('/v1/duplicates?limit=500')).items;
  const member = await byId(household.otherArea.id, household.otherArea.given);
  assert.ok(
    flags.some((f) => f.candidate_id === other.id && f.record_id === member.id),
    `the registry flagged someone against ${other.given_name} ${other.family_name}: ${JSON.stringify(flags)}`,
  );

  // The agent's home shows the notice (read when it opens), and leads to the list.
  await press('[data-testid="tab-people"]');
  await app.browser.waitUntil(
    async () => {
      await press('[data-testid="tab-people"]');
      await press('[data-testid="tab-home"]');
      await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
      return (await $$count('[data-testid="notices-card"]')) > 0;
    },
    { ...WAIT, interval: 1_000, timeoutMsg: `no possible-duplicate notice on the agent's home:\n${await mainText()}` },
  );
  await press('[data-testid="open-notices"]');
  await (await $('[data-testid="notices"]')).waitForDisplayed(WAIT);
  await waitForText('[data-testid="notices"]', new RegExp(`${household.otherArea.given} ${household.otherArea.family}`), 'the notice about the new member');
  // The match is someone the laptop does not hold: said so, with the registry's reasons.
  await waitForText('[data-testid="notice-match"]', /Someone in another area \(not on this device\)/, 'the match elsewhere');
  await waitForText('[data-testid="notice-reasons"]', /Same date of birth/, 'the reasons');
  await checkScreen('offline-day-notices');
});
