//! Region packs: the test pack of central Helsinki (an OpenStreetMap extract, see
//! `tests/maps/README.md`) reads tile for tile, and a cut or damaged copy is refused with a
//! message, never a crash.

use std::path::PathBuf;

use lifeline_core::maps::{self, Pack, PackError};

fn helsinki() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/maps/helsinki.pmtiles")
}

/// The tiles `z/x/y` covering `bounds` at zoom `z`.
fn tiles_over(bounds: [f64; 4], z: u8) -> Vec<(u32, u32)> {
    let n = f64::from(1u32 << z);
    let x = |lon: f64| ((lon + 180.0) / 360.0 * n).floor() as u32;
    let y = |lat: f64| {
        let r = lat.to_radians();
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32
    };
    let [w, s, e, north] = bounds;
    let mut out = Vec::new();
    for tx in x(w)..=x(e) {
        for ty in y(north)..=y(s) {
            out.push((tx, ty));
        }
    }
    out
}

#[test]
fn every_tile_of_the_test_pack_is_found_and_decodes() {
    let (pack, info) = maps::describe(&helsinki()).expect("the test pack");
    assert_eq!((info.min_zoom, info.max_zoom), (10, 16));
    assert!(
        info.attribution.contains("OpenStreetMap"),
        "{}",
        info.attribution
    );
    for layer in ["roads", "buildings", "places"] {
        assert!(
            info.layers.iter().any(|l| l == layer),
            "{layer} in {:?}",
            info.layers
        );
    }
    let [w, s, e, n] = info.bounds;
    assert!((24.9..25.0).contains(&w) && (60.1..60.2).contains(&s) && e > w && n > s);
    let mut found = 0u64;
    for z in info.min_zoom..=info.max_zoom {
        for (x, y) in tiles_over(info.bounds, z) {
            if let Some(tile) = pack.tile(z, x, y).expect("reads") {
                // A vector tile is a protocol buffer: its first field is a layer (tag 0x1a).
                assert_eq!(
                    tile.first(),
                    Some(&0x1a),
                    "{z}/{x}/{y} is a decompressed MVT"
                );
                found += 1;
            }
        }
    }
    assert_eq!(
        found, pack.header.addressed_tiles,
        "every tile the pack addresses"
    );
    assert_eq!(
        pack.tile(9, 291, 148).expect("reads"),
        None,
        "below its zooms"
    );
    assert_eq!(
        pack.tile(14, 0, 0).expect("reads"),
        None,
        "outside its area"
    );
}

#[test]
fn a_cut_or_damaged_pack_is_refused_with_a_message() {
    let bytes = std::fs::read(helsinki()).expect("the test pack");
    let dir = tempfile::tempdir().expect("tempdir");
    let cut = dir.path().join("cut.pmtiles");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let err = Pack::open(&cut).expect_err("half a pack");
    assert!(matches!(err, PackError::Damaged(_)), "{err}");
    assert!(err.to_string().contains("cut short or damaged"), "{err}");

    let not = dir.path().join("not.pmtiles");
    std::fs::write(&not, b"<html>404</html>").expect("write");
    assert!(matches!(Pack::open(&not), Err(PackError::NotPmtiles(_))));

    // A pack whose directory bytes are garbage: refused at open, not at draw time.
    let mut garbled = bytes.clone();
    let root = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) as usize;
    for b in &mut garbled[root..root + 40] {
        *b = 0xff;
    }
    let bad = dir.path().join("bad.pmtiles");
    std::fs::write(&bad, &garbled).expect("write");
    assert!(Pack::open(&bad).is_err());

    // A pack cut after it was opened: reads fail, they do not crash.
    let shrinking = dir.path().join("shrinking.pmtiles");
    std::fs::write(&shrinking, &bytes).expect("write");
    let pack = Pack::open(&shrinking).expect("whole");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&shrinking)
        .expect("open")
        .set_len(200)
        .expect("truncate");
    let [w, s, e, n] = pack.header.bounds;
    let any = tiles_over([w, s, e, n], 14)
        .into_iter()
        .map(|(x, y)| pack.tile(14, x, y))
        .collect::<Vec<_>>();
    assert!(
        any.iter().any(|r| r.is_err()),
        "reads past the new end are errors"
    );

    // The folder lists what it can draw and says why it refuses the rest.
    let folder = dir.path().join("maps");
    let info = maps::import(&helsinki(), &folder).expect("import");
    assert_eq!(info.id, "helsinki");
    std::fs::copy(&cut, folder.join("cut.pmtiles")).expect("copy");
    let (packs, refused) = maps::list(&folder);
    assert_eq!(packs.len(), 1);
    assert_eq!(refused.len(), 1);
    assert!(refused[0].reason.contains("cut short"), "{:?}", refused[0]);
    assert!(
        maps::import(&cut, &folder).is_err(),
        "a cut pack is not imported"
    );
    assert!(maps::remove(&folder, "helsinki").expect("remove"));
    assert!(!maps::remove(&folder, "../etc").expect("not a pack id"));
}
