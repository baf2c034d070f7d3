// Signed updates, as installed: the app from the .deb (version N, /usr/bin/doorstep) looks for an
// update on a server on loopback. A wrong key, a tampered or cut-short package, an older version
// and a server that drops the connection are each refused or skipped, and N keeps running with
// the person's data. Then N+1, properly signed: installed with dpkg, started in place of N, and
// the change N held unsent is still there and reaches the registry.
//
// Run by tests/packaging/update.sh (which builds and signs N+1; read there which build this is
// and why it proves the release path) with UPDATE_DIR, UPDATE_DEB, CURRENT_VERSION,
// NEXT_VERSION, SCHEMA_FROM, SCHEMA_TO (N+1 has one more step in the data's schema),
// DOORSTEP_APP_BIN (the installed binary) and DOORSTEP_REGISTRY_BIN set.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appPids, artifactsDir, killAppsUsing, launchWorld } from '../e2e/harness.mjs';
import { drive, WAIT } from '../e2e/driving.mjs';

const dir = process.env.UPDATE_DIR;
const current = process.env.CURRENT_VERSION;
const next = process.env.NEXT_VERSION;
const PASSPHRASE = 'update day words 1';
const package_ = () => readFileSync(join(dir, process.env.UPDATE_DEB));
const signature = (name) => readFileSync(join(dir, name), 'utf8').trim();

// --- the update server: what it answers is set per test -----------------------------------------
let scenario = 'unreachable';
const requests = [];
let server;
let base;

function manifest(version, file, sig) {
  return {
    version,
    notes: `Doorstep ${version}`,
    pub_date: new Date().toISOString(),
    platforms: { 'linux-x86_64-deb': { url: `${base}/files/${file}`, signature: sig } },
  };
}

const scenarios = {
  // The connection is dropped: as a server that is down or a network that is not there.
  unreachable: () => null,
  older: () => ({ json: manifest('0.0.9', 'older.deb', signature('older.sig')), file: () => readFileSync(join(dir, 'older.deb')) }),
  otherKey: () => ({ json: manifest(next, 'next.deb', signature('other-key.sig')), file: package_ }),
  tampered: () => ({
    json: manifest(next, 'next.deb', signature('next.sig')),
    file: () => {
      const bytes = Buffer.from(package_());
      bytes[bytes.length >> 1] ^= 0x01; // one bit, in the middle
      return bytes;
    },
  }),
  truncated: () => ({ json: manifest(next, 'next.deb', signature('next.sig')), file: () => package_().subarray(0, package_().length >> 1) }),
  // A manifest announcing N+1 with the signature of another release (0.0.9's): the signature
  // is bound to the version it was made for.
  versionSwap: () => ({ json: manifest(next, 'older.deb', signature('older.sig')), file: () => readFileSync(join(dir, 'older.deb')) }),
  good: () => ({ json: manifest(next, 'next.deb', signature('next.sig')), file: package_ }),
};

function startServer() {
  server = createServer((req, res) => {
    requests.push(req.url);
    const answer = scenarios[scenario]();
    if (answer === null) return req.socket.destroy();
    if (req.url.startsWith('/files/')) {
      const bytes = answer.file();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      return res.end(bytes);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.json));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

// --- the app -------------------------------------------------------------------------------------
let world;
let device;
let $, mainText, press, pressOn, choose, typeInto, waitForText;
let browser;

before(async () => {
  for (const name of ['UPDATE_DIR', 'UPDATE_DEB', 'CURRENT_VERSION', 'NEXT_VERSION', 'SCHEMA_FROM', 'SCHEMA_TO']) assert.ok(process.env[name], `${name} is not set: run this through tests/packaging/run.sh`);
  base = `http://127.0.0.1:${await startServer()}`;
  world = await launchWorld({ logName: 'update' });
  device = await world.openDevice({
    logName: 'update',
    // Placeholders: the channel is ours, the rest the plugin's.
    env: { DOORSTEP_UPDATE_URL: `${base}/{{channel}}/{{target}}/{{arch}}/{{current_version}}/manifest.json` },
  });
  useSession(device.browser);
});

function useSession(session) {
  browser = session;
  ({ $, mainText, press, pressOn, choose, typeInto, waitForText } = drive({ get browser() { return session; } }));
}

after(async () => {
  // The restarted app is nobody's WebDriver child: end it with the rest.
  if (device) killAppsUsing(device.dataDir);
  await device?.close();
  await world?.close();
  server?.close();
});

const logText = () => {
  const logs = join(device.dataDir, 'logs');
  return readdirSync(logs).sort().map((f) => readFileSync(join(logs, f), 'utf8')).join('');
};
const installedVersion = () => execFileSync('dpkg-query', ['-W', '-f=${Version}', 'doorstep'], { encoding: 'utf8' });

test('version N: registered, then a change made offline waits on the device', async () => {
  await press('[data-testid="sign-in"]');
  await typeInto('#passphrase', PASSPHRASE);
  await typeInto('#passphrase-repeat', PASSPHRASE);
  await press('[data-testid="passphrase-submit"]');
  const given = await $('[name="data[givenName]"]');
  await browser.waitUntil(async () => (await given.getValue()) === 'Amina', { ...WAIT, timeoutMsg: 'the form was not prefilled' });
  await typeInto('[name="data[phone]"]', '+254712345678');
  await choose('[name="data[preferredLanguage]"]', 'en');
  await pressOn(await $('[name="data[confirm]"]'), ' ');
  await pressOn(await $('button[name="data[submit]"]'), 'Enter');
  await (await $('[data-testid="saved"]')).waitForDisplayed({ ...WAIT, timeoutMsg: `not saved:\n${await mainText()}` });
  await waitForText('[data-testid="sync-status"]', /Up to date/, 'the registration synced');

  await world.stopRegistry();
  await press('[data-testid="edit-details"]');
  await browser.waitUntil(async () => (await (await $('[name="data[givenName]"]')).getValue()) !== '', WAIT);
  await typeInto('[name="data[givenName]"]', 'Aminata');
  const confirm = await $('[name="data[confirm]"]');
  if (!(await confirm.isSelected())) await pressOn(confirm, ' ');
  await pressOn(await $('button[name="data[submit]"]'), 'Enter');
  await (await $('[data-testid="saved"]')).waitForDisplayed(WAIT);
  await waitForText('[data-testid="sync-status"]', /No connection|waiting to be sent/, 'the change waits');
});

/** Settings' "Check for updates", then the state it ends in. */
async function checkInSettings() {
  if (!(await (await $('[data-testid="updates"]')).isExisting())) await press('[data-testid="open-settings"]');
  const state = await $('[data-testid="update-state"]');
  await state.waitForDisplayed(WAIT);
  const before = requests.length;
  await press('[data-testid="update-check"]');
  await browser.waitUntil(async () => requests.length > before && !['checking'].includes(await state.getAttribute('data-kind')), {
    ...WAIT,
    timeoutMsg: `the check did not end: ${await state.getText()}`,
  });
  return state;
}

/** N is still the one installed and running, and the person's data is still open. */
async function nStillRuns(what) {
  assert.equal(installedVersion(), current, `${what}: the installed version changed`);
  const pids = appPids(device.dataDir);
  assert.equal(pids.length, 1, `${what}: the app is not running once (${pids})`);
  assert.match(readlinkSync(`/proc/${pids[0]}/exe`), /\/usr\/bin\/doorstep$/);
  assert.match(await mainText(), new RegExp(`Doorstep ${current.replace(/\./g, '\\.')}`));
}

test('an update server that drops the connection is said, and skipped', async () => {
  scenario = 'unreachable';
  const state = await checkInSettings();
  await browser.waitUntil(async () => (await state.getAttribute('data-kind')) === 'failed', { ...WAIT, timeoutMsg: await state.getText() });
  assert.match(await state.getText(), /could not be reached.*this version keeps working/);
  assert.match(requests.at(-1), new RegExp(`^/stable/linux/x86_64/${current.replace(/\./g, '\\.')}/manifest\\.json$`), 'the placeholders were filled in');
  await browser.saveScreenshot(join(artifactsDir, 'update-unreachable.png'));
  await nStillRuns('unreachable');
});

test('an older version offered is refused without being downloaded', async () => {
  scenario = 'older';
  const state = await checkInSettings();
  await browser.waitUntil(async () => (await state.getAttribute('data-kind')) === 'failed', { ...WAIT, timeoutMsg: await state.getText() });
  assert.match(await state.getText(), /offers version 0\.0\.9, which is not newer/);
  assert.ok(!requests.some((r) => r.startsWith('/files/')), 'nothing was downloaded');
  await nStillRuns('older');
});

for (const [name, why] of [
  ['otherKey', 'signed with another key'],
  ['tampered', 'changed by one bit'],
  ['truncated', 'cut short'],
  ['versionSwap', "announced as N+1 with an older release's signature"],
]) {
  test(`a package ${why} is refused, and nothing is installed`, async () => {
    scenario = name;
    const state = await checkInSettings();
    await browser.waitUntil(async () => (await state.getAttribute('data-kind')) === 'available', { ...WAIT, timeoutMsg: await state.getText() });
    const downloads = requests.filter((r) => r.startsWith('/files/')).length;
    await press('[data-testid="updates"] [data-testid="update-install"]');
    await browser.waitUntil(async () => (await state.getAttribute('data-kind')) === 'failed', { timeout: 120_000, interval: 250, timeoutMsg: await state.getText() });
    assert.ok(requests.filter((r) => r.startsWith('/files/')).length > downloads, 'the package was downloaded');
    assert.match(await state.getText(), /not signed with this app’s update key.*Nothing was installed/);
    if (name === 'tampered') await browser.saveScreenshot(join(artifactsDir, 'update-refused.png'));
    await nStillRuns(name);
    // The data was never closed: the home screen still opens.
    await press('[data-testid="settings-back"]');
    await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);
  });
}

test('N+1, signed: the person is asked, it installs, and the new version starts in place of N', async () => {
  scenario = 'good';
  await checkInSettings();
  await press('[data-testid="settings-back"]');
  // A personal device asks, on whatever screen the person is.
  const banner = await $('[data-testid="update-banner-text"]');
  await banner.waitForDisplayed(WAIT);
  assert.match(await banner.getText(), new RegExp(`Version ${next.replace(/\./g, '\\.')} of Doorstep is ready to install`));
  await browser.saveScreenshot(join(artifactsDir, 'update-asked.png'));
  const oldPid = appPids(device.dataDir)[0];
  const pressed = Date.now();
  await press('[data-testid="update-banner"] [data-testid="update-install"]');

  // N ends; N+1 starts from /usr/bin/doorstep on the same data, with no WebDriver session.
  const startedLine = new RegExp(`doorstep_app: starting version=${next.replace(/\./g, '\\.')} `);
  let pids = [];
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    pids = appPids(device.dataDir);
    if (pids.length === 1 && pids[0] !== oldPid && startedLine.test(logText())) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(startedLine.test(logText()), `N+1 never logged its start:\n${logText().slice(-3000)}`);
  assert.equal(pids.length, 1, `N+1 is not running alone (pids ${pids}, N was ${oldPid})`);
  assert.notEqual(pids[0], oldPid, 'N is still the one running');
  assert.equal(installedVersion(), next);
  assert.match(readlinkSync(`/proc/${pids[0]}/exe`), /\/usr\/bin\/doorstep$/);
  const log = logText();
  const started = log.split('\n').find((l) => startedLine.test(l));
  assert.ok(started, `no start of ${next} in the log:\n${log.slice(-3000)}`);
  assert.match(log, /update downloaded, signature valid/);
  assert.match(log, /started after an update; the previous version has ended/);
  const startedAt = Date.parse(started.match(/^\S+/)[0]);
  const figure = `update figure: "Install" pressed → version ${next} running: ${((startedAt - pressed) / 1000).toFixed(1)} s (download ${(package_().length / 1e6).toFixed(0)} MB from loopback, signature check, data closed, dpkg -i, restart)`;
  console.log(figure);
  writeFileSync(join(dir, 'figures.txt'), `${figure}\n`);
});

test('N+1 opens the same data: the change made offline under N is still there, and syncs', async () => {
  // A WebDriver session on the new version: end the one the update started (only the app: the
  // device's tauri-driver has the same data folder in its environment), open it again.
  for (const pid of appPids(device.dataDir)) process.kill(Number(pid), 'SIGTERM');
  await device.restart();
  useSession(device.browser);
  await (await $('#offline-passphrase, #passphrase')).waitForDisplayed(WAIT);
  const field = (await (await $('#offline-passphrase')).isExisting()) ? '#offline-passphrase' : '#passphrase';
  await typeInto(field, PASSPHRASE);
  await press(field === '#passphrase' ? '[data-testid="passphrase-submit"]' : '[data-testid="unlock-offline"]');
  await waitForText('[data-testid="home"]', /Aminata/, 'the offline change is in N+1');
  // N+1 has one more schema step (update.sh): it migrated the data N wrote, in place.
  assert.match(logText(), new RegExp(`schema was brought up to date from=${process.env.SCHEMA_FROM} to=${process.env.SCHEMA_TO}`));
  // Opened offline with the passphrase (no keyring here keeps the session): the change waits.
  await waitForText('[data-testid="sync-status"]', /Sign in to send your changes|waiting to be sent/, 'still waiting to be sent');
  await press('[data-testid="open-settings"]');
  await waitForText('[data-testid="updates"]', new RegExp(`Doorstep ${next.replace(/\./g, '\\.')}`), 'the new version in Settings');
  await browser.saveScreenshot(join(artifactsDir, 'update-done.png'));
  await press('[data-testid="settings-back"]');

  await world.startRegistry();
  await press('[data-testid="offline-notice"] button');
  await (await $('[data-testid="offline-notice"]')).waitForDisplayed({ ...WAIT, reverse: true, timeoutMsg: 'signing in again did not work' });
  await press('[data-testid="sync-now"]');
  await waitForText('[data-testid="sync-status"]', /Up to date/, 'the change synced from N+1');
  const token = await world.staffToken();
  let found;
  await browser.waitUntil(
    async () => {
      const page = await (await fetch(`${world.registryUrl}/v1/search?q=Aminata`, { headers: { authorization: `Bearer ${token}` } })).json();
      found = page.items?.find((i) => i.given_name === 'Aminata');
      return Boolean(found);
    },
    { ...WAIT, timeoutMsg: 'the registry never got the change made under N' },
  );
});

test('a kiosk installs by itself inside its maintenance window, with nobody signed in', async () => {
  // Back to N: the package N was built as (older.deb is N's own .deb, only signed as 0.0.9).
  execFileSync('dpkg', ['-i', join(dir, 'older.deb')], { stdio: 'ignore' });
  assert.equal(installedVersion(), current);
  scenario = 'good';
  // A window around now, in this machine's local time (it may run over midnight).
  const hhmm = (d) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const window = `${hhmm(new Date(Date.now() - 3_600_000))}-${hhmm(new Date(Date.now() + 3_600_000))}`;
  const kiosk = await world.openDevice({
    mode: 'kiosk',
    logName: 'update-kiosk',
    env: {
      DOORSTEP_UPDATE_URL: `${base}/{{channel}}/{{target}}/{{arch}}/{{current_version}}/manifest.json`,
      DOORSTEP_KIOSK_MAINTENANCE_WINDOW: window,
    },
  });
  try {
    const kioskLog = () => {
      const logs = join(kiosk.dataDir, 'logs');
      return readdirSync(logs).sort().map((f) => readFileSync(join(logs, f), 'utf8')).join('');
    };
    const startedLine = new RegExp(`doorstep_app: starting version=${next.replace(/\./g, '\\.')} `);
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline && !startedLine.test(kioskLog())) await new Promise((r) => setTimeout(r, 200));
    const log = kioskLog();
    assert.match(log, startedLine, `the kiosk did not update itself:\n${log.slice(-3000)}`);
    assert.match(log, /kiosk maintenance window, nobody signed in: installing/);
    assert.equal(installedVersion(), next);
    const at = (pattern) => Date.parse(log.split('\n').find((l) => pattern.test(l)).match(/^\S+/)[0]);
    const figure = `update figure: kiosk, "update available" → version ${next} running: ${((at(startedLine) - at(/update available/)) / 1000).toFixed(1)} s (no one asked; same steps)`;
    console.log(figure);
    writeFileSync(join(dir, 'figures.txt'), `${figure}\n`, { flag: 'a' });
  } finally {
    killAppsUsing(kiosk.dataDir);
    await kiosk.close();
  }
});
