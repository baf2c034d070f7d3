// The Form.io parity table's runner, shared by the Vitest run (ui/src/lib/formio-parity.test.ts,
// @formio/js in jsdom) and the end-to-end run (tests/e2e/formio-parity.test.mjs, the app's own
// web view). The registry's run is crates/domain/tests/formio_parity.rs.
//
// A case is filled in the way a person fills the form: answers that belong to no field are
// loaded first, as a saved draft is (`form.setSubmission`), then every field's answer is typed
// into its component in the order the case gives them (`before`, the answers the person gave
// first and then changed, then `data`), through `updateValue` with `modified` (what the input's
// own listener calls), so Form.io runs its conditions, `clearOnHide` and calculations as it
// does for a person. Once the form has settled it is submitted: the outcome is the set of fields
// Form.io refuses and the data it would send.

/**
 * Options Doorstep renders forms with (ui/src/lib/formio.ts `renderForm`; a Vitest test checks
 * they are the same).
 */
export const RENDER_OPTIONS = { readOnly: false, noAlerts: true, noDefaultSubmitButton: true, sanitize: true, language: 'en', i18n: {} };

/**
 * Renders `schema` with `globalThis.Formio`, types `answers` (`[key, value]` pairs, in order:
 * see `typing`), submits, and calls `done({ invalid, data })` (or `done({ error })`).
 * Self-contained (no imports, no outer variables) so WebDriver can send it to the page as it is.
 */
export function parityRun(schema, answers, options, done) {
  const Formio = globalThis.Formio;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const clone = (value) => JSON.parse(JSON.stringify(value));
  const host = document.createElement('div');
  document.body.appendChild(host);
  let form = null;
  (async () => {
    form = await Formio.createForm(host, clone(schema), clone(options));
    const unknown = {};
    const typed = [];
    for (const [key, value] of answers) {
      const component = form.getComponent(key);
      if (component && component.component.input) typed.push([component, value]);
      else unknown[key] = value;
    }
    if (Object.keys(unknown).length > 0) await form.setSubmission({ data: clone(unknown) });
    for (const [component, value] of typed) component.updateValue(clone(value), { modified: true });
    // Settled: the data has not changed for three looks in a row (Form.io debounces changes).
    let last = '';
    let same = 0;
    for (let i = 0; i < 100 && same < 3; i += 1) {
      await sleep(60);
      const now = JSON.stringify(form.submission.data);
      same = now === last ? same + 1 : 0;
      last = now;
    }
    let invalid = [];
    let submitted;
    try {
      submitted = (await form.submit()).data;
    } catch (errors) {
      const list = Array.isArray(errors) ? errors : [errors];
      invalid = list.map((e) => (e && (e.context?.path || e.path || e.component?.key)) || String(e?.message ?? e));
      submitted = form.submission.data;
    }
    return { invalid: [...new Set(invalid)].sort(), data: clone(submitted) };
  })()
    .then((outcome) => done(outcome), (e) => done({ error: String(e && e.stack ? e.stack : e) }))
    .finally(() => {
      if (form) form.destroy(true);
      host.remove();
    });
}

/**
 * The data as the table compares it: answers that are empty in Form.io's sense (`null`, `""`,
 * `false`, `[]`, `{}`, select boxes with no box ticked) are left out, since the renderer writes
 * an empty value for every field on screen and the registry keeps only what was sent.
 */
export function normalise(data) {
  const out = {};
  for (const key of Object.keys(data ?? {}).sort()) {
    const value = data[key];
    if (value === null || value === undefined || value === '' || value === false) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (typeof value === 'object' && !Array.isArray(value)) {
      if (Object.values(value).every((v) => v === false)) continue;
    }
    out[key] = value;
  }
  return out;
}

/** What a case types, in order: `before`, then `data`. */
export function typing(testCase) {
  return [...Object.entries(testCase.before ?? {}), ...Object.entries(testCase.data)];
}

/** The cases of the table with their schemas resolved. */
export function cases(table) {
  return table.cases.map((c) => ({
    ...c,
    schema: typeof c.schema === 'string' ? table.schemas[c.schema] : c.schema,
  }));
}

/**
 * What differs between a case's expectation and a run's outcome (empty: they agree). Answers
 * the browser keeps and the registry drops (answers to no field, listed in `rendererKeeps`)
 * are expected on the browser's side only.
 */
export function differences(testCase, outcome) {
  if (outcome.error) return [`the run failed: ${outcome.error}`];
  const problems = [];
  const expected = [...testCase.expect.invalid].sort();
  if (JSON.stringify(expected) !== JSON.stringify(outcome.invalid)) {
    problems.push(`invalid fields: expected ${JSON.stringify(expected)}, got ${JSON.stringify(outcome.invalid)}`);
  }
  if (testCase.expect.data) {
    const kept = Object.fromEntries((testCase.rendererKeeps ?? []).map((k) => [k, testCase.data[k]]));
    const want = canonical(normalise({ ...testCase.expect.data, ...kept }));
    const got = canonical(normalise(outcome.data));
    if (want !== got) problems.push(`data: expected ${want}, got ${got}`);
  }
  return problems;
}

/** JSON with every object's keys sorted, so the order fields were written in does not count. */
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
