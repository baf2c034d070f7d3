// Each component the builder offers, added from the keyboard and saved with the settings its
// dialog starts with, is kept in formBuilder.saved.json; the app core's Rust test
// (crates/client/src/app/builder/publish.rs) runs the registry's definition check on that file,
// so what the builder makes is what the registry accepts. Regenerate the file after changing the
// builder or @formio/js: npx vitest run -u src/lib/formBuilder.saved.test.ts
import { afterAll, afterEach, expect, it } from 'vitest';
import { waitFor } from '@testing-library/svelte';
import { mountBuilder, type MountedBuilder } from './formBuilder';
import { SUPPORTED_TYPES } from './formCheck';

let mounted: MountedBuilder | null = null;
afterEach(() => {
  mounted?.destroy();
  mounted = null;
  document.body.innerHTML = '';
});
// A destroyed builder's select fields still finish work queued on timers (Form.io reads the
// signed-in user's cookie for their templates). Let it run while the test document exists,
// or it throws into the next file's run as "document is not defined".
afterAll(() => new Promise((done) => setTimeout(done, 300)));

/** Add a component of `type` with the keyboard and save it; the component as then saved. */
async function saved(type: string) {
  // One builder at a time: Form.io adds a component from the keyboard to the first builder form
  // in the document.
  mounted?.destroy();
  document.body.innerHTML = '';
  const host = document.createElement('div');
  document.body.appendChild(host);
  mounted = await mountBuilder(host, { display: 'form', components: [] }, () => undefined);
  const item = host.querySelector<HTMLElement>(`[ref="sidebar-component"][data-type="${type}"]`)!;
  const enter = new KeyboardEvent('keydown', { key: 'Enter', bubbles: true });
  Object.defineProperty(enter, 'keyCode', { value: 13 });
  item.dispatchEvent(enter);
  // Saved as the dialog opens (its defaults): what matters is what the dialog itself adds.
  await waitFor(() => expect(document.querySelector('.component-edit-container [ref="saveButton"]')).not.toBeNull(), { timeout: 5_000 });
  document.querySelector<HTMLButtonElement>('.component-edit-container [ref="saveButton"]')!.click();
  await waitFor(() => expect(mounted!.schema.components.length, `${type}: ${document.querySelector(".component-edit-container")?.textContent?.replace(/\s+/g, " ").slice(0, 300)}`).toBe(1), { timeout: 5_000 });
  const [component] = mounted!.schema.components;
  // Form.io's random id is not part of the definition's meaning.
  const { id: _id, ...rest } = component as Record<string, unknown>;
  void _id;
  return rest;
}

it('keeps each component as the builder saves it in formBuilder.saved.json', { timeout: 60_000 }, async () => {
  const components: Record<string, unknown> = {};
  for (const type of SUPPORTED_TYPES) components[type] = await saved(type);
  await expect(`${JSON.stringify(components, null, 2)}\n`, 'regenerate formBuilder.saved.json (see the top of this file)').toMatchFileSnapshot('./formBuilder.saved.json');
});
