#!/usr/bin/env node
// A "browser" for end-to-end tests, run by the app in place of the system browser
// (DOORSTEP_BROWSER): it opens the provider's sign-in URL with a login_hint, follows the
// redirects with its own cookie jar, and delivers the callback to the app's loopback listener,
// as a person signing in would. Loopback only; gives up after 20 redirects or 30 seconds.
//
// Usage: node headless-signin.mjs <authorization URL>
// DOORSTEP_TEST_LOGIN_HINT picks the test account (default person-1); a liveness check's sign-in
// uses DOORSTEP_TEST_STEPUP_LOGIN_HINT instead when it is set.

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

// The app discards this program's output, so failures also go to a log beside the screenshots.
function fail(message) {
  console.error(`headless-signin: ${message}`);
  if (process.env.DOORSTEP_ARTIFACTS) appendFileSync(join(process.env.DOORSTEP_ARTIFACTS, 'headless-signin.log'), `${message}\n`);
  process.exit(1);
}
process.on('uncaughtException', (e) => fail(e.stack ?? String(e)));

const start = new URL(process.argv[2]);
if (start.hostname !== '127.0.0.1') {
  fail(`refusing to open a non-loopback address: ${start.origin}`);
}
// A liveness check (a step-up: `max_age=0`) may be someone else's to sign in: on an agent's
// laptop the person the agent serves authenticates themself (DOORSTEP_TEST_STEPUP_LOGIN_HINT).
const stepUp = start.searchParams.get('max_age') === '0' && process.env.DOORSTEP_TEST_STEPUP_LOGIN_HINT;
start.searchParams.set('login_hint', stepUp || (process.env.DOORSTEP_TEST_LOGIN_HINT ?? 'person-1'));
const redirect = new URL(start.searchParams.get('redirect_uri'));
const cookies = new Map();
const deadline = AbortSignal.timeout(30_000);

let url = start;
for (let hop = 0; hop < 20; hop++) {
  const callback = url.port === redirect.port && url.pathname === redirect.pathname;
  const headers = cookies.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  const response = await fetch(url, { redirect: 'manual', headers, signal: deadline });
  if (callback) {
    if (!response.ok) fail(`the app answered the callback with ${response.status}: ${await response.text()}`);
    process.exit(0);
  }
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1));
  }
  const location = response.headers.get('location');
  if (response.status < 300 || response.status > 399 || !location) {
    fail(`the provider answered ${response.status} at ${url}: ${await response.text()}`);
  }
  url = new URL(location, url);
}
fail('too many redirects');
