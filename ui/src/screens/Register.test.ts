import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import type { Registration } from '../lib/bindings';

// The core, played by hand: what each save sends and what it answers next.
const core = vi.hoisted(() => ({
  saves: [] as Registration[],
  /** The draft as the vault keeps it (what the last save answered). */
  vault: null as Registration | null,
  answers: [] as unknown[],
  next: [] as unknown[],
}));
vi.mock('../lib/bindings', () => ({
  commands: {
    startRegistration: vi.fn(async () => ({ status: 'ok', data: { id: 'r-1', step: 'head', head: { key: 'h-1', givenName: '', familyName: '' } } })),
    saveRegistration: vi.fn(async (draft: Registration) => {
      core.saves.push(structuredClone(draft));
      const answer = core.next.shift();
      core.vault = draft;
      return answer ?? { status: 'ok', data: { outcome: 'saved', registration: draft } };
    }),
    answerDuplicate: vi.fn(async (id: string, key: string, answer: unknown) => {
      core.answers.push([id, key, answer]);
      const last = core.vault!;
      const members = last.members!.map((m) => (m.person.key === key ? { ...m, person: { ...m.person, notDuplicateOf: ['p-9'] } } : m));
      return { status: 'ok', data: { ...last, members } };
    }),
  },
}));

import Register from './Register.svelte';
import { setLocale } from '../i18n/i18n.svelte';

async function type(label: string | RegExp, value: string) {
  await fireEvent.input(screen.getAllByLabelText(label)[0], { target: { value } });
}

describe('registering a household', () => {
  beforeEach(() => {
    setLocale('en');
    core.saves = [];
    core.answers = [];
    core.next = [];
    core.vault = null;
  });
  afterEach(() => cleanup());

  it('shows a problem by its field before sending, then sends the head with the next step', async () => {
    render(Register, { resume: null, ondone: vi.fn() });
    await type('Given name', 'Esther');
    await type(/^Date of birth/, '2999-01-01');
    await fireEvent.click(screen.getByTestId('register-continue'));
    const problem = await screen.findByTestId('head-birthdate-error');
    expect(problem.textContent).toMatch(/future/);
    expect(document.activeElement?.id).toBe('head-birthdate');
    expect(core.saves).toHaveLength(0);

    await type(/^Date of birth/, '1990-05-17');
    await fireEvent.click(screen.getByTestId('register-continue'));
    await waitFor(() => expect(screen.getByTestId('register').dataset.view).toBe('members'));
    expect(core.saves[0]).toMatchObject({ id: 'r-1', step: 'members', head: { key: 'h-1', givenName: 'Esther', birthdate: '1990-05-17' } });
  });

  it('puts the core’s problems by their fields, on the step they belong to', async () => {
    core.next.push({
      status: 'error',
      error: { code: 'invalidInput', message: 'Some details need fixing.', key: null, params: {}, fields: [{ field: 'head.phone', code: 'invalid_format', message: 'Write the phone number with +.' }] },
    });
    render(Register, { resume: null, ondone: vi.fn() });
    await type('Given name', 'Esther');
    await fireEvent.click(screen.getByTestId('register-continue'));
    const problem = await screen.findByTestId('head-phone-error');
    expect(problem.textContent).toMatch(/\+ and the country code/);
    await waitFor(() => expect(document.activeElement?.id).toBe('head-phone'));
    expect(screen.getByLabelText(/^Phone number/).getAttribute('aria-describedby')).toContain('head-phone-error');
    expect(screen.getByTestId('register').dataset.view).toBe('head');
  });

  it('asks "Is this the same person?" and carries on with the answer', async () => {
    render(Register, { resume: null, ondone: vi.fn() });
    await type('Given name', 'Esther');
    await fireEvent.click(screen.getByTestId('register-continue'));
    await waitFor(() => expect(screen.getByTestId('register').dataset.view).toBe('members'));

    await fireEvent.click(screen.getByTestId('add-member'));
    await type('Given name', 'Akinyih');
    await type('Family name', 'Haddad');
    // The first save of the member mints its key; the core then finds someone alike.
    const alike = {
      personKey: 'm-1',
      candidates: [
        {
          id: 'p-9',
          name: 'Akinyi Haddad',
          onDevice: true,
          score: 90,
          reasons: [{ reason: 'similar_name', similarity: 95 }, { reason: 'same_birthdate' }],
          fields: [
            { field: 'givenName', typed: 'Akinyih', existing: 'Akinyi', differs: true },
            { field: 'familyName', typed: 'Haddad', existing: 'Haddad', differs: false },
          ],
        },
      ],
    };
    const { commands } = await import('../lib/bindings');
    vi.mocked(commands.saveRegistration).mockImplementationOnce(async (draft: Registration) => {
      core.saves.push(structuredClone(draft));
      const registration = { ...draft, members: draft.members!.map((m) => ({ ...m, person: { ...m.person, key: 'm-1' } })) };
      core.vault = registration;
      return { status: 'ok', data: { outcome: 'samePerson', registration, question: alike } } as never;
    });
    await fireEvent.click(screen.getByTestId('save-member'));
    await waitFor(() => expect(screen.getByTestId('register').dataset.view).toBe('question'));
    // Differences are marked in words, reasons in plain words.
    expect(screen.getByTestId('differs').textContent).toMatch(/Akinyi\s*Different/);
    expect(screen.getByTestId('reasons').textContent).toMatch(/Same date of birth/);
    expect(screen.getByRole('table').querySelector('caption')?.textContent).toMatch(/Akinyih Haddad/);

    await fireEvent.click(screen.getByRole('button', { name: 'No, a different person' }));
    await waitFor(() => expect(screen.getByTestId('register').dataset.view).toBe('members'));
    expect(core.answers).toEqual([['r-1', 'm-1', { answer: 'different', candidates: ['p-9'] }]]);
    // Saved again, with the answer the core recorded.
    const last = core.saves[core.saves.length - 1];
    expect(last.members).toHaveLength(1);
    expect(last.members![0].person).toMatchObject({ key: 'm-1', notDuplicateOf: ['p-9'] });
    expect(screen.getByTestId('register-message').textContent).toMatch(/Akinyih Haddad is added/);
  });
});
