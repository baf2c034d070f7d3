// Shared plumbing for end-to-end tests: start the real registry server and tauri-driver on
// loopback, open a WebDriver session on the real Doorstep binary, and clean everything up.
// Every wait here is bounded; nothing is left running when a test ends.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';

// For tests outside this folder (tests/packaging/), which have no node_modules of their own.
export { remote };

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const artifactsDir = process.env.DOORSTEP_ARTIFACTS ?? join(repoRoot, 'artifacts', 'e2e');

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run the end-to-end tests through ./dev test`);
  return value;
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/** Spawn a process whose output is kept (and shown if the test fails). */
export function start(cmd, args, env, label, { keepStdinOpen = false } = {}) {
  // The test provider exits when its stdin closes (so it never outlives a test): give it a pipe.
  const stdin = keepStdinOpen ? 'pipe' : 'ignore';
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: [stdin, 'pipe', 'pipe'] });
  child.output = '';
  const keep = (chunk) => {
    child.output += chunk;
    if (child.output.length > 200_000) child.output = child.output.slice(-100_000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  child.label = label;
  return child;
}

/** Resolve when `predicate(output)` returns a value, reject after `ms` or if the process exits. */
function waitForOutput(child, predicate, ms) {
  return new Promise((resolveWait, reject) => {
    const timer = setTimeout(() => done(new Error(`${child.label}: not ready after ${ms} ms\n${child.output}`)), ms);
    const check = () => {
      const found = predicate(child.output);
      if (found) done(null, found);
    };
    const onExit = (code) => done(new Error(`${child.label} exited early (code ${code})\n${child.output}`));
    function done(err, value) {
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.stderr.off('data', check);
      child.off('exit', onExit);
      err ? reject(err) : resolveWait(value);
    }
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.on('exit', onExit);
    check();
  });
}

/**
 * Wait until something accepts TCP connections on 127.0.0.1:port. Probes by connecting, never
 * by binding: a probe that binds the port itself would hold it at the very moment the process
 * being waited for tries to bind it (seen on a slow machine as "can not listen to address").
 */
export async function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await accepts(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
}

/** Whether a TCP connection to 127.0.0.1:port is accepted (bounded to one second). */
function accepts(port) {
  return new Promise((r) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (ok) => {
      socket.destroy();
      r(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Run a program to completion and return its stdout (bounded). */
function output(cmd, args, ms = 30_000) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
    child.on('exit', (code) => {
      clearTimeout(timer);
      code === 0 ? resolveRun(out.trim()) : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err}`));
    });
  });
}

/**
 * Start the test identity provider + registry + tauri-driver + app: one world with one device.
 * Returns `{ browser, registryUrl, dataDir, close, restart, stopRegistry, startRegistry, staffToken, devToken, registryCli, issuer, logs }`.
 * `close()` ends the session and stops every process started here. `restart()` quits the app and
 * starts it again on the same data (`browser` is then the new session).
 * `options.mode`: the app's device mode (`personal` by default).
 * `options.autoLogin`: the provider logs in this account by itself (for the kiosk's own window).
 * `options.env`: more environment for the app.
 * `options.logName`: names the processes' log in the artifacts (default: the mode).
 * `options.registryConfig`: more of the registry's TOML config file (crates/registry/src/config.rs),
 * or a function of the provider's issuer that returns it,
 * e.g. `[agents]\nrequire_consent = true\n`, added after the `[auth]` section the harness writes.
 * `options.demoHouseholds`: seed this many demo households (`doorstep-registry demo-data`, the
 * same seed as `--demo`, spread over KE.30 and KE.31) before the registry first starts.
 * `stopRegistry()` / `startRegistry()` stop the registry and start it again on the same port and
 * data (the app sees it gone, then back).
 */
export async function launchApp(options = {}) {
  const world = await launchWorld(options);
  try {
    const device = await world.openDevice(options);
    return {
      ...world,
      // A getter: restart() replaces the session.
      get browser() {
        return device.browser;
      },
      dataDir: device.dataDir,
      configFile: device.configFile,
      env: device.env,
      restart: device.restart,
      logs: () => `${world.logs()}\n${device.logs()}`,
      close: async () => {
        await device.close();
        await world.close();
      },
    };
  } catch (e) {
    await world.close();
    throw e;
  }
}

/**
 * Start what every device talks to: the test identity provider and the registry (trusting it,
 * with dev tokens for the tests' own clients). Several devices may then be opened on it at once
 * (`openDevice`), each its own app process with its own data, as on separate computers.
 * Options as for `launchApp` (`autoLogin`, `registryConfig`, `demoHouseholds`, `logName`).
 * `close()` stops the provider and the registry and removes their data.
 */
export async function launchWorld(options = {}) {
  const registryBin = required('DOORSTEP_REGISTRY_BIN');
  mkdirSync(artifactsDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'doorstep-e2e-'));
  const procs = [];
  let registry;
  const logs = () => [...procs, registry].filter(Boolean).map((p) => `--- ${p.label}\n${p.output}`).join('\n');
  const close = async () => {
    // Every process's output, for reading after a failure (CI keeps the artifacts).
    writeFileSync(join(artifactsDir, `processes-${options.logName ?? options.mode ?? 'personal'}-registry.log`), logs());
    for (const p of procs.reverse()) await stop(p);
    await stop(registry);
    try {
      rmSync(scratch, { recursive: true, force: true });
    } catch (e) {
      console.warn(`could not remove ${scratch}: ${e.message}`);
    }
  };

  try {
    const providerArgs = options.autoLogin ? ['--auto-login', options.autoLogin] : [];
    const provider = start('node', [join(repoRoot, 'tests/oidc-provider/server.mjs'), ...providerArgs], {}, 'oidc-provider', {
      keepStdinOpen: true,
    });
    procs.push(provider);
    const issuer = JSON.parse(await waitForOutput(provider, (out) => out.match(/^\{.*"issuer".*\}$/m)?.[0], 30_000));

    // The registry trusts the provider's tokens, and (for the tests' "office" client) dev tokens.
    const registryData = join(scratch, 'registry');
    const configFile = join(scratch, 'registry.toml');
    // A function is given the provider's issuer (for sections that name it, e.g. [liveness]).
    const extra = typeof options.registryConfig === 'function' ? options.registryConfig(issuer.issuer) : options.registryConfig;
    writeFileSync(configFile, `[auth]\nissuer = "${issuer.issuer}"\naudience = "${issuer.audience}"\n${extra ? `\n${extra}\n` : ''}`);
    const registryPort = await freePort();
    const registryUrl = `http://127.0.0.1:${registryPort}`;
    const startRegistry = async () => {
      registry = start(
        registryBin,
        ['serve', '--listen', `127.0.0.1:${registryPort}`, '--data', registryData, '--config', configFile, '--demo', '--dev-auth'],
        {},
        'registry',
      );
      await waitForOutput(registry, (out) => out.includes(`listening on ${registryUrl}`), 30_000);
    };
    const stopRegistry = async () => {
      await stop(registry);
    };
    // Development tokens for the tests' other clients (the registry runs with --dev-auth).
    const devToken = (role, subject, extra = []) =>
      output(registryBin, ['dev-token', '--data', registryData, '--role', role, '--subject', subject, ...extra]);
    const staffToken = () => devToken('staff', 'office');
    // The registry's own command line on this run's data and config (e.g. `admin grant`).
    const registryCli = (args) => output(registryBin, [...args, '--data', registryData, '--config', configFile]);
    if (options.demoHouseholds) {
      await output(registryBin, ['demo-data', '--data', registryData, '--households', String(options.demoHouseholds)], 120_000);
    }
    await startRegistry();
    const world = {
      registryUrl,
      close,
      stopRegistry,
      startRegistry,
      staffToken,
      devToken,
      registryCli,
      issuer: issuer.issuer,
      providerOutput: () => provider.output,
      logs,
      openDevice: (deviceOptions = {}) => openDevice({ registryUrl, issuer }, deviceOptions),
    };
    return world;
  } catch (e) {
    const text = logs();
    await close();
    e.message += `\n${text}`;
    throw e;
  }
}

/**
 * Start tauri-driver and the app on `world`'s registry and provider, with data of its own.
 * Returns `{ browser, dataDir, configFile, env, restart, close, logs }`; `close()` ends the
 * session, stops the driver and everything the app started, and removes its data. Options:
 * `mode`, `env` (an empty value unsets a setting), `systemConfig` (the text of the device's
 * configuration file, which otherwise does not exist), `logName`.
 */
async function openDevice({ registryUrl, issuer }, options = {}) {
  const appBin = required('DOORSTEP_APP_BIN');
  const tauriDriver = process.env.TAURI_DRIVER ?? 'tauri-driver';
  const nativeDriver = process.env.WEBKIT_WEBDRIVER ?? '/usr/bin/WebKitWebDriver';
  const scratch = mkdtempSync(join(tmpdir(), 'doorstep-e2e-device-'));
  const dataDir = join(scratch, 'app-data');
  // The device's configuration files: this device's own, never the machine's /etc/doorstep or
  // the tester's ~/.config (a package test may have installed one).
  const configFile = join(scratch, 'etc-doorstep-config.toml');
  if (options.systemConfig !== undefined) writeFileSync(configFile, options.systemConfig, { mode: 0o644 });
  const procs = [];
  let browser;
  const logs = () => procs.map((p) => `--- ${p.label}\n${p.output}`).join('\n');
  const close = async () => {
    writeFileSync(join(artifactsDir, `processes-${options.logName ?? options.mode ?? 'personal'}.log`), logs());
    try {
      // Bounded: a driver that no longer answers must not hold the test run.
      if (browser) await Promise.race([browser.deleteSession(), new Promise((r) => setTimeout(r, 15_000).unref())]);
    } catch {
      /* the app may already be gone */
    }
    for (const p of procs.reverse()) await stop(p);
    // The app is WebKitWebDriver's child, not ours, and GTK/WebKit start session helpers of
    // their own (dbus-launch, the accessibility bus, xdg portals) with its environment. Anything
    // of this run still alive would keep our output pipes open (and this test process with
    // them: a run once hung here) and leak into the next test: end it.
    killAppsUsing(dataDir);
    try {
      rmSync(scratch, { recursive: true, force: true });
    } catch (e) {
      console.warn(`could not remove ${scratch}: ${e.message}`);
    }
  };

  try {
    const port = await freePort();
    const nativePort = await freePort();
    // The app inherits this environment through tauri-driver and WebKitWebDriver.
    const env = {
        DOORSTEP_CONFIG_FILE: configFile,
        DOORSTEP_USER_CONFIG_FILE: join(scratch, 'user-config.toml'),
        XDG_CONFIG_HOME: join(scratch, 'xdg-config'),
        DOORSTEP_REGISTRY_URL: registryUrl,
        DOORSTEP_DATA_DIR: dataDir,
        // The web view's own storage (the language choice) stays in this device's scratch folder.
        XDG_DATA_HOME: join(scratch, 'xdg-data'),
        DOORSTEP_LOG: 'info',
        DOORSTEP_MODE: options.mode ?? 'personal',
        DOORSTEP_OIDC_ISSUER: issuer.issuer,
        DOORSTEP_OIDC_CLIENT_ID: 'doorstep-public',
        DOORSTEP_OIDC_REDEEM: 'app',
        DOORSTEP_OIDC_RESOURCE: issuer.resource,
        DOORSTEP_OIDC_CLAIMS_FROM: 'id_token',
        ...(options.env ?? {}),
        // Kiosk tests use the app's own sign-in window; the others a headless browser.
        ...(options.mode === 'kiosk' ? {} : { DOORSTEP_BROWSER: `node ${join(repoRoot, 'tests/e2e/headless-signin.mjs')}` }),
    };
    const driver = start(
      tauriDriver,
      ['--port', String(port), '--native-port', String(nativePort), '--native-driver', nativeDriver],
      env,
      `tauri-driver ${options.logName ?? options.mode ?? 'personal'}`,
    );
    procs.push(driver);
    // tauri-driver starts WebKitWebDriver itself and forwards the session to it: both must
    // listen before a session is asked for (on a loaded machine the second came up late once,
    // and the session failed with "tcp connect error").
    await waitForPort(port, 30_000);
    await waitForPort(nativePort, 30_000);

    const session = () =>
      remote({
        hostname: '127.0.0.1',
        port,
        logLevel: 'warn',
        connectionRetryTimeout: 120_000,
        connectionRetryCount: 0,
        capabilities: {
          browserName: 'wry',
          'tauri:options': { application: appBin },
          // WebKitWebDriver speaks classic WebDriver only (no BiDi).
          'wdio:enforceWebDriverClassic': true,
        },
      });
    browser = await session();
    // Quit and start again, as a person does: same data folder, same web view storage (the
    // language and text size choices), a new app process and WebDriver session.
    const restart = async () => {
      const old = browser;
      browser = undefined;
      await Promise.race([old.deleteSession().catch(() => undefined), new Promise((r) => setTimeout(r, 15_000).unref())]);
      await appGone(dataDir, 15_000);
      browser = await session();
      return browser;
    };
    return {
      // A getter: restart() replaces the session.
      get browser() {
        return browser;
      },
      dataDir,
      configFile,
      // The app's environment, for starting it again by hand (a second instance).
      env,
      restart,
      close,
      logs,
    };
  } catch (e) {
    const text = logs();
    await close();
    e.message += `\n${text}`;
    throw e;
  }
}

const axeSource = readFileSync(join(repoRoot, 'tests/e2e/node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * Run axe-core (WCAG 2.0–2.2 A and AA rules) on the page as it is now and return its violations,
 * one line each, so a failing assertion reads as a list of what to fix. The script is injected
 * through WebDriver, which the page's CSP does not govern.
 */
export async function accessibilityViolations(browser) {
  await browser.execute(axeSource);
  const result = await browser.executeAsync((done) => {
    window.axe
      .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
      .then((r) => done(r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => `${n.target.join(' ')} (${n.any?.[0]?.message ?? n.failureSummary ?? ''})`) }))))
      .catch((e) => done([{ id: 'axe-error', help: String(e), nodes: [] }]));
  });
  return result.map((v) => `${v.id}: ${v.help} — ${v.nodes.slice(0, 5).join(', ')}`);
}

/**
 * What is wrong with the layout as it is now (WCAG 1.4.4 / 1.4.10: text resized to 200% and
 * reflowed without loss): the page scrolling sideways, anything drawn past the window's left or
 * right edge, and content cut off by a box that hides its overflow. One line per problem, at most
 * 20. Rows of a virtualised list (.vlist-row) may end a line with an ellipsis by design (the whole
 * text stays their accessible name), so for them only content cut off at the bottom counts.
 */
export function layoutProblems(browser) {
  return browser.execute(() => {
    const problems = [];
    const root = document.documentElement;
    if (root.scrollWidth > window.innerWidth + 1) problems.push(`the page scrolls sideways: ${root.scrollWidth} > ${window.innerWidth}`);
    const name = (el) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} "${(el.textContent ?? '').trim().slice(0, 40)}"`;
    for (const el of document.body.querySelectorAll('*')) {
      if (el.closest('.visually-hidden, [hidden], script, style, template')) continue;
      const style = getComputedStyle(el);
      if (style.display === 'none' || style.visibility !== 'visible' || style.opacity === '0') continue;
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      // Screen-reader-only text (Form.io's announcements) sits off screen in a 1 px box by design.
      if (box.width <= 1 && box.height <= 1) continue;
      if (box.left < -1 || box.right > root.clientWidth + 1) problems.push(`past the window's edge (${Math.round(box.left)}–${Math.round(box.right)} of ${root.clientWidth}): ${name(el)}`);
      const hidesX = ['hidden', 'clip'].includes(style.overflowX) && !el.matches('.vlist-row, .vlist-row *');
      const hidesY = ['hidden', 'clip'].includes(style.overflowY);
      if (hidesX && el.scrollWidth > el.clientWidth + 1) problems.push(`cut off sideways (${el.scrollWidth} > ${el.clientWidth}): ${name(el)}`);
      if (hidesY && el.scrollHeight > el.clientHeight + 1) problems.push(`cut off at the bottom (${el.scrollHeight} > ${el.clientHeight}): ${name(el)}`);
    }
    return problems.slice(0, 20);
  });
}

/** The pids of this run's app processes (named `doorstep`, with this data folder). */
export function appPids(dataDir) {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'doorstep' &&
          readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`DOORSTEP_DATA_DIR=${dataDir}\0`)
        );
      } catch {
        return false;
      }
    });
}

/** Wait (bounded) until the app has quit, so a restart never opens the vault twice; end it if
 *  it outlives the wait. */
export async function appGone(dataDir, ms) {
  const deadline = Date.now() + ms;
  while (appPids(dataDir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of appPids(dataDir)) {
    console.warn(`ended the app (pid ${pid}): it did not quit with its session`);
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
}

/** Kill every process whose environment names this run's app data folder: the app if it is
 *  still there, and the session helpers it started. */
export function killAppsUsing(dataDir) {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`DOORSTEP_DATA_DIR=${dataDir}\0`)) continue;
      if (Number(pid) === process.pid) continue;
      const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      process.kill(Number(pid), 'SIGKILL');
      if (name === 'doorstep') console.warn(`ended the app (pid ${pid}): it outlived its driver`);
    } catch {
      /* not ours, or already gone */
    }
  }
}
