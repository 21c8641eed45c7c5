// The offline basemap: Natural Earth country shapes (npm `world-atlas`), with names in
// English and Chinese and a label point per country. The desk starts on the 1:110m shapes
// and loads 1:50m only when the officer zooms in far enough to see the difference: the
// world view draws sooner and a desk that stays zoomed out holds less (docs/PERFORMANCE.md).
//
// Natural Earth rings that cross the antimeridian (Russia, Fiji, the US Aleutians) jump from
// +180 to -180; drawn as-is they smear a band across the whole map. Each ring is unwrapped
// here (consecutive longitudes never differ by more than 180°), which MapLibre draws
// correctly past ±180.
import { countries } from '../lib/countries';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import coarseUrl from 'world-atlas/countries-110m.json?url';
import fineUrl from 'world-atlas/countries-50m.json?url';


export interface CountryProps {
  id: string;
  iso2: string;
  name_en: string;
  name_zh: string;
}

/** Unwraps a ring in place so no step crosses more than 180° of longitude. */
export function unwrapRing(ring: number[][]): number[][] {
  for (let i = 1; i < ring.length; i++) {
    let lon = ring[i][0];
    const prev = ring[i - 1][0];
    while (lon - prev > 180) lon -= 360;
    while (lon - prev < -180) lon += 360;
    ring[i] = [lon, ring[i][1]];
  }
  return ring;
}

function polygons(g: GeoJSON.Geometry | null): number[][][][] {
  if (!g) return [];
  if (g.type === 'Polygon') return [g.coordinates];
  if (g.type === 'MultiPolygon') return g.coordinates;
  return [];
}

function ringArea(ring: number[][]): number {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    a += (ring[j][0] + ring[i][0]) * (ring[j][1] - ring[i][1]);
  }
  return Math.abs(a / 2);
}

/** A label point: the centroid of the vertices of the largest outer ring. */
export function labelPoint(polys: number[][][][]): [number, number] | null {
  let best: number[][] | null = null;
  let bestArea = -1;
  for (const p of polys) {
    const area = ringArea(p[0]);
    if (area > bestArea) {
      bestArea = area;
      best = p[0];
    }
  }
  if (!best) return null;
  let x = 0;
  let y = 0;
  for (const [lon, lat] of best) {
    x += lon;
    y += lat;
  }
  let lon = x / best.length;
  if (lon > 180) lon -= 360;
  if (lon < -180) lon += 360;
  return [lon, y / best.length];
}

export interface Basemap {
  countries: GeoJSON.FeatureCollection<GeoJSON.Geometry, CountryProps>;
  labels: GeoJSON.FeatureCollection<GeoJSON.Point, CountryProps & { area: number }>;
}

export function buildBasemap(topology: Topology): Basemap {
  const collection = feature(topology, topology.objects.countries as GeometryCollection) as GeoJSON.FeatureCollection;
  const shapes: GeoJSON.Feature<GeoJSON.Geometry, CountryProps>[] = [];
  const labels: GeoJSON.Feature<GeoJSON.Point, CountryProps & { area: number }>[] = [];
  for (const f of collection.features) {
    const id = String(f.id ?? '');
    const iso2 = countries.numericToAlpha2(id) ?? '';
    const englishName = (f.properties as { name?: string } | null)?.name ?? '';
    const props: CountryProps = {
      id,
      iso2,
      name_en: (iso2 && countries.getName(iso2, 'en', { select: 'alias' })) || englishName,
      name_zh: (iso2 && countries.getName(iso2, 'zh')) || englishName,
    };
    const polys = polygons(f.geometry).map((p) => p.map((ring) => unwrapRing(ring.map((c) => [c[0], c[1]]))));
    if (polys.length === 0) continue;
    shapes.push({ type: 'Feature', properties: props, geometry: { type: 'MultiPolygon', coordinates: polys } });
    const point = labelPoint(polys);
    if (point) {
      const area = polys.reduce((s, p) => s + ringArea(p[0]), 0);
      labels.push({ type: 'Feature', properties: { ...props, area }, geometry: { type: 'Point', coordinates: point } });
    }
  }
  return {
    countries: { type: 'FeatureCollection', features: shapes },
    labels: { type: 'FeatureCollection', features: labels },
  };
}

/** `coarse`: Natural Earth 1:110m, for the world and continents; `fine`: 1:50m. */
export type BasemapDetail = 'coarse' | 'fine';

/** Map zoom from which the fine shapes are worth loading (coastlines at 1:110m look coarse). */
export const FINE_BASEMAP_ZOOM = 3;

export async function loadBasemap(detail: BasemapDetail): Promise<Basemap> {
  const response = await fetch(detail === 'fine' ? fineUrl : coarseUrl);
  const topology = (await response.json()) as Topology;
  return buildBasemap(topology);
}
