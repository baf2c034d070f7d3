import { describe, expect, it } from 'vitest';
import { contactForm, countryOptions, detailsFromForm, formFromDetails } from './details';

describe('the details form mapping', () => {
  it('keeps the day of a Form.io date and drops blank answers', () => {
    expect(
      detailsFromForm({ givenName: ' Amina ', familyName: 'Njoroge', birthdate: '1988-04-12T00:00:00+03:00', phone: '', email: '  ', locality: ' ', country: 'KE' }),
    ).toEqual({ givenName: 'Amina', familyName: 'Njoroge', birthdate: '1988-04-12', phone: null, email: null, preferredLanguage: null, address: null });
  });
  it('round-trips saved details, address included', () => {
    const d = {
      givenName: 'A', familyName: 'B', birthdate: '2001-02-03', phone: '+254712345678', email: 'a@b.org', preferredLanguage: 'sw',
      address: { line1: 'Plot 12', line2: null, locality: 'Nakuru', postalCode: '20100', country: 'KE' },
    };
    expect(detailsFromForm(formFromDetails(d))).toEqual(d);
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
