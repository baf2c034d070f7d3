// Form.io's form builder, bundled like the renderer (lib/formio.ts: no CDN, no `eval`) and cut
// down to what Doorstep's registry validates: the components of formCheck.ts SUPPORTED_TYPES
// and their declarative settings. Loaded only on the administrators' screen (a separate chunk).
//
// What the builder's settings dialogs would otherwise offer, and why it is hidden:
// - every "JavaScript" panel (custom conditions, calculated and default values, custom
//   validation), the Logic tab (its triggers and actions are JavaScript), select options from
//   code or from a URL, date pickers' disabling functions and shortcut buttons: they need
//   `eval`, which the CSP forbids, so they would silently not run. Conditions and calculations
//   are offered as JSON logic instead (the "Advanced Conditions" and "Calculated Value" panels'
//   JSONLogic box), which runs without `eval`;
// - the ACE and CKEditor editors Form.io loads from its CDN for code, JSON and HTML boxes: those
//   boxes are plain text areas here;
// - settings that reach other servers or a Form.io server (URL and resource data sources, file
//   storage other than in the answers, S3/Azure uploads, reCAPTCHA), settings only a Form.io
//   server honours (encryption, database index, unique, server overrides, custom properties,
//   tags) and the PDF overlay (Layout tab);
// - input masks, tab order and initial focus: masks are outside the registry's validation, and
//   the others break keyboard order for the person filling in the form;
// - the "Edit JSON" button (it needs the ACE editor); whole forms are imported as JSON instead.

import { Components, FormBuilder } from '@formio/js';
import '@formio/js/dist/formio.builder.min.css';
import './formBuilder.css';
import { configureFormio, keepAriaValid, type FormComponent, type FormSchema } from './formio';
import { SUPPORTED_TYPES } from './formCheck';

/** One component of an edit form (Form.io's settings dialog is itself a Form.io form). */
interface EditComponent {
  type?: string;
  key?: string;
  as?: string;
  editor?: string;
  content?: string;
  components?: EditComponent[];
  columns?: { components?: EditComponent[] }[];
  [other: string]: unknown;
}

/** Tabs of the settings dialog left out whole. */
const HIDDEN_TABS = new Set(['logic', 'layout']);

/** Settings left out, by key (see the header for why). */
const HIDDEN_SETTINGS = new Set([
  // server-only or Form.io-server features
  'customDefaultValuePanel', 'calculateServer', 'serverOverride', 'encrypted', 'dbIndex', 'protected',
  'persistent', 'unique', 'tags', 'properties', 'redrawOn', 'dataGridLabel', 'modalEdit', 'kickbox',
  'custom-validation-js', 'errors', 'validate.customPrivate',
  // what the registry cannot check the same way (crates/domain/src/formio/schema.rs): a
  // calculated value the person may override, validation of hidden fields, text changed as typed
  'allowCalculateOverride', 'validateWhenHidden', 'truncateMultipleSpaces', 'case',
  // text areas: rich-text editors store HTML (and load CKEditor from the CDN)
  'editor', 'wysiwyg', 'quillInfo', 'isUploadEnabled', 'uploadStorage', 'uploadUrl', 'uploadOptions',
  'uploadDir', 'shortcut',
  // a date field is a date (time-only fields are not offered)
  'enableDate',
  // widgets, masks and focus
  'widget.type', 'widget', 'inputMask', 'displayMask', 'applyMaskOn', 'inputMaskPlaceholderChar',
  'allowMultipleMasks', 'inputMasks', 'tabindex', 'autofocus', 'customClass', 'refreshOnChange',
  // select: options from code or from other servers
  'dataSrc', 'data.url', 'data.json', 'data.resource', 'data.headers', 'data.custom', 'lazyLoad',
  'valueProperty', 'selectValues', 'dataType', 'idPath', 'selectFields', 'disableLimit', 'searchField',
  'searchDebounce', 'minSearch', 'template', 'filter', 'sort', 'limit', 'refreshOn', 'refreshOnBlur',
  'clearOnRefresh', 'noRefreshOnScroll', 'addResource', 'addResourceLabel', 'reference', 'authenticate',
  'customOptions', 'ignoreCache', 'selectData', 'validate.select', 'useExactSearch', 'selectThreshold',
  // file: storage elsewhere than in the answers
  'storage', 'useMultipartUpload', 'multipart', 'url', 'options', 'urlRequestOptions', 'fileKey', 'dir',
  'fileNameTemplate', 'privateDownload', 'webcam', 'webcamSize', 'uploadOnly', 'autoSync',
  // date: code and plugins
  'shortcutButtons', 'panel-disable-function', 'datePicker.disableFunction',
]);

/** Types whose answer may hold several values (the registry offers "Multiple" for these only). */
const MULTIPLE_TYPES = new Set(['select', 'file']);

/** Settings left out for one type only: their keys mean something else elsewhere (an option's
 *  `value` column). A checkbox acting as a radio button; a text area saved as JSON or HTML. */
const HIDDEN_FOR: Record<string, Set<string>> = {
  checkbox: new Set(['inputType', 'name', 'value']),
  textarea: new Set(['as']),
};

/** Whether an edit-form component is code, or a setting Doorstep leaves out, in the settings of
 *  a component of `type`. */
function hidden(c: EditComponent, inTabs: boolean, type: string | undefined): boolean {
  if (inTabs && c.key && HIDDEN_TABS.has(c.key)) return true;
  if (c.key && HIDDEN_SETTINGS.has(c.key)) return true;
  if (c.key === 'multiple' && !(type && MULTIPLE_TYPES.has(type))) return true;
  if (c.key && type && HIDDEN_FOR[type]?.has(c.key)) return true;
  // Every JavaScript panel (`customConditional-js`, `calculateValue-js`…) and any code box.
  if (c.key?.endsWith('-js')) return true;
  if (c.type === 'textarea' && (c.as === 'javascript' || (c.editor && !c.as))) return true;
  return false;
}

/** Links in Form.io's help texts lead to its website: offline they cannot open, and followed
 *  they would take the app's window away. Their words stay, without the link. */
function withoutLinks(html: string): string {
  return html.replace(/<a\b[^>]*>([\s\S]*?)<\/a>/gi, '$1');
}

/**
 * The settings dialog `form` (Form.io's edit form of component `type`) as Doorstep offers it:
 * hidden settings and tabs taken out, editors that Form.io would fetch from its CDN made plain
 * text areas (JSON boxes still read JSON), help texts without links. Pure; returns a new form.
 */
export function restrictEditForm<F extends { components?: EditComponent[] }>(form: F, type?: string): F {
  const walk = (components: EditComponent[] | undefined, inTabs: boolean): EditComponent[] | undefined => {
    if (!components) return components;
    return components
      .filter((c) => !hidden(c, inTabs, type))
      .map((c) => {
        const copy: EditComponent = { ...c };
        // A rich-text setting (`wysiwyg`) would bring CKEditor back: plain text areas only.
        if (copy.editor) copy.editor = '';
        delete copy.wysiwyg;
        if (copy.type === 'htmlelement' && typeof copy.content === 'string') copy.content = withoutLinks(copy.content);
        copy.components = walk(c.components, c.type === 'tabs');
        if (Array.isArray(c.columns)) copy.columns = c.columns.map((col) => ({ ...col, components: walk(col.components, false) }));
        return copy;
      });
  };
  return { ...form, components: walk(form.components, false) };
}

let restricted = false;

/** Make every offered component type's settings dialog the restricted one. Form.io asks each
 *  component class for its dialog (`editForm`) when a component is added or edited; only the
 *  builder asks, so the renderer is unchanged. Idempotent. */
export function restrictComponents(): void {
  if (restricted) return;
  restricted = true;
  const registry = (Components as unknown as { components: Record<string, { editForm: (...a: unknown[]) => { components?: EditComponent[] } }> }).components;
  for (const type of SUPPORTED_TYPES) {
    const ComponentClass = registry[type];
    const original = ComponentClass.editForm.bind(ComponentClass);
    ComponentClass.editForm = (...args: unknown[]) => restrictEditForm(original(...args), type);
  }
}

/** The palette: one group of the supported components. A file's answer is kept inside the
 *  answers (base64), as Doorstep sends no file anywhere else from a form, so it is kept small. */
function palette(): Record<string, unknown> {
  const components: Record<string, unknown> = Object.fromEntries(SUPPORTED_TYPES.map((type) => [type, true]));
  components.file = {
    title: 'File',
    key: 'file',
    icon: 'file',
    schema: { type: 'file', label: 'File', key: 'file', input: true, storage: 'base64', fileMaxSize: '500KB', webcam: false },
  };
  return {
    basic: false,
    advanced: false,
    layout: false,
    data: false,
    premium: false,
    resource: false,
    doorstep: { title: 'Fields', weight: 0, default: true, components },
  };
}

/** The settings Form.io reads as JSON logic, whose plain text box holds text until it is JSON. */
const JSON_LOGIC_SETTINGS: [path: string[], empty: unknown][] = [
  [['conditional', 'json'], undefined],
  [['validate', 'json'], undefined],
  [['calculateValue'], ''],
  [['customDefaultValue'], ''],
];

/**
 * `schema` as the builder's dialogs leave it, made what Form.io and the registry read: an empty
 * JSON-logic box is saved by Form.io as the text `""` (it shows an empty value as JSON), and a
 * box is text while what was typed is not JSON yet. Empty boxes are emptied; text that is JSON
 * becomes the JSON; anything else stays text, which the checks before publishing name.
 */
export function tidy<S extends FormSchema>(schema: S): S {
  const visit = (c: Record<string, unknown>) => {
    for (const [path, empty] of JSON_LOGIC_SETTINGS) {
      const owner = path.slice(0, -1).reduce<Record<string, unknown> | undefined>((o, k) => o?.[k] as Record<string, unknown> | undefined, c);
      const key = path[path.length - 1];
      const value = owner?.[key];
      if (!owner || typeof value !== 'string') continue;
      // Each time the dialog draws the box again it shows the value as JSON, so an empty value
      // can come back quoted several times over ("", "\"\"", …): unwrap while it is a string.
      let read: unknown = value;
      for (let i = 0; i < 8 && typeof read === 'string'; i++) {
        const text = read.trim();
        if (text === '') break;
        try {
          read = JSON.parse(text);
        } catch {
          break; // not JSON (yet): what was typed
        }
      }
      if (read === '' || read === null || (typeof read === 'string' && read.trim() === '')) {
        if (empty === undefined) delete owner[key];
        else owner[key] = empty;
      } else if (read && typeof read === 'object') {
        owner[key] = read;
      }
    }
    for (const child of (c.components as Record<string, unknown>[] | undefined) ?? []) visit(child);
    for (const column of (c.columns as { components?: Record<string, unknown>[] }[] | undefined) ?? []) {
      for (const child of column?.components ?? []) visit(child);
    }
  };
  for (const c of schema.components ?? []) visit(c as Record<string, unknown>);
  return schema;
}

/** The builder, as far as Doorstep uses it. */
export interface MountedBuilder {
  /** The form as designed now. */
  readonly schema: FormSchema;
  destroy(): void;
}

/**
 * Mount the builder on `element` with `schema`; `onchange` gets the form after every change
 * (a component added, edited, moved or removed). Keyboard: the palette's fields are buttons
 * (Enter adds one and opens its settings); each component's own buttons are reachable with Tab
 * and pressed with Enter or Space.
 */
export async function mountBuilder(
  element: HTMLElement,
  schema: FormSchema,
  onchange: (schema: FormSchema) => void,
  language = 'en',
): Promise<MountedBuilder> {
  configureFormio();
  restrictComponents();
  // Options the typings do not list (`keyboardBuilder`, `editJson`, `sanitize`) are Form.io's
  // own (WebformBuilder.js, the builderComponent template, Component.shouldSanitizeValue).
  const options: Record<string, unknown> = {
    builder: palette(),
    noDefaultSubmitButton: true,
    keyboardBuilder: true,
    editJson: false,
    noNewEdit: false,
    sanitize: true,
    language,
  };
  const builder = new FormBuilder(element, structuredClone(schema), options as ConstructorParameters<typeof FormBuilder>[2]);
  const instance = (await (builder as unknown as { ready: Promise<unknown> }).ready) as {
    form: FormSchema;
    on(event: string, handler: (...args: unknown[]) => void): void;
    destroy(all?: boolean): void;
  };
  const changed = () => onchange(tidy(structuredClone(instance.form)));
  for (const event of ['change', 'saveComponent', 'updateComponent', 'removeComponent', 'addComponent']) instance.on(event, changed);
  const keys = keyboardAccess(element, instance as unknown as MovingBuilder);
  // The components drawn in the builder are Form.io's renderer: the same ARIA clean-up.
  const aria = keepAriaValid(element);
  return {
    get schema() {
      return tidy(structuredClone(instance.form));
    },
    destroy() {
      keys.disconnect();
      aria.disconnect();
      instance.destroy(true);
    },
  };
}

/**
 * Form.io draws each component's buttons (edit, move, remove…) as `div role=button` out of the
 * tab order, shown on hover, and the palette's fields as plain spans. Put them in the tab order
 * with a name and press them with Enter or Space, as buttons are; a mutation observer keeps it
 * so as Form.io redraws.
 */
/** Form.io's keyboard "move" mode: after a field is added from the keyboard it is selected,
 *  and a listener on the whole document takes the arrow keys and Enter (to put it down). */
interface MovingBuilder {
  selectedComponent?: unknown;
  stopMoving(component: unknown): void;
}

function keyboardAccess(root: HTMLElement, builder: MovingBuilder): MutationObserver {
  const fix = () => {
    for (const button of root.querySelectorAll<HTMLElement>('.component-settings-button[role="button"]')) {
      if (button.tabIndex !== 0) button.tabIndex = 0;
    }
    for (const field of root.querySelectorAll<HTMLElement>('[ref="sidebar-component"]')) {
      if (field.getAttribute('role') !== 'button') field.setAttribute('role', 'button');
    }
    // The palette is marked as a tab list but holds a search box and groups, not tabs: a
    // screen reader would announce tabs that are not there (axe: aria-required-children).
    for (const list of root.querySelectorAll<HTMLElement>('[ref="sidebar"][role="tablist"]')) list.removeAttribute('role');
  };
  const onkey = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement | null;
    if (!target?.matches('.component-settings-button[role="button"]')) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      target.click();
    }
  };
  // That listener would swallow the next Enter anywhere on the page (the screen's own buttons
  // included): leaving the builder puts the field down where it is.
  const onleave = (e: FocusEvent) => {
    const next = e.relatedTarget as Node | null;
    if (next && root.contains(next)) return;
    if (builder.selectedComponent) builder.stopMoving(builder.selectedComponent);
  };
  root.addEventListener('keydown', onkey);
  root.addEventListener('focusout', onleave);
  fix();
  const observer = new MutationObserver(fix);
  observer.observe(root, { subtree: true, childList: true });
  const disconnect = observer.disconnect.bind(observer);
  observer.disconnect = () => {
    root.removeEventListener('keydown', onkey);
    root.removeEventListener('focusout', onleave);
    if (builder.selectedComponent) builder.stopMoving(builder.selectedComponent);
    disconnect();
  };
  return observer;
}

export type { FormComponent };
