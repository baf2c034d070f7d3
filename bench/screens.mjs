// `./dev bench screens`: how fast each screen becomes interactive in the real app (release
// build, under Xvfb, driven through WebDriver), and the app's memory after every screen was
// visited. "Interactive" = from the navigation to the first painted frame with the screen's data
// from the vault (User Timing marks set by ui/src/lib/timing.ts). Median of BENCH_RUNS visits per
// screen, after one warm-up visit. The figure to beat: 300 ms per screen on a weak machine.

import { readdirSync, readFileSync } from 'node:fs';
import { launchApp } from '../tests/e2e/harness.mjs';
import { memoryKb } from './proc.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WAIT = { timeout: 60_000, interval: 100 };
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const app = await launchApp();
const { browser } = app;
const $ = (sel) => browser.$(sel);
async function press(selector) {
  const el = await $(selector);
  await el.waitForDisplayed(WAIT);
  await browser.execute((e) => e.focus(), el);
  await browser.keys('Enter');
}
const measures = (name) => browser.execute((n) => performance.getEntriesByName(`screen:${n}`, 'measure').map((m) => m.duration), name);

async function visit(name, open) {
  const before = (await measures(name)).length;
  await open();
  await browser.waitUntil(async () => (await measures(name)).length > before, { ...WAIT, timeoutMsg: `${name} never reported ready` });
  return (await measures(name)).at(-1);
}

try {
  // A person on their own device, signed in and registered.
  await press('[data-testid="sign-in"]');
  await (await $('#passphrase')).waitForDisplayed(WAIT);
  await (await $('#passphrase')).setValue('bench passphrase');
  await (await $('#passphrase-repeat')).setValue('bench passphrase');
  await press('[data-testid="passphrase-submit"]');
  await (await $('[data-testid="home"]')).waitForDisplayed(WAIT);

  const results = {};
  const record = (name, ms) => (results[name] ??= []).push(ms);
  const backFromSettings = () => press('[data-testid="settings"] button.btn-secondary');
  const openSettings = () => press('[data-testid="open-settings"]');

  // 1. Not registered yet: Home carries the Form.io registration form.
  for (let i = 0; i <= RUNS; i++) {
    const s = await visit('settings', openSettings);
    const h = await visit('home', backFromSettings);
    if (i > 0) {
      record('settings', s);
      record('home, not registered (with the Form.io registration form)', h);
    }
  }

  // 2. Register (the form is prefilled from the provider), then Home shows the facts.
  await (await $('[name="data[preferredLanguage]"]')).selectByAttribute('value', 'en');
  const confirm = await $('[name="data[confirm]"]');
  await browser.execute((e) => e.focus(), confirm);
  await browser.keys(' ');
  await press('button[name="data[submit]"]');
  await (await $('[data-testid="manage-household"]')).waitForDisplayed(WAIT);
  for (let i = 0; i <= RUNS; i++) {
    const hh = await visit('household', () => press('[data-testid="manage-household"]'));
    const h = await visit('home', () => press('[data-testid="household-back"]'));
    if (i > 0) {
      record('household', hh);
      record('home, registered', h);
    }
  }

  // Memory of the app's whole process tree (app + WebKit processes) after the visits.
  const pid = findApp(process.env.DOORSTEP_APP_BIN, app.dataDir);
  const mem = pid ? memoryKb(pid) : null;

  console.log(`\nScreens (release build, Xvfb, median of ${RUNS} visits after a warm-up)`);
  console.log('| screen | time to interactive (ms) | min | max |');
  console.log('|---|---:|---:|---:|');
  for (const [name, xs] of Object.entries(results)) {
    console.log(`| ${name} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`);
  }
  if (mem) console.log(`\nMemory after visiting every screen: PSS ${(mem.pss / 1024).toFixed(0)} MiB, RSS ${(mem.rss / 1024).toFixed(0)} MiB (${mem.procs.length} processes)`);
} finally {
  await app.close();
}

/** The app process started for this run: its binary, and our data folder in its environment. */
function findApp(bin, dataDir) {
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!cmd.startsWith(bin)) continue;
      if (readFileSync(`/proc/${p}/environ`, 'utf8').includes(`DOORSTEP_DATA_DIR=${dataDir}`)) return Number(p);
    } catch {
      /* not ours or gone */
    }
  }
  return null;
}
