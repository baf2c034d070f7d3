// Form.io, configured to run fully offline under the app's strict Content-Security-Policy.
//
// Form.io normally lazy-loads some libraries (flatpickr for dates, editors) from its CDN. Doorstep
// must never reach a CDN: kiosks and field laptops are often offline, and every request would leak
// that the app is in use. So every library and stylesheet Form.io needs is bundled here, handed to
// Form.io before the first form renders, and the CDN address is pointed at a path on the app's own
// origin so that a forgotten library fails locally instead of going out.

import { Formio, Utils } from '@formio/js/form';
import flatpickr from 'flatpickr';
// Date-picker translations for the app's languages (Form.io would fetch them from its CDN).
import { French } from 'flatpickr/dist/l10n/fr.js';
import { Arabic } from 'flatpickr/dist/l10n/ar.js';
// The package's main entry loads the full time-zone database into the same moment instance
// Form.io uses, so date fields never fetch it from the CDN.
import moment from 'moment-timezone';
// Rich-text areas (Form.io's "quill" editor); Form.io looks for `window.Quill` before the CDN.
import Quill from 'quill';

// Bootstrap's stylesheet (LTR or RTL build) is loaded by lib/theme.ts for the current language.
import 'bootstrap-icons/font/bootstrap-icons.css';
import '@formio/js/dist/formio.form.min.css';
import 'flatpickr/dist/flatpickr.min.css';
import 'quill/dist/quill.snow.css';

/** A Form.io form definition (its JSON schema). */
export interface FormSchema {
  display?: string;
  title?: string;
  components: FormComponent[];
}

/** One component of a form definition; only the fields Doorstep reads are typed. */
export interface FormComponent {
  type: string;
  key: string;
  label?: string;
  input?: boolean;
  components?: FormComponent[];
  data?: { values?: { label: string; value: string }[] };
  [other: string]: unknown;
}

/** The rendered form, as far as Doorstep uses it. */
export interface RenderedForm {
  on(event: 'submit', handler: (submission: { data: Record<string, unknown> }) => void): void;
  on(event: string, handler: (...args: unknown[]) => void): void;
  submit(): Promise<unknown>;
  destroy(deleteFromGlobal?: boolean): void;
  submission: { data: Record<string, unknown> };
  /** Switching it redraws the form in that language, keeping what was typed. */
  language: string;
}

/** Where Form.io's CDN URLs point: the app's own origin, where nothing is served. */
export const LOCAL_CDN_BASE = '/formio-cdn-disabled';

/** Libraries Form.io can lazy-load that Doorstep does not bundle: they fail fast, locally. */
const UNBUNDLED_LIBRARIES = ['ace', 'ckeditor', 'googleRecaptcha', 'shortcut-buttons-flatpickr'];

let configured = false;

/** Prepare Form.io for offline use. Idempotent; called before every form render. */
export function configureFormio(): void {
  if (configured) return;
  configured = true;

  const w = window as unknown as Record<string, unknown>;
  // Form.io checks `window.flatpickr` before loading it (and its CSS) from the CDN.
  w.flatpickr = flatpickr;
  w.Quill = Quill;

  // Form.io checks this flag before fetching `moment-timezone/data/packed/latest.json`.
  (moment as unknown as { zonesLoaded: boolean }).zonesLoaded = true;

  Formio.cdn.setBaseUrl(LOCAL_CDN_BASE);

  // Custom JavaScript in form definitions would need `unsafe-eval` in the CSP; Doorstep forbids
  // it. Form logic is expressed with JSONLogic and Form.io's declarative options instead.
  Utils.Evaluator.noeval = true;
  // With `noeval` Form.io also stops calling real functions, which only its own code can hand
  // it (a form definition is JSON: its code is strings, which `noeval` still turns into no-ops
  // before they get here). The builder's settings forms need them, e.g. the list of fields a
  // condition may depend on. Calling a function is not `eval`, so the CSP allows it.
  const evaluator = Utils.Evaluator as unknown as { execute: (func: (...a: unknown[]) => unknown, args: unknown, context?: unknown) => unknown };
  evaluator.execute = (func, args, context = {}) => (Array.isArray(args) ? func.apply(context, args) : func.call(context, args));

  const libraries = Formio.libraries as Record<string, { ready: Promise<unknown> }>;
  // Form.io loads `flatpickr-<lang>` for a non-English form; hand it the bundled locales.
  const l10ns = flatpickr.l10ns as unknown as Record<string, unknown>;
  for (const [lang, strings] of Object.entries({ fr: French, ar: Arabic })) {
    l10ns[lang] = strings;
    libraries[`flatpickr-${lang}`] = { ready: Promise.resolve(strings) };
  }
  for (const name of UNBUNDLED_LIBRARIES) {
    const ready = Promise.reject(new Error(`${name} is not available in Doorstep (offline build)`));
    ready.catch(() => undefined); // handled by Form.io's own catch; keep it off the console
    libraries[name] = { ready };
  }
}

/** Form.io translations: per language, English text (labels, hints, messages) → translation. */
export type FormTranslations = Record<string, Record<string, string>>;

/** HTML as Form.io itself cleans it (DOMPurify, HTML profile): no script, no event handler
 *  attributes, no `javascript:` URLs. Text without markup is left exactly as it is. */
export function cleanHtml(text: string): string {
  // Only markup can run anything; a "<" that starts no tag ("under < 18") stays as typed.
  if (!/<[a-zA-Z!/?]/.test(text)) return text;
  return Utils.sanitize(text, {}) as string;
}

/** The settings of a component shown as text or HTML (Form.io puts them in the page as HTML). */
const SHOWN_SETTINGS = ['label', 'title', 'legend', 'description', 'placeholder', 'tooltip', 'prefix', 'suffix', 'errorLabel', 'html', 'content'];

/**
 * `schema` with every text it shows cleaned as [`cleanHtml`] does, and its translations too
 * (keys and values, so a cleaned label still finds its translation).
 *
 * Form.io sanitises what it renders, but not everything before it touches the DOM: it reads
 * content blocks' HTML through `innerHTML` on a detached element to translate them, where an
 * `<img onerror>` would already load and fire (the CSP blocks the handler; the page should not
 * depend on that alone). Cleaning the definition first means no such markup ever reaches it.
 */
export function cleanSchema<S extends FormSchema>(schema: S & { i18n?: FormTranslations }): S {
  const clean = structuredClone(schema) as S & { i18n?: FormTranslations };
  const cleanComponent = (c: Record<string, unknown>) => {
    for (const setting of SHOWN_SETTINGS) if (typeof c[setting] === 'string') c[setting] = cleanHtml(c[setting] as string);
    const validate = c.validate as Record<string, unknown> | undefined;
    if (validate && typeof validate.customMessage === 'string') validate.customMessage = cleanHtml(validate.customMessage);
    const data = c.data as Record<string, unknown> | undefined;
    for (const list of [c.values, data?.values]) {
      if (!Array.isArray(list)) continue;
      for (const option of list as Record<string, unknown>[]) if (option && typeof option.label === 'string') option.label = cleanHtml(option.label);
    }
    for (const child of (c.components as Record<string, unknown>[] | undefined) ?? []) if (child && typeof child === 'object') cleanComponent(child);
    for (const column of (c.columns as { components?: Record<string, unknown>[] }[] | undefined) ?? []) {
      for (const child of column?.components ?? []) if (child && typeof child === 'object') cleanComponent(child);
    }
  };
  for (const c of clean.components ?? []) if (c && typeof c === 'object') cleanComponent(c as Record<string, unknown>);
  if (clean.i18n && typeof clean.i18n === 'object') {
    clean.i18n = Object.fromEntries(
      Object.entries(clean.i18n).map(([lang, texts]) => [
        lang,
        Object.fromEntries(Object.entries(texts ?? {}).map(([k, v]) => [cleanHtml(k), typeof v === 'string' ? cleanHtml(v) : ''])),
      ]),
    );
  }
  return clean;
}

/** Render `schema` into `element`. */
export async function renderForm(
  element: HTMLElement,
  schema: FormSchema,
  language = 'en',
  i18n: FormTranslations = {},
  readOnly = false,
): Promise<RenderedForm> {
  configureFormio();
  // Markup in a definition is cleaned before Form.io sees it (see cleanSchema), translations too.
  const { i18n: cleanI18n } = cleanSchema({ components: [], i18n });
  const form = await Formio.createForm(element, cleanSchema(schema), {
    // A reviewer reads the answers exactly as the applicant saw them, and changes none.
    readOnly,
    noAlerts: true,
    // Form.io's own "Submission complete" banner is replaced by Doorstep's result screen.
    noDefaultSubmitButton: true,
    sanitize: true,
    language,
    i18n: cleanI18n ?? {},
  });
  keepAriaValid(element);
  return form as unknown as RenderedForm;
}

/**
 * Form.io copies `aria-*` attributes onto the hidden input that flatpickr keeps behind its
 * visible date field; ARIA on a hidden input is invalid (axe: aria-allowed-attr) and confuses
 * screen readers, which should only meet the visible field. Form.io re-renders parts of the form
 * on every change, so a mutation observer keeps them off.
 */
export function keepAriaValid(root: HTMLElement): MutationObserver {
  const scrub = () => {
    for (const input of root.querySelectorAll<HTMLInputElement>('input[type="hidden"]')) {
      for (const name of input.getAttributeNames()) {
        if (name.startsWith('aria-') || name === 'role') input.removeAttribute(name);
      }
    }
  };
  scrub();
  const observer = new MutationObserver(scrub);
  observer.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ['type', 'aria-required', 'aria-invalid', 'aria-describedby', 'aria-labelledby'] });
  return observer;
}

/** One answered question, ready to show back to the person. */
export interface Answer {
  key: string;
  label: string;
  value: string;
}

/**
 * Turn submitted data into label/value pairs in form order, showing choice labels instead of
 * stored codes. Buttons and empty answers are left out.
 */
export function describeSubmission(schema: FormSchema, data: Record<string, unknown>): Answer[] {
  const answers: Answer[] = [];
  const walk = (components: FormComponent[]) => {
    for (const c of components) {
      if (c.components) walk(c.components);
      if (!c.input || c.type === 'button') continue;
      const raw = data[c.key];
      if (raw === undefined || raw === null || raw === '') continue;
      answers.push({ key: c.key, label: c.label ?? c.key, value: formatValue(c, raw) });
    }
  };
  walk(schema.components);
  return answers;
}

function formatValue(component: FormComponent, raw: unknown): string {
  if (typeof raw === 'boolean') return raw ? 'Yes' : 'No';
  const choice = component.data?.values?.find((v) => v.value === raw);
  if (choice) return choice.label;
  if (component.type === 'datetime' && typeof raw === 'string') return raw.slice(0, 10);
  return String(raw);
}
