//! Polygons that cross the antimeridian or enclose a pole.
//!
//! Feeds publish such rings as-is (a Fiji cyclone warning hops from 179.5 to -179.5). Drawn
//! or queried naively, the ring spans the whole world. We store every polygon split at ±180
//! (RFC 7946 §3.1.9), so each part is an ordinary planar polygon for the R*Tree, for
//! point-in-polygon and for the map.

use geojson::Position;

/// A closed list of `[lon, lat]` positions.
pub type Ring = Vec<Position>;
/// A polygon as GeoJSON coordinates: outer ring, then holes.
pub type PolygonCoords = Vec<Ring>;

/// Makes consecutive longitudes differ by at most 180° by adding or subtracting 360°, so
/// the ring is continuous (longitudes may leave -180..180).
pub fn unwrap_ring(ring: &mut [Position]) {
    for i in 1..ring.len() {
        let prev = ring[i - 1][0];
        let mut lon = ring[i][0];
        while lon - prev > 180.0 {
            lon -= 360.0;
        }
        while lon - prev < -180.0 {
            lon += 360.0;
        }
        ring[i][0] = lon;
    }
}

/// Checks a linear ring: at least four positions, finite, in range, first equal to last.
pub fn check_ring(ring: &[Position]) -> Result<(), String> {
    if ring.len() < 4 {
        return Err(format!(
            "a ring needs at least 4 positions, this one has {}",
            ring.len()
        ));
    }
    for p in ring {
        if p.len() < 2 {
            return Err("a position needs a longitude and a latitude".into());
        }
        let (lon, lat) = (p[0], p[1]);
        // Longitudes a little past ±180 are how some feeds (GDACS) write a ring that crosses
        // the antimeridian; they are wrapped and unwrapped again below.
        if !lon.is_finite() || !lat.is_finite() || lon.abs() > 540.0 || lat.abs() > 90.0 {
            return Err(format!(
                "position [{lon}, {lat}] is outside [-180..180, -90..90]"
            ));
        }
    }
    let (first, last) = (&ring[0], &ring[ring.len() - 1]);
    if first[0] != last[0] || first[1] != last[1] {
        return Err(format!(
            "the ring is not closed: it starts at [{}, {}] and ends at [{}, {}]",
            first[0], first[1], last[0], last[1]
        ));
    }
    Ok(())
}

/// Validates a polygon and returns it as one or more parts, none crossing ±180.
/// A ring that goes once around the Earth (it encloses a pole) is closed through that pole.
pub fn normalize_polygon(rings: &[Ring]) -> Result<Vec<PolygonCoords>, String> {
    let Some((outer, holes)) = rings.split_first() else {
        return Err("a polygon needs an outer ring".into());
    };
    check_ring(outer)?;
    for hole in holes {
        check_ring(hole)?;
    }
    let mut outer: Ring = outer
        .iter()
        .map(|p| Position::from([super::wrap_lon(p[0]), p[1]]))
        .collect();
    unwrap_ring(&mut outer);
    let span = outer[outer.len() - 1][0] - outer[0][0];
    if span.abs() > 1e-9 {
        // The unwrapped ring does not come back to its start: it circles a pole.
        let mean_lat = outer.iter().map(|p| p[1]).sum::<f64>() / outer.len() as f64;
        let pole = if mean_lat >= 0.0 { 90.0 } else { -90.0 };
        let (first_lon, last_lon) = (outer[0][0], outer[outer.len() - 1][0]);
        outer.push(Position::from([last_lon, pole]));
        outer.push(Position::from([first_lon, pole]));
        outer.push(outer[0].clone());
    }
    let (min_lon, max_lon) = lon_range(&outer);
    let mut holes: Vec<Ring> = holes
        .iter()
        .map(|h| {
            let mut h: Ring = h
                .iter()
                .map(|p| Position::from([super::wrap_lon(p[0]), p[1]]))
                .collect();
            unwrap_ring(&mut h);
            // Move the hole into the same copy of the world as the outer ring.
            let (hmin, hmax) = lon_range(&h);
            let centre = (hmin + hmax) / 2.0;
            let shift = if centre < min_lon - 1e-9 {
                360.0
            } else if centre > max_lon + 1e-9 {
                -360.0
            } else {
                0.0
            };
            h.iter_mut().for_each(|p| p[0] += shift);
            h
        })
        .collect();

    if min_lon >= -180.0 && max_lon <= 180.0 {
        let mut polygon = vec![outer];
        polygon.append(&mut holes);
        return Ok(vec![polygon]);
    }
    // Cut into one part per 360° window the ring touches and shift each part home.
    let first_window = ((min_lon + 180.0) / 360.0).floor() as i64;
    let last_window = ((max_lon + 180.0) / 360.0).ceil() as i64 - 1;
    let mut parts = Vec::new();
    for k in first_window..=last_window {
        let lo = -180.0 + 360.0 * k as f64;
        let hi = lo + 360.0;
        let shift = -360.0 * k as f64;
        let Some(clipped_outer) = clip_ring_to_band(&outer, lo, hi) else {
            continue;
        };
        let mut part = vec![shifted(clipped_outer, shift)];
        for hole in &holes {
            if let Some(h) = clip_ring_to_band(hole, lo, hi) {
                part.push(shifted(h, shift));
            }
        }
        parts.push(part);
    }
    if parts.is_empty() {
        return Err("the polygon has no area".into());
    }
    Ok(parts)
}

/// Splits one ring (no holes) at the antimeridian; convenience for callers with bare rings.
pub fn split_ring_at_antimeridian(ring: &[Position]) -> Result<Vec<PolygonCoords>, String> {
    normalize_polygon(std::slice::from_ref(&ring.to_vec()))
}

fn lon_range(ring: &[Position]) -> (f64, f64) {
    ring.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p[0]), hi.max(p[0]))
        })
}

fn shifted(mut ring: Ring, dx: f64) -> Ring {
    for p in &mut ring {
        // Snap the cut edge to exactly ±180 so parts meet without a sliver.
        p[0] = (p[0] + dx).clamp(-180.0, 180.0);
    }
    ring
}

/// Sutherland–Hodgman against the vertical band lo <= x <= hi. Returns a closed ring, or
/// `None` when nothing of the ring lies inside the band.
fn clip_ring_to_band(ring: &[Position], lo: f64, hi: f64) -> Option<Ring> {
    let open: Ring = ring[..ring.len().saturating_sub(1)].to_vec();
    let left = clip_half_plane(&open, |x| x >= lo, lo);
    let both = clip_half_plane(&left, |x| x <= hi, hi);
    if both.len() < 3 {
        return None;
    }
    let mut closed = both;
    closed.push(closed[0].clone());
    Some(closed)
}

fn clip_half_plane(points: &[Position], inside: impl Fn(f64) -> bool, x_edge: f64) -> Ring {
    let mut out = Vec::with_capacity(points.len() + 4);
    if points.is_empty() {
        return out;
    }
    let mut prev = &points[points.len() - 1];
    for cur in points {
        let (pin, cin) = (inside(prev[0]), inside(cur[0]));
        if cin {
            if !pin {
                out.push(crossing(prev, cur, x_edge));
            }
            out.push(cur.clone());
        } else if pin {
            out.push(crossing(prev, cur, x_edge));
        }
        prev = cur;
    }
    out
}

fn crossing(a: &Position, b: &Position, x: f64) -> Position {
    let t = (x - a[0]) / (b[0] - a[0]);
    Position::from([x, a[1] + t * (b[1] - a[1])])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::polygon_contains;

    fn ring(points: &[[f64; 2]]) -> Ring {
        points.iter().copied().map(Position::from).collect()
    }

    #[test]
    fn ring_across_antimeridian_is_split_in_two() {
        // Around Fiji: 177E .. 178W.
        let ring = ring(&[
            [177.0, -20.0],
            [-178.0, -20.0],
            [-178.0, -15.0],
            [177.0, -15.0],
            [177.0, -20.0],
        ]);
        let parts = normalize_polygon(&[ring]).expect("valid ring");
        assert_eq!(parts.len(), 2, "{parts:?}");
        for part in &parts {
            for p in &part[0] {
                assert!((-180.0..=180.0).contains(&p[0]), "{p:?} left the world");
            }
        }
        let inside = |lon, lat| parts.iter().any(|p| polygon_contains(p, lon, lat));
        assert!(inside(178.4, -18.1), "Suva, east of 177E");
        assert!(inside(-179.0, -17.0), "west of the antimeridian");
        assert!(!inside(0.0, -17.0), "Greenwich is not in a Fiji box");
        assert!(!inside(170.0, -17.0));
    }

    #[test]
    fn pole_enclosing_ring_is_closed_through_the_pole() {
        // A band around Antarctica: longitudes run once around the world.
        let ring = ring(&[
            [-180.0, -60.0],
            [-90.0, -60.0],
            [0.0, -60.0],
            [90.0, -60.0],
            [180.0, -60.0],
            [-180.0, -60.0],
        ]);
        let parts = normalize_polygon(&[ring]).expect("valid ring");
        let inside = |lon, lat| parts.iter().any(|p| polygon_contains(p, lon, lat));
        assert!(inside(45.0, -80.0), "south of the ring is inside");
        assert!(inside(-120.0, -70.0));
        assert!(!inside(45.0, -50.0), "north of the ring is outside");
    }

    #[test]
    fn longitudes_past_180_are_wrapped_then_split() {
        // As GDACS publishes a ring around Fiji: -178.5 down to -180.4.
        let ring = ring(&[
            [-178.5, -22.1],
            [-180.4, -22.1],
            [-180.4, -21.2],
            [-178.5, -21.2],
            [-178.5, -22.1],
        ]);
        let parts = normalize_polygon(&[ring]).expect("valid ring");
        assert_eq!(parts.len(), 2);
        let inside = |lon, lat| parts.iter().any(|p| polygon_contains(p, lon, lat));
        assert!(inside(179.8, -21.5), "the part east of the antimeridian");
        assert!(inside(-179.0, -21.5));
    }

    #[test]
    fn unclosed_ring_is_an_error() {
        let ring = ring(&[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
        let err = normalize_polygon(&[ring]).expect_err("unclosed");
        assert!(err.contains("not closed"), "{err}");
    }

    #[test]
    fn ordinary_ring_is_unchanged() {
        let ring = ring(&[[10.0, 10.0], [20.0, 10.0], [20.0, 20.0], [10.0, 10.0]]);
        let parts = normalize_polygon(std::slice::from_ref(&ring)).expect("valid ring");
        assert_eq!(parts, vec![vec![ring]]);
    }
}
