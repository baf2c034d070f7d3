// A field agent's laptop: the agent signs in as themself, finds a person of their area among the
// records synced to the laptop, opens them ("Acting for" them) and updates their details from
// their Home; the registry records the change as the agent's, on behalf of that person. Then the people list at 200% text size: its fixed-height
// rows still hold their text, and the keyboard still reaches every row.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { accessibilityViolations, artifactsDir, launchApp, layoutProblems } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

let app;
let $, press, choose, setLanguage, staff, $$count;

before(async () => {
  app = await launchApp({ mode: 'agent', env: { DOORSTEP_TEST_LOGIN_HINT: 'agent-1' } });
  ({ $, press, choose, setLanguage, staff, $$count } = drive(app));
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

