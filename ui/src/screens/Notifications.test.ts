import { describe, expect, it, vi, beforeEach } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';

const state = vi.hoisted(() => ({
  items: [
    { id: 'n-1', kind: 'application_status', title: 'Application submitted', body: 'We received it.', createdAt: '2026-11-20T10:00:00Z', read: false, deadline: null, overdue: false, relatedRecord: 'a-1' },
    { id: 'n-2', kind: 'document_requested', title: 'Send your ID card', body: 'Please.', createdAt: '2026-11-19T10:00:00Z', read: true, deadline: '2026-11-01', overdue: true, relatedRecord: 'a-1' },
  ],
  marked: [] as [string, boolean][],
  /** The app's sync status listener, to tell the screen a sync finished. */
  onSync: null as null | ((e: { payload: { running: boolean; lastSuccess: string | null } }) => void),
}));
vi.mock('../lib/bindings', () => ({
  commands: {
    notifications: vi.fn(async () => ({ status: 'ok', data: state.items })),
    markNotification: vi.fn(async (id: string, read: boolean) => {
      state.marked.push([id, read]);
      return { status: 'ok', data: state.items.map((n) => (n.id === id ? { ...n, read } : n)) };
    }),
    syncStatus: vi.fn(async () => ({ running: false, lastSuccess: '2026-11-20T10:00:00Z' })),
  },
  events: {
    syncStatusChanged: {
      listen: vi.fn(async (listener: NonNullable<typeof state.onSync>) => {
        state.onSync = listener;
        return () => {};
      }),
    },
  },
}));

import Notifications from './Notifications.svelte';
import { setLocale } from '../i18n/i18n.svelte';

describe('the notification centre', () => {
  beforeEach(() => setLocale('en'));

  it('lists read and unread, says when a deadline passed, and marks read', async () => {
    const onchange = vi.fn();
    render(Notifications, { onchange, onopen: vi.fn() });
    await screen.findByText('Application submitted');
    expect(onchange).toHaveBeenLastCalledWith(1);
    expect(screen.getByText(/The last day was/)).toBeTruthy();
    const items = screen.getAllByTestId('notification');
    expect(items.map((i) => i.dataset.read)).toEqual(['false', 'true']);
    await fireEvent.click(screen.getByRole('button', { name: 'Mark as read' }));
    await waitFor(() => expect(onchange).toHaveBeenLastCalledWith(0));
    expect(state.marked).toEqual([['n-1', true]]);
    expect(screen.getAllByRole('button', { name: 'Mark as unread' })).toHaveLength(2);
  });

  it('shows the newest fifty, and older ones on request', async () => {
    const many = Array.from({ length: 120 }, (_, i) => ({
      id: `m-${i}`, kind: 'general', title: `Message ${i}`, body: 'Hello.', createdAt: '2026-11-20T10:00:00Z',
      read: true, deadline: null, overdue: false, relatedRecord: null,
    }));
    state.items = many as unknown as typeof state.items;
    const { container } = render(Notifications, { onchange: vi.fn(), onopen: vi.fn() });
    const view = within(container);
    await view.findByText('Message 0');
    expect(view.getAllByTestId('notification')).toHaveLength(50);
    await fireEvent.click(view.getByRole('button', { name: 'Show 50 older notifications' }));
    expect(view.getAllByTestId('notification')).toHaveLength(100);
    await fireEvent.click(view.getByRole('button', { name: 'Show 20 older notifications' }));
    expect(view.getAllByTestId('notification')).toHaveLength(120);
    expect(view.queryByTestId('notifications-more')).toBeNull();
  });

  it('lists what a sync brings without leaving the screen', async () => {
    state.items = [
      { id: 'n-1', kind: 'application_status', title: 'Application submitted', body: 'We received it.', createdAt: '2026-11-20T10:00:00Z', read: false, deadline: null, overdue: false, relatedRecord: 'a-1' },
    ];
    const onchange = vi.fn();
    render(Notifications, { onchange, onopen: vi.fn() });
    await screen.findByText('Application submitted');
    await waitFor(() => expect(state.onSync).not.toBeNull());
    state.items = [
      { id: 'n-3', kind: 'application_status', title: 'Application approved', body: 'Yes.', createdAt: '2026-11-21T10:00:00Z', read: false, deadline: null, overdue: false, relatedRecord: 'a-1' },
      ...state.items,
    ];
    // A round that is still running changes nothing; its end lists the new one.
    state.onSync!({ payload: { running: true, lastSuccess: '2026-11-20T10:00:00Z' } });
    expect(screen.queryByText('Application approved')).toBeNull();
    state.onSync!({ payload: { running: false, lastSuccess: '2026-11-21T10:00:00Z' } });
    await screen.findByText('Application approved');
    expect(onchange).toHaveBeenLastCalledWith(2);
  });
});
