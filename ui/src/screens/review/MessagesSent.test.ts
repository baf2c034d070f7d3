import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';

const message = (id: string, status: string, extra: Record<string, unknown> = {}) => ({
  id,
  createdAt: '2026-11-20T10:00:00Z',
  recipientId: '0190b6a2-8a3e-7c1d-9f00-000000000002',
  address: '+254712345678',
  channel: 'textMessage',
  status,
  attempts: 0,
  nextAttemptAt: '2026-11-20T10:05:00Z',
  lastError: null,
  deliveredAt: null,
  ...extra,
});

const state = vi.hoisted(() => ({
  /** What the next calls answer, in turn; the last one repeats. */
  answers: [] as unknown[],
  calls: [] as (string | null)[],
}));
vi.mock('../../lib/bindings', () => ({
  commands: {
    messagesSent: vi.fn(async (before: string | null) => {
      state.calls.push(before);
      return state.answers.length > 1 ? state.answers.shift() : state.answers[0];
    }),
  },
}));

import MessagesSent from './MessagesSent.svelte';
import { setLocale } from '../../i18n/i18n.svelte';
import { appendMessages } from '../../lib/sent';

const ok = (items: unknown[], nextBefore: string | null = null) => ({ status: 'ok', data: { items, nextBefore } });

afterEach(() => cleanup());

describe('Messages sent', () => {
  beforeEach(() => {
    setLocale('en');
    state.answers = [];
    state.calls = [];
  });

  it('lists each message with its channel, state, attempts and last error, and pages back', async () => {
    state.answers = [
      ok(
        [
          message('m-1', 'pending', { attempts: 2, lastError: 'connection refused' }),
          message('m-2', 'delivered', { channel: 'email', address: 'amina@example.org', attempts: 1, deliveredAt: '2026-11-20T10:01:00Z' }),
        ],
        'cursor-1',
      ),
      ok([message('m-2', 'delivered'), message('m-3', 'failed', { attempts: 8, lastError: 'HTTP 410' })]),
    ];
    render(MessagesSent);
    const rows = await screen.findAllByTestId('sent-message');
    expect(rows).toHaveLength(2);
    const first = within(rows[0]);
    expect(first.getByText('+254712345678')).toBeTruthy();
    expect(first.getByText('Text message')).toBeTruthy();
    expect(rows[0].textContent).toContain('Waiting to be sent');
    expect(rows[0].textContent).toContain('Next try');
    expect(first.getByTestId('sent-last-error').textContent).toBe('connection refused');
    expect(rows[1].textContent).toContain('E-mail');
    expect(rows[1].textContent).toContain('Delivered');
    expect(rows[1].textContent).toContain('None');

    await fireEvent.click(screen.getByTestId('sent-more'));
    await waitFor(() => expect(screen.getAllByTestId('sent-message')).toHaveLength(3));
    expect(state.calls).toEqual([null, 'cursor-1']);
    expect(screen.getAllByTestId('sent-message')[2].textContent).toContain('Not delivered');
    // The last page: no more to show.
    expect(screen.queryByTestId('sent-more')).toBeNull();
  });

  it('says when nothing was sent, and refreshing starts from the newest again', async () => {
    state.answers = [ok([]), ok([message('m-9', 'sending')])];
    render(MessagesSent);
    expect((await screen.findByTestId('sent-none')).textContent).toContain('No message has been sent');
    await fireEvent.click(screen.getByTestId('sent-refresh'));
    await waitFor(() => expect(screen.getAllByTestId('sent-message')).toHaveLength(1));
    expect(state.calls).toEqual([null, null]);
    expect(screen.queryByTestId('sent-none')).toBeNull();
  });

  it('offline, says the list needs the registry and tries again', async () => {
    state.answers = [
      { status: 'error', error: { code: 'invalidInput', message: 'This needs the registry.', fields: [], key: 'needsNetwork', params: {} } },
      ok([message('m-1', 'pending')]),
    ];
    render(MessagesSent);
    const offline = await screen.findByTestId('sent-offline');
    expect(offline.textContent).toContain('cannot be reached');
    expect(screen.queryByTestId('sent-none')).toBeNull();
    await fireEvent.click(within(offline).getByRole('button'));
    await waitFor(() => expect(screen.getAllByTestId('sent-message')).toHaveLength(1));
  });

  it('speaks Arabic', async () => {
    setLocale('ar');
    state.answers = [ok([message('m-1', 'failed', { attempts: 8 })])];
    render(MessagesSent);
    const row = await screen.findByTestId('sent-message');
    expect(row.textContent).toContain('لم تُسلّم');
    expect(row.textContent).toContain('رسالة نصية');
    expect(screen.getByRole('heading', { level: 2 }).textContent).toBe('الرسائل المرسلة');
  });
});

describe('appendMessages', () => {
  it('adds each message of a later page once', () => {
    const a = message('a', 'pending') as never;
    const b = message('b', 'pending') as never;
    expect(appendMessages([a], [a, b]).map((m: { id: string }) => m.id)).toEqual(['a', 'b']);
  });
});
