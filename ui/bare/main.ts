// Benchmark baseline page: a 3-field Form.io form with the same offline setup as the app, no app
// code, no framework. It reports readiness exactly like the app does.
import 'bootstrap/dist/css/bootstrap.min.css';
import { renderForm } from '../src/lib/formio';

declare global {
  interface Window {
    __TAURI__?: { core: { invoke: (cmd: string) => Promise<unknown> } };
  }
}

renderForm(document.getElementById('form')!, {
  components: [
    { type: 'textfield', key: 'givenName', label: 'Given name', input: true },
    { type: 'textfield', key: 'familyName', label: 'Family name', input: true },
    { type: 'email', key: 'email', label: 'Email', input: true },
    { type: 'button', key: 'submit', label: 'Submit', action: 'submit', input: true },
  ],
}).then(() => window.__TAURI__?.core.invoke('ui_ready'));
