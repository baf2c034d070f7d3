// The walk-in kiosk: sign-in happens in the app's own window (no system browser), that window's
// web view keeps no cookies or storage, and signing out leaves nothing of the person behind.
// A visitor's liveness check runs in that same window, a sign-in of its own.
// The kiosk is locked down: its window fills the screen with no frame, a second start brings the
// first forward (over the session bus; without one it is refused by the data folder's lock),
// the browser's menu and keys do nothing, and only the operator PIN closes it.
//
// The provider logs the kiosk's visitors in by itself (--auto-login) and prints a `login-step`
// line each time it had to authenticate someone. A second visit that needed no login step would
// mean the provider's session cookie survived in the kiosk: the test requires two.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accessibilityViolations, appGone, appPids, artifactsDir, launchApp } from './harness.mjs';
import { drive, WAIT } from './driving.mjs';

const IDLE_SECONDS = 10;
const BIOMETRICS = 'mosip:idp:acr:biometrics';
const OPERATOR_PIN = '246813';
let app;
let bus;
let $, press, typeInto, setLanguage;

/** A session bus of our own (the single-instance check uses it): the first line is its address. */
async function startBus() {
  const daemon = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dbus-daemon printed no address')), 10_000);
    daemon.stdout.setEncoding('utf8').once('data', (text) => {
      clearTimeout(timer);
      resolve(text.trim().split('\n')[0]);
    });
  });
  return { daemon, address };
}

before(async () => {
  bus = await startBus();
  // The operator PIN's hash, made the way an administrator does (`doorstep hash-pin`).
  const hash = execFileSync(process.env.DOORSTEP_APP_BIN, ['hash-pin'], { input: `${OPERATOR_PIN}\n`, encoding: 'utf8' }).trim();
  assert.match(hash, /^\$argon2id\$/);
  app = await launchApp({
    mode: 'kiosk',
    autoLogin: 'person-1',
    registryConfig: (issuer) => `[[liveness.providers]]\nissuer = "${issuer}"\nclient_id = "doorstep-public"\nacr_values = ["${BIOMETRICS}"]\n`,
    systemConfig: `[device]\nmode = "kiosk"\n[kiosk]\nidle_seconds = ${IDLE_SECONDS}\noperator_pin = "${hash}"\n`,
    // The kiosk's settings come from its configuration file, not the environment.
    env: { DOORSTEP_MODE: '', DBUS_SESSION_BUS_ADDRESS: bus.address },
  });
  ({ $, press, typeInto, setLanguage } = drive(app));
});

after(async () => {
  await app?.close();
  bus?.daemon.kill();
});

/** The app's log files' text (`<data>/logs`). */
function logText() {
  const dir = join(app.dataDir, 'logs');
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('');
}

/** Start the app binary again by hand with the first one's environment; resolves with its exit
 *  code, or `null` (killed) if it is still running after `ms`, and its output. */
function startAgain(extraEnv, ms) {
  return new Promise((resolve) => {
    const child = spawn(process.env.DOORSTEP_APP_BIN, [], { env: { ...process.env, ...app.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (t) => (output += t));
    child.stderr.setEncoding('utf8').on('data', (t) => (output += t));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('the kiosk fills the screen with no frame, and a second start brings the first forward', async () => {
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
  const screen = await app.browser.execute(() => ({ width: window.screen.width, height: window.screen.height }));
  const rect = await app.browser.getWindowRect();
  assert.deepEqual({ x: rect.x, y: rect.y, width: rect.width, height: rect.height }, { x: 0, y: 0, ...screen }, 'the window is the whole screen');
  const inner = await app.browser.execute(() => ({ width: window.innerWidth, height: window.innerHeight }));
  assert.deepEqual(inner, screen, 'no frame or title bar takes any of it');
  assert.equal(await app.browser.execute(() => document.body.classList.contains('kiosk')), true);

  // Over the session bus, the second process hands over to the first and ends at once.
  const second = await startAgain({}, 30_000);
  assert.equal(second.code, 0, `the second start did not hand over:\n${second.output}`);
  await app.browser.waitUntil(async () => /brought forward by a second start/.test(logText()), { ...WAIT, timeoutMsg: `the first window was not brought forward:\n${logText()}` });
  assert.equal((await app.browser.getWindowHandles()).length, 1);
  // With no session bus, the data folder's lock refuses it: it says so in its own window.
  const lone = await startAgain({ DBUS_SESSION_BUS_ADDRESS: '' }, 8_000);
  assert.match(lone.output, /AlreadyOpen/, `a second start without D-Bus was not refused:\n${lone.output}`);
  // The first one is unaffected.
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
});

test('the browser menu, reload and history keys do nothing on a kiosk', async () => {
  const prevented = await app.browser.execute(() => {
    const fire = (target, event) => {
      target.dispatchEvent(event);
      return event.defaultPrevented;
    };
    return {
      menu: fire(document.querySelector('main'), new MouseEvent('contextmenu', { bubbles: true, cancelable: true })),
      reload: fire(document.body, new KeyboardEvent('keydown', { key: 'F5', bubbles: true, cancelable: true })),
      back: fire(document.body, new KeyboardEvent('keydown', { key: 'ArrowLeft', altKey: true, bubbles: true, cancelable: true })),
    };
  });
  assert.deepEqual(prevented, { menu: true, reload: true, back: true });
  // A real reload key press leaves the page as it is (a reload would lose the screen's state).
  await app.browser.execute(() => (window.__notReloaded = true));
  await app.browser.keys(['F5']);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(await app.browser.execute(() => window.__notReloaded === true), true, 'F5 reloaded the kiosk');
});

const loginSteps = () => (app.providerOutput().match(/^login-step person-1$/gm) ?? []).length;

async function visit(n) {
  await press('[data-testid="sign-in"]');
  await (await $('[data-testid="home"]')).waitForDisplayed({
    ...WAIT,
    timeoutMsg: `visit ${n}: not signed in:\n${await (await $('main')).getText()}\n${app.logs()}`,
  });
  assert.equal(loginSteps(), n, `visit ${n}: the provider authenticated the visitor afresh`);
  assert.match(await (await $('main')).getText(), /Hello, Amina Njoroge/);
  // The sign-in window is gone once the sign-in is over.
  await app.browser.waitUntil(async () => (await app.browser.getWindowHandles()).length === 1, {
    ...WAIT,
    timeoutMsg: 'the sign-in window stayed open',
  });
}

function partitionsLeft() {
  return readdirSync(join(app.dataDir, 'partitions'));
}

test('a visitor signs in in the app window, without a passphrase step, and is online', async () => {
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
  const welcome = await (await $('main')).getText();
  assert.doesNotMatch(welcome, /Stay signed in/, 'a kiosk never offers to remember anyone');
  assert.doesNotMatch(welcome, /Open your data on this device/, 'a kiosk never offers offline profiles');
  await visit(1);
  await app.browser.saveScreenshot(join(artifactsDir, 'kiosk-home.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on kiosk-home');
  assert.equal(partitionsLeft().length, 1, 'the visit has its encrypted data while signed in');
});

test('signing out leaves no data, and the next visitor starts with a clean sign-in window', async () => {
  await press('[data-testid="sign-out"]');
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
  assert.deepEqual(partitionsLeft(), [], 'nothing of the visitor stays on disk');
  await visit(2);
  // The visitor reads in French; the next one must not find the kiosk in their language.
  await setLanguage('fr');
  await press('[data-testid="sign-out"]');
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
  assert.deepEqual(partitionsLeft(), []);
  assert.notEqual(
    await app.browser.execute(() => document.documentElement.lang),
    'fr',
    "the visitor's language stayed for the next one",
  );
  await app.browser.saveScreenshot(join(artifactsDir, 'kiosk-signed-out.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on kiosk-signed-out');
});

test('a visitor who walks away is warned, then signed out, and their data is gone', async () => {
  await visit(3);
  // Input resets the count: the warning does not come while someone is using the screen.
  await new Promise((r) => setTimeout(r, (IDLE_SECONDS - 3) * 1000));
  await app.browser.keys('Shift');
  await new Promise((r) => setTimeout(r, 4_000));
  assert.equal(await (await $('[data-testid="idle-warning"]')).isExisting(), false, 'warned despite input');
  const warning = await $('[data-testid="idle-warning"]');
  await warning.waitForDisplayed({ ...WAIT, timeoutMsg: 'no idle warning' });
  assert.match(await warning.getText(), /signed out in \d+ seconds/);
  await app.browser.saveScreenshot(join(artifactsDir, 'kiosk-idle-warning.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on kiosk-idle-warning');
  await (await $('[data-testid="sign-in"]')).waitForDisplayed({ ...WAIT, timeoutMsg: 'not signed out after the warning' });
  assert.deepEqual(partitionsLeft(), [], 'nothing of the visitor stays on disk');
});

test('a visitor does their liveness check in the kiosk’s own sign-in window', async () => {
  // She is on the registry now (an agent registered her), with a check due in five days.
  const stamp = new Date().toISOString();
  const due = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
  const post = async (token, path, body) => {
    const response = await fetch(`${app.registryUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.text()}`);
  };
  const person = crypto.randomUUID();
  await post(await app.devToken('agent', 'kiosk-agent', ['--area', 'KE.30']), '/v1/individuals', {
    id: person, created_at: stamp, updated_at: stamp, created_by: 'agent:kiosk-agent',
    given_name: 'Amina', family_name: 'Njoroge', reg_ids: [{ id_type: 'national_id', value: '4918273645' }],
  });
  const staffToken = await app.staffToken();
  await post(staffToken, '/v1/liveness-checks', {
    id: crypto.randomUUID(), created_at: stamp, updated_at: stamp, created_by: 'staff:office',
    individual_id: person, performed_at: stamp, provider: 'esignet', outcome: 'passed', next_due: due,
  });

  await visit(4);
  const check = await $('[data-testid="check-liveness"]');
  await check.waitForDisplayed({ ...WAIT, timeoutMsg: `no check offered:\n${await (await $('main')).getText()}` });
  await press('[data-testid="check-liveness"]');
  await (await $('[data-testid="liveness-done"]')).waitForDisplayed({
    ...WAIT,
    timeoutMsg: `the check did not pass:\n${await (await $('main')).getText()}\n${app.logs()}`,
  });
  assert.match(await (await $('[data-testid="liveness-done"]')).getText(), /next one is due/);
  assert.equal(await (await $('[data-testid="liveness-assisted"]')).isExisting(), false, 'she did it alone');
  // She signed in afresh, in the kiosk's window (no system browser on a kiosk), which is gone.
  assert.equal(loginSteps(), 5, 'the check was a sign-in of its own');
  await app.browser.waitUntil(async () => (await app.browser.getWindowHandles()).length === 1, {
    ...WAIT,
    timeoutMsg: 'the sign-in window stayed open after the check',
  });
  await app.browser.saveScreenshot(join(artifactsDir, 'kiosk-liveness-done.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on kiosk-liveness-done');
  const response = await fetch(`${app.registryUrl}/v1/liveness-checks?limit=100`, { headers: { authorization: `Bearer ${staffToken}` } });
  const checks = (await response.json()).items.filter((c) => c.individual_id === person && c.acr === BIOMETRICS);
  assert.equal(checks.length, 1, JSON.stringify(checks));
  assert.equal(checks[0].assisted_by, undefined, 'not assisted');

  await press('[data-testid="sign-out"]');
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
  assert.deepEqual(partitionsLeft(), [], 'nothing of the visitor stays on disk');
});

test('the operator exit refuses a wrong PIN, then closes the kiosk with the right one', async () => {
  await (await $('[data-testid="sign-in"]')).waitForDisplayed(WAIT);
  // The operator's shortcut (a key event as the keyboard sends it), and Escape closes it again.
  await app.browser.execute(() => window.dispatchEvent(new KeyboardEvent('keydown', { key: 'o', ctrlKey: true, altKey: true, bubbles: true, cancelable: true })));
  await (await $('[data-testid="operator-exit"]')).waitForDisplayed({ ...WAIT, timeoutMsg: 'Ctrl+Alt+O did not open the operator exit' });
  await press('#operator-pin', 'Escape');
  await (await $('[data-testid="operator-exit"]')).waitForExist({ ...WAIT, reverse: true, timeoutMsg: 'Escape did not close the operator exit' });
  // The "Operator" link at the foot of the screen, from the keyboard.
  await press('[data-testid="open-operator-exit"]');
  await (await $('[data-testid="operator-exit"]')).waitForDisplayed({ ...WAIT, timeoutMsg: 'the Operator link did not open the operator exit' });
  await typeInto('#operator-pin', '000000');
  await press('[data-testid="operator-submit"]');
  const error = await $('[data-testid="operator-error"]');
  await error.waitForDisplayed({ ...WAIT, timeoutMsg: 'a wrong PIN was not refused' });
  assert.match(await error.getText(), /not the operator PIN\. 4 tries left/);
  await app.browser.saveScreenshot(join(artifactsDir, 'kiosk-operator-exit.png'));
  assert.deepEqual(await accessibilityViolations(app.browser), [], 'accessibility violations on the operator exit');
  assert.equal(await (await $('[data-testid="sign-in"]')).isExisting(), true, 'still running');

  await typeInto('#operator-pin', OPERATOR_PIN);
  await press('[data-testid="operator-submit"]');
  // The app quits by itself (appGone would end it after the wait, and the test would fail).
  const deadline = Date.now() + 20_000;
  while (appPids(app.dataDir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(appPids(app.dataDir), [], 'the right PIN did not close the kiosk');
  await appGone(app.dataDir, 1_000);
});
