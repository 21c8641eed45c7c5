// Citizens' files for the end-to-end tests: the test media of the repository, a photo with
// the position it was taken at written into its EXIF (as a phone does), and the upload a
// chat channel makes before it names a file in a message.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

export const STREET_JPG = readFileSync(new URL('../../crates/lifeline-hub/drill-media/street.jpg', import.meta.url));
export const VOICE_OGG = readFileSync(new URL('../../crates/lifeline-hub/drill-media/voice.ogg', import.meta.url));

/** `jpeg` with an EXIF APP1 segment holding GPS latitude and longitude only (big-endian
 *  TIFF: IFD0 → GPS IFD with four entries, then six rationals), after its JFIF segment. */
export function jpegWithGps(jpeg, lat, lon) {
  const gpsIfdAt = 8 + 2 + 12 + 4;
  const dataAt = gpsIfdAt + 2 + 4 * 12 + 4;
  const t = Buffer.alloc(dataAt + 48);
  let o = 0;
  const u16 = (v) => { t.writeUInt16BE(v, o); o += 2; };
  const u32 = (v) => { t.writeUInt32BE(v, o); o += 4; };
  const entry = (tag, kind, count, value) => { u16(tag); u16(kind); u32(count); value(); };
  const ascii = (c) => () => { t.write(c, o, 'latin1'); o += 4; };
  t.write('MM', 0, 'latin1'); o = 2; u16(42); u32(8);
  u16(1); entry(0x8825, 4, 1, () => u32(gpsIfdAt)); u32(0);
  u16(4);
  entry(1, 2, 2, ascii(lat >= 0 ? 'N' : 'S'));
  entry(2, 5, 3, () => u32(dataAt));
  entry(3, 2, 2, ascii(lon >= 0 ? 'E' : 'W'));
  entry(4, 5, 3, () => u32(dataAt + 24));
  u32(0);
  for (const v of [Math.abs(lat), Math.abs(lon)]) {
    const d = Math.trunc(v);
    const m = Math.trunc((v - d) * 60);
    const s = ((v - d) * 60 - m) * 60;
    for (const [n, den] of [[d, 1], [m, 1], [Math.round(s * 10000), 10000]]) { u32(n); u32(den); }
  }
  const header = Buffer.alloc(10);
  header.writeUInt16BE(0xffe1, 0);
  header.writeUInt16BE(2 + 6 + t.length, 2);
  header.write('Exif\0\0', 4, 'latin1');
  const at = jpeg[2] === 0xff && jpeg[3] === 0xe0 ? 4 + jpeg.readUInt16BE(4) : 2;
  return Buffer.concat([jpeg.subarray(0, at), header, t, jpeg.subarray(at)]);
}

/** Uploads a file as the hub's intake channel; answers its SHA-256. */
export async function uploadMedia(hub, bytes, contentType) {
  const res = await fetch(`${hub.url}/v1/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hub.channel}`, 'content-type': contentType },
    body: bytes,
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`upload: ${res.status} ${await res.text()}`);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const stored = await res.json();
  if (stored.sha256 !== sha) throw new Error(`the hub named it ${stored.sha256}, not ${sha}`);
  return sha;
}
