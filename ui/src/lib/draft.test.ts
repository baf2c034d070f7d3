import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DraftSaver } from './draft';

describe('form autosave', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('saves once after typing stops, and never the answers it started with', async () => {
    const saved: unknown[] = [];
    const saver = new DraftSaver(async (d) => void saved.push(d), 800);
    saver.start({ name: 'Zawadi', age: 7 });
    saver.changed({ age: 7, name: 'Zawadi' }); // same answers, other key order
    vi.advanceTimersByTime(1000);
    expect(saved).toEqual([]);
    saver.changed({ name: 'Zaw', age: 7 });
    vi.advanceTimersByTime(500);
    saver.changed({ name: 'Zawa', age: 7 });
    vi.advanceTimersByTime(500);
    expect(saved).toEqual([]);
    vi.advanceTimersByTime(400);
    expect(saved).toEqual([{ name: 'Zawa', age: 7 }]);
  });

  it('saves at once when the screen closes, and nothing after a submit', () => {
    const saved: unknown[] = [];
    const saver = new DraftSaver(async (d) => void saved.push(d), 800);
    saver.start({});
    saver.changed({ a: 1 });
    saver.flush();
    expect(saved).toEqual([{ a: 1 }]);
    saver.flush();
    expect(saved).toHaveLength(1);
    saver.changed({ a: 2 });
    saver.cancel();
    vi.advanceTimersByTime(2000);
    saver.flush();
    expect(saved).toHaveLength(1);
    saver.resume();
    saver.changed({ a: 3 });
    vi.advanceTimersByTime(900);
    expect(saved).toEqual([{ a: 1 }, { a: 3 }]);
  });

  it('keeps a copy, so later edits to the same object are not lost or sent early', () => {
    const saved: unknown[] = [];
    const saver = new DraftSaver(async (d) => void saved.push(d), 100);
    const data: Record<string, unknown> = { a: 1 };
    saver.changed(data);
    data.a = 2;
    vi.advanceTimersByTime(200);
    expect(saved).toEqual([{ a: 1 }]);
  });
});
