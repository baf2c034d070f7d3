import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { graceFor, IdleWatch } from './idle';

describe('IdleWatch', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function watch(idleMs: number) {
    const target = new EventTarget();
    const calls: string[] = [];
    const w = new IdleWatch(
      idleMs,
      { onwarn: (s) => calls.push(`warn ${s}`), onactive: () => calls.push('active'), onexpire: () => calls.push('expire') },
      target,
    );
    w.start();
    return { w, target, calls };
  }

  it('warns after the idle time, then signs out after the grace period', () => {
    const { calls } = watch(60_000);
    vi.advanceTimersByTime(59_999);
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['warn 30']);
    vi.advanceTimersByTime(30_000);
    expect(calls).toEqual(['warn 30', 'expire']);
  });

  it('any input restarts the count, and input during the warning cancels it', () => {
    const { target, calls } = watch(10_000);
    vi.advanceTimersByTime(9_000);
    target.dispatchEvent(new Event('keydown'));
    vi.advanceTimersByTime(9_000);
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(calls).toEqual(['warn 5']);
    target.dispatchEvent(new Event('pointerdown'));
    vi.advanceTimersByTime(5_000);
    expect(calls).toEqual(['warn 5', 'active']);
  });

  it('stops listening when stopped', () => {
    const { w, calls } = watch(10_000);
    w.stop();
    vi.advanceTimersByTime(100_000);
    expect(calls).toEqual([]);
  });

  it('keeps the grace period between 5 and 30 seconds', () => {
    expect(graceFor(2_000)).toBe(5_000);
    expect(graceFor(20_000)).toBe(10_000);
    expect(graceFor(600_000)).toBe(30_000);
  });
});
