import { mount } from 'svelte';
import App from './App.svelte';
import StartupProblem from './screens/StartupProblem.svelte';
import './styles.css';
import { applyLocale, configureLocales } from './i18n/i18n.svelte';
import { commands } from './lib/bindings';
import { lockDown } from './lib/kiosk';
import { applyTextSize } from './lib/textSize.svelte';

// Record Content-Security-Policy violations: each one is something the app tried to load or run
// that the policy forbids (a CDN fetch, an inline script). The end-to-end test asserts none occur.
declare global {
  interface Window {
    __doorstepCspViolations: { directive: string; blocked: string }[];
  }
}
window.__doorstepCspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__doorstepCspViolations.push({ directive: e.effectiveDirective, blocked: e.blockedURI });
  console.warn(`CSP blocked ${e.blockedURI || 'inline code'} (${e.effectiveDirective})`);
});

// Language, direction and the matching Bootstrap build, before the first paint.
applyLocale();
// The remembered text size (a web view zoom, asked of Tauri; it does not wait for the answer).
void applyTextSize();

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

/** The app, or what stopped it from starting (a configuration mistake, another instance). */
async function start(into: HTMLElement) {
  const problem = await commands.startupProblem();
  if (problem) return mount(StartupProblem, { target: into, props: { problem } });
  const info = await commands.appInfo();
  configureLocales(info.languages, info.language);
  if (info.mode === 'kiosk') lockDown(document);
  return mount(App, { target: into });
}

export default start(target);
