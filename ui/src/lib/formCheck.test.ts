import { describe, expect, it } from 'vitest';
import { formProblem, MAX_FORM_BYTES, readFormFile, scriptUses, unsupportedComponents, withSubmitButton } from './formCheck';
import type { FormSchema } from './formio';
import contactDetails from '../forms/contact-details.json';

const form = (components: unknown[]): FormSchema => ({ display: 'form', components } as FormSchema);

describe('JavaScript in a form', () => {
  it('finds every setting Form.io would evaluate as code, naming the component', () => {
    const schema = form([
      { type: 'textfield', key: 'a', label: 'Given name', customConditional: 'show = data.x > 1;' },
      { type: 'number', key: 'b', label: 'Total', calculateValue: 'value = data.x * 2;' },
      { type: 'textfield', key: 'c', label: 'C', customDefaultValue: 'value = 1' },
      { type: 'textfield', key: 'd', label: 'D', validate: { custom: 'valid = input.length > 2;' } },
      { type: 'select', key: 'e', label: 'E', dataSrc: 'custom', data: { custom: 'values = [1]' } },
      {
        type: 'panel',
        key: 'p',
        title: 'Household',
        components: [
          { type: 'textfield', key: 'f', label: 'F', logic: [{ trigger: { type: 'javascript', javascript: 'result = true' }, actions: [{ type: 'property' }] }] },
          {
            type: 'columns',
            key: 'cols',
            columns: [{ components: [{ type: 'textfield', key: 'g', label: 'G', logic: [{ trigger: { type: 'simple' }, actions: [{ type: 'value', value: 'value = 1' }] }] }] }],
          },
        ],
      },
      { type: 'button', key: 'h', label: 'Do', action: 'custom', custom: 'alert(1)' },
    ]);
    expect(scriptUses(schema).map((u) => `${u.name}:${u.setting}`)).toEqual([
      'Given name:customConditional',
      'Total:calculateValue',
      'C:customDefaultValue',
      'D:validate.custom',
      'E:data.custom',
      'F:logic.trigger',
      'G:logic.action.value',
      'Do:custom',
    ]);
  });

  it('accepts the same settings written as JSON logic', () => {
    const schema = form([
      { type: 'number', key: 'age', label: 'Age' },
      { type: 'textfield', key: 'school', label: 'School', conditional: { json: { '<': [{ var: 'data.age' }, 18] } } },
      { type: 'number', key: 'double', label: 'Double', calculateValue: { '*': [{ var: 'data.age' }, 2] } },
      { type: 'textfield', key: 'x', label: 'X', customConditional: '', validate: { required: true, custom: '' } },
    ]);
    expect(scriptUses(schema)).toEqual([]);
    expect(formProblem(schema)).toBeNull();
    expect(formProblem(contactDetails)).toBeNull();
  });
});

describe('importing a form file', () => {
  it('names what is wrong with the file', () => {
    expect(readFormFile('{ "components": [ }')).toMatchObject({ problem: { key: 'notJson' } });
    expect(readFormFile('[]')).toMatchObject({ problem: { key: 'noComponents' } });
    expect(readFormFile('{"display":"form"}')).toMatchObject({ problem: { key: 'noComponents' } });
    expect(readFormFile('{"components":{}}')).toMatchObject({ problem: { key: 'noComponents' } });
    expect(readFormFile(JSON.stringify(form([{ key: 'a' }])))).toEqual({ problem: { key: 'noType', params: { component: 'a' } } });
    const big = JSON.stringify(form([{ type: 'content', key: 'c', html: 'x'.repeat(MAX_FORM_BYTES) }]));
    expect(readFormFile(big)).toEqual({ problem: { key: 'tooLarge', params: { max: 1024 } } });
    const scripted = JSON.stringify(form([{ type: 'textfield', key: 'n', label: 'Name', calculateValue: 'value = 1' }, { type: 'number', key: 'm', label: 'Name', customConditional: 'show = true' }]));
    expect(readFormFile(scripted)).toEqual({ problem: { key: 'needsScript', params: { components: 'Name' } } });
    const grid = JSON.stringify(form([{ type: 'editgrid', key: 'kids', label: 'Children', components: [] }, { type: 'textfield', key: 't', label: 'T' }]));
    expect(readFormFile(grid)).toEqual({ problem: { key: 'unsupported', params: { components: 'Children (editgrid)' } } });
  });

  it('reads a good file whole, with its translations and a byte-order mark', () => {
    const text = '\uFEFF' + JSON.stringify({ ...contactDetails, i18n: { fr: { 'Given name': 'Prénom' } } });
    const read = readFormFile(text);
    expect('schema' in read && (read.schema as { i18n?: unknown }).i18n).toEqual({ fr: { 'Given name': 'Prénom' } });
  });

  it('lists components the builder does not offer, once each', () => {
    const schema = form([{ type: 'signature', key: 's' }, { type: 'textfield', key: 't' }, { type: 'button', key: 'submit' }]);
    expect(unsupportedComponents(schema).map((c) => c.key)).toEqual(['s']);
  });
});

describe('the send button', () => {
  const built: FormSchema = { display: 'form', components: [{ type: 'textfield', key: 'childName', label: 'Child name', input: true }] };
  it('is added, in the given words, to a form made in the builder (which offers no buttons)', () => {
    const shown = withSubmitButton(built, 'Envoyer ma demande');
    expect(shown.components.map((c) => [c.type, c.key, c.label, c.action])).toEqual([
      ['textfield', 'childName', 'Child name', undefined],
      ['button', 'submit', 'Envoyer ma demande', 'submit'],
    ]);
    expect(built.components).toHaveLength(1);
  });
  it('is not added twice, and never takes a key a field has', () => {
    const withButton: FormSchema = { ...built, components: [...built.components, { type: 'button', key: 'send', label: 'Send', input: true }] };
    expect(withSubmitButton(withButton, 'Send my application')).toBe(withButton);
    const nested: FormSchema = { display: 'form', components: [{ type: 'panel', key: 'p', components: [{ type: 'textfield', key: 'submit', input: true }] }] };
    const last = (schema: FormSchema) => schema.components[schema.components.length - 1];
    expect(last(withSubmitButton(nested, 'Send')).key).toBe('submit2');
    // A button that does something else is not a way to send.
    const reset: FormSchema = { ...built, components: [...built.components, { type: 'button', key: 'reset', action: 'reset', input: true }] };
    expect(last(withSubmitButton(reset, 'Send')).action).toBe('submit');
  });
});
