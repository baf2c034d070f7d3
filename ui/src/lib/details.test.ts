import { describe, expect, it } from 'vitest';
import { contactForm, countryOptions, detailsFromForm, formFromDetails } from './details';

describe('the details form mapping', () => {
  it('keeps the day of a Form.io date and drops blank answers', () => {
    expect(
      detailsFromForm({ givenName: ' Amina ', familyName: 'Njoroge', birthdate: '1988-04-12T00:00:00+03:00', phone: '', email: '  ', locality: ' ', country: 'KE' }),
    ).toEqual({ givenName: 'Amina', familyName: 'Njoroge', birthdate: '1988-04-12', phone: null, email: null, preferredLanguage: null, address: null, optedOut: [] });
  });
  it('round-trips saved details, address included', () => {
    const d = {
      givenName: 'A', familyName: 'B', birthdate: '2001-02-03', phone: '+254712345678', email: 'a@b.org', preferredLanguage: 'sw',
      address: { line1: 'Plot 12', line2: null, locality: 'Nakuru', postalCode: '20100', country: 'KE' },
      optedOut: ['sms' as const],
    };
    expect(detailsFromForm(formFromDetails(d))).toEqual(d);
  });
  it('ticks "Send me messages by …" unless the person opted out, and unticking opts out', () => {
    const base = { givenName: 'A', familyName: 'B', birthdate: null, phone: null, email: null, preferredLanguage: null, address: null };
    expect(formFromDetails({ ...base, optedOut: [] }).messages).toEqual({ email: true, sms: true });
    expect(formFromDetails({ ...base, optedOut: ['email'] }).messages).toEqual({ email: false, sms: true });
    expect(detailsFromForm({ givenName: 'A', familyName: 'B', messages: { email: true, sms: false } }).optedOut).toEqual(['sms']);
    expect(detailsFromForm({ givenName: 'A', familyName: 'B', messages: { email: false, sms: false } }).optedOut).toEqual(['email', 'sms']);
    // No boxes in what was submitted: nothing turned off.
    expect(detailsFromForm({ givenName: 'A', familyName: 'B' }).optedOut).toEqual([]);
  });
  it('names the countries in the person’s language, sorted for them', () => {
    const fr = countryOptions('fr');
    expect(fr.find((c) => c.value === 'KE')?.label).toBe('Kenya');
    expect(fr.find((c) => c.value === 'DE')?.label).toBe('Allemagne');
    const labels = fr.map((c) => c.label);
    expect(labels).toEqual([...labels].sort(new Intl.Collator('fr').compare));
    expect(countryOptions('ar').find((c) => c.value === 'KE')?.label).toBe('كينيا');
    const country = contactForm('en').components
      .flatMap((c) => [c, ...(c.components ?? [])])
      .find((c) => c.key === 'country');
    expect(country?.data?.values?.length).toBeGreaterThan(240);
  });
});
