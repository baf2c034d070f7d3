// The Settings screen's desktop alerts switch, and its text size choice: a radio group (keyboard: one Tab stop, arrows between
// sizes) that zooms the web view through Tauri and shows a refusal instead of a size not in
// effect. Tauri and the Rust commands are replaced here.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';

const setZoom = vi.hoisted(() => vi.fn(async (_factor: number) => undefined));
vi.mock('@tauri-apps/api/webview', () => ({ getCurrentWebview: () => ({ setZoom }) }));
const alerts = vi.hoisted(() => ({
  alertSettings: vi.fn(async () => ({ status: 'ok', data: { available: true, enabled: true } })),
  setAlerts: vi.fn(async (enabled: boolean) => ({ status: 'ok', data: { available: true, enabled } })),
}));
vi.mock('../lib/bindings', () => ({
  commands: {
    appInfo: vi.fn(async () => ({ version: '0.1.0', registryUrl: 'http://127.0.0.1:8700', dataDir: '/data' })),
    updateStatus: vi.fn(async () => ({ current: '0.1.0', state: { kind: 'upToDate' }, checkedAt: null })),
    ...alerts,
  },
  events: { updateStatusChanged: { listen: vi.fn(async () => () => undefined) } },
}));

import Settings from './Settings.svelte';
import { setLocale } from '../i18n/i18n.svelte';

const KEY = 'doorstep.textSize';

afterEach(() => {
  cleanup();
  localStorage.clear();
});

describe('the text size choice in Settings', () => {
  it('is a keyboard-operable radio group that zooms, and says so when zooming fails', async () => {
    setLocale('en');
    render(Settings, { props: { mode: 'personal', ondone: () => undefined } });
    const group = screen.getByRole('radiogroup', { name: 'Text size' });
    const radios = [...group.querySelectorAll<HTMLInputElement>('input[type="radio"]')];
    expect(radios.map((r) => r.labels?.[0].textContent?.trim())).toEqual(['Standard (100%)', 'Large (150%)', 'Very large (200%)']);
    // Native radios sharing a name: one Tab stop, arrows move between them.
    expect(new Set(radios.map((r) => r.name)).size).toBe(1);
    expect(radios[0].checked).toBe(true);

    await fireEvent.click(radios[2]);
    await waitFor(() => expect(setZoom).toHaveBeenCalledWith(2));
    expect(radios[2].checked).toBe(true);
    expect(localStorage.getItem(KEY)).toBe('2');

    setZoom.mockRejectedValueOnce('not allowed');
    await fireEvent.click(radios[1]);
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('The text size could not be changed'));
    // The group shows the size still in effect.
    expect(radios[2].checked).toBe(true);
    expect(radios[1].checked).toBe(false);
    expect(localStorage.getItem(KEY)).toBe('2');
  });
});

describe('the desktop alerts switch in Settings', () => {
  it('shows the person their setting and changes it through the core', async () => {
    setLocale('en');
    render(Settings, { props: { mode: 'personal', ondone: () => undefined } });
    const box = await screen.findByRole<HTMLInputElement>('checkbox', { name: 'Show alerts on this computer' });
    expect(box.checked).toBe(true);
    expect(box.getAttribute('aria-describedby')).toBe('alerts-hint');
    await fireEvent.click(box);
    await waitFor(() => expect(alerts.setAlerts).toHaveBeenCalledWith(false));
    await waitFor(() => expect(box.checked).toBe(false));
  });

  it('is not offered where there are none (a kiosk)', async () => {
    setLocale('en');
    alerts.alertSettings.mockResolvedValueOnce({ status: 'ok', data: { available: false, enabled: false } });
    render(Settings, { props: { mode: 'kiosk', ondone: () => undefined } });
    await waitFor(() => expect(alerts.alertSettings).toHaveBeenCalled());
    expect(screen.queryByRole('checkbox', { name: 'Show alerts on this computer' })).toBeNull();
  });
});
