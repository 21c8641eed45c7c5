// The one MapLibre map, behind a small imperative API. The map never calls the backend: it
// reports what the officer does (pans, clicks) and draws what it is given.
import { Map as MapLibre, NavigationControl, Point, Popup, ScaleControl, prewarm, setWorkerUrl } from 'maplibre-gl';
import type { GeoJSONSource, MapGeoJSONFeature, MapMouseEvent, MapSourceDataEvent } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
// Under tauri:// MapLibre cannot find its worker from import.meta.url (it only does so on
// http(s)): hand it the URL Vite emitted.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import type { Region, Viewport } from '../ipc/bindings';
import type { Basemap } from './basemap';
import type { ClusterProps } from './clusters';
import { AreaDrawer, type DrawKind, type DrawnArea } from './draw';
import { streetLayers } from './streets';
import { ADVISORY_LAYERS, CLICKABLE, OVERLAY_LAYERS, baseStyle, clusterCounts, countryLabels } from './style';

setWorkerUrl(workerUrl);
// Start the map worker now, while the rest of the page loads, not when the map is created.
prewarm();

export type MapMode = 'clusters' | 'heat';

export interface MapHandlers {
  /** The visible area changed: `view` padded by half a view on each side (for smooth pans),
   *  `visible` exactly what is on screen. */
  onViewChanged(view: Viewport, visible: Region): void;
  /** A single request's marker was clicked. */
  onRequestClicked(rowid: number, lon: number, lat: number): void;
  /** A marker or a cluster was Shift+clicked: pick its requests for a bulk action. */
  onPicked(what: { rowid: number } | { cluster: [number, number] }): void;
  /** An advisory area was clicked. */
  onAdvisoryClicked(id: number): void;
  /** The hover title of an advisory area, in the officer's language. */
  advisoryTitle(severity: string, headline: string): string;
}

export interface SelectedLocation {
  lat: number;
  lon: number;
  accuracy_m: number | null;
}

const EARTH_RADIUS_M = 6371008.8;

/** A circle as a closed ring of [lon, lat]. */
export function circleRing(lat: number, lon: number, radiusM: number, segments = 64): number[][] {
  const d = radiusM / EARTH_RADIUS_M;
  const p1 = (lat * Math.PI) / 180;
  const l1 = (lon * Math.PI) / 180;
  const ring: number[][] = [];
  for (let i = 0; i <= segments; i++) {
    const b = (2 * Math.PI * i) / segments;
    const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
    const l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
    ring.push([(l2 * 180) / Math.PI, (p2 * 180) / Math.PI]);
  }
  return ring;
}

function wrap(lon: number): number {
  return ((((lon + 180) % 360) + 360) % 360) - 180;
}

/** What is on screen, wrapped into ±180 (west > east when it spans the antimeridian). */
export function visibleRegion(west: number, south: number, east: number, north: number): Region {
  const s = Math.max(-90, south);
  const n = Math.min(90, north);
  if (east - west >= 360) return { west: -180, south: s, east: 180, north: n };
  return { west: wrap(west), south: s, east: wrap(east), north: n };
}

/** The viewport for data queries: padded by half its size, wrapped into ±180. */
export function paddedViewport(west: number, south: number, east: number, north: number, zoom: number): Viewport {
  const width = east - west;
  const height = north - south;
  const s = Math.max(-90, south - height / 2);
  const n = Math.min(90, north + height / 2);
  // MapLibre's zoom counts 512-px worlds; the desk's clustering counts 256-px tiles.
  const z = zoom + 1;
  if (width * 2 >= 360) return { west: -180, south: s, east: 180, north: n, zoom: z };
  return { west: wrap(west - width / 2), south: s, east: wrap(east + width / 2), north: n, zoom: z };
}

export class DeskMap {
  readonly map: MapLibre;
  private popup: Popup;
  /** The popup shows an advisory's hover title (not a request opened by a click). */
  private hoverPopup = false;
  private frameTimes: number[] = [];
  private lastFrame = 0;
  private moveTimer: number | undefined;
  /** The style and the desk's layers are in place (MapLibre's `style.load` has fired). */
  private layersReady = false;
  private mode: MapMode = 'clusters';
  /** Overlays that currently hold features. */
  private shownOverlays = new Set<keyof typeof OVERLAY_LAYERS>();

  constructor(container: HTMLElement, private handlers: MapHandlers, private language: 'zh' | 'en') {
    this.map = new MapLibre({
      container,
      style: baseStyle(language),
      center: [60, 25],
      zoom: 1.6,
      attributionControl: false,
      // Labels and markers appear at once rather than fading in: under software GL every
      // fade frame costs both cores for ~50 ms, and the map is not idle until fades end.
      fadeDuration: 0,
      dragRotate: false,
      pitchWithRotate: false,
      // CJK country names drawn with the machine's fonts (fonts-noto-cjk on Linux).
      localIdeographFontFamily: "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif",
    });
    this.map.touchZoomRotate.disableRotation();
    // Zoom buttons (no compass: the map never rotates) and a metric scale bar, so an
    // officer can tell a street from a district.
    this.map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
    // Top right, under the buttons: the bottom right holds the attribution.
    this.map.addControl(new ScaleControl({ unit: 'metric', maxWidth: 120 }), 'top-right');
    this.popup = new Popup({ closeButton: false, closeOnClick: true, maxWidth: '320px' });
    // `style.load`, not `load`: `load` waits for the first complete render of the empty
    // map (~0.3-0.6 s here under software GL); sources can take data before that, and the
    // map worker starts tiling the basemap and the clusters that much sooner.
    this.map.once('style.load', () => {
      performance.mark('lifeline:style-load');
      this.layersReady = true;
      this.reportView();
    });
    this.map.once('load', () => performance.mark('lifeline:map-load'));
    // Where the start-up time goes (the performance run prints these marks).
    this.map.once('render', () => performance.mark('lifeline:first-render'));
    this.map.on('moveend', () => this.reportView());
    // During a long pan, refresh at most four times a second.
    this.map.on('move', () => {
      if (this.moveTimer === undefined) {
        this.moveTimer = window.setTimeout(() => {
          this.moveTimer = undefined;
          this.reportView();
        }, 250);
      }
    });
    this.map.on('render', () => {
      const now = performance.now();
      if (this.lastFrame > 0 && now - this.lastFrame < 1000) {
        this.frameTimes.push(now - this.lastFrame);
        if (this.frameTimes.length > 2000) this.frameTimes.splice(0, 1000);
      }
      this.lastFrame = now;
    });
    this.map.on('click', (e) => this.click(e));
    this.map.on('boxzoomcancel', (e: { originalEvent?: Event }) => this.shiftClick(e.originalEvent));
    this.map.on('mousemove', (e) => {
      if (this.drawer) {
        this.drawer.move([e.lngLat.lng, e.lngLat.lat]);
        this.drawChanged();
        return;
      }
      this.hover(e);
    });
    this.map.on('dblclick', () => {
      if (this.drawer) this.finishDrawing();
    });
    this.map.on('mouseout', () => {
      if (this.hoverPopup) {
        this.popup.remove();
        this.hoverPopup = false;
      }
    });
  }

  private reportView(): void {
    const b = this.map.getBounds();
    const [w, s, e, n] = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    this.handlers.onViewChanged(paddedViewport(w, s, e, n, this.map.getZoom()), visibleRegion(w, s, e, n));
  }

  private source(id: string): GeoJSONSource | undefined {
    return this.map.getSource(id) as GeoJSONSource | undefined;
  }

  private click(e: MapMouseEvent): void {
    if (this.drawer) {
      const done = this.drawer.click([e.lngLat.lng, e.lngLat.lat]);
      this.drawChanged();
      if (done) this.endDrawing(done);
      return;
    }
    const hit = this.markerAt(e.point);
    if (hit) {
      if (hit.count > 1) {
        this.map.easeTo({ center: [hit.lon, hit.lat], zoom: Math.min(this.map.getZoom() + 2.5, 18) });
      } else if (hit.rowid) {
        this.handlers.onRequestClicked(hit.rowid, hit.lon, hit.lat);
      }
      return;
    }
    const advisory = this.map.queryRenderedFeatures(e.point, { layers: ADVISORY_LAYERS.filter((l) => this.map.getLayer(l)) })[0];
    if (advisory) this.handlers.onAdvisoryClicked(Number(advisory.properties.id));
  }

  /** Shift+click. MapLibre's box zoom takes Shift+mousedown and swallows the click; a box
   *  that never grew ends as `boxzoomcancel` with the mouse event, so the pick hangs on that
   *  (Shift+drag still zooms to a box). */
  private shiftClick(e: Event | undefined): void {
    if (!(e instanceof MouseEvent)) return; // Escape ends a box too
    const rect = this.map.getCanvasContainer().getBoundingClientRect();
    const hit = this.markerAt(new Point(e.clientX - rect.left, e.clientY - rect.top));
    if (!hit) return;
    this.handlers.onPicked(hit.count > 1 || !hit.rowid ? { cluster: [hit.lon, hit.lat] } : { rowid: hit.rowid });
  }

  /** The marker or cluster drawn at `point`, if any. */
  private markerAt(point: Point): (ClusterProps & { lon: number; lat: number }) | null {
    const hit = this.map.queryRenderedFeatures(point, { layers: CLICKABLE.filter((l) => this.map.getLayer(l)) });
    const first = hit[0] as MapGeoJSONFeature | undefined;
    if (!first) return null;
    const [lon, lat] = (first.geometry as GeoJSON.Point).coordinates;
    return { ...(first.properties as unknown as ClusterProps), lon, lat };
  }

  /** Advisory headlines on hover, as text (never HTML). */
  private hover(e: MapMouseEvent): void {
    const onMarker = this.map.queryRenderedFeatures(e.point, { layers: CLICKABLE.filter((l) => this.map.getLayer(l)) }).length > 0;
    const advisory = this.map.queryRenderedFeatures(e.point, { layers: ADVISORY_LAYERS.filter((l) => this.map.getLayer(l)) })[0];
    this.map.getCanvas().style.cursor = onMarker || advisory ? 'pointer' : '';
    if (advisory && !onMarker) {
      const p = advisory.properties as { severity?: string; headline?: string };
      this.showPopup(e.lngLat.lng, e.lngLat.lat, this.handlers.advisoryTitle(p.severity ?? '', p.headline ?? ''), '');
      this.hoverPopup = true;
    } else if (this.hoverPopup) {
      // A hover title goes when the pointer leaves the area.
      this.popup.remove();
      this.hoverPopup = false;
    }
  }

  /** Closes the popup (the request it named is no longer the one on screen). */
  closePopup(): void {
    this.popup.remove();
    this.hoverPopup = false;
  }

  /** A popup with a title and a body, both set as text: citizen text never becomes markup. */
  showPopup(lon: number, lat: number, title: string, body: string): void {
    this.hoverPopup = false;
    const box = document.createElement('div');
    box.className = 'map-popup';
    const head = document.createElement('strong');
    head.textContent = title;
    box.appendChild(head);
    if (body) {
      const p = document.createElement('p');
      p.textContent = body;
      box.appendChild(p);
    }
    this.popup.setLngLat([lon, lat]).setDOMContent(box).addTo(this.map);
  }

  /** Runs `f` now if the layers are in place, else right after they are. (Not
   *  `map.loaded()`: that turns false whenever tiles are loading, e.g. during every pan,
   *  and `style.load` never fires again, so an update made then would be lost.) */
  whenLoaded(f: () => void): void {
    if (this.layersReady) f();
    else this.map.once('style.load', () => f());
  }

  setBasemap(basemap: Basemap): void {
    this.whenLoaded(() => {
      this.source('countries')?.setData(basemap.countries);
      this.source('country-labels')?.setData(basemap.labels);
    });
  }

  /** Calls `f` once, the first time the map is at `zoom` or closer (now, if it already is). */
  onceZoomedTo(zoom: number, f: () => void): void {
    if (this.map.getZoom() >= zoom) {
      f();
      return;
    }
    const check = () => {
      if (this.map.getZoom() < zoom) return;
      this.map.off('zoomend', check);
      f();
    };
    this.map.on('zoomend', check);
  }

  setClusters(collection: GeoJSON.FeatureCollection): void {
    this.whenLoaded(() => {
      this.source('clusters')?.setData(collection);
      if (collection.features.length > 0 && !this.clustersShown) {
        // Where the first frame with data goes after the answer (the performance run
        // prints these marks): tiled by the map's worker, then drawn.
        this.clustersShown = true;
        performance.mark('lifeline:clusters-set');
        const tiled = (e: MapSourceDataEvent) => {
          if (e.sourceId !== 'clusters' || !e.isSourceLoaded) return;
          this.map.off('sourcedata', tiled);
          performance.mark('lifeline:clusters-tiled');
          this.map.once('render', () => performance.mark('lifeline:clusters-drawn'));
        };
        this.map.on('sourcedata', tiled);
      }
    });
  }

  private clustersShown = false;

  setAdvisories(collection: GeoJSON.FeatureCollection): void {
    this.setOverlay('advisories', collection);
  }

  /** Fills an overlay source, showing its layers only while it has features. Why: the map
   *  worker tiles every source a visible layer uses, empty or not; at start three empty
   *  overlays queued their tiles ahead of the basemap and the clusters. */
  private setOverlay(id: keyof typeof OVERLAY_LAYERS, collection: GeoJSON.FeatureCollection): void {
    this.whenLoaded(() => {
      const has = collection.features.length > 0;
      if (!has && !this.shownOverlays.has(id)) return;
      this.source(id)?.setData(collection);
      if (has !== this.shownOverlays.has(id)) {
        for (const layer of OVERLAY_LAYERS[id]) this.map.setLayoutProperty(layer, 'visibility', has ? 'visible' : 'none');
        if (has) this.shownOverlays.add(id);
        else this.shownOverlays.delete(id);
      }
    });
  }

  private drawer: AreaDrawer | null = null;
  private drawHandlers: { changed(a: DrawnArea | null): void; done(a: DrawnArea): void } | null = null;

  /** Starts drawing an area: clicks place it (they open no request meanwhile); `changed`
   *  hears the area as it grows, `done` the finished one. */
  startDrawing(kind: DrawKind, handlers: { changed(a: DrawnArea | null): void; done(a: DrawnArea): void }): void {
    this.drawer = new AreaDrawer(kind);
    this.drawHandlers = handlers;
    this.map.doubleClickZoom.disable();
    this.map.getCanvas().style.cursor = 'crosshair';
    this.setOverlay('drawn', { type: 'FeatureCollection', features: [] });
  }

  /** Enter or the form's button: ends the drawing if it is an area yet. */
  finishDrawing(): void {
    const a = this.drawer?.finish();
    if (a) this.endDrawing(a);
  }

  /** Stops drawing and clears what was drawn. */
  cancelDrawing(): void {
    this.drawer = null;
    this.drawHandlers = null;
    this.map.doubleClickZoom.enable();
    this.map.getCanvas().style.cursor = '';
    this.showDrawn(null);
  }

  private endDrawing(a: DrawnArea): void {
    const handlers = this.drawHandlers;
    this.drawer = null;
    this.drawHandlers = null;
    this.map.getCanvas().style.cursor = '';
    // The double-click that ended a polygon must not zoom: zooming comes back after it.
    setTimeout(() => this.map.doubleClickZoom.enable(), 400);
    this.showDrawn(a);
    handlers?.done(a);
  }

  private drawChanged(): void {
    if (!this.drawer) return;
    this.setOverlay('drawn', { type: 'FeatureCollection', features: this.drawer.features(circleRing) });
    this.drawHandlers?.changed(this.drawer.area());
  }

  /** Draws a finished area (the reminder's), or clears it. */
  showDrawn(a: DrawnArea | null): void {
    const features: GeoJSON.Feature[] = [];
    if (a && 'circle' in a) {
      const [lon, lat, r] = a.circle;
      features.push({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [circleRing(lat, lon, r)] } });
    } else if (a) {
      features.push({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[...a.polygon, a.polygon[0]]] } });
    }
    this.setOverlay('drawn', { type: 'FeatureCollection', features });
  }

  /** Marks where a citizen's photo says it was taken, or clears the mark. */
  setPhotoHint(p: { lat: number; lon: number } | null): void {
    const features: GeoJSON.Feature[] = p ? [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [p.lon, p.lat] } }] : [];
    this.setOverlay('hint', { type: 'FeatureCollection', features });
  }

  /** Outlines the watched region; one crossing the antimeridian is drawn east of 180°. */
  setWatchRegion(region: { west: number; south: number; east: number; north: number } | null): void {
    const features: GeoJSON.Feature[] = [];
    if (region) {
      const { west, south, north } = region;
      const east = region.east < west ? region.east + 360 : region.east;
      const ring = [[west, south], [east, south], [east, north], [west, north], [west, south]];
      features.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: ring } });
    }
    this.setOverlay('watch-region', { type: 'FeatureCollection', features });
  }

  setSelected(location: SelectedLocation | null): void {
    const features: GeoJSON.Feature[] = [];
    if (location) {
      features.push({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [location.lon, location.lat] } });
      if (location.accuracy_m && location.accuracy_m > 0) {
        features.push({
          type: 'Feature',
          properties: {},
          geometry: { type: 'Polygon', coordinates: [circleRing(location.lat, location.lon, location.accuracy_m)] },
        });
      }
    }
    this.setOverlay('selected', { type: 'FeatureCollection', features });
  }

  setMode(mode: MapMode): void {
    // Changing a layer's layout makes the map worker re-tile its source: never for nothing
    // (at start this re-tiled the clusters while the basemap waited behind them).
    if (mode === this.mode) return;
    this.mode = mode;
    this.whenLoaded(() => {
      const heat = mode === 'heat';
      this.map.setLayoutProperty('heat', 'visibility', heat ? 'visible' : 'none');
      for (const id of ['clusters-circle', 'clusters-count', 'clusters-sos-halo']) {
        // The counts come after the first frame (`showLabels`).
        if (this.map.getLayer(id)) this.map.setLayoutProperty(id, 'visibility', heat ? 'none' : 'visible');
      }
    });
  }

  setLanguage(language: 'zh' | 'en'): void {
    this.language = language;
    this.whenLoaded(() => {
      if (this.map.getLayer('country-labels')) {
        const layer = countryLabels(language);
        this.map.setLayoutProperty('country-labels', 'text-field', layer.layout?.['text-field']);
      }
      for (const id of this.packs.keys()) {
        for (const l of streetLayers(id, language)) {
          if (l.type === 'symbol' && this.map.getLayer(l.id)) this.map.setLayoutProperty(l.id, 'text-field', l.layout?.['text-field']);
        }
      }
    });
  }

  /** The region packs drawn, by id, with the URL template of their tiles. */
  private packs = new Map<string, string>();

  /** Draws these region packs' streets (over the world map, under advisories and
   *  requests), and stops drawing packs no longer given. */
  setPacks(packs: { id: string; tiles: string; minzoom: number; maxzoom: number; bounds: number[] }[]): void {
    this.whenLoaded(() => {
      const wanted = new Map(packs.map((p) => [p.id, p]));
      for (const [id, tiles] of this.packs) {
        if (wanted.get(id)?.tiles === tiles) continue;
        for (const layer of streetLayers(id, this.language)) if (this.map.getLayer(layer.id)) this.map.removeLayer(layer.id);
        if (this.map.getSource(`pack-${id}`)) this.map.removeSource(`pack-${id}`);
        this.packs.delete(id);
      }
      for (const p of packs) {
        if (this.packs.has(p.id)) continue;
        this.map.addSource(`pack-${p.id}`, {
          type: 'vector',
          tiles: [p.tiles],
          minzoom: p.minzoom,
          maxzoom: p.maxzoom,
          bounds: p.bounds as [number, number, number, number],
        });
        const before = this.map.getLayer('advisories-fill') ? 'advisories-fill' : undefined;
        for (const layer of streetLayers(p.id, this.language)) this.map.addLayer(layer, before);
        this.packs.set(p.id, p.tiles);
      }
    });
  }

  /** The names drawn on screen by the packs' street and place layers (tests read the map as
   *  an officer does). */
  renderedStreetNames(): string[] {
    const layers = [...this.packs.keys()].flatMap((id) => [`pack-${id}-street-names`, `pack-${id}-place-names`]).filter((l) => this.map.getLayer(l));
    if (layers.length === 0) return [];
    const names = this.map.queryRenderedFeatures({ layers }).map((f) => String(f.properties?.name ?? ''));
    return [...new Set(names)].filter((n) => n);
  }

  /** The names on the marks of advisories placed by their subdivisions, drawn now. */
  renderedAdvisoryPlaces(): string[] {
    if (!this.map.getLayer('advisories-place-label')) return [];
    const names = this.map.queryRenderedFeatures({ layers: ['advisories-place-label'] }).map((f) => String(f.properties?.area ?? ''));
    return [...new Set(names)].filter((n) => n);
  }

  /** Adds the country names and the cluster counts (see `style.layers`: not part of the
   *  first frame). */
  showLabels(): void {
    this.whenLoaded(() => {
      if (this.map.getLayer('country-labels')) return;
      // Under the watched region and the clusters, as in the layer order of `style.ts`.
      this.map.addLayer(countryLabels(this.language), 'watch-region');
      // On top of everything: a selection ring drawn through "40" made it unreadable.
      this.map.addLayer({ ...clusterCounts, layout: { ...clusterCounts.layout, visibility: this.mode === 'heat' ? 'none' : 'visible' } });
    });
  }

  fitBounds(bounds: [number, number, number, number]): void {
    const [w, s, e, n] = bounds;
    this.map.fitBounds([w, s, e, n], { padding: 60, maxZoom: 11, duration: 600 });
  }

  flyTo(lon: number, lat: number, zoom?: number): void {
    this.map.easeTo({ center: [lon, lat], zoom: zoom ?? Math.max(this.map.getZoom(), 7), duration: 600 });
  }

  /** Intervals between the last rendered frames (ms), for performance checks. */
  frames(): number[] {
    return [...this.frameTimes];
  }

  resetFrames(): void {
    this.frameTimes = [];
    this.lastFrame = 0;
  }

  resize(): void {
    this.map.resize();
  }
}
