// A field agent's laptop: the agent signs in as themself, finds a person of their area among the
// records synced to the laptop, opens them ("Acting for" them) and updates their details from
// their Home; the registry records the change as the agent's, on behalf of that person. The agent
// then runs a liveness check with a person, who signs in at the provider themself; the screen and
// the registry say it was assisted. Then the people list at 200% text size: its fixed-height
// rows still hold their text, and the keyboard still reaches every row.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { accessibilityViolations, artifactsDir, launchApp, layoutProblems } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

let app;
let $, press, choose, setLanguage, staff, $$count, waitForText, mainText;

const BIOMETRICS = 'mosip:idp:acr:biometrics';
// The test provider's person-1, whose ID token carries this number.
const BENEFICIARY_ID = '4918273645';

before(async () => {
  app = await launchApp({
    mode: 'agent',
    // The agent signs in as themself; a liveness check is the served person's own sign-in.
    env: { DOORSTEP_TEST_LOGIN_HINT: 'agent-1', DOORSTEP_TEST_STEPUP_LOGIN_HINT: 'person-1' },
    registryConfig: (issuer) => `[[liveness.providers]]\nissuer = "${issuer}"\nclient_id = "doorstep-public"\nacr_values = ["${BIOMETRICS}"]\n`,
  });
  ({ $, press, choose, setLanguage, staff, $$count, waitForText, mainText } = drive(app));
});

after(async () => {
  await app?.close();
});

test('an agent updates a person of their area, and the registry records it on their behalf', async () => {
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed(WAIT);
  assert.match(await (await $('main')).getText(), /Otieno Ouma/);
  await (await $('#passphrase')).setValue('field work 2026');
  await (await $('#passphrase-repeat')).setValue('field work 2026');
  await press('[data-testid="passphrase-submit"]');

  await press('[data-testid="tab-people"]');
  assert.equal(await (await $('[data-testid="tab-people"]')).getAttribute('aria-current'), 'page');
  assert.equal(await (await $('[data-testid="tab-home"]')).getAttribute('aria-current'), null);
  // The first sync brings the agent's area (the demo households of KE.30) to the laptop.
  await app.browser.waitUntil(async () => (await $$count('.person')) > 0, { ...WAIT, timeoutMsg: 'no people synced to the laptop' });
  await app.browser.saveScreenshot(join(artifactsDir, 'agent-people.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on agent-people');
  // The same screen in French and Arabic (screenshots for review, axe in each).
  for (const lang of ['fr', 'ar', 'en']) {
    await setLanguage(lang);
    if (lang === 'en') break;
    await app.browser.saveScreenshot(join(artifactsDir, `agent-people-${lang}.png`));
    assert.deepEqual(await accessibilityViolations(app.browser), [], `accessibility violations on agent-people-${lang}`);
  }
  // Someone with a national ID number, found again by it.
  const ids = await app.browser.execute(() =>
    [...document.querySelectorAll('.person .muted')].map((e) => e.textContent.split(' ')[0]).filter((t) => /^\d+$/.test(t)),
  );
  assert.ok(ids.length > 0, 'some people have ID numbers');
  const nationalId = ids[0];
  await (await $('#people-query')).setValue(nationalId);
  await app.browser.waitUntil(async () => (await $$count('.person')) === 1, { ...WAIT, timeoutMsg: `no single match for ${nationalId}` });
  // The list is one listbox: Tab reaches it, its first row becomes active, Enter opens it.
  assert.equal(await (await $('[role="option"]')).getAttribute('aria-setsize'), '1');
  await press('[data-testid="people-list"]');
  // The person is served: their Home, under the "Acting for" banner (this registry asks for no
  // consent; tests/e2e/serve.test.mjs covers the one that does).
  await (await $('[data-testid="acting-for"]')).waitForDisplayed(WAIT);
  await press('[data-testid="edit-details"]');

  const given = await $('[name="data[givenName]"]');
  await given.waitForDisplayed(WAIT);
  await app.browser.waitUntil(async () => (await given.getValue()) !== '', WAIT);
  await given.setValue(`${await given.getValue()} Jr`);
  const phone = await $('[name="data[phone]"]');
  if ((await phone.getValue()) === '') await phone.setValue('+254700123456');
  await choose('[name="data[preferredLanguage]"]', 'sw');
  const confirm = await $('[name="data[confirm]"]');
  await app.browser.execute((el) => el.focus(), confirm);
  await app.browser.keys(' ');
  await press('button[name="data[submit]"]');
  await (await $('[data-testid="saved"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `not saved:\n${await (await $('main')).getText()}` });

  // The registry gets it with the next sync: author the agent, on behalf of the person.
  const found = await staff(`/v1/search?q=${nationalId}`);
  const person = found.items.find((p) => p.reg_ids?.some((r) => r.value === nationalId));
  assert.ok(person, `the person is in the registry: ${JSON.stringify(found.items)}`);
  let trail;
  await app.browser.waitUntil(
    async () => {
      trail = await staff(`/v1/individuals/${person.id}/history`);
      return trail.some((e) => e.actor.includes('agent-1'));
    },
    {
      ...WAIT,
      timeoutMsg: `the agent’s change never reached the registry: ${JSON.stringify(trail)}`,
    },
  );
  const mine = trail.find((e) => e.actor.includes('agent-1'));
  assert.equal(mine.on_behalf_of, person.id);
  await app.browser.saveScreenshot(join(artifactsDir, 'agent-saved.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on agent-saved');
  await press('[data-testid="back-to-people"]');
  await (await $('[data-testid="people"]')).waitForDisplayed(WAIT);
});

test('an agent runs a liveness check with a person, who authenticates themself, and it is recorded as assisted', async () => {
  // The office registered her in the agent's area, with a check due in five days.
  const stamp = new Date().toISOString();
  const due = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
  const agentToken = await app.devToken('agent', 'seed-agent', ['--area', 'KE.30']);
  const post = async (token, path, body) => {
    const response = await fetch(`${app.registryUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.text()}`);
  };
  const person = crypto.randomUUID();
  await post(agentToken, '/v1/individuals', {
    id: person, created_at: stamp, updated_at: stamp, created_by: 'agent:seed-agent',
    given_name: 'Amina', family_name: 'Njoroge', reg_ids: [{ id_type: 'national_id', value: BENEFICIARY_ID }],
  });
  await post(await app.staffToken(), '/v1/liveness-checks', {
    id: crypto.randomUUID(), created_at: stamp, updated_at: stamp, created_by: 'staff:office',
    individual_id: person, performed_at: stamp, provider: 'esignet', outcome: 'passed', next_due: due,
  });

  // To the laptop with the next sync; found by her number, opened, her Home offers the check.
  await press('[data-testid="sync-now"]');
  await (await $('#people-query')).setValue(BENEFICIARY_ID);
  await app.browser.waitUntil(async () => (await $$count('.person')) === 1, { ...WAIT, timeoutMsg: `${BENEFICIARY_ID} never reached the laptop` });
  await press('[data-testid="people-list"]');
  await (await $('[data-testid="acting-for"]')).waitForDisplayed(WAIT);
  await (await $('[data-testid="check-liveness"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no check offered:\n${await mainText()}` });
  assert.match(await (await $('[data-testid="check-liveness"]')).getText(), /Check with Amina Njoroge now/);

  // She signs in at the provider (the step-up's own account, not the agent's).
  await press('[data-testid="check-liveness"]');
  await (await $('[data-testid="liveness-done"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `the check did not pass:\n${await mainText()}` });
  await waitForText('[data-testid="liveness-done"]', /Identity check of Amina Njoroge done/);
  await waitForText('[data-testid="liveness-assisted"]', /assisted by you: Amina Njoroge signed in themself/);
  await app.browser.saveScreenshot(join(artifactsDir, 'agent-liveness-assisted.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on agent-liveness-assisted');

  // The registry verified it and recorded who assisted.
  const checks = (await staff('/v1/liveness-checks?limit=100')).items.filter((c) => c.individual_id === person);
  const stepped = checks.filter((c) => c.acr === BIOMETRICS);
  assert.equal(stepped.length, 1, JSON.stringify(checks));
  assert.match(stepped[0].assisted_by ?? '', /agent-1/);
  await press('[data-testid="back-to-people"]');
  await (await $('[data-testid="people"]')).waitForDisplayed(WAIT);
  await (await $('#people-query')).clearValue();
});

test('at 200% text size the people list keeps its rows whole and works from the keyboard', async () => {
  await app.browser.setWindowSize(1280, 800);
  await press('[data-testid="open-settings"]');
  await (await $('[data-testid="text-size-200"]')).waitForDisplayed(WAIT);
  await press('[data-testid="text-size-200"]', ' ');
  await app.browser.waitUntil(async () => Math.abs((await app.browser.execute(() => window.outerWidth / window.innerWidth)) - 2) < 0.05, {
    ...WAIT,
    timeoutMsg: 'the text size never became 200%',
  });
  await press('[data-testid="tab-people"]');
  await (await $('[data-testid="people-list"]')).waitForDisplayed(WAIT);
  await app.browser.waitUntil(async () => (await $$count('.person')) > 1, { ...WAIT, timeoutMsg: 'the list shows nobody' });
  const total = Number(await (await $('[role="option"]')).getAttribute('aria-setsize'));
  // Tab reaches the list; End goes to the last person, who is then rendered and in view.
  await press('[data-testid="people-list"]', 'End');
  const last = () => app.browser.execute(() => {
    const list = document.querySelector('[data-testid="people-list"]');
    const option = document.getElementById(list.getAttribute('aria-activedescendant') ?? '');
    const [l, o] = [list.getBoundingClientRect(), option?.getBoundingClientRect()];
    // In view twice over: inside the list's scrolled viewport, and inside the window.
    const inList = !!o && o.top >= l.top - 1 && o.bottom <= l.bottom + 1;
    const inWindow = !!o && o.top >= -1 && o.bottom <= window.innerHeight + 1;
    return { position: option?.getAttribute('aria-posinset'), inView: inList && inWindow };
  });
  await app.browser.waitUntil(async () => (await last()).inView, { ...WAIT, timeoutMsg: `the last person is not in view: ${JSON.stringify(await last())}` });
  assert.equal((await last()).position, String(total));
  // The photo is of the last painted frame: let the scroll be painted first.
  await app.browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
  await app.browser.saveScreenshot(join(artifactsDir, 'agent-people-200.png'));
  assert.deepEqual(await layoutProblems(app.browser), [], 'layout problems on agent-people at 200%');
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on agent-people at 200%');
});

