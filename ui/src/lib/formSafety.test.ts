// Labels and HTML from a form definition never run script: in the citizen's renderer (and so
// the builder's preview, the same component), in the translations it is given, and in the
// builder itself. jsdom runs no inline handlers, so the proof is in the DOM: nothing that could
// run is left in it (and the real web view's end-to-end test checks that nothing ran).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, waitFor } from '@testing-library/svelte';
import FormioForm from './FormioForm.svelte';
import { cleanHtml, cleanSchema, type FormSchema } from './formio';
import { mountBuilder } from './formBuilder';

const IMG = '<img src="x" onerror="window.__pwned = 1">';
const SCRIPT = '<script>window.__pwned = 2</script>';
const LINK = '<a href="javascript:window.__pwned = 3">click</a>';
const ALL = `${IMG}${SCRIPT}${LINK}`;

const hostile: FormSchema & { i18n: Record<string, Record<string, string>> } = {
  display: 'form',
  components: [
    { type: 'textfield', key: 'name', label: `Name ${ALL}`, description: `Help ${ALL}`, placeholder: 'As on your card', input: true },
    { type: 'content', key: 'note', html: `<p>Read this</p>${ALL}` },
    { type: 'select', key: 'county', label: 'County', input: true, widget: 'choicesjs', data: { values: [{ label: `Kisumu ${IMG}`, value: 'ke30' }] } },
    { type: 'radio', key: 'own', label: 'Own?', input: true, values: [{ label: `Yes ${LINK}`, value: 'yes' }] },
    { type: 'panel', key: 'p', title: `Panel ${IMG}`, components: [{ type: 'checkbox', key: 'ok', label: `Agree ${SCRIPT}`, input: true }] },
  ],
  i18n: { fr: { 'As on your card': `Comme sur la carte ${ALL}` } },
};

/** Anything in `root` that could run script. */
function runnable(root: ParentNode): string[] {
  const found: string[] = [];
  for (const el of root.querySelectorAll('*')) {
    if (el.tagName === 'SCRIPT') found.push(`script: ${el.textContent}`);
    for (const attr of el.getAttributeNames()) {
      if (attr.startsWith('on')) found.push(`${el.tagName} ${attr}`);
      if (/^(href|src|action|formaction|xlink:href)$/.test(attr) && /^\s*javascript:/i.test(el.getAttribute(attr) ?? '')) found.push(`${el.tagName} ${attr}`);
    }
  }
  return found;
}

afterEach(() => {
  cleanup();
  document.body.innerHTML = '';
});

describe('markup in a form definition', () => {
  it('is cleaned before Form.io sees it, text without markup left exactly as it is', () => {
    expect(cleanHtml('Age < 18 & over')).toBe('Age < 18 & over');
    expect(cleanHtml(`<b>Bold</b>${ALL}`)).toBe('<b>Bold</b><img src="x"><a>click</a>');
    const clean = cleanSchema(hostile) as typeof hostile;
    const text = JSON.stringify(clean);
    expect(text).not.toMatch(/onerror|<script|javascript:/i);
    // A cleaned text still finds its translation.
    expect(clean.i18n.fr['As on your card']).toBe('Comme sur la carte <img src="x"><a>click</a>');
    expect(hostile.components[0].label).toContain('onerror'); // the original is not changed
  });

  for (const language of ['en', 'fr', 'ar']) {
    it(`renders as text, nothing runnable, in ${language}`, async () => {
      const onready = vi.fn();
      const { container } = render(FormioForm, { props: { schema: hostile, language, translations: hostile.i18n, onready } });
      await waitFor(() => expect(onready).toHaveBeenCalledOnce(), { timeout: 10_000 });
      expect(container.textContent).toContain('Read this');
      expect(container.textContent).toContain('Name');
      expect(runnable(container)).toEqual([]);
      expect((window as { __pwned?: number }).__pwned).toBeUndefined();
    });
  }

  it('is never runnable in the builder either', async () => {
    const host = document.createElement('div');
    document.body.appendChild(host);
    const builder = await mountBuilder(host, hostile, () => undefined);
    try {
      expect(host.textContent).toContain('Name');
      expect(runnable(host)).toEqual([]);
    } finally {
      builder.destroy();
    }
  });
});
