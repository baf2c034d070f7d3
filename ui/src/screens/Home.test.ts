// The home screen's liveness check: the to-do offers "Check now", the screen says where the
// person signs in while the core waits for the provider and the registry, then shows the next
// due date, or the registry's refusal in the person's language. The Rust commands are replaced.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';

const home = (pending: unknown[]) => ({
  registered: true,
  synced: true,
  name: 'Amina Njoroge',
  nationalId: '4918273645',
  details: { givenName: 'Amina', familyName: 'Njoroge', birthdate: null, phone: null, email: null, preferredLanguage: null, address: null, optedOut: [] },
  householdMembers: 0,
  applications: [],
  pending,
  unreadNotifications: 0,
  documents: 0,
});
const commands = vi.hoisted(() => ({
  home: vi.fn(),
  checkLiveness: vi.fn(),
  uiReady: vi.fn(async () => ({ status: 'ok', data: null })),
  syncStatus: vi.fn(async () => ({ online: true, running: false, pending: 0, conflicts: 0, rejected: 0, lastSuccess: null, lastError: null, lastErrorKind: null, progress: null })),
  registrations: vi.fn(async () => ({ status: 'ok', data: [] })),
}));
vi.mock('../lib/bindings', () => ({
  commands,
  events: { syncStatusChanged: { listen: vi.fn(async () => () => {}) } },
}));

import Home from './Home.svelte';
import { setLocale } from '../i18n/i18n.svelte';

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

describe('the liveness check on the home screen', () => {
  it('is started from the to-do, says where to sign in, and shows the next due date', async () => {
    setLocale('en');
    commands.home.mockResolvedValueOnce({ status: 'ok', data: home([{ kind: 'livenessDue', due: '2027-03-10', overdue: false }]) });
    commands.home.mockResolvedValue({ status: 'ok', data: home([]) });
    let finish: (v: unknown) => void = () => {};
    commands.checkLiveness.mockReturnValueOnce(new Promise((r) => (finish = r)));
    render(Home, { props: {} });
    const button = await screen.findByRole('button', { name: 'Check now' });
    await fireEvent.click(button);
    expect(commands.checkLiveness).toHaveBeenCalledWith('en');
    expect((await screen.findByRole('status')).textContent).toContain('Sign in at your identity provider');
    expect((button as HTMLButtonElement).disabled).toBe(true);
    finish({ status: 'ok', data: { performedAt: '2026-12-07T10:00:00Z', nextDue: '2027-12-07', assisted: false } });
    await waitFor(() => expect(screen.getByTestId('liveness-done').textContent).toContain('The next one is due on'));
    // The home screen's facts were read again: the to-do is gone.
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Check now' })).toBeNull());
  });

  it('says when the check was assisted: an agent ran it with the person', async () => {
    setLocale('en');
    commands.home.mockResolvedValue({ status: 'ok', data: home([{ kind: 'livenessDue', due: '2027-03-10', overdue: false }]) });
    commands.checkLiveness.mockResolvedValueOnce({ status: 'ok', data: { performedAt: '2026-12-07T10:00:00Z', nextDue: '2027-12-07', assisted: true } });
    render(Home, { props: {} });
    await fireEvent.click(await screen.findByRole('button', { name: 'Check now' }));
    await waitFor(() => expect(screen.getByTestId('liveness-assisted').textContent).toContain('assisted'));
    expect(screen.getByTestId('liveness-done').textContent).toContain('The next one is due on');
  });

  it('says nothing of assistance for a check the person did alone', async () => {
    setLocale('ar');
    commands.home.mockResolvedValue({ status: 'ok', data: home([{ kind: 'livenessDue', due: '2027-03-10', overdue: false }]) });
    commands.checkLiveness.mockResolvedValueOnce({ status: 'ok', data: { performedAt: '2026-12-07T10:00:00Z', nextDue: null, assisted: false } });
    render(Home, { props: {} });
    await fireEvent.click(await screen.findByRole('button', { name: 'تحقق الآن' }));
    await waitFor(() => expect(screen.getByTestId('liveness-done').textContent).toContain('تم التحقق من الهوية'));
    expect(screen.queryByTestId('liveness-assisted')).toBeNull();
  });

  it('shows a refusal in the person language', async () => {
    setLocale('fr');
    commands.home.mockResolvedValue({ status: 'ok', data: home([{ kind: 'livenessDue', due: '2027-03-10', overdue: true }]) });
    commands.checkLiveness.mockResolvedValueOnce({
      status: 'error',
      error: { code: 'invalidInput', message: 'A liveness check needs the network…', fields: [], key: 'livenessNeedsNetwork', params: { due: '2027-03-10' } },
    });
    render(Home, { props: {} });
    await fireEvent.click(await screen.findByRole('button', { name: 'Faire le contrôle' }));
    await waitFor(() => expect(screen.getByTestId('liveness-failed').textContent).toContain('besoin du réseau'));
  });
});
