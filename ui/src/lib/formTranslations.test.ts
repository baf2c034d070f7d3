import { describe, expect, it } from 'vitest';
import { contentTexts, formTexts, missing, STANDARD_MESSAGES, translationRows, withTranslations } from './formTranslations';
import type { FormSchema } from './formio';

const schema: FormSchema = {
  display: 'form',
  components: [
    { type: 'textfield', key: 'name', label: 'Name', placeholder: 'As on your ID card', description: 'Your full name', validate: { required: true, customMessage: 'Write your name' } },
    { type: 'select', key: 'county', label: 'County', data: { values: [{ label: 'Kisumu', value: 'ke30' }, { label: 'Siaya', value: 'ke31' }] } },
    { type: 'radio', key: 'own', label: 'Do you own your home?', values: [{ label: 'Yes', value: 'yes' }, { label: 'No', value: 'no' }] },
    {
      type: 'panel',
      key: 'p',
      title: 'Children',
      components: [{ type: 'columns', key: 'c', columns: [{ components: [{ type: 'number', key: 'kids', label: 'Name', suffix: 'children' }] }] }],
    },
    { type: 'content', key: 'note', html: '<h3>Before you start</h3><p>Have your <b>ID card</b> ready.</p><ul><li>One</li><li>Two</li></ul>' },
    { type: 'button', key: 'submit', label: 'Submit' },
  ],
};

describe('the translation table', () => {
  it('lists every text once, in form order, with where it appears', () => {
    const texts = formTexts(schema);
    expect(texts.map((t) => t.text)).toEqual([
      'Name', 'Your full name', 'As on your ID card', 'Write your name', 'County', 'Kisumu', 'Siaya',
      'Do you own your home?', 'Yes', 'No', 'Children', 'children', 'Before you start', 'Have your ID card ready.', 'One', 'Two',
    ]);
    expect(texts[0].uses).toEqual([{ component: 'Name', part: 'label' }, { component: 'Name', part: 'label' }]);
    expect(texts.find((t) => t.text === 'Kisumu')?.uses).toEqual([{ component: 'County', part: 'option' }]);
  });

  it('finds the texts of HTML the way Form.io translates them', () => {
    expect(contentTexts('Plain words')).toEqual(['Plain words']);
    expect(contentTexts('<p>A  <em>b</em>\n\n c</p><div><p>d</p>e</div>')).toEqual(['A b c', 'd']);
    expect(contentTexts('<p>Hello {{ data.name }}</p>')).toEqual([]);
    // Parsed inertly: the handler is not run, the image not loaded, and only text is kept.
    (window as unknown as { pwned?: boolean }).pwned = false;
    expect(contentTexts('<p>Hi</p><img src=x onerror="window.pwned = true">')).toEqual(['Hi']);
    expect((window as unknown as { pwned?: boolean }).pwned).toBe(false);
  });

  it('round-trips through the schema, keeping other languages and dropping texts no longer there', () => {
    const rows = translationRows({ ...schema, i18n: { fr: { Name: 'Nom', Gone: 'Parti' }, sw: { Name: 'Jina' } } });
    expect(rows.find((r) => r.text === 'Name')?.translations).toEqual({ fr: 'Nom', ar: '' });
    expect(rows.filter((r) => r.standard).map((r) => r.text)).toEqual(Object.keys(STANDARD_MESSAGES));
    rows.find((r) => r.text === 'Name')!.translations.ar = 'الاسم';
    rows.find((r) => r.text === 'Kisumu')!.translations.fr = '  Kisumu (FR) ';
    const saved = withTranslations(schema, rows);
    expect(saved.i18n.fr.Name).toBe('Nom');
    expect(saved.i18n.fr.Kisumu).toBe('Kisumu (FR)');
    expect(saved.i18n.ar.Name).toBe('الاسم');
    expect(saved.i18n.fr.Gone).toBeUndefined();
    expect(saved.i18n.fr.required).toBe(STANDARD_MESSAGES.required.fr);
    expect(saved.components).toEqual(schema.components);
    expect(translationRows(saved)).toEqual(rows.map((r) => ({ ...r, translations: { fr: r.translations.fr.trim(), ar: r.translations.ar.trim() } })));
    const kept = withTranslations({ ...schema, i18n: { sw: { Name: 'Jina' } } }, rows);
    expect(kept.i18n.sw).toEqual({ Name: 'Jina' });
  });

  it('counts what is left to translate', () => {
    const rows = translationRows(schema);
    expect(missing(rows, 'fr')).toBe(formTexts(schema).length);
    expect(missing(rows, 'ar')).toBe(formTexts(schema).length);
  });
});
