// The map's look, as typed data: sources are filled by DeskMap; layers only describe.
//
// No `glyphs` URL: MapLibre GL JS (≥ 5.11) then draws text locally with the machine's fonts
// (TinySDF), so country names in Chinese and English and cluster counts need no glyph
// server and no bundled font files.
import type {
  CircleLayerSpecification,
  ExpressionSpecification,
  FillLayerSpecification,
  HeatmapLayerSpecification,
  LayerSpecification,
  LineLayerSpecification,
  StyleSpecification,
  SymbolLayerSpecification,
} from 'maplibre-gl';

export const COLORS = {
  ocean: '#b9d3e8',
  land: '#f3ecdd',
  border: '#b9ab93',
  label: '#5b5142',
  emergency: '#d32f2f',
  critical: '#d32f2f',
  high: '#f57c00',
  normal: '#1e88e5',
  low: '#78909c',
  closed: '#9e9e9e',
  selected: '#111111',
};

export const SEVERITY_COLORS: Record<string, string> = {
  Extreme: '#8e0000',
  Severe: '#d84315',
  Moderate: '#f9a825',
  Minor: '#fdd835',
  Unknown: '#9e9e9e',
};

export const FONT = ['Noto Sans CJK SC', 'sans-serif'];

/** An advisory's colour, by its severity. */
const SEVERITY_COLOR: ExpressionSpecification = [
  'match',
  ['get', 'severity'],
  'Extreme', SEVERITY_COLORS.Extreme,
  'Severe', SEVERITY_COLORS.Severe,
  'Moderate', SEVERITY_COLORS.Moderate,
  'Minor', SEVERITY_COLORS.Minor,
  SEVERITY_COLORS.Unknown,
];

const empty: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };

/** The whole style: every source (empty until DeskMap fills it) and every layer but the
 *  country names, so the map can take data as soon as the style is parsed rather than after
 *  its first full render. */
export function baseStyle(language: 'zh' | 'en'): StyleSpecification {
  return {
    version: 8,
    sources: {
      countries: { type: 'geojson', data: empty, tolerance: 1.5, buffer: 32 },
      'country-labels': { type: 'geojson', data: empty },
      advisories: { type: 'geojson', data: empty },
      clusters: { type: 'geojson', data: empty },
      selected: { type: 'geojson', data: empty },
      drawn: { type: 'geojson', data: empty },
      hint: { type: 'geojson', data: empty },
      'watch-region': { type: 'geojson', data: empty },
    },
    layers: [{ id: 'ocean', type: 'background', paint: { 'background-color': COLORS.ocean } }, ...layers(language)],
  };
}

/** Colour of a cluster: emergencies red, else by the most urgent open priority. */
const clusterColor = [
  'case',
  ['>', ['get', 'sos'], 0],
  COLORS.emergency,
  ['==', ['get', 'open'], 0],
  COLORS.closed,
  ['match', ['get', 'prio'], 0, COLORS.critical, 1, COLORS.high, 2, COLORS.normal, COLORS.low],
] as unknown as string;

// Borders are the fill's own 1-px outline, not a line layer: a line layer makes the map
// worker build a second, wider mesh of every border, which cost ~0.6 s of the first frame
// under software GL (measured 2026-12, world view, 1:110m).
const countryFill: FillLayerSpecification = {
  id: 'countries-fill',
  type: 'fill',
  source: 'countries',
  paint: { 'fill-color': COLORS.land, 'fill-outline-color': COLORS.border },
};

export function countryLabels(language: 'zh' | 'en'): SymbolLayerSpecification {
  return {
    id: 'country-labels',
    type: 'symbol',
    source: 'country-labels',
    // Big countries first, small ones only when zoomed in.
    filter: ['>=', ['get', 'area'], ['interpolate', ['exponential', 2], ['zoom'], 1, 60, 3, 6, 5, 0.5, 7, 0]],
    layout: {
      'text-field': ['get', language === 'zh' ? 'name_zh' : 'name_en'],
      'text-font': FONT,
      'text-size': ['interpolate', ['linear'], ['zoom'], 1, 10, 6, 14],
      'text-max-width': 8,
    },
    paint: { 'text-color': COLORS.label, 'text-halo-color': '#ffffff', 'text-halo-width': 1.2 },
  };
}

const advisoryFill: FillLayerSpecification = {
  id: 'advisories-fill',
  type: 'fill',
  source: 'advisories',
  layout: { visibility: 'none' },
  paint: {
    'fill-color': SEVERITY_COLOR,
    'fill-opacity': 0.18,
  },
};

const advisoryLine: LineLayerSpecification = {
  id: 'advisories-line',
  type: 'line',
  source: 'advisories',
  layout: { visibility: 'none' },
  paint: {
    'line-color': SEVERITY_COLOR,
    'line-width': 2,
  },
};

/** An area named only by ISO 3166-2 codes has no shape: it is marked on each
 *  subdivision's principal city, with the subdivision's name. */
const advisoryPlace: CircleLayerSpecification = {
  id: 'advisories-place',
  type: 'circle',
  source: 'advisories',
  layout: { visibility: 'none' },
  filter: ['==', ['geometry-type'], 'Point'],
  paint: {
    // Wider and paler than a request's marker: an area, not a person.
    'circle-radius': 18,
    'circle-color': SEVERITY_COLOR,
    'circle-opacity': 0.22,
    'circle-stroke-color': SEVERITY_COLOR,
    'circle-stroke-width': 3,
  },
};

const advisoryPlaceLabel: SymbolLayerSpecification = {
  id: 'advisories-place-label',
  type: 'symbol',
  source: 'advisories',
  layout: {
    visibility: 'none',
    'text-field': ['get', 'area'],
    'text-font': FONT,
    'text-size': 12,
    'text-offset': [0, 1.4],
    'text-anchor': 'top',
  },
  filter: ['==', ['geometry-type'], 'Point'],
  paint: { 'text-color': COLORS.label, 'text-halo-color': '#ffffff', 'text-halo-width': 1.4 },
};

const heat: HeatmapLayerSpecification = {
  id: 'heat',
  type: 'heatmap',
  source: 'clusters',
  layout: { visibility: 'none' },
  paint: {
    'heatmap-weight': ['interpolate', ['linear'], ['ln', ['+', 1, ['get', 'count']]], 0, 0, 8, 1],
    'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 0, 1, 9, 3],
    'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 0, 18, 9, 40],
    'heatmap-opacity': 0.85,
  },
};

/** A halo around anything holding an open emergency: unmistakable at any zoom. */
const sosHalo: CircleLayerSpecification = {
  id: 'clusters-sos-halo',
  type: 'circle',
  source: 'clusters',
  filter: ['>', ['get', 'sos'], 0],
  paint: {
    'circle-radius': ['+', 7, ['step', ['get', 'count'], 8, 10, 14, 100, 20, 1000, 26]],
    'circle-color': 'rgba(0,0,0,0)',
    'circle-stroke-color': COLORS.emergency,
    'circle-stroke-width': 3,
    'circle-stroke-opacity': 0.8,
  },
};

const clusterCircles: CircleLayerSpecification = {
  id: 'clusters-circle',
  type: 'circle',
  source: 'clusters',
  paint: {
    'circle-radius': ['step', ['get', 'count'], 8, 10, 14, 100, 20, 1000, 26],
    'circle-color': clusterColor,
    'circle-opacity': ['case', ['get', 'stale'], 0.35, 0.9],
    'circle-stroke-color': '#ffffff',
    'circle-stroke-width': 1.5,
  },
};

/** The number on a cluster. Added with the country names once the first frame with data is
 *  drawn (see `layers`). */
export const clusterCounts: SymbolLayerSpecification = {
  id: 'clusters-count',
  type: 'symbol',
  source: 'clusters',
  filter: ['>', ['get', 'count'], 1],
  layout: {
    'text-field': ['to-string', ['get', 'count']],
    'text-font': FONT,
    'text-size': 12,
    'text-allow-overlap': true,
  },
  paint: { 'text-color': '#ffffff' },
};

/** The region this desk watches for alerts: a dashed outline, under the clusters. */
const watchRegion: LineLayerSpecification = {
  id: 'watch-region',
  type: 'line',
  source: 'watch-region',
  layout: { visibility: 'none' },
  paint: { 'line-color': COLORS.selected, 'line-width': 2, 'line-dasharray': [3, 2], 'line-opacity': 0.8 },
};

const selectedAccuracy: FillLayerSpecification = {
  id: 'selected-accuracy',
  type: 'fill',
  source: 'selected',
  layout: { visibility: 'none' },
  filter: ['==', ['geometry-type'], 'Polygon'],
  paint: { 'fill-color': COLORS.emergency, 'fill-opacity': 0.12, 'fill-outline-color': COLORS.emergency },
};

const selectedPoint: CircleLayerSpecification = {
  id: 'selected-point',
  type: 'circle',
  source: 'selected',
  layout: { visibility: 'none' },
  filter: ['==', ['geometry-type'], 'Point'],
  paint: {
    'circle-radius': 11,
    'circle-color': 'rgba(0,0,0,0)',
    'circle-stroke-color': COLORS.selected,
    'circle-stroke-width': 3,
  },
};

/** An area drawn for a safety reminder. */
const drawnFill: FillLayerSpecification = {
  id: 'drawn-fill',
  type: 'fill',
  source: 'drawn',
  layout: { visibility: 'none' },
  filter: ['==', ['geometry-type'], 'Polygon'],
  paint: { 'fill-color': COLORS.high, 'fill-opacity': 0.15 },
};
const drawnLine: LineLayerSpecification = {
  id: 'drawn-line',
  type: 'line',
  source: 'drawn',
  layout: { visibility: 'none' },
  paint: { 'line-color': COLORS.high, 'line-width': 2.5, 'line-dasharray': [2, 1] },
};
const drawnCorner: CircleLayerSpecification = {
  id: 'drawn-corner',
  type: 'circle',
  source: 'drawn',
  layout: { visibility: 'none' },
  filter: ['==', ['geometry-type'], 'Point'],
  paint: { 'circle-radius': 5, 'circle-color': '#ffffff', 'circle-stroke-color': COLORS.high, 'circle-stroke-width': 2 },
};
/** Where a citizen's photo says it was taken: a hint, drawn apart from the request. */
const photoHint: CircleLayerSpecification = {
  id: 'photo-hint',
  type: 'circle',
  source: 'hint',
  layout: { visibility: 'none' },
  paint: { 'circle-radius': 8, 'circle-color': '#8e24aa', 'circle-opacity': 0.85, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
};

/** The layers the map starts with. Text is added by the map once its first frame with data
 *  is drawn: country names (`countryLabels`) and cluster counts (`clusterCounts`). The
 *  emergencies matter first, and text is the map worker's dearest work: the country names
 *  cost ~0.6 s of the first frame here, and the counts of ~60 clusters ~0.15 s of the
 *  0.25 s the data added to it at 10^6 requests (docs/PERFORMANCE.md). The circles, sized by
 *  count and coloured by urgency, and the emergencies' rings are in the first frame. */
export function layers(_language: 'zh' | 'en'): LayerSpecification[] {
  return [
    countryFill,
    advisoryFill,
    advisoryLine,
    advisoryPlace,
    advisoryPlaceLabel,
    watchRegion,
    heat,
    sosHalo,
    clusterCircles,
    selectedAccuracy,
    selectedPoint,
    drawnFill,
    drawnLine,
    drawnCorner,
    photoHint,
  ];
}

/** Layers over the basemap that stay hidden while their source is empty (see
 *  `DeskMap.setOverlay`). */
export const OVERLAY_LAYERS: Record<'advisories' | 'watch-region' | 'selected' | 'drawn' | 'hint', string[]> = {
  advisories: ['advisories-fill', 'advisories-line', 'advisories-place', 'advisories-place-label'],
  'watch-region': ['watch-region'],
  selected: ['selected-accuracy', 'selected-point'],
  drawn: ['drawn-fill', 'drawn-line', 'drawn-corner'],
  hint: ['photo-hint'],
};

/** Layers a click or hover on the map can hit. */
export const CLICKABLE = ['clusters-circle'];
export const ADVISORY_LAYERS = ['advisories-fill', 'advisories-place'];
