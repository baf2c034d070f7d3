// The form-rendering component in a DOM: renders the shipped schema with Form.io, validates,
// submits, and never asks a CDN for anything.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, waitFor } from '@testing-library/svelte';
import { Formio } from '@formio/js/form';
import FormioForm from './FormioForm.svelte';
import { configureFormio, LOCAL_CDN_BASE, type FormSchema, type FormTranslations } from './formio';
import contactDetails from '../forms/contact-details.json';
import contactTranslations from '../forms/contact-details.i18n.json';
import { detailsFromForm, formFromDetails } from './details';

const schema = contactDetails as FormSchema;

afterEach(() => cleanup());

function input(container: HTMLElement, key: string): HTMLInputElement | HTMLSelectElement {
  const el = container.querySelector<HTMLInputElement>(`[name="data[${key}]"]`);
  if (!el) throw new Error(`no input for ${key}`);
  return el;
}

function type(el: HTMLInputElement | HTMLSelectElement, value: string) {
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
}

async function renderReady(onsubmit = vi.fn()) {
  const onready = vi.fn();
  const onchange = vi.fn();
  const view = render(FormioForm, { props: { schema, onsubmit, onchange, onready } });
  await waitFor(() => expect(onready).toHaveBeenCalledOnce(), { timeout: 10_000 });
  /** Wait until Form.io has taken in what was typed (some inputs, like numbers, settle late). */
  const settled = (expected: Record<string, unknown>) =>
    waitFor(() => expect(onchange.mock.lastCall?.[0]).toMatchObject(expected), { timeout: 5_000 });
  return { ...view, onsubmit, settled };
}

describe('FormioForm', () => {
  it('renders every input of the shipped schema', async () => {
    const { container } = await renderReady();
    for (const key of ['givenName', 'familyName', 'phone', 'email', 'preferredLanguage', 'confirm']) {
      expect(input(container, key)).toBeTruthy();
    }
    expect(container.querySelector('button[name="data[submit]"]')?.textContent).toContain('Save details');
  });

  it('submits valid data', async () => {
    const { container, onsubmit, settled } = await renderReady();
    type(input(container, 'givenName'), 'Amina');
    type(input(container, 'familyName'), 'Odhiambo');
    type(input(container, 'phone'), '+254712345678');
    type(input(container, 'email'), 'amina@example.org');
    (input(container, 'confirm') as HTMLInputElement).click();
    await settled({ email: 'amina@example.org', confirm: true, phone: '+254712345678' });
    container.querySelector<HTMLButtonElement>('button[name="data[submit]"]')!.click();
    await waitFor(() => expect(onsubmit).toHaveBeenCalledOnce(), { timeout: 5_000 });
    const data = onsubmit.mock.calls[0][0];
    expect(data).toMatchObject({ givenName: 'Amina', familyName: 'Odhiambo', phone: '+254712345678', confirm: true });
    expect(data.email).toBe('amina@example.org');
  });

  it('offers "Send me messages by e-mail / by text message", ticked, and unticking opts out', async () => {
    const onsubmit = vi.fn();
    const onready = vi.fn();
    const initial = formFromDetails({
      givenName: 'Amina', familyName: 'Odhiambo', birthdate: null, phone: '+254712345678', email: 'amina@example.org',
      preferredLanguage: 'en', address: null, optedOut: [],
    });
    const { container } = render(FormioForm, { props: { schema, onsubmit, onready, initial: { ...initial, confirm: true } } });
    await waitFor(() => expect(onready).toHaveBeenCalledOnce(), { timeout: 10_000 });
    const box = (c: string) => container.querySelector<HTMLInputElement>(`input[name="data[messages][]"][value="${c}"]`)!;
    await waitFor(() => expect(box('email').checked && box('sms').checked).toBe(true), { timeout: 5_000 });
    expect(container.querySelector(`label[for="${box('sms').id}"]`)?.textContent).toContain('Send me messages by text message');
    box('sms').click();
    container.querySelector<HTMLButtonElement>('button[name="data[submit]"]')!.click();
    await waitFor(() => expect(onsubmit).toHaveBeenCalledOnce(), { timeout: 5_000 });
    expect(detailsFromForm(onsubmit.mock.calls[0][0]).optedOut).toEqual(['sms']);
  });

  it('says the message choice in Arabic and French', async () => {
    for (const [language, label] of [['ar', 'أرسلوا لي الرسائل برسالة نصية'], ['fr', 'M’envoyer les messages par SMS']]) {
      const onready = vi.fn();
      const { container, unmount } = render(FormioForm, {
        props: { schema, onsubmit: vi.fn(), onready, language, translations: contactTranslations as FormTranslations },
      });
      await waitFor(() => expect(onready).toHaveBeenCalledOnce(), { timeout: 10_000 });
      await waitFor(() => expect(container.textContent).toContain(label), { timeout: 5_000 });
      unmount();
    }
  });

  it('refuses to submit an invalid phone number and says how to fix it', async () => {
    const { container, onsubmit } = await renderReady();
    type(input(container, 'givenName'), 'Amina');
    type(input(container, 'familyName'), 'Odhiambo');
    type(input(container, 'phone'), '0712 345 678');
    container.querySelector<HTMLButtonElement>('button[name="data[submit]"]')!.click();
    await waitFor(() => expect(container.textContent).toContain('with + and the country code'), { timeout: 5_000 });
    expect(onsubmit).not.toHaveBeenCalled();
  });
});

describe('configureFormio', () => {
  it('points every CDN library at the local origin and provides flatpickr', () => {
    configureFormio();
    expect((window as unknown as { flatpickr?: unknown }).flatpickr).toBeTypeOf('function');
    const cdn = Formio.cdn as unknown as Record<string, unknown> & { libs: Record<string, string> };
    for (const lib of Object.keys(cdn.libs)) {
      const url = String(cdn[lib]);
      expect(url.startsWith(LOCAL_CDN_BASE), `${lib} -> ${url}`).toBe(true);
    }
  });

  it('renders a rich-text area with the bundled Quill, not one from the CDN', async () => {
    const onready = vi.fn();
    const richText: FormSchema = {
      components: [{ type: 'textarea', key: 'notes', label: 'Notes', input: true, editor: 'quill', wysiwyg: true }],
    };
    const { container } = render(FormioForm, { props: { schema: richText, onready } });
    await waitFor(() => expect(onready).toHaveBeenCalledOnce(), { timeout: 10_000 });
    await waitFor(() => expect(container.querySelector('.ql-editor')).not.toBeNull(), { timeout: 10_000 });
    expect(document.querySelector('script[src*="quill"]')).toBeNull();
  });

  it('never adds a remote script or stylesheet to the document', async () => {
    await renderReady();
    const remote = [...document.querySelectorAll<HTMLScriptElement | HTMLLinkElement>('script[src], link[href]')]
      .map((el) => ('src' in el && el.src) || (el as HTMLLinkElement).href)
      .filter((u) => /^(https?:)?\/\//.test(u) && !u.startsWith(location.origin));
    expect(remote).toEqual([]);
  });
});
