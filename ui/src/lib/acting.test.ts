import { afterEach, describe, expect, it } from 'vitest';
import { setActing, tFor, variantKey } from './acting.svelte';
import { setLocale } from '../i18n/i18n.svelte';

describe('wording for the person served', () => {
  afterEach(() => setActing(null));

  it('uses a sentence’s agent variant only while acting for someone, and only where there is one', () => {
    const has = (k: string) => k === 'home.edit.agent';
    expect(variantKey('home.edit', null, has)).toBe('home.edit');
    expect(variantKey('home.edit', 'Amina', has)).toBe('home.edit.agent');
    expect(variantKey('home.phone', 'Amina', has)).toBe('home.phone');
  });

  it('names the person where a citizen reads "you"', () => {
    setLocale('en');
    expect(tFor('home.edit')).toBe('Edit my details');
    setActing({ id: 'p-1', name: 'Amina Njoroge', consentNeeded: false });
    expect(tFor('home.edit')).toBe('Edit the details of Amina Njoroge');
    expect(tFor('home.hello', { name: 'Amina Njoroge' })).toBe('Registration of Amina Njoroge');
    setLocale('ar');
    expect(tFor('documents.title')).toBe('وثائق Amina Njoroge');
    setLocale('en');
  });
});
