// The builder as Doorstep offers it, in a DOM: only the supported components, settings dialogs
// without JavaScript or CDN editors, and a keyboard path to add and set up a field.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '@testing-library/svelte';
import { Components } from '@formio/js';
import { mountBuilder, restrictComponents, restrictEditForm, tidy, type MountedBuilder } from './formBuilder';
import { SUPPORTED_TYPES } from './formCheck';

interface Node {
  type?: string;
  key?: string;
  as?: string;
  editor?: string;
  content?: string;
  components?: Node[];
  columns?: { components?: Node[] }[];
}

function all(form: { components?: Node[] }): Node[] {
  const out: Node[] = [];
  const walk = (cs: Node[] | undefined) => {
    for (const c of cs ?? []) {
      out.push(c);
      walk(c.components);
      for (const col of c.columns ?? []) walk(col.components);
    }
  };
  walk(form.components);
  return out;
}

const editForm = (type: string) => (Components as unknown as { components: Record<string, { editForm: () => { components: Node[] } }> }).components[type].editForm();

describe('the settings dialogs', () => {
  it('offer no JavaScript, no CDN editor and no link away, for every component type', () => {
    restrictComponents();
    for (const type of SUPPORTED_TYPES) {
      const nodes = all(editForm(type));
      const keys = nodes.map((n) => n.key);
      expect(keys.filter((k) => k?.endsWith('-js')), type).toEqual([]);
      expect(nodes.filter((n) => n.as === 'javascript'), type).toEqual([]);
      expect(nodes.filter((n) => n.editor), type).toEqual([]);
      expect(nodes.filter((n) => n.type === 'tabs').flatMap((t) => t.components ?? []).map((t) => t.key), type).not.toContain('logic');
      expect(keys, type).not.toContain('validate.custom');
      expect(keys, type).not.toContain('customConditional');
      expect(keys, type).not.toContain('customDefaultValue');
      expect(nodes.filter((n) => n.type === 'htmlelement' && /<a\b/i.test(n.content ?? '')), type).toEqual([]);
    }
  });

  it('keep conditions and calculations as JSON logic, and the declarative settings', () => {
    restrictComponents();
    const number = all(editForm('number')).map((n) => n.key);
    expect(number).toEqual(expect.arrayContaining(['label', 'conditional.show', 'conditional.when', 'conditional.eq', 'conditional.json', 'calculateValue', 'validate.required', 'validate.min', 'validate.max', 'validate.customMessage', 'key']));
    const json = all(editForm('number')).filter((n) => n.key === 'conditional.json' || n.key === 'calculateValue');
    expect(json.map((n) => n.as)).toEqual(['json', 'json']);
    expect(all(editForm('select')).map((n) => n.key)).toEqual(expect.arrayContaining(['data.values']));
    expect(all(editForm('select')).map((n) => n.key)).not.toContain('data.url');
    expect(all(editForm('file')).map((n) => n.key)).not.toContain('storage');
    expect(all(editForm('content')).map((n) => n.key)).toContain('html');
    // Settings the registry cannot check the same way are not offered…
    for (const type of SUPPORTED_TYPES) {
      const keys = all(editForm(type)).map((n) => n.key);
      for (const key of ['allowCalculateOverride', 'validateWhenHidden', 'truncateMultipleSpaces', 'case', 'customDefaultValue', 'inputMask', 'unique', 'persistent']) {
        expect(keys, `${type} ${key}`).not.toContain(key);
      }
      if (type !== 'select' && type !== 'file') expect(keys, `${type} multiple`).not.toContain('multiple');
    }
    expect(all(editForm('select')).map((n) => n.key)).toContain('multiple');
    expect(all(editForm('checkbox')).map((n) => n.key)).not.toContain('inputType');
    expect(all(editForm('textarea')).map((n) => n.key)).not.toContain('editor');
    // …and JSON-logic validation, which it checks, is.
    expect(all(editForm('textfield')).map((n) => n.key)).toContain('validate.json');
    // An option's value column stays.
    const options = all(editForm('radio')).find((n) => n.key === 'values');
    expect(all({ components: options?.components }).map((n) => n.key)).toEqual(['label', 'value']);
  });

  it('is a pure function of the dialog it is given', () => {
    const form = { components: [{ type: 'tabs', key: 'tabs', components: [{ key: 'logic', components: [] }, { key: 'display', components: [{ type: 'textarea', key: 'description', editor: 'ace', as: 'html' }] }] }] };
    const copy = structuredClone(form);
    const out = restrictEditForm(form);
    expect(form).toEqual(copy);
    expect(all(out).map((n) => `${n.key}:${n.editor ?? ''}`)).toEqual(['tabs:', 'display:', 'description:']);
  });
});

describe('tidy', () => {
  it('empties blank JSON-logic boxes, reads typed JSON, and leaves other text as typed', () => {
    const schema = tidy({
      components: [
        { type: 'number', key: 'a', conditional: { show: null, json: '""' }, calculateValue: '""', customDefaultValue: '', validate: { required: true, json: JSON.stringify(JSON.stringify('')) } },
        { type: 'panel', key: 'p', components: [{ type: 'textfield', key: 'b', conditional: { json: ' {">": [{"var": "data.a"}, 0]} ' }, calculateValue: '{"+": [1' }] },
        { type: 'columns', key: 'c', columns: [{ components: [{ type: 'number', key: 'd', calculateValue: { '*': [2, 3] } }] }] },
      ],
    });
    const [a, p, c] = schema.components as Record<string, any>[];
    expect(a.conditional).toEqual({ show: null });
    expect(a.calculateValue).toBe('');
    expect(a.validate).toEqual({ required: true });
    expect(p.components[0].conditional.json).toEqual({ '>': [{ var: 'data.a' }, 0] });
    expect(p.components[0].calculateValue).toBe('{"+": [1');
    expect(c.columns[0].components[0].calculateValue).toEqual({ '*': [2, 3] });
  });
});

describe('the builder', () => {
  let mounted: MountedBuilder | null = null;
  afterEach(() => {
    mounted?.destroy();
    mounted = null;
    document.body.innerHTML = '';
  });

  it('offers only the supported components and adds one from the keyboard', async () => {
    const host = document.createElement('div');
    document.body.appendChild(host);
    const onchange = vi.fn();
    mounted = await mountBuilder(host, { display: 'form', components: [{ type: 'textfield', key: 'name', label: 'Name', input: true }] }, onchange);
    const palette = [...host.querySelectorAll<HTMLElement>('[ref="sidebar-component"]')];
    expect(palette.map((p) => p.dataset.type).sort()).toEqual([...SUPPORTED_TYPES].sort());
    expect(palette.every((p) => p.tabIndex === 0 && p.getAttribute('role') === 'button')).toBe(true);
    const number = palette.find((p) => p.dataset.type === 'number')!;
    const enter = new KeyboardEvent('keydown', { key: 'Enter', bubbles: true });
    Object.defineProperty(enter, 'keyCode', { value: 13 });
    number.dispatchEvent(enter);
    // The new field's settings open: no JavaScript anywhere in them, and the condition's list
    // of fields is filled (Form.io's own function, which noeval alone would not call).
    const dialog = await waitFor(() => {
      const d = document.querySelector<HTMLElement>('.component-edit-container');
      expect(d).not.toBeNull();
      return d!;
    });
    expect(dialog.textContent).not.toMatch(/JavaScript/);
    // The dialog draws itself again once its parts are ready: type into the field as it is
    // now until the dialog's preview shows the new label.
    await waitFor(
      () => {
        const label = document.querySelector<HTMLInputElement>('.component-edit-container input[name="data[label]"]')!;
        if (label.value !== 'Age') {
          label.value = 'Age';
          label.dispatchEvent(new Event('input', { bubbles: true }));
        }
        expect(document.querySelector('.component-preview')?.textContent).toContain('Age');
      },
      { timeout: 5_000 },
    );
    document.querySelector<HTMLButtonElement>('.component-edit-container [ref="saveButton"]')!.click();
    await waitFor(() => expect(mounted!.schema.components.map((c) => c.label)).toContain('Age'), { timeout: 5_000 });
    // …and the screen hears of it, to keep the design on the device.
    await waitFor(() => expect(onchange.mock.lastCall?.[0].components.find((c: { label?: string }) => c.label === 'Age')?.type).toBe('number'));
    // Form.io then holds the new field in its keyboard "move" mode, which takes Enter on the
    // whole page; leaving the builder puts the field down, so the screen's buttons work again.
    await waitFor(() => expect(host.querySelector('.builder-component-selected')).not.toBeNull());
    const outside = document.createElement('button');
    document.body.appendChild(outside);
    outside.focus();
    await waitFor(() => expect(host.querySelector('.builder-component-selected')).toBeNull());
    const enterOutside = new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true });
    Object.defineProperty(enterOutside, 'keyCode', { value: 13 });
    outside.dispatchEvent(enterOutside);
    expect(enterOutside.defaultPrevented).toBe(false);
  });
});
