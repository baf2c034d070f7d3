import { describe, expect, it } from 'vitest';
import { describeSubmission, type FormSchema } from './formio';
import contactDetails from '../forms/contact-details.json';

const schema = contactDetails as FormSchema;

describe('describeSubmission', () => {
  it('lists answers in form order with choice labels and yes/no', () => {
    const answers = describeSubmission(schema, {
      email: 'amina@example.org',
      givenName: 'Amina',
      familyName: 'Odhiambo',
      preferredLanguage: 'sw',
      confirm: true,
      submit: true,
    });
    expect(answers.map((a) => a.key)).toEqual(['givenName', 'familyName', 'email', 'preferredLanguage', 'confirm']);
    expect(answers.find((a) => a.key === 'preferredLanguage')?.value).toBe('Kiswahili');
    expect(answers.find((a) => a.key === 'confirm')?.value).toBe('Yes');
  });

  it('leaves out empty answers and shows dates without time', () => {
    const answers = describeSubmission(schema, {
      givenName: 'A',
      email: '',
      birthdate: '2001-04-13T00:00:00+00:00',
    });
    expect(answers).toEqual([
      { key: 'givenName', label: 'Given name', value: 'A' },
      { key: 'birthdate', label: 'Date of birth', value: '2001-04-13' },
    ]);
  });

  it('walks nested layout components', () => {
    const nested: FormSchema = {
      components: [{ type: 'panel', key: 'p', components: [{ type: 'textfield', key: 'x', label: 'X', input: true }] }],
    };
    expect(describeSubmission(nested, { x: 'y' })).toEqual([{ key: 'x', label: 'X', value: 'y' }]);
  });
});
