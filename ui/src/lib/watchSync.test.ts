import { describe, expect, it, vi } from 'vitest';
import type { SyncStatus } from './bindings';

// The event listener and the status command, under the test's control: the answer to the
// command is held back until the test lets it go.
let deliver: ((s: SyncStatus) => void) | null = null;
let answer: (s: SyncStatus) => void = () => {};
vi.mock('./bindings', () => ({
  events: {
    syncStatusChanged: {
      listen: vi.fn(async (handler: (e: { payload: SyncStatus }) => void) => {
        deliver = (s) => handler({ payload: s });
        return () => {};
      }),
    },
  },
  commands: {
    syncStatus: vi.fn(() => new Promise<SyncStatus>((resolve) => (answer = resolve))),
  },
}));

import { watchSync } from './session';

const status = (running: boolean): SyncStatus =>
  ({ online: true, running, pending: 0, conflicts: 0, rejected: 0, lastSuccess: null, lastError: null, lastErrorKind: null, progress: null }) as SyncStatus;

describe('watchSync', () => {
  it('keeps the newer status when a round ends while the current one is being asked for', async () => {
    const seen: boolean[] = [];
    const watching = watchSync((s) => seen.push(s.running));
    await vi.waitFor(() => expect(deliver).not.toBeNull());
    // The command read "running"; before its answer arrives, the round ends.
    deliver!(status(false));
    answer(status(true));
    await watching;
    expect(seen).toEqual([false]);
  });

  it('shows the current status when no round changed it meanwhile', async () => {
    deliver = null;
    const seen: boolean[] = [];
    const watching = watchSync((s) => seen.push(s.running));
    await vi.waitFor(() => expect(deliver).not.toBeNull());
    answer(status(true));
    await watching;
    expect(seen).toEqual([true]);
  });
});
