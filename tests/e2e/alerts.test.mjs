// Desktop alerts and the liveness check (issue 18), on the real app with a real notification
// daemon: a private D-Bus session bus, dunst on it (drawing on the test's Xvfb display), and
// dbus-monitor recording the bus. The app is pointed at that bus.
// 1. A message from the office reaches the person's desktop after a sync (the Notify call is
//    seen on the bus); clicking it (dunstctl invokes its default action: the daemon's
//    ActionInvoked signal) brings the app to the notifications screen.
// 2. The home screen's liveness check: the person signs in again at the provider with the
//    required authentication; the registry records the check and the due date moves on.
// 3. Alerts turned off in Settings: the next message stays off the desktop.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { artifactsDir, launchWorld } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

const run = promisify(execFile);
const NATIONAL_ID = '4918273645';
const BIOMETRICS = 'mosip:idp:acr:biometrics';

let world;
let device;
let d;
let bus;
const daemons = [];
let monitor = '';
let person;

/** Start `cmd` with the bus in its environment; its output kept; stopped after the tests. */
function daemon(cmd, args, onOutput = () => {}) {
  const child = spawn(cmd, args, { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8').on('data', onOutput);
  child.stderr.setEncoding('utf8').on('data', () => {});
  daemons.push(child);
  return child;
}

/** Wait (bounded) until `check()` is true. */
async function until(check, what, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} (after ${ms} ms)`);
}

/** A registry call as an office client (a development token of `role`). */
async function office(role, method, path, body) {
  const token = await world.devToken(role, `alerts-${role}`, role === 'agent' ? ['--area', 'KE.30'] : []);
  const response = await fetch(`${world.registryUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const stamp = () => new Date().toISOString();
const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

/** The office writes to the person. */
async function message(title) {
  await office('staff', 'POST', '/v1/notifications', {
    id: crypto.randomUUID(), created_at: stamp(), updated_at: stamp(), created_by: 'alerts-staff',
    recipient_id: person, kind: 'general', title, body: 'Open Doorstep to read it.',
  });
}

before(async () => {
  // A session bus of our own: the address is the first line it prints.
  const busDaemon = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemons.push(busDaemon);
  bus = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dbus-daemon printed no address')), 10_000);
    busDaemon.stdout.setEncoding('utf8').once('data', (text) => {
      clearTimeout(timer);
      resolve(text.trim().split('\n')[0]);
    });
  });
  daemon('dbus-monitor', ["interface='org.freedesktop.Notifications'"], (text) => (monitor += text));
  daemon('dunst', []);
  await until(async () => {
    try {
      await run('dunstctl', ['is-paused'], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus } });
      return true;
    } catch {
      return false;
    }
  }, 'dunst never answered on the bus', 15_000);

  world = await launchWorld({
    logName: 'alerts',
    registryConfig: (issuer) => `[[liveness.providers]]\nissuer = "${issuer}"\nclient_id = "doorstep-public"\nacr_values = ["${BIOMETRICS}"]\n`,
  });
  // The person is on the registry already (an agent registered her), with a check due soon.
  person = crypto.randomUUID();
  await office('agent', 'POST', '/v1/individuals', {
    id: person, created_at: stamp(), updated_at: stamp(), created_by: 'agent:alerts-agent',
    given_name: 'Amina', family_name: 'Njoroge', reg_ids: [{ id_type: 'national_id', value: NATIONAL_ID }],
  });
  await office('staff', 'POST', '/v1/liveness-checks', {
    id: crypto.randomUUID(), created_at: stamp(), updated_at: stamp(), created_by: 'alerts-staff',
    individual_id: person, performed_at: stamp(), provider: 'esignet', outcome: 'passed', next_due: day(5),
  });
  device = await world.openDevice({ logName: 'alerts', env: { DBUS_SESSION_BUS_ADDRESS: bus } });
  d = drive({ get browser() { return device.browser; }, registryUrl: world.registryUrl, devToken: world.devToken, staffToken: world.staffToken });
});

after(async () => {
  await device?.close();
  await world?.close();
  for (const child of daemons.reverse()) child.kill('SIGTERM');
});

test('a message from the office pops up on the desktop, and clicking it opens the notifications', async () => {
  const { press, typeInto, $, mainText } = d;
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed({ ...WAIT, timeoutMsg: `no passphrase screen:\n${await mainText()}` });
  await typeInto('#passphrase', 'alerts on my desk');
  await typeInto('#passphrase-repeat', 'alerts on my desk');
  await press('[data-testid="passphrase-submit"]');
  await (await $('[data-testid="registration-state"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `not registered:\n${await mainText()}` });

  // Somewhere else in the app when the alert is clicked.
  await press('[data-testid="open-settings"]');
  await (await $('[data-testid="settings"]')).waitForDisplayed(WAIT);
  await message('Your documents were received');
  await press('[data-testid="sync-now"]');
  await until(() => monitor.includes('member=Notify') && monitor.includes('Your documents were received'), `no Notify call on the bus:\n${monitor}`);
  assert.match(monitor, /string "Doorstep"/, 'the app names itself');
  assert.match(monitor, /string "default"/, 'a click has an action');

  await run('dunstctl', ['action', '0'], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus } });
  await until(() => monitor.includes('member=ActionInvoked'), 'dunst sent no ActionInvoked', 15_000);
  await (await $('[data-testid="notifications"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `the click did not open the notifications:\n${await mainText()}` });
  assert.match(await mainText(), /Your documents were received/);
  await device.browser.saveScreenshot(join(artifactsDir, 'alerts-opened-by-click.png'));
});

test('the liveness check is done from the home screen and the registry records it', async () => {
  const { press, $, mainText } = d;
  await press('[data-testid="tab-home"]');
  const button = await $('[data-testid="check-liveness"]');
  await button.waitForDisplayed({ ...WAIT, timeoutMsg: `no liveness check offered:\n${await mainText()}` });
  await press('[data-testid="check-liveness"]');
  await (await $('[data-testid="liveness-done"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `the check did not pass:\n${await mainText()}` });
  assert.match(await (await $('[data-testid="liveness-done"]')).getText(), /next one is due/);
  await device.browser.saveScreenshot(join(artifactsDir, 'alerts-liveness-done.png'));
  const checks = (await office('staff', 'GET', '/v1/liveness-checks?limit=100')).items.filter((c) => c.individual_id === person);
  const stepped = checks.filter((c) => c.acr === BIOMETRICS);
  assert.equal(stepped.length, 1, JSON.stringify(checks));
  assert.ok(stepped[0].next_due > day(300), `the due date moved on: ${stepped[0].next_due}`);
  // The to-do is gone from the home screen.
  await until(async () => (await (await $('[data-testid="check-liveness"]')).isExisting()) === false, 'the liveness to-do stayed');
});

test('turned off in Settings, the next message stays off the desktop', async () => {
  const { press, $ } = d;
  await press('[data-testid="open-settings"]');
  const box = await $('[data-testid="alerts-enabled"]');
  await box.waitForDisplayed(WAIT);
  assert.equal(await box.isSelected(), true, 'on by default');
  await d.pressOn(box, ' ');
  await until(async () => (await box.isSelected()) === false, 'the switch did not turn off', 10_000);
  const before = monitor.length;
  await message('Quiet message');
  await press('[data-testid="sync-now"]');
  // The message arrives on the device (the badge counts it), and nothing was sent to the bus.
  await press('[data-testid="tab-notifications"]');
  await until(async () => /Quiet message/.test(await d.mainText()), 'the message never arrived', 60_000);
  await new Promise((r) => setTimeout(r, 3000));
  assert.doesNotMatch(monitor.slice(before), /Quiet message/);
});
