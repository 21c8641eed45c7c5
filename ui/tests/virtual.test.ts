import { describe, expect, it } from 'vitest';
import { MAX_PX, scrollTopFor, windowFor } from '../src/lib/virtual';

describe('queue windowing', () => {
  it('draws only the rows on screen', () => {
    const w = windowFor(50_000, 88, 88 * 500, 880);
    expect(w.first).toBe(500);
    expect(w.count).toBe(12);
    expect(w.spacer).toBe(50_000 * 88);
    expect(w.top).toBe(88 * 500);
  });

  it('compresses the scroll space for very long queues and reaches the last row', () => {
    const total = 1_000_000;
    const w = windowFor(total, 88, MAX_PX, 880);
    expect(w.spacer).toBe(MAX_PX);
    expect(w.first + w.count).toBe(total);
    const top = scrollTopFor(total - 1, total, 88);
    expect(top).toBeLessThanOrEqual(MAX_PX);
  });

  it('handles an empty queue', () => {
    expect(windowFor(0, 88, 0, 880)).toMatchObject({ first: 0, count: 0, spacer: 0 });
  });
});
