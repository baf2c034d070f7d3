// The Form.io parity table (tests/formio-parity/cases.json) through @formio/js in jsdom, set up
// as the app sets it up (configureFormio: no eval, nothing from a CDN). The registry runs the
// same table (crates/domain/tests/formio_parity.rs) and so does the app's web view
// (tests/e2e/formio-parity.test.mjs); all three must give each case's expected outcome.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Formio, Utils } from '@formio/js/form';
import { cleanSchema, configureFormio, renderForm, type FormSchema } from './formio';
import table from '../../../tests/formio-parity/cases.json';
import builderDefaults from '../../../tests/formio-parity/builder-defaults.json';
import {
  cases,
  differences,
  parityRun,
  RENDER_OPTIONS,
  typing,
  type ParityOutcome,
  type ParityTable,
} from '../../../tests/formio-parity/parity.mjs';

const all = cases(table as ParityTable);

function run(testCase: (typeof all)[number]): Promise<ParityOutcome> {
  return new Promise((resolve) => parityRun(testCase.schema, typing(testCase), RENDER_OPTIONS, resolve));
}

describe('Form.io parity table', () => {
  // The table's dates are what a browser in UTC stores (`…T00:00:00+00:00`), and Form.io
  // compares date limits in the browser's zone: run as that browser (the e2e run pins it too).
  beforeAll(() => {
    vi.stubEnv('TZ', 'UTC');
  });

  it('has at least 60 cases', () => {
    expect(all.length).toBeGreaterThanOrEqual(60);
  });

  it('renders with the options the app renders with, and without eval', async () => {
    configureFormio();
    expect(Utils.Evaluator.noeval).toBe(true);
    // Form.io adds to the options object it is given; what matters is what the app passed.
    type CreateForm = (element: HTMLElement, form: unknown, options: unknown) => Promise<unknown>;
    const formio = Formio as unknown as { createForm: CreateForm };
    const original = formio.createForm.bind(Formio);
    let passed: unknown;
    const spy = vi.spyOn(formio, 'createForm').mockImplementation((element, form, options) => {
      passed = structuredClone(options);
      return original(element, form, options);
    });
    const form = await renderForm(document.createElement('div'), { components: [] });
    expect(passed).toEqual(RENDER_OPTIONS);
    form.destroy(true);
    spy.mockRestore();
  });

  // The app cleans markup out of a definition before rendering it (cleanSchema); the table's
  // schemas have none, so the web view's run, which renders them as they are, renders what the
  // app would.
  it('holds schemas the app renders unchanged', () => {
    for (const testCase of all) expect(cleanSchema(testCase.schema as FormSchema), testCase.name).toEqual(testCase.schema);
  });

  // The registry's definition check accepts each of these (crates/domain/src/formio/tests.rs), so
  // a component dropped from the builder as it comes is accepted as long as this file matches
  // the @formio/js the app ships.
  it('keeps the builder defaults of the supported components up to date', () => {
    const components = (Formio as unknown as { Components: { components: Record<string, { schema(): unknown }> } })
      .Components.components;
    const current = Object.fromEntries(Object.keys(builderDefaults).map((type) => [type, components[type].schema()]));
    expect(JSON.parse(JSON.stringify(current)), 'update tests/formio-parity/builder-defaults.json').toEqual(builderDefaults);
  });

  it.each(all.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    configureFormio();
    const outcome = await run(testCase);
    expect(differences(testCase, outcome)).toEqual([]);
  });
});
