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
  const backFromSettings = () => press('[data-testid="settings-back"]');
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

  // 3. Every other section, reached from the navigation tabs.
  for (const tab of ['programmes', 'documents', 'finance', 'notifications']) {
    for (let i = 0; i <= RUNS; i++) {
      const ms = await visit(tab, () => press(`[data-testid="tab-${tab}"]`));
      await visit('home', () => press('[data-testid="tab-home"]'));
      if (i > 0) record(tab, ms);
    }
  }

  // Memory once every section was visited, before the large form (to tell the two apart).
  const pidBefore = findApp(process.env.DOORSTEP_APP_BIN, app.dataDir);
  const memBefore = pidBefore ? memoryKb(pidBefore) : null;

  // 4. A programme whose application form has 200 Form.io fields (the figure), published
  //    by an administrator and synced to the device.
  await publishLargeProgramme(app, 200);
  await press('[data-testid="sync-now"]');
  await press('[data-testid="tab-programmes"]');
  await browser.waitUntil(
    async () => {
      if (await (await $('[data-code="bench-200-fields"]')).isExisting()) return true;
      await press('[data-testid="sync-now"]');
      await visit('programmes', () => press('[data-testid="tab-programmes"]'));
      return false;
    },
    { ...WAIT, interval: 1000, timeoutMsg: 'the 200-field programme never synced' },
  );
  for (let i = 0; i <= RUNS; i++) {
    const ms = await visit('application', () => press('[data-code="bench-200-fields"] [data-testid="apply"]'));
    await visit('programmes', () => press('[data-testid="application-back"]'));
    if (i > 0) record('application form with 200 Form.io fields', ms);
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
  const mib = (kb) => (kb / 1024).toFixed(0);
  if (memBefore) console.log(`\nMemory after every section, before the 200-field form: PSS ${mib(memBefore.pss)} MiB, RSS ${mib(memBefore.rss)} MiB`);
  if (mem) console.log(`Memory after visiting every screen (the 200-field form ${RUNS + 1} times too): PSS ${mib(mem.pss)} MiB, RSS ${mib(mem.rss)} MiB (${mem.procs.length} processes)`);
} finally {
  await app.close();
}

/** A UUIDv7 (the registry wants time-ordered ids for new records). */
function uuidv7() {
  const hex = Date.now().toString(16).padStart(12, '0');
  const rand = [...crypto.getRandomValues(new Uint8Array(10))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const variant = ((parseInt(rand[3], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${rand.slice(0, 3)}-${variant}${rand.slice(4, 7)}-${rand.slice(7, 19)}`;
}

/** Publish a programme with an application form of `n` fields of the usual kinds. */
async function publishLargeProgramme(app, n) {
  const kinds = [
    (i) => ({ type: 'textfield', key: `text${i}`, label: `Question ${i}`, input: true, validate: { required: i % 10 === 0 } }),
    (i) => ({ type: 'number', key: `number${i}`, label: `Amount ${i}`, input: true, validate: { min: 0 } }),
    (i) => ({ type: 'select', key: `choice${i}`, label: `Choice ${i}`, input: true, data: { values: ['a', 'b', 'c'].map((v) => ({ label: `Option ${v}`, value: v })) } }),
    (i) => ({ type: 'checkbox', key: `check${i}`, label: `Statement ${i}`, input: true }),
    (i) => ({ type: 'textarea', key: `long${i}`, label: `Explain ${i}`, input: true }),
  ];
  const components = Array.from({ length: n }, (_, i) => kinds[i % kinds.length](i + 1));
  components.push({ type: 'button', key: 'submit', label: 'Submit application', action: 'submit', input: true });
  const now = new Date().toISOString();
  const programme = uuidv7();
  const token = await app.devToken('admin', 'bench-admin');
  for (const [path, body] of [
    ['/v1/programmes', { id: programme, created_at: now, updated_at: now, created_by: 'bench', code: 'bench-200-fields', name: 'Large form programme', required_documents: [] }],
    ['/v1/forms', { id: uuidv7(), created_at: now, updated_at: now, created_by: 'bench', programme_id: programme, version: 1, schema: { display: 'form', components } }],
  ]) {
    const response = await fetch(`${app.registryUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  }
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
