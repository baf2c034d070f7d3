import { describe, expect, it } from 'vitest';
import { detailsFromForm, formFromDetails } from './details';

describe('the details form mapping', () => {
  it('keeps the day of a Form.io date and drops blank answers', () => {
    expect(
      detailsFromForm({ givenName: ' Amina ', familyName: 'Njoroge', birthdate: '1988-04-12T00:00:00+03:00', phone: '', email: '  ' }),
    ).toEqual({ givenName: 'Amina', familyName: 'Njoroge', birthdate: '1988-04-12', phone: null, email: null, preferredLanguage: null });
  });
  it('round-trips saved details', () => {
    const d = { givenName: 'A', familyName: 'B', birthdate: '2001-02-03', phone: '+254712345678', email: 'a@b.org', preferredLanguage: 'sw' };
    expect(detailsFromForm(formFromDetails(d))).toEqual(d);
  });
});
