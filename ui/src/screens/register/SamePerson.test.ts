import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import type { DuplicateQuestion } from '../../lib/bindings';
import SamePerson from './SamePerson.svelte';

afterEach(cleanup);

/** Someone only the registry knows (outside this laptop's caseload): no details, only reasons. */
const elsewhere: DuplicateQuestion = {
  personKey: 'h-1',
  candidates: [
    {
      id: 'p-77',
      name: '',
      onDevice: false,
      score: 92,
      reasons: [{ reason: 'similar_name', similarity: 94 }, { reason: 'same_birthdate' }],
      fields: [
        { field: 'givenName', typed: 'Rose', existing: null, differs: false },
        { field: 'birthdate', typed: '1980-06-01', existing: null, differs: false },
      ],
    },
  ],
};

describe('"Is this the same person?" about someone only the registry knows', () => {
  it('says what agrees, shows none of their details, and offers no "Yes"', async () => {
    const onsame = vi.fn();
    const ondifferent = vi.fn();
    render(SamePerson, { question: elsewhere, name: 'Rose Achieng', busy: false, onsame, ondifferent });
    expect(document.body.textContent).toMatch(/registered outside what this laptop holds/);
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.queryByTestId('same-yes')).toBeNull();
    expect(screen.getByTestId('candidate-elsewhere').textContent).toMatch(/Same date of birth/);
    expect(screen.getByTestId('same-elsewhere-hint').textContent).toMatch(/Save and finish later/);
    await fireEvent.click(screen.getByTestId('same-no'));
    expect(ondifferent).toHaveBeenCalledWith(['p-77']);
    expect(onsame).not.toHaveBeenCalled();
  });
});
