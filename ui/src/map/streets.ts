// The street style of a region pack: water, parks, buildings, roads by class, and the names
// of streets and places, drawn from the pack's vector layers (`roads`, `buildings`, `water`,
// `green`, `places`: see tests/maps/README.md and docs/MAPS.md). Text uses the machine's
// fonts (no glyph server: the desk is offline), so Chinese, Arabic, Thai and Cyrillic names
// draw as well as Latin ones.
import type { LayerSpecification } from 'maplibre-gl';
import { FONT } from './style';

/** The layer ids of pack `id`, in drawing order. */
export function packLayerIds(id: string): string[] {
  return streetLayers(id, 'zh').map((l) => l.id);
}

const MAJOR = ['motorway', 'trunk', 'primary', 'motorway_link', 'trunk_link', 'primary_link'];
const MIDDLE = ['secondary', 'tertiary', 'secondary_link', 'tertiary_link'];
const PATHS = ['footway', 'path', 'pedestrian', 'cycleway', 'steps', 'track', 'bridleway'];

/** Every layer of pack `id` (its source is `pack-{id}`). */
export function streetLayers(id: string, language: 'zh' | 'en'): LayerSpecification[] {
  const source = `pack-${id}`;
  const p = (name: string) => `pack-${id}-${name}`;
  const width = (base: number) => ['interpolate', ['exponential', 1.6], ['zoom'], 12, base * 0.5, 16, base * 3, 18, base * 8] as unknown as number;
  const roadClass = ['get', 'highway'];
  // A name in the officer's language when the pack has it.
  const name = language === 'zh' ? ['coalesce', ['get', 'name:zh'], ['get', 'name']] : ['coalesce', ['get', 'name:en'], ['get', 'name']];
  return [
    { id: p('green'), type: 'fill', source, 'source-layer': 'green', paint: { 'fill-color': '#d8ecc4' } },
    { id: p('water'), type: 'fill', source, 'source-layer': 'water', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#aad3df' } },
    { id: p('waterway'), type: 'line', source, 'source-layer': 'water', filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': '#aad3df', 'line-width': 2 } },
    {
      id: p('buildings'),
      type: 'fill',
      source,
      'source-layer': 'buildings',
      minzoom: 14,
      paint: { 'fill-color': '#e0d8cf', 'fill-outline-color': '#c8bcb0' },
    },
    {
      id: p('paths'),
      type: 'line',
      source,
      'source-layer': 'roads',
      minzoom: 15,
      filter: ['match', roadClass, PATHS, true, false],
      paint: { 'line-color': '#a89f94', 'line-width': 1, 'line-dasharray': [2, 1.5] },
    },
    {
      id: p('road-casing'),
      type: 'line',
      source,
      'source-layer': 'roads',
      filter: ['match', roadClass, PATHS, false, true],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': '#b9aea2', 'line-width': width(1.4) },
    },
    {
      id: p('roads'),
      type: 'line',
      source,
      'source-layer': 'roads',
      filter: ['match', roadClass, PATHS, false, true],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: {
        'line-color': ['match', roadClass, MAJOR, '#f7b58f', MIDDLE, '#fbe0a8', '#ffffff'],
        'line-width': width(1),
      },
    },
    {
      id: p('places'),
      type: 'circle',
      source,
      'source-layer': 'places',
      minzoom: 13,
      paint: {
        // Smaller and paler than a request's marker: the map is about the citizens.
        'circle-radius': 3.5,
        'circle-opacity': 0.75,
        'circle-color': ['match', ['coalesce', ['get', 'amenity'], ['get', 'tourism'], ['get', 'railway']], 'hospital', '#c62828', 'police', '#1565c0', 'embassy', '#2e7d32', 'hotel', '#6a1b9a', 'station', '#263238', '#757575'],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1.5,
      },
    },
    {
      id: p('street-names'),
      type: 'symbol',
      source,
      'source-layer': 'roads',
      minzoom: 14,
      filter: ['has', 'name'],
      layout: {
        'symbol-placement': 'line',
        'text-field': name as unknown as string,
        'text-font': FONT,
        'text-size': ['interpolate', ['linear'], ['zoom'], 14, 10, 17, 13] as unknown as number,
        'text-max-angle': 30,
      },
      paint: { 'text-color': '#4a4036', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
    },
    {
      id: p('place-names'),
      type: 'symbol',
      source,
      'source-layer': 'places',
      minzoom: 15,
      filter: ['has', 'name'],
      layout: {
        'text-field': name as unknown as string,
        'text-font': FONT,
        'text-size': 11,
        'text-offset': [0, 1.1],
        'text-anchor': 'top',
        'text-max-width': 10,
      },
      paint: { 'text-color': '#37474f', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
    },
  ] as LayerSpecification[];
}
