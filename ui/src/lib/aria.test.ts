import { describe, expect, it } from 'vitest';
import { keepAriaValid } from './formio';

describe('keepAriaValid', () => {
  it('removes ARIA from hidden inputs, now and when Form.io re-renders', async () => {
    const root = document.createElement('div');
    root.innerHTML = '<input type="hidden" aria-required="true" class="flatpickr-input"><input type="text" aria-required="true">';
    const observer = keepAriaValid(root);
    expect(root.querySelector('input[type="hidden"]')!.getAttributeNames().filter((n) => n.startsWith('aria-'))).toEqual([]);
    expect(root.querySelector('input[type="text"]')!.getAttribute('aria-required')).toBe('true');
    const late = document.createElement('input');
    late.type = 'hidden';
    late.setAttribute('aria-invalid', 'true');
    root.appendChild(late);
    await new Promise((r) => setTimeout(r, 0));
    expect(late.hasAttribute('aria-invalid')).toBe(false);
    observer.disconnect();
  });
});
