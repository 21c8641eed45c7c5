import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debounce, throttle } from '../src/lib/debounce';

describe('refreshing on change events', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps refreshing while events arrive faster than the interval, and once after the last', () => {
    const calls: number[] = [];
    const refresh = throttle((n: number) => calls.push(n), 250);
    // A drill: an event every 100 ms for 2 s.
    for (let i = 1; i <= 20; i++) {
      refresh(i);
      vi.advanceTimersByTime(100);
    }
    expect(calls.length).toBeGreaterThanOrEqual(7);
    expect(calls.length).toBeLessThanOrEqual(9);
    vi.advanceTimersByTime(1000);
    expect(calls[calls.length - 1]).toBe(20);
  });

  it('a single event is applied promptly', () => {
    const calls: number[] = [];
    const refresh = throttle((n: number) => calls.push(n), 250);
    refresh(1);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual([1]);
  });

  it('a debounce, by contrast, starves under the same stream (why events use throttle)', () => {
    const calls: number[] = [];
    const refresh = debounce((n: number) => calls.push(n), 250);
    for (let i = 1; i <= 20; i++) {
      refresh(i);
      vi.advanceTimersByTime(100);
    }
    expect(calls).toEqual([]);
  });
});
