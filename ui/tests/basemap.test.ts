/// <reference types="node" />
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { buildBasemap, labelPoint, unwrapRing } from '../src/map/basemap';

const require = createRequire(import.meta.url);

describe('basemap', () => {
  it('unwraps a ring that crosses the antimeridian', () => {
    const ring = unwrapRing([[179, -16], [-179, -16], [-179, -18], [179, -18], [179, -16]]);
    expect(ring.map((p) => p[0])).toEqual([179, 181, 181, 179, 179]);
  });

  // Both scales the desk loads: 1:110m at start (177 countries), 1:50m once zoomed in (241).
  it.each([
    ['countries-110m.json', 170],
    ['countries-50m.json', 200],
  ])('draws Natural Earth %s without a world-wide smear and names countries in both languages', (file, atLeast) => {
    const topology = JSON.parse(readFileSync(require.resolve(`world-atlas/${file}`), 'utf8'));
    const { countries, labels } = buildBasemap(topology);
    expect(countries.features.length).toBeGreaterThan(atLeast);
    for (const f of countries.features) {
      const g = f.geometry as GeoJSON.MultiPolygon;
      for (const polygon of g.coordinates) {
        for (const ring of polygon) {
          for (let i = 1; i < ring.length; i++) {
            expect(Math.abs(ring[i][0] - ring[i - 1][0]), `${f.properties.name_en} jumps`).toBeLessThanOrEqual(180);
          }
        }
      }
    }
    const china = labels.features.find((f) => f.properties.iso2 === 'CN');
    expect(china?.properties.name_zh).toBe('中国');
    expect(china?.properties.name_en).toBe('China');
    const fiji = countries.features.find((f) => f.properties.iso2 === 'FJ');
    expect(fiji, 'Fiji straddles the antimeridian').toBeDefined();
  });

  it('puts a label inside the largest part', () => {
    const big = [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]];
    const small = [[[50, 50], [51, 50], [51, 51], [50, 51], [50, 50]]];
    expect(labelPoint([small, big])).toEqual([4, 4]);
  });
});
