// The update banner and the Settings section: what a person is told at each step, that the
// banner only asks on a personal device, and that a refused update says the version keeps
// working. The Rust commands and the status event are replaced here.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';

type Listener = (e: { payload: unknown }) => void;
const bus = vi.hoisted(() => ({ listeners: [] as Listener[] }));
const api = vi.hoisted(() => ({
  updateStatus: vi.fn(),
  checkForUpdate: vi.fn(),
  installUpdate: vi.fn(),
}));
vi.mock('../lib/bindings', () => ({
  commands: api,
  events: {
    updateStatusChanged: {
      listen: vi.fn(async (f: Listener) => {
        bus.listeners.push(f);
        return () => (bus.listeners = bus.listeners.filter((l) => l !== f));
      }),
    },
  },
}));

import Updates from './Updates.svelte';
import { setLocale } from '../i18n/i18n.svelte';

const status = (state: object) => ({ current: '0.1.0', state, checkedAt: '2026-12-07T10:00:00Z' });
const send = (state: object) => bus.listeners.forEach((l) => l({ payload: status(state) }));

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
  bus.listeners = [];
});

describe('the update banner', () => {
  it('asks on a personal device, follows the install, and says a refused update changed nothing', async () => {
    setLocale('en');
    api.updateStatus.mockResolvedValue(status({ kind: 'available', version: '0.2.0', notes: null, prompt: true }));
    let finish: (v: unknown) => void = () => undefined;
    api.installUpdate.mockReturnValue(new Promise((r) => (finish = r)));
    render(Updates, { props: { banner: true } });
    const text = await screen.findByTestId('update-banner-text');
    expect(text.textContent).toBe('Version 0.2.0 of Doorstep is ready to install.');
    // A region, not a dialog: it never takes the keyboard from what the person is typing.
    expect(screen.getByTestId('update-banner').getAttribute('role')).toBe('region');

    await fireEvent.click(screen.getByRole('button', { name: 'Install and restart' }));
    expect(api.installUpdate).toHaveBeenCalledOnce();
    send({ kind: 'downloading', received: 50, total: 200 });
    await waitFor(() => expect(text.textContent).toBe('Downloading the update: 25%'));
    const refused = status({ kind: 'failed', problem: { reason: 'badSignature', detail: 'signature mismatch' } });
    send(refused.state);
    finish({ status: 'ok', data: refused });
    await waitFor(() => expect(screen.getByTestId('update-banner-text').textContent).toContain('Nothing was installed; this version keeps working.'));
    expect(screen.getByTestId('update-detail').textContent).toContain('signature mismatch');
  });

  it('is not shown to an agent (the update waits in Settings) and goes when the person says not now', async () => {
    setLocale('en');
    api.updateStatus.mockResolvedValue(status({ kind: 'available', version: '0.2.0', notes: null, prompt: false }));
    render(Updates, { props: { banner: true } });
    await waitFor(() => expect(api.updateStatus).toHaveBeenCalled());
    expect(screen.queryByTestId('update-banner')).toBeNull();

    send({ kind: 'available', version: '0.2.0', notes: null, prompt: true });
    await fireEvent.click(await screen.findByRole('button', { name: 'Not now' }));
    expect(screen.queryByTestId('update-banner')).toBeNull();
    expect(api.installUpdate).not.toHaveBeenCalled();
  });
});

describe('the updates section in Settings', () => {
  it('shows the version and the last look, checks on request, and says why updates are off', async () => {
    setLocale('fr');
    api.updateStatus.mockResolvedValue(status({ kind: 'upToDate' }));
    api.checkForUpdate.mockResolvedValue({ status: 'ok', data: status({ kind: 'failed', problem: { reason: 'notNewer', offered: '0.0.9' } }) });
    render(Updates);
    const state = await screen.findByTestId('update-state');
    expect(state.textContent).toBe('Vous avez la dernière version.');
    await fireEvent.click(screen.getByRole('button', { name: 'Rechercher des mises à jour' }));
    await waitFor(() => expect(state.textContent).toContain('propose la version 0.0.9'));

    cleanup();
    setLocale('en');
    api.updateStatus.mockResolvedValue(status({ kind: 'off', why: 'noAddress' }));
    render(Updates);
    expect((await screen.findByTestId('update-state')).textContent).toContain('no update address is set');
    expect(screen.queryByRole('button', { name: 'Check for updates' })).toBeNull();
  });
});
