// Drawing an area on the map for a safety reminder: a polygon (a click per corner, a
// double-click or Enter to finish) or a circle (a click at the centre, a click at the edge).
// The drawer only turns clicks into a shape; the map draws it and the form counts who is
// inside. Longitudes are kept as the map gives them (past ±180 on a map panned across the
// antimeridian): the desk's Rust side splits such a polygon at 180° like an advisory's.

export type DrawnArea = { polygon: [number, number][] } | { circle: [number, number, number] };
export type DrawKind = 'polygon' | 'circle';

const EARTH_RADIUS_M = 6371008.8;

/** Great-circle distance in metres. */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dp = (lat2 - lat1) * rad;
  const dl = (lon2 - lon1) * rad;
  const a = Math.sin(dp / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dl / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

export class AreaDrawer {
  private corners: [number, number][] = [];
  private center: [number, number] | null = null;
  private cursor: [number, number] | null = null;
  done = false;

  constructor(readonly kind: DrawKind) {}

  /** A click at `[lon, lat]`: answers the finished area when this click ends the drawing. */
  click(at: [number, number]): DrawnArea | null {
    if (this.done) return null;
    if (this.kind === 'circle') {
      if (!this.center) {
        this.center = at;
        return null;
      }
      this.cursor = at;
      return this.finish();
    }
    const last = this.corners[this.corners.length - 1];
    // The two clicks of a double-click land on the same corner: count it once.
    if (!last || last[0] !== at[0] || last[1] !== at[1]) this.corners.push(at);
    return null;
  }

  move(at: [number, number]): void {
    this.cursor = at;
  }

  /** The area as drawn so far (`null`: not an area yet). */
  area(): DrawnArea | null {
    if (this.kind === 'circle') {
      if (!this.center || !this.cursor) return null;
      const r = distanceM(this.center[1], this.center[0], this.cursor[1], this.cursor[0]);
      return r > 0 ? { circle: [this.center[0], this.center[1], r] } : null;
    }
    return this.corners.length >= 3 ? { polygon: [...this.corners] } : null;
  }

  /** Ends the drawing (Enter, a double-click, the form's button): the area, if there is one. */
  finish(): DrawnArea | null {
    const a = this.area();
    if (a) this.done = true;
    return a;
  }

  /** What to draw: the area, its outline so far with the rubber band to the cursor, corners. */
  features(ring: (lat: number, lon: number, r: number) => number[][]): GeoJSON.Feature[] {
    const out: GeoJSON.Feature[] = [];
    const a = this.area();
    if (a && 'circle' in a) {
      const [lon, lat, r] = a.circle;
      out.push({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [ring(lat, lon, r)] } });
    }
    if (this.kind === 'polygon' && this.corners.length > 0) {
      const line = [...this.corners, ...(this.cursor && !this.done ? [this.cursor] : [])];
      if (this.corners.length >= 3) {
        out.push({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[...line, this.corners[0]]] } });
      } else if (line.length >= 2) {
        out.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: line } });
      }
      for (const c of this.corners) out.push({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: c } });
    }
    if (this.center) out.push({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: this.center } });
    return out;
  }
}
