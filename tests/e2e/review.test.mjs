// The review desk in the real app (issue 17): an administrator (made one by the registry's
// command line) opens the queue of the demo registry's applications, narrows it, opens one,
// reads the answers rendered read-only by Form.io, starts the review and asks for more
// information (a note is required first), then sends an announcement, and sees the text messages
// those made and how their delivery went ("Messages sent"). By keyboard alone; each
// screen checked with axe in English, French and Arabic.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchApp } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

const PASSPHRASE = 'river stone 42';
let app;
let $, mainText, press, choose, typeInto, waitForText, $$count, focusedId, checkScreen;

/** A write on the registry's HTTP API with a development token of `role`. */
async function write(token, method, path, body) {
  const response = await fetch(`${app.registryUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Time-ordered ids, as the app mints them (UUIDv7). */
function uuid7() {
  const hex = Date.now().toString(16).padStart(12, '0');
  const rest = crypto.randomUUID().replace(/-/g, '').slice(12);
  const v = `${hex}7${rest.slice(1, 4)}${((parseInt(rest[4], 16) & 3) | 8).toString(16)}${rest.slice(5, 20)}`;
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20, 32)}`;
}

/** What the office set up before the reviewer came: a programme with a one-question form, and
 *  applications sent to it by a field agent for people of the demo households. */
async function seedApplications(count) {
  const now = new Date().toISOString();
  const meta = (by) => ({ id: uuid7(), created_at: now, updated_at: now, created_by: by });
  const admin = await app.devToken('admin', 'seed-admin');
  const programme = await write(admin, 'POST', '/v1/programmes', {
    ...meta('seed-admin'),
    code: 'fuel-grant',
    name: 'Winter Fuel Grant',
    required_documents: [],
  });
  const schema = { display: 'form', components: [{ type: 'textfield', key: 'reason', label: 'Why do you need help?', input: true, validate: { required: true } }] };
  await write(admin, 'POST', '/v1/forms', { ...meta('seed-admin'), programme_id: programme.id, version: 1, schema });
  const agent = await app.devToken('agent', 'seed-agent', ['--area', 'KE.30']);
  const people = await (await fetch(`${app.registryUrl}/v1/individuals?limit=50`, { headers: { authorization: `Bearer ${agent}` } })).json();
  assert.ok(people.items.length >= count, `demo people in KE.30: ${JSON.stringify(people).slice(0, 300)}`);
  for (const person of people.items.slice(0, count)) {
    const application = await write(agent, 'POST', '/v1/applications', {
      ...meta('seed-agent'),
      programme_id: programme.id,
      applicant_id: person.id,
      form_version: 1,
      data: { reason: 'The winter is long here.' },
      status: 'draft',
    });
    await write(agent, 'POST', `/v1/applications/${application.id}/transitions`, { to: 'submitted' });
  }
}

/** An SMS gateway nobody listens on (a loopback port just closed): each notification the desk's
 *  decisions make gets a text message in the registry's outbox, whose failing attempts the
 *  "Messages sent" screen shows. */
async function closedGateway() {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  const secret = join(mkdtempSync(join(tmpdir(), 'doorstep-review-')), 'webhook-secret');
  writeFileSync(secret, 'a-webhook-secret-for-e2e-tests\n');
  return `[outbound]\nworker_period_secs = 1\n\n[outbound.webhook]\nurl = "http://127.0.0.1:${port}/sms"\nsecret_file = "${secret}"\n`;
}

before(async () => {
  app = await launchApp({ logName: 'review', demoHouseholds: 4, registryConfig: await closedGateway(), env: { DOORSTEP_TEST_LOGIN_HINT: 'admin-1' } });
  ({ $, mainText, press, choose, typeInto, waitForText, $$count, focusedId, checkScreen } = drive(app));
  await app.registryCli(['admin', 'grant', '--issuer', app.issuer, '--subject', 'admin-1', '--role', 'admin']);
  await seedApplications(2);
});

after(async () => {
  await app?.close();
});

test('the review desk lists the applications waiting, oldest first, and narrows them', async () => {
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed({ ...WAIT, timeoutMsg: `no passphrase screen:\n${await mainText()}` });
  await typeInto('#passphrase', PASSPHRASE);
  await typeInto('#passphrase-repeat', PASSPHRASE);
  await press('[data-testid="passphrase-submit"]');
  await (await $('[data-testid="review"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no review desk:\n${await mainText()}` });
  for (const tab of ['review', 'announce', 'messages', 'staff']) assert.equal(await $$count(`[data-testid="tab-${tab}"]`), 1, tab);
  await (await $('[data-testid="review-table"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `the queue stayed empty:\n${await mainText()}` });
  assert.ok((await $$count('[data-testid="review-item"]')) > 0);
  await checkScreen('review-queue');

  // Only the ones sent and not picked up yet.
  await choose('#review-status', 'submitted');
  await press('[data-testid="review-apply"]');
  await app.browser.waitUntil(
    async () => {
      const texts = await app.browser.execute(() => [...document.querySelectorAll('[data-testid="review-item"] td:nth-child(3)')].map((td) => td.textContent.trim()));
      return texts.length > 0 && texts.every((s) => s === 'Submitted');
    },
    { ...WAIT, timeoutMsg: `the filter never narrowed the queue:\n${await mainText()}` },
  );
});

test('a reviewer opens an application, starts the review and asks for more information', async () => {
  await press('[data-testid="review-item"]:first-child [data-testid="review-open"]');
  await (await $('[data-testid="case-status"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `the application never opened:\n${await mainText()}` });
  assert.equal(await focusedId(), 'case-title', 'the application is announced by its title');
  // The answers, as the applicant gave them, and nothing to change.
  await app.browser.waitUntil(async () => (await $$count('[data-testid="formio-host"] input')) > 0, { ...WAIT, timeoutMsg: 'the answers were never drawn' }).catch(async (e) => {
    throw new Error(`${e.message}:\n${await mainText()}`);
  });
  const editable = await app.browser.execute(
    () => [...document.querySelectorAll('[data-testid="formio-host"] input, [data-testid="formio-host"] textarea')].filter((i) => !i.disabled && !i.readOnly && i.type !== 'hidden').length,
  );
  assert.equal(editable, 0, 'the answers are read-only');
  await checkScreen('review-case');

  await press('[data-testid="case-decide-under_review"]');
  await waitForText('[data-testid="case-done"]', /review has started/);
  await waitForText('[data-testid="case-status"]', /Under review/);

  // Asking for more needs a note the applicant reads.
  await press('[data-testid="case-decide-more_information_needed"]');
  await waitForText('main', /Write a note: the applicant needs to know why/);
  assert.equal(await focusedId(), 'case-note');
  await typeInto('#case-note', 'Send a clearer photo of the ID card.');
  await press('[data-testid="case-decide-more_information_needed"]');
  await waitForText('[data-testid="case-done"]', /asked for more information/);
  await waitForText('[data-testid="case-status"]', /More information needed/);
  await checkScreen('review-case-decided');

  await press('[data-testid="review-back"]');
  await (await $('[data-testid="review"]')).waitForDisplayed(WAIT);
});

test('staff send an announcement to everyone in a programme', async () => {
  await press('[data-testid="tab-announce"]');
  await (await $('[data-testid="announce-programme"] option')).waitForExist({ ...WAIT, timeoutMsg: `no programmes to choose:\n${await mainText()}` });
  await checkScreen('announce');
  await typeInto('#announce-subject', 'Payments move');
  await typeInto('#announce-body', 'Payments are on the 5th from June.');
  await typeInto('#announce-subject-fr', 'Les paiements changent');
  await typeInto('#announce-body-fr', 'Les paiements ont lieu le 5 à partir de juin.');
  await press('[data-testid="announce-send"]');
  await waitForText('[data-testid="announce-done"]', /Sent to \d+ people/);
  assert.equal(await focusedId(), 'announce-done');
});

test('staff see the text messages the decisions made, and how their delivery went', async () => {
  await press('[data-testid="tab-messages"]');
  await (await $('[data-testid="messages-sent"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `no Messages sent screen:\n${await mainText()}` });
  // The gateway is not there: each message waits for its next try, with the last error.
  await app.browser.waitUntil(
    async () => {
      await press('[data-testid="sent-refresh"]');
      return (await $$count('[data-testid="sent-message"] [data-testid="sent-last-error"]')) > 0;
    },
    { ...WAIT, interval: 1000, timeoutMsg: `no message tried:\n${await mainText()}` },
  );
  await waitForText('[data-testid="sent-table"]', /Text message/);
  await waitForText('[data-testid="sent-table"]', /Waiting to be sent|Being sent/);
  await checkScreen('messages-sent');
});
