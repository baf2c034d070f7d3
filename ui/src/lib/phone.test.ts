import { describe, expect, it } from 'vitest';
import { formatPhone } from './phone';

describe('phone numbers as people read them', () => {
  it('groups a foreign number in international form', () => {
    expect(formatPhone('+254712345678', 'en')).toBe('+254 712 345678');
    expect(formatPhone('+33612345678', 'ar')).toBe('+33 6 12 34 56 78');
  });
  it('shows a number of the person’s own country in national form', () => {
    expect(formatPhone('+254712345678', 'sw-KE')).toBe('0712 345678');
    expect(formatPhone('+33612345678', 'fr')).toBe('06 12 34 56 78');
  });
  it('leaves what it cannot read as it is', () => {
    expect(formatPhone('+999', 'en')).toBe('+999');
    expect(formatPhone('not a number', 'en')).toBe('not a number');
  });
});
