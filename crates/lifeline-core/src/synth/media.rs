//! Media as a citizen's phone sends it, for drills and tests: a JPEG photo with the position
//! it was taken at written into its EXIF (GPS latitude and longitude, nothing else).

/// `jpeg` with an EXIF segment naming `(lat, lon)` as where it was taken, placed after the
/// JFIF segment when there is one (as cameras write it). `jpeg` must be a JPEG.
pub fn jpeg_with_gps(jpeg: &[u8], lat: f64, lon: f64) -> Vec<u8> {
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let tiff = gps_tiff(lat, lon);
    let mut segment = vec![0xFF, 0xE1];
    let len = (2 + 6 + tiff.len()) as u16;
    segment.extend_from_slice(&len.to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    // After SOI, and after an APP0 (JFIF) segment if one follows it.
    let mut at = 2;
    if jpeg.len() > 6 && jpeg[2] == 0xFF && jpeg[3] == 0xE0 {
        at = 4 + usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
    }
    let mut out = Vec::with_capacity(jpeg.len() + segment.len());
    out.extend_from_slice(&jpeg[..at]);
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[at..]);
    out
}

/// A big-endian TIFF structure: IFD0 with one entry pointing at a GPS IFD of four entries
/// (latitude and longitude with their hemispheres), then the six rationals.
fn gps_tiff(lat: f64, lon: f64) -> Vec<u8> {
    const GPS_IFD_AT: u32 = 8 + 2 + 12 + 4;
    const DATA_AT: u32 = GPS_IFD_AT + 2 + 4 * 12 + 4;
    let mut t = Vec::with_capacity(DATA_AT as usize + 48);
    t.extend_from_slice(b"MM\0\x2a");
    t.extend_from_slice(&8u32.to_be_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&kind.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    };
    const ASCII: u16 = 2;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    // IFD0: the GPS IFD's offset.
    t.extend_from_slice(&1u16.to_be_bytes());
    entry(&mut t, 0x8825, LONG, 1, GPS_IFD_AT.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    // GPS IFD.
    t.extend_from_slice(&4u16.to_be_bytes());
    let hemisphere = |positive: bool, yes: u8, no: u8| [if positive { yes } else { no }, 0, 0, 0];
    entry(&mut t, 1, ASCII, 2, hemisphere(lat >= 0.0, b'N', b'S'));
    entry(&mut t, 2, RATIONAL, 3, DATA_AT.to_be_bytes());
    entry(&mut t, 3, ASCII, 2, hemisphere(lon >= 0.0, b'E', b'W'));
    entry(&mut t, 4, RATIONAL, 3, (DATA_AT + 24).to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    for value in [lat.abs(), lon.abs()] {
        let degrees = value.trunc();
        let minutes = ((value - degrees) * 60.0).trunc();
        let seconds = ((value - degrees) * 60.0 - minutes) * 60.0;
        for (n, d) in [
            (degrees as u32, 1u32),
            (minutes as u32, 1),
            ((seconds * 10_000.0).round() as u32, 10_000),
        ] {
            t.extend_from_slice(&n.to_be_bytes());
            t.extend_from_slice(&d.to_be_bytes());
        }
    }
    t
}
