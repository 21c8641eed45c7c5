// Decodes the desk's binary cluster payload (layout in src-tauri/src/commands/map.rs).

export interface ClusterProps {
  count: number;
  open: number;
  sos: number;
  /** 0 critical … 3 low; 4 when nothing is open. */
  prio: number;
  stale: boolean;
  /** Index into the status vocabulary (0 new … 5 duplicate), for single requests. */
  status: number;
  /** The store's row id of a single request; 0 for a group. */
  rowid: number;
}

export interface DecodedClusters {
  ready: boolean;
  collection: GeoJSON.FeatureCollection<GeoJSON.Point, ClusterProps>;
}

const RECORD = 32;

export function decodeClusters(buffer: ArrayBuffer): DecodedClusters {
  const view = new DataView(buffer);
  if (buffer.byteLength < 8) {
    return { ready: false, collection: { type: 'FeatureCollection', features: [] } };
  }
  const n = view.getUint32(0, true);
  const ready = (view.getUint32(4, true) & 1) === 1;
  const count = Math.min(n, Math.floor((buffer.byteLength - 8) / RECORD));
  const features: GeoJSON.Feature<GeoJSON.Point, ClusterProps>[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const o = 8 + i * RECORD;
    const flags = view.getUint8(o + 21);
    features[i] = {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [view.getFloat32(o, true), view.getFloat32(o + 4, true)] },
      properties: {
        count: view.getUint32(o + 8, true),
        open: view.getUint32(o + 12, true),
        sos: view.getUint32(o + 16, true),
        prio: view.getUint8(o + 20),
        stale: (flags & 1) === 1,
        status: flags >> 1,
        rowid: view.getFloat64(o + 24, true),
      },
    };
  }
  return { ready, collection: { type: 'FeatureCollection', features } };
}

/** Builds a payload the way the desk does (for tests and the fake backend). */
export function encodeClusters(ready: boolean, clusters: (ClusterProps & { lon: number; lat: number })[]): ArrayBuffer {
  const buffer = new ArrayBuffer(8 + clusters.length * RECORD);
  const view = new DataView(buffer);
  view.setUint32(0, clusters.length, true);
  view.setUint32(4, ready ? 1 : 0, true);
  clusters.forEach((c, i) => {
    const o = 8 + i * RECORD;
    view.setFloat32(o, c.lon, true);
    view.setFloat32(o + 4, c.lat, true);
    view.setUint32(o + 8, c.count, true);
    view.setUint32(o + 12, c.open, true);
    view.setUint32(o + 16, c.sos, true);
    view.setUint8(o + 20, c.prio);
    view.setUint8(o + 21, (c.stale ? 1 : 0) | (c.status << 1));
    view.setFloat64(o + 24, c.rowid, true);
  });
  return buffer;
}

/** Whether two payloads are byte for byte the same (the map then has nothing to redraw). */
export function samePayload(a: ArrayBuffer, b: ArrayBuffer | null): boolean {
  if (!b || a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
