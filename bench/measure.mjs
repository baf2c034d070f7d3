// Measures Doorstep against the bare baseline window, alternating runs so both see the same
// machine state. Cold start = process spawn until the page reports its first form rendered
// (`doorstep: ui-ready <unix ms>` on stdout), with a fresh profile (no WebKit caches) each run.
// Memory = PSS and RSS summed over the app and every process it spawned (WebKit's web and network
// processes), read from /proc/<pid>/smaps_rollup once the form has been on screen for 3 s.
// PSS splits shared pages between processes, so it is the honest total; RSS double-counts them.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { memoryKb } from './proc.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} not set (run through ./dev bench)`);
  return v;
};
const RUNS = Number(env('BENCH_RUNS'));
const READY_TIMEOUT_MS = 60_000;
const SETTLE_MS = 3_000;

const targets = [
  { name: 'bare', bin: env('BENCH_BARE'), deb: env('BENCH_BARE_DEB') },
  { name: 'doorstep', bin: env('BENCH_APP'), deb: env('BENCH_APP_DEB') },
];

function once(target) {
  return new Promise((resolve, reject) => {
    const home = mkdtempSync(join(tmpdir(), `bench-${target.name}-`));
    const t0 = Date.now();
    const child = spawn(target.bin, [], {
      env: {
        ...process.env,
        DOORSTEP_REPORT_READY: '1',
        DOORSTEP_DATA_DIR: join(home, 'data'),
        XDG_DATA_HOME: join(home, 'share'),
        XDG_CACHE_HOME: join(home, 'cache'),
        XDG_CONFIG_HOME: join(home, 'config'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let finished = false;
    const finish = (err, value) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
      child.once('exit', () => {
        try {
          rmSync(home, { recursive: true, force: true, maxRetries: 3 });
        } catch (e) {
          process.stderr.write(`  (could not remove ${home}: ${e.code})\n`);
        }
        err ? reject(err) : resolve(value);
      });
      if (child.exitCode !== null) child.emit('exit');
    };
    const timer = setTimeout(() => finish(new Error(`${target.name}: no ui-ready in ${READY_TIMEOUT_MS} ms\n${out}`)), READY_TIMEOUT_MS);
    child.stderr.on('data', (d) => (out += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/doorstep: ui-ready (\d+)/);
      if (m && !child.readyAt) {
        child.readyAt = Number(m[1]);
        setTimeout(() => finish(null, { startMs: child.readyAt - t0, mem: memoryKb(child.pid) }), SETTLE_MS);
      }
    });
    child.on('exit', (code) => {
      if (!child.readyAt) finish(new Error(`${target.name} exited (${code}) before ui-ready\n${out}`));
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const samples = Object.fromEntries(targets.map((t) => [t.name, []]));
// One discarded warm-up each: the first start after a build also pays for reading the binary
// from disk, which says more about the build machine than about the app.
for (const t of targets) await once(t);
for (let i = 0; i < RUNS; i++) {
  for (const t of targets) {
    const s = await once(t);
    samples[t.name].push(s);
    process.stderr.write(`  run ${i + 1}/${RUNS} ${t.name.padEnd(8)} start ${s.startMs} ms, PSS ${(s.mem.pss / 1024).toFixed(0)} MB\n`);
  }
}

const mb = (kb) => kb / 1024;
const result = {};
for (const t of targets) {
  const s = samples[t.name];
  result[t.name] = {
    start_ms: median(s.map((x) => x.startMs)),
    pss_mb: mb(median(s.map((x) => x.mem.pss))),
    rss_mb: mb(median(s.map((x) => x.mem.rss))),
    binary_mb: statSync(t.bin).size / 1e6,
    deb_mb: statSync(t.deb).size / 1e6,
    processes: s.at(-1).mem.procs,
  };
}

const rows = [
  ['cold start to first form (ms, median)', 'start_ms', 0],
  ['memory PSS, all processes (MB, median)', 'pss_mb', 1],
  ['memory RSS, all processes (MB, median)', 'rss_mb', 1],
  ['release binary (MB)', 'binary_mb', 2],
  ['.deb bundle (MB)', 'deb_mb', 2],
];
const line = (cols) => `| ${cols[0].padEnd(40)} | ${cols[1].padStart(9)} | ${cols[2].padStart(9)} | ${cols[3].padStart(6)} |`;
console.log(`\nDoorstep vs bare Tauri + Form.io window (${RUNS} runs each, ${new Date().toISOString()})`);
console.log(line(['metric', 'doorstep', 'bare', 'ratio']));
console.log(line(['-'.repeat(40), '-'.repeat(9), '-'.repeat(9), '-'.repeat(6)]));
for (const [label, key, digits] of rows) {
  const a = result.doorstep[key];
  const b = result.bare[key];
  console.log(line([label, a.toFixed(digits), b.toFixed(digits), `${(a / b).toFixed(2)}x`]));
}
writeFileSync(env('BENCH_OUT'), JSON.stringify({ runs: RUNS, result }, null, 2));
console.log(`\nper-process memory and raw figures: ${env('BENCH_OUT')}`);
