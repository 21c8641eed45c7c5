import { describe, expect, it } from 'vitest';
import { AreaDrawer, distanceM } from '../src/map/draw';

describe('drawing a reminder area', () => {
  it('a polygon needs three corners, and the double-click that ends it is one corner', () => {
    const d = new AreaDrawer('polygon');
    expect(d.click([100.5, 13.7])).toBeNull();
    expect(d.click([100.6, 13.7])).toBeNull();
    expect(d.finish()).toBeNull();
    d.click([100.55, 13.8]);
    d.click([100.55, 13.8]);
    expect(d.finish()).toEqual({ polygon: [[100.5, 13.7], [100.6, 13.7], [100.55, 13.8]] });
    expect(d.click([0, 0])).toBeNull();
  });

  it('keeps longitudes past 180 as the map gives them', () => {
    const d = new AreaDrawer('polygon');
    for (const c of [[178, -19], [182, -19], [180, -15]] as [number, number][]) d.click(c);
    expect(d.finish()).toEqual({ polygon: [[178, -19], [182, -19], [180, -15]] });
  });

  it('a circle is a centre and the distance to the second click', () => {
    const d = new AreaDrawer('circle');
    expect(d.click([29.0, 41.0])).toBeNull();
    d.move([29.0, 41.1]);
    const moving = d.area();
    expect(moving && 'circle' in moving && Math.round(moving.circle[2] / 100)).toBe(111);
    const done = d.click([29.0, 41.05]);
    expect(done && 'circle' in done ? Math.round(done.circle[2]) : 0).toBe(Math.round(distanceM(41.0, 29.0, 41.05, 29.0)));
  });
});
