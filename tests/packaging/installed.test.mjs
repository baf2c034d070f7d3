// The app as installed from its .deb, started the way a desktop starts it: the Exec line of the
// installed desktop entry, with its configuration only from /etc/doorstep/config.toml (written by
// tests/packaging/run.sh: the demo registry and identity provider). No DOORSTEP_* variable reaches
// the app but DOORSTEP_DATA_DIR (a scratch folder, so the test leaves nothing in a home folder).
// It must reach the welcome screen with its sign-in button, which exists only when a provider is
// configured: so the device file was found, read and applied.
//
// Run by tests/packaging/run.sh under Xvfb with DOORSTEP_DESKTOP_FILE, TAURI_DRIVER and
// DOORSTEP_ARTIFACTS set.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { artifactsDir, freePort, killAppsUsing, remote, start, stop, waitForPort } from '../e2e/harness.mjs';

const WAIT = { timeout: 60_000, interval: 200 };

/** The program of the desktop entry's Exec line, resolved on PATH as a launcher would. */
function execOf(desktopFile) {
  const entry = readFileSync(desktopFile, 'utf8');
  const exec = entry.match(/^Exec=(.*)$/m)?.[1];
  assert.ok(exec, `${desktopFile} has no Exec line`);
  // Field codes (%u, %f…) are the launcher's; the first word is the program.
  const program = exec.trim().split(/\s+/)[0].replace(/^"|"$/g, '');
  if (isAbsolute(program)) return program;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      /* not in this folder */
    }
  }
  throw new Error(`Exec=${exec}: ${program} is not on PATH`);
}

let scratch;
let driver;
let browser;
let dataDir;

before(async () => {
  const desktopFile = process.env.DOORSTEP_DESKTOP_FILE;
  assert.ok(desktopFile, 'DOORSTEP_DESKTOP_FILE is not set; run this through tests/packaging/run.sh');
  const appBin = execOf(desktopFile);
  scratch = mkdtempSync(join(tmpdir(), 'doorstep-installed-'));
  dataDir = join(scratch, 'app-data');

  // The environment a desktop session gives the app: ours without any DOORSTEP_* variable (start()
  // layers its argument over process.env, and spawn drops undefined values), then only the data
  // folder and the web view's own storage in the scratch folder. tauri-driver and WebKitWebDriver
  // pass it on to the app.
  const withoutOurs = Object.fromEntries(
    Object.keys(process.env)
      .filter((name) => name.startsWith('DOORSTEP_'))
      .map((name) => [name, undefined]),
  );
  const port = await freePort();
  const nativePort = await freePort();
  driver = start(
    process.env.TAURI_DRIVER ?? 'tauri-driver',
    ['--port', String(port), '--native-port', String(nativePort), '--native-driver', process.env.WEBKIT_WEBDRIVER ?? '/usr/bin/WebKitWebDriver'],
    { ...withoutOurs, DOORSTEP_DATA_DIR: dataDir, XDG_DATA_HOME: join(scratch, 'xdg-data') },
    'tauri-driver (installed app)',
  );
  await waitForPort(port, 30_000);
  await waitForPort(nativePort, 30_000);
  browser = await remote({
    hostname: '127.0.0.1',
    port,
    logLevel: 'warn',
    connectionRetryTimeout: 120_000,
    connectionRetryCount: 0,
    capabilities: {
      browserName: 'wry',
      'tauri:options': { application: appBin },
      'wdio:enforceWebDriverClassic': true,
    },
  });
});

after(async () => {
  if (driver) writeFileSync(join(artifactsDir, 'processes-installed-app.log'), driver.output);
  try {
    if (browser) await Promise.race([browser.deleteSession(), new Promise((r) => setTimeout(r, 15_000).unref())]);
  } catch {
    /* the app may already be gone */
  }
  await stop(driver);
  if (dataDir) killAppsUsing(dataDir);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('the installed app reads /etc/doorstep/config.toml and offers sign-in', async () => {
  const signIn = await browser.$('[data-testid="sign-in"]');
  try {
    await signIn.waitForDisplayed(WAIT);
  } finally {
    // What the screen showed, whether or not the button came.
    await browser.saveScreenshot(join(artifactsDir, 'installed-app.png'));
  }
  assert.ok(await signIn.isEnabled(), 'the sign-in button is shown but disabled');
});
