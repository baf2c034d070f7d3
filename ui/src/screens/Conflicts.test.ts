import { describe, expect, it, vi, beforeEach } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';

// The conflict screen talks to Rust only through the generated bindings; they are replaced here
// so the screen's own logic is what is tested.
const calls = vi.hoisted(() => ({ resolve: [] as unknown[][], discard: [] as string[] }));
vi.mock('../lib/bindings', () => ({
  commands: {
    conflicts: vi.fn(async () => ({
      status: 'ok',
      data: [
        {
          kind: 'individual',
          recordId: '01a2262d-0000-7000-8000-000000000001',
          fields: [
            { field: 'given_name', base: 'Aminah', mine: 'Amina W.', theirs: 'Amina Wanjiru', editable: true },
            { field: 'phones', base: '[]', mine: '[1]', theirs: '[2]', editable: false },
          ],
        },
      ],
    })),
    rejections: vi.fn(async () => ({
      status: 'ok',
      data: [
        { mutationId: 'm-1', kind: 'contact', recordId: 'r-1', problem: '/problems/validation', message: 'The phone number is used by someone else.', because: null },
        { mutationId: 'm-2', kind: 'membership', recordId: 'r-2', problem: '/problems/invalid', message: 'There is no individual r-9 you can use here.', because: 'm-1' },
      ],
    })),
    resolveConflict: vi.fn(async (...args: unknown[]) => {
      calls.resolve.push(args);
      return { status: 'ok', data: null };
    }),
    discardRejection: vi.fn(async (id: string) => {
      calls.discard.push(id);
      return { status: 'ok', data: null };
    }),
  },
}));

import Conflicts from './Conflicts.svelte';
import { setLocale } from '../i18n/i18n.svelte';

describe('the conflict screen', () => {
  beforeEach(() => {
    calls.resolve.length = 0;
    calls.discard.length = 0;
    setLocale('en');
  });

  it('shows both versions and the base per field, and sends the choices', async () => {
    render(Conflicts, { ondone: vi.fn() });
    await screen.findByText('Amina Wanjiru');
    expect(screen.getByText('Amina W.')).toBeTruthy();
    expect(screen.getByText('(was: Aminah)')).toBeTruthy();
    // Lists cannot be typed into: no "Something else" for them.
    expect(screen.getAllByRole('radio', { name: /Something else/ })).toHaveLength(1);
    await fireEvent.click(screen.getAllByRole('radio', { name: /Registry's/ })[1]);
    await fireEvent.click(screen.getAllByRole('radio', { name: /Something else/ })[0]);
    const input = await screen.findByRole('textbox', { name: 'New value for given name' });
    await fireEvent.input(input, { target: { value: 'Amina Wanjiru W.' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Keep these' }));
    await waitFor(() => expect(calls.resolve).toHaveLength(1));
    expect(calls.resolve[0]).toEqual([
      'individual',
      '01a2262d-0000-7000-8000-000000000001',
      [
        { take: 'value', field: 'given_name', value: 'Amina Wanjiru W.' },
        { take: 'theirs', field: 'phones' },
      ],
    ]);
  });

  it('lists refused changes with the reason and discards one on request', async () => {
    render(Conflicts, { ondone: vi.fn() });
    await screen.findByText('The phone number is used by someone else.');
    // The member refused for want of the contact above is answered with it: no button of its own.
    expect(screen.getByTestId('refused-because').textContent).toMatch(/Contact details, above/);
    expect(screen.queryByText('There is no individual r-9 you can use here.')).toBeNull();
    expect(screen.getAllByRole('button', { name: 'Discard my change' })).toHaveLength(1);
    await fireEvent.click(screen.getByRole('button', { name: 'Discard my change' }));
    await waitFor(() => expect(calls.discard).toEqual(['m-1']));
  });

  it('words an individual as someone else\'s on an agent\'s device', async () => {
    render(Conflicts, { ondone: vi.fn() });
    expect((await screen.findAllByText('Your details')).length).toBeGreaterThan(0);
    cleanup();
    render(Conflicts, { ondone: vi.fn(), agent: true });
    expect((await screen.findAllByText("A person's details")).length).toBeGreaterThan(0);
    expect(screen.queryByText('Your details')).toBeNull();
  });

  it('speaks French', async () => {
    setLocale('fr');
    render(Conflicts, { ondone: vi.fn() });
    expect((await screen.findAllByText('Modifications à vérifier')).length).toBeGreaterThan(0);
    expect(screen.getAllByText('La vôtre :').length).toBeGreaterThan(0);
    setLocale('en');
  });
});
