// A form's wording in every language, as one table: each text of the form (labels, titles,
// descriptions, placeholders, tooltips, option labels, validation messages, the text of content
// blocks, the standard error messages) with its French and Arabic.
//
// Stored where the renderer reads it: the schema's `i18n` member, language → English text →
// translation, which FormioForm passes to Form.io as its `i18n` option (ARCHITECTURE.md, "Form
// translations"). Form.io looks a text up by its English wording, so two fields with the same
// label share one translation, and the English column is edited in the builder itself.

import type { FormComponent, FormSchema, FormTranslations } from './formio';
import { componentName, eachComponent } from './formCheck';

/** The languages a form is translated into (English is the form's own wording). */
export const FORM_LANGUAGES = ['fr', 'ar'] as const;
export type FormLanguage = (typeof FORM_LANGUAGES)[number];

/** Form.io's own messages a citizen can meet, by their Form.io key, with Doorstep's wording. */
export const STANDARD_MESSAGES: Record<string, { en: string } & Record<FormLanguage, string>> = {
  required: { en: '{{field}} is required', fr: '{{field}} est obligatoire', ar: '{{field}} مطلوب' },
  minLength: { en: '{{field}} must have at least {{length}} characters.', fr: '{{field}} doit contenir au moins {{length}} caractères.', ar: 'يجب أن يحتوي {{field}} على {{length}} حرفًا على الأقل.' },
  maxLength: { en: '{{field}} must have no more than {{length}} characters.', fr: '{{field}} ne doit pas dépasser {{length}} caractères.', ar: 'يجب ألا يتجاوز {{field}} {{length}} حرفًا.' },
  min: { en: '{{field}} cannot be less than {{min}}.', fr: '{{field}} ne peut pas être inférieur à {{min}}.', ar: 'لا يمكن أن يكون {{field}} أقل من {{min}}.' },
  max: { en: '{{field}} cannot be greater than {{max}}.', fr: '{{field}} ne peut pas être supérieur à {{max}}.', ar: 'لا يمكن أن يكون {{field}} أكبر من {{max}}.' },
  pattern: { en: '{{field}} does not match the pattern {{pattern}}', fr: "{{field}} n'a pas le bon format", ar: '{{field}} ليس بالتنسيق الصحيح' },
  invalid_email: { en: '{{field}} must be a valid email.', fr: '{{field}} doit être une adresse e-mail valide.', ar: 'يجب أن يكون {{field}} بريدًا إلكترونيًا صحيحًا.' },
  invalid_date: { en: '{{field}} is not a valid date.', fr: "{{field}} n'est pas une date valide.", ar: '{{field}} ليس تاريخًا صحيحًا.' },
  invalidOption: { en: '{{field}} is an invalid value.', fr: "{{field}} n'est pas une valeur possible.", ar: '{{field}} ليست قيمة مقبولة.' },
  submitError: { en: 'Please check the form and correct all errors before submitting.', fr: 'Vérifiez le formulaire et corrigez les erreurs avant d’envoyer.', ar: 'راجع النموذج وصحّح جميع الأخطاء قبل الإرسال.' },
  error: { en: 'Please fix the following errors before submitting.', fr: 'Corrigez les erreurs suivantes avant d’envoyer.', ar: 'صحّح الأخطاء التالية قبل الإرسال.' },
};

/** Where a text appears, to tell the administrator what it is. */
export interface TextUse {
  /** The component's name (its label, else its key). */
  component: string;
  /** Which of its texts: `label`, `description`, `option`, `content`… */
  part: string;
}

/** One row of the table: the English text, where it appears, and its translations. */
export interface TranslationRow {
  /** The English text, the key Form.io looks the translation up by. */
  text: string;
  uses: TextUse[];
  /** A standard message: `text` is Form.io's message key and `english` its English wording. */
  standard?: { english: string };
  translations: Record<FormLanguage, string>;
}

/** The text parts of a component Form.io translates, by the setting that holds them. */
const TEXT_PARTS: [part: string, get: (c: Record<string, unknown>) => unknown][] = [
  ['label', (c) => c.label],
  ['title', (c) => c.title],
  ['legend', (c) => c.legend],
  ['description', (c) => c.description],
  ['placeholder', (c) => c.placeholder],
  ['tooltip', (c) => c.tooltip],
  ['prefix', (c) => c.prefix],
  ['suffix', (c) => c.suffix],
  ['errorLabel', (c) => c.errorLabel],
  ['message', (c) => (c.validate as Record<string, unknown> | undefined)?.customMessage],
];

/** Elements whose text Form.io translates with the text around them (utils.js `inTextTags`). */
const INLINE_TAGS = new Set(['#text', 'A', 'B', 'EM', 'I', 'SMALL', 'STRONG', 'SUB', 'SUP', 'INS', 'DEL', 'MARK', 'CODE']);

/** A text as Form.io keys it: template fields removed, runs of white space made one space. */
function keyOf(text: string): string {
  return text.replace(/{{([\s\S]+?)}}/g, '').replace(/\s\s+/g, ' ').trim();
}

/**
 * The texts Form.io looks up in a content block's HTML, the way it does (utils.js
 * `translateHTMLTemplate`): plain text whole; otherwise each element whose children are all
 * inline text (or that has none) is one text, and other elements are looked into. Parsed in an
 * inert document: nothing in the HTML loads or runs.
 */
export function contentTexts(html: string): string[] {
  if (!/<[^>]*>/.test(html)) return html.trim() ? [html] : [];
  if (/{{([\s\S]+?)}}/.test(html)) return []; // Form.io leaves templated HTML untranslated
  const body = new DOMParser().parseFromString(html, 'text/html').body;
  if (!body.textContent || body.children.length === 0) return [];
  const out: string[] = [];
  const visit = (el: Element) => {
    const children = [...el.children];
    if (children.length === 0 || children.every((c) => c.children.length === 0 && INLINE_TAGS.has(c.nodeName))) {
      const key = keyOf(el.textContent ?? '');
      if (key) out.push(key);
    } else {
      children.forEach(visit);
    }
  };
  visit(body);
  return out;
}

/** Option labels of radios, select boxes (`values`) and selects (`data.values`). */
function optionLabels(c: Record<string, unknown>): string[] {
  const lists = [c.values, (c.data as Record<string, unknown> | undefined)?.values];
  return lists.flatMap((list) => (Array.isArray(list) ? list.map((v) => (v as { label?: unknown })?.label).filter((l): l is string => typeof l === 'string') : []));
}

/** Every text of the form to translate, in form order, each once, with where it appears. */
export function formTexts(schema: FormSchema): { text: string; uses: TextUse[] }[] {
  const found = new Map<string, TextUse[]>();
  const add = (text: unknown, component: FormComponent, part: string) => {
    if (typeof text !== 'string' || !text.trim()) return;
    const uses = found.get(text) ?? [];
    uses.push({ component: componentName(component), part });
    found.set(text, uses);
  };
  eachComponent(schema.components, (c) => {
    const any = c as Record<string, unknown>;
    // A button's label is the submit button's, which Doorstep's screens replace.
    if (c.type !== 'button') for (const [part, get] of TEXT_PARTS) add(get(any), c, part);
    for (const label of optionLabels(any)) add(label, c, 'option');
    if (typeof any.html === 'string') for (const text of contentTexts(any.html)) add(text, c, 'content');
  });
  return [...found].map(([text, uses]) => ({ text, uses }));
}

/** The table for `schema`: its texts, then the standard messages, with what `schema.i18n`
 *  holds for each (standard messages default to Doorstep's wording). */
export function translationRows(schema: FormSchema & { i18n?: FormTranslations }): TranslationRow[] {
  const i18n = schema.i18n ?? {};
  const stored = (lang: string, text: string) => i18n[lang]?.[text];
  const rows: TranslationRow[] = formTexts(schema).map(({ text, uses }) => ({
    text,
    uses,
    translations: { fr: stored('fr', text) ?? '', ar: stored('ar', text) ?? '' },
  }));
  for (const [key, wording] of Object.entries(STANDARD_MESSAGES)) {
    rows.push({
      text: key,
      uses: [],
      standard: { english: stored('en', key) ?? wording.en },
      translations: { fr: stored('fr', key) ?? wording.fr, ar: stored('ar', key) ?? wording.ar },
    });
  }
  return rows;
}

/** `schema` with its `i18n` made from `rows`: a translation for each text that has one. Texts
 *  the form no longer has are dropped, so the table and the form never drift apart. */
export function withTranslations<S extends FormSchema & { i18n?: FormTranslations }>(schema: S, rows: TranslationRow[]): S & { i18n: FormTranslations } {
  // Languages the table does not show (a form made elsewhere may have more) are kept as they are.
  const i18n: FormTranslations = { ...(schema.i18n ?? {}) };
  for (const lang of FORM_LANGUAGES) {
    const entries = rows.filter((r) => r.translations[lang].trim() !== '').map((r) => [r.text, r.translations[lang].trim()] as const);
    if (entries.length > 0) i18n[lang] = Object.fromEntries(entries);
    else delete i18n[lang];
  }
  return { ...schema, i18n };
}

/** How many texts still lack a translation in `lang`. */
export function missing(rows: TranslationRow[], lang: FormLanguage): number {
  return rows.filter((r) => r.translations[lang].trim() === '').length;
}
