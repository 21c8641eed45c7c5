import { describe, expect, it } from 'vitest';
import { decodeClusters, encodeClusters, samePayload } from '../src/map/clusters';

describe('cluster payload', () => {
  it('decodes what the desk encodes', () => {
    const buffer = encodeClusters(true, [
      { lon: 100.5, lat: 13.75, count: 37, open: 30, sos: 3, prio: 0, stale: false, status: 0, rowid: 0 },
      { lon: -175.2, lat: -21.1, count: 1, open: 1, sos: 0, prio: 2, stale: true, status: 1, rowid: 123456789 },
    ]);
    const { ready, collection } = decodeClusters(buffer);
    expect(ready).toBe(true);
    expect(collection.features).toHaveLength(2);
    const [group, single] = collection.features;
    expect(group.properties).toMatchObject({ count: 37, open: 30, sos: 3, prio: 0, rowid: 0 });
    expect(group.geometry.coordinates[0]).toBeCloseTo(100.5, 4);
    expect(single.properties).toMatchObject({ count: 1, stale: true, status: 1, rowid: 123456789 });
  });

  it('treats a short or empty payload as not ready and empty', () => {
    expect(decodeClusters(new ArrayBuffer(0))).toEqual({ ready: false, collection: { type: 'FeatureCollection', features: [] } });
    const truncated = encodeClusters(true, [{ lon: 1, lat: 2, count: 1, open: 1, sos: 0, prio: 2, stale: false, status: 0, rowid: 9 }]).slice(0, 20);
    expect(decodeClusters(truncated).collection.features).toHaveLength(0);
  });

  it('tells an unchanged payload from a changed one', () => {
    const one = { lon: 100.5, lat: 13.75, count: 37, open: 30, sos: 3, prio: 0, stale: false, status: 0, rowid: 0 };
    const a = encodeClusters(true, [one]);
    expect(samePayload(a, encodeClusters(true, [one]))).toBe(true);
    expect(samePayload(a, encodeClusters(true, [{ ...one, count: 38 }]))).toBe(false);
    expect(samePayload(a, encodeClusters(false, [one])), 'the ready flag counts').toBe(false);
    expect(samePayload(a, encodeClusters(true, [one, one]))).toBe(false);
    expect(samePayload(a, null)).toBe(false);
  });
});
