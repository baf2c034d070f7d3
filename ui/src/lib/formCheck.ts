// What a Form.io form definition may hold in Doorstep, checked before a form is imported or
// published. The registry checks the same again and refuses what breaks it; checking here names
// the component at once, in the administrator's language.
//
// Doorstep runs Form.io without `eval` (the CSP has no 'unsafe-eval'): JavaScript in a form
// definition would silently not run, so a form that needs it is refused instead. Conditions and
// calculations are written as JSON logic (objects), which runs without `eval`.

import type { FormComponent, FormSchema } from './formio';

/** Largest form definition, in bytes of JSON (the same limit as the app core's). */
export const MAX_FORM_BYTES = 1024 * 1024;

/** The component types the builder offers and the registry's validation understands. */
export const SUPPORTED_TYPES = [
  'textfield',
  'textarea',
  'number',
  'email',
  'select',
  'radio',
  'checkbox',
  'selectboxes',
  'datetime',
  'file',
  'content',
  'panel',
  'columns',
] as const;

/** Types a form may also carry without the builder offering them, which the registry's subset
 *  still reads (crates/domain/src/formio/schema.rs SUPPORTED_TYPES): the submit button, layout
 *  groups (a fieldset, as in the app's own contact form; a well), a day field, an HTML element. */
const ALSO_ACCEPTED = ['button', 'fieldset', 'well', 'day', 'htmlelement'];

/** Every component of `components`, depth first, with the containers' children (panels'
 *  `components`, the `columns` of a columns component). */
export function eachComponent(components: FormComponent[] | undefined, visit: (c: FormComponent) => void): void {
  for (const c of components ?? []) {
    if (!c || typeof c !== 'object') continue;
    visit(c);
    eachComponent(c.components, visit);
    const columns = (c as { columns?: { components?: FormComponent[] }[] }).columns;
    if (Array.isArray(columns)) for (const column of columns) eachComponent(column?.components, visit);
  }
}

/**
 * `schema` with a submit button at its end when it has none. The builder offers no buttons (a
 * form's only action is sending it), so a form made there has none, and without one the person
 * could not send their answers. `label` is the button's text, in the person's language. Pure.
 */
export function withSubmitButton(schema: FormSchema, label: string): FormSchema {
  let hasSubmit = false;
  const keys = new Set<string>();
  eachComponent(schema.components, (c) => {
    keys.add(c.key);
    if (c.type === 'button' && ((c as { action?: unknown }).action ?? 'submit') === 'submit') hasSubmit = true;
  });
  if (hasSubmit) return schema;
  let key = 'submit';
  for (let n = 2; keys.has(key); n++) key = `submit${n}`;
  const button: FormComponent = { type: 'button', key, label, action: 'submit', input: true, theme: 'primary', disableOnInvalid: false };
  return { ...schema, components: [...(schema.components ?? []), button] };
}

/** How a person recognises a component: its label (or title), else its key. */
export function componentName(c: FormComponent): string {
  const title = (c as { title?: unknown }).title;
  const text = typeof c.label === 'string' && c.label.trim() ? c.label : typeof title === 'string' && title.trim() ? title : c.key;
  return String(text ?? c.type).replace(/<[^>]*>/g, '').trim() || String(c.type);
}

/** One place a component needs JavaScript. */
export interface ScriptUse {
  key: string;
  name: string;
  /** Which setting: `customConditional`, `calculateValue`, `validate.custom`… */
  setting: string;
}

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/**
 * Where the form needs JavaScript: the settings Form.io evaluates as code when they hold a
 * string (custom conditions, calculated and default values, custom validation, select options
 * from code), logic triggers and actions written in JavaScript, and custom button actions.
 * The same settings written as JSON logic (objects) need no JavaScript.
 */
export function scriptUses(schema: FormSchema): ScriptUse[] {
  const uses: ScriptUse[] = [];
  eachComponent(schema.components, (c) => {
    const at = (setting: string) => uses.push({ key: c.key, name: componentName(c), setting });
    const any = c as Record<string, unknown>;
    for (const setting of ['customConditional', 'calculateValue', 'customDefaultValue']) {
      if (nonEmptyString(any[setting])) at(setting);
    }
    const validate = any.validate as Record<string, unknown> | undefined;
    if (nonEmptyString(validate?.custom)) at('validate.custom');
    const data = any.data as Record<string, unknown> | undefined;
    if (nonEmptyString(data?.custom) || any.dataSrc === 'custom') at('data.custom');
    if (c.type === 'button' && (any.action === 'custom' || nonEmptyString(any.custom))) at('custom');
    if (Array.isArray(any.logic)) {
      for (const logic of any.logic as Record<string, unknown>[]) {
        const trigger = logic?.trigger as Record<string, unknown> | undefined;
        if (trigger?.type === 'javascript' || nonEmptyString(trigger?.javascript)) at('logic.trigger');
        for (const action of (logic?.actions as Record<string, unknown>[] | undefined) ?? []) {
          if (['value', 'customAction', 'mergeComponentSchema'].includes(String(action?.type))) at(`logic.action.${action.type}`);
        }
      }
    }
  });
  return uses;
}

/** Components of a type the builder does not offer (the registry cannot validate them). */
export function unsupportedComponents(schema: FormSchema): FormComponent[] {
  const out: FormComponent[] = [];
  eachComponent(schema.components, (c) => {
    if (!(SUPPORTED_TYPES as readonly string[]).includes(c.type) && !ALSO_ACCEPTED.includes(c.type)) out.push(c);
  });
  return out;
}

/** Why a form cannot be used: a message key (`builder.check.<key>`) and its values. */
export interface FormProblem {
  key: 'notJson' | 'noComponents' | 'tooLarge' | 'noType' | 'needsScript' | 'unsupported';
  params: Record<string, string | number>;
}

/** The names in a list, once each, in order. */
const names = (items: { name: string }[]) => [...new Set(items.map((i) => i.name))].join(', ');

/** What is wrong with `schema` for Doorstep, or null: the shape first, then JavaScript and
 *  unsupported components, each naming the components concerned. */
export function formProblem(schema: unknown): FormProblem | null {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema) || !Array.isArray((schema as FormSchema).components)) {
    return { key: 'noComponents', params: {} };
  }
  if (new TextEncoder().encode(JSON.stringify(schema)).length > MAX_FORM_BYTES) {
    return { key: 'tooLarge', params: { max: MAX_FORM_BYTES / 1024 } };
  }
  const form = schema as FormSchema;
  let untyped: string | null = null;
  let index = 0;
  eachComponent(form.components, (c) => {
    index += 1;
    if (untyped === null && (typeof c.type !== 'string' || c.type === '')) untyped = String(c.key ?? index);
  });
  if (untyped !== null) return { key: 'noType', params: { component: untyped } };
  const scripts = scriptUses(form);
  if (scripts.length > 0) return { key: 'needsScript', params: { components: names(scripts) } };
  const unsupported = unsupportedComponents(form).map((c) => ({ name: `${componentName(c)} (${c.type})` }));
  if (unsupported.length > 0) return { key: 'unsupported', params: { components: names(unsupported) } };
  return null;
}

/** The text of a JSON file as a form, or what is wrong with it. */
export function readFormFile(text: string): { schema: FormSchema } | { problem: FormProblem } {
  if (new TextEncoder().encode(text).length > MAX_FORM_BYTES) {
    return { problem: { key: 'tooLarge', params: { max: MAX_FORM_BYTES / 1024 } } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    return { problem: { key: 'notJson', params: { reason: e instanceof Error ? e.message : String(e) } } };
  }
  const problem = formProblem(parsed);
  return problem ? { problem } : { schema: parsed as FormSchema };
}
