//! Geometry on longitude/latitude: bounding boxes that may cross the antimeridian,
//! point-in-polygon with holes, splitting rings at the antimeridian, circles.
//!
//! Conventions: coordinates are `[lon, lat]` (GeoJSON order) unless a name says `lat_lon`;
//! polygons are planar in lon/lat (RFC 7946 §3.1.1), distances are great-circle.

pub mod antimeridian;
pub mod cities;
pub mod fold;
pub mod places;
pub mod subdivisions;

pub use antimeridian::{PolygonCoords, Ring, normalize_polygon, split_ring_at_antimeridian};
pub use geojson::Position;

/// Mean Earth radius used for great-circle distances (metres).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A bounding box. `west > east` means the box crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

impl BBox {
    pub const WORLD: BBox = BBox {
        west: -180.0,
        south: -90.0,
        east: 180.0,
        north: 90.0,
    };

    /// Parses `W,S,E,N`; a box with W > E crosses the antimeridian.
    pub fn parse(text: &str) -> Result<BBox, String> {
        let parts: Vec<f64> = text
            .split(',')
            .map(|p| {
                p.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("`{}` is not a number", p.trim()))
            })
            .collect::<Result<_, _>>()?;
        let [west, south, east, north] = parts[..] else {
            return Err(format!(
                "a box is W,S,E,N (four numbers); got {}",
                parts.len()
            ));
        };
        BBox::new(west, south, east, north)
    }

    pub fn new(west: f64, south: f64, east: f64, north: f64) -> Result<BBox, String> {
        for (name, v, limit) in [
            ("west", west, 180.0),
            ("east", east, 180.0),
            ("south", south, 90.0),
            ("north", north, 90.0),
        ] {
            if !v.is_finite() || v.abs() > limit {
                return Err(format!("{name} = {v} is outside ±{limit}"));
            }
        }
        if south > north {
            return Err(format!("south ({south}) is north of north ({north})"));
        }
        Ok(BBox {
            west,
            south,
            east,
            north,
        })
    }

    pub fn crosses_antimeridian(&self) -> bool {
        self.west > self.east
    }

    /// The box as one or two boxes that do not cross the antimeridian, for index queries.
    pub fn parts(&self) -> Vec<BBox> {
        if self.crosses_antimeridian() {
            vec![
                BBox {
                    west: self.west,
                    south: self.south,
                    east: 180.0,
                    north: self.north,
                },
                BBox {
                    west: -180.0,
                    south: self.south,
                    east: self.east,
                    north: self.north,
                },
            ]
        } else {
            vec![*self]
        }
    }

    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        if lat < self.south || lat > self.north {
            return false;
        }
        if self.crosses_antimeridian() {
            lon >= self.west || lon <= self.east
        } else {
            lon >= self.west && lon <= self.east
        }
    }

    /// The bounds of a set of `[lon, lat]` positions (never crossing: callers split first).
    pub fn of_positions<'a>(positions: impl IntoIterator<Item = &'a [f64]>) -> Option<BBox> {
        let mut b: Option<BBox> = None;
        for p in positions {
            let (lon, lat) = (p[0], p[1]);
            b = Some(match b {
                None => BBox {
                    west: lon,
                    south: lat,
                    east: lon,
                    north: lat,
                },
                Some(b) => BBox {
                    west: b.west.min(lon),
                    south: b.south.min(lat),
                    east: b.east.max(lon),
                    north: b.north.max(lat),
                },
            });
        }
        b
    }

    /// Grows the box by a fraction of its size on each side (used to pad viewport queries).
    pub fn padded(&self, fraction: f64) -> BBox {
        let width = if self.crosses_antimeridian() {
            self.east + 360.0 - self.west
        } else {
            self.east - self.west
        };
        let dx = width * fraction;
        let dy = (self.north - self.south) * fraction;
        if width + 2.0 * dx >= 360.0 {
            return BBox {
                west: -180.0,
                east: 180.0,
                south: (self.south - dy).max(-90.0),
                north: (self.north + dy).min(90.0),
            };
        }
        BBox {
            west: wrap_lon(self.west - dx),
            east: wrap_lon(self.east + dx),
            south: (self.south - dy).max(-90.0),
            north: (self.north + dy).min(90.0),
        }
    }
}

/// Wraps a longitude into -180..=180.
pub fn wrap_lon(lon: f64) -> f64 {
    if (-180.0..=180.0).contains(&lon) {
        return lon;
    }
    let wrapped = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if wrapped == -180.0 && lon > 0.0 {
        180.0
    } else {
        wrapped
    }
}

/// Great-circle distance in metres (haversine).
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// The point reached going `distance_m` from (lat, lon) on `bearing_deg`; returns `[lon, lat]`.
pub fn destination(lat: f64, lon: f64, bearing_deg: f64, distance_m: f64) -> [f64; 2] {
    let d = distance_m / EARTH_RADIUS_M;
    let (p1, l1, b) = (lat.to_radians(), lon.to_radians(), bearing_deg.to_radians());
    let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * b.cos()).asin();
    let l2 = l1 + (b.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
    [wrap_lon(l2.to_degrees()), p2.to_degrees()]
}

/// A circle as a closed ring of `segments` vertices, `[lon, lat]`, unwrapped (longitudes
/// may pass ±180 so the ring is continuous; split it before storing).
pub fn circle_ring(lat: f64, lon: f64, radius_m: f64, segments: usize) -> Ring {
    let mut ring: Ring = (0..segments)
        .map(|i| {
            let [x, y] = destination(lat, lon, 360.0 * i as f64 / segments as f64, radius_m);
            Position::from([x, y])
        })
        .collect();
    antimeridian::unwrap_ring(&mut ring);
    if let Some(first) = ring.first().cloned() {
        ring.push(first);
    }
    ring
}

/// Even-odd test of a point against one ring (`[lon, lat]` positions, closed or not).
pub fn ring_contains(ring: &[Position], lon: f64, lat: f64) -> bool {
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = (ring[i][0], ring[i][1]);
        let (xj, yj) = (ring[j][0], ring[j][1]);
        if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// A polygon (outer ring, then holes) contains the point when the outer ring does and no
/// hole does.
pub fn polygon_contains(rings: &[Ring], lon: f64, lat: f64) -> bool {
    match rings.split_first() {
        Some((outer, holes)) => {
            ring_contains(outer, lon, lat) && !holes.iter().any(|h| ring_contains(h, lon, lat))
        }
        None => false,
    }
}

/// Whether a GeoJSON geometry (polygons, multipolygons, collections) contains the point.
/// Points and lines contain nothing.
pub fn geometry_contains(geometry: &geojson::Geometry, lon: f64, lat: f64) -> bool {
    use geojson::GeometryValue as G;
    match &geometry.value {
        G::Polygon { coordinates } => polygon_contains(coordinates, lon, lat),
        G::MultiPolygon { coordinates } => {
            coordinates.iter().any(|p| polygon_contains(p, lon, lat))
        }
        G::GeometryCollection { geometries } => {
            geometries.iter().any(|g| geometry_contains(g, lon, lat))
        }
        _ => false,
    }
}

/// Bounding boxes of every polygon part of a geometry (one per part, so an area split at
/// the antimeridian gets two small boxes instead of one spanning the world).
pub fn geometry_part_bounds(geometry: &geojson::Geometry) -> Vec<BBox> {
    use geojson::GeometryValue as G;
    let mut out = Vec::new();
    match &geometry.value {
        G::Point { coordinates } => out.extend(BBox::of_positions([coordinates.as_slice()])),
        G::MultiPoint { coordinates } | G::LineString { coordinates } => out.extend(
            BBox::of_positions(coordinates.iter().map(Position::as_slice)),
        ),
        G::MultiLineString { coordinates } => out.extend(
            coordinates
                .iter()
                .filter_map(|l| BBox::of_positions(l.iter().map(Position::as_slice))),
        ),
        G::Polygon { coordinates } => out.extend(
            coordinates
                .first()
                .and_then(|r| BBox::of_positions(r.iter().map(Position::as_slice))),
        ),
        G::MultiPolygon { coordinates } => out.extend(coordinates.iter().filter_map(|p| {
            p.first()
                .and_then(|r| BBox::of_positions(r.iter().map(Position::as_slice)))
        })),
        G::GeometryCollection { geometries } => geometries
            .iter()
            .for_each(|g| out.extend(geometry_part_bounds(g))),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(w: f64, s: f64, e: f64, n: f64) -> Ring {
        [[w, s], [e, s], [e, n], [w, n], [w, s]]
            .into_iter()
            .map(Position::from)
            .collect()
    }

    #[test]
    fn point_in_polygon_respects_holes() {
        let polygon = vec![square(0.0, 0.0, 10.0, 10.0), square(4.0, 4.0, 6.0, 6.0)];
        let check = |lon, lat, want| {
            assert_eq!(polygon_contains(&polygon, lon, lat), want, "({lon},{lat})")
        };
        check(1.0, 1.0, true);
        check(5.0, 5.0, false); // in the hole
        check(11.0, 5.0, false);
        check(3.9, 5.0, true);
    }

    #[test]
    fn bbox_across_antimeridian() {
        let b = BBox::parse("170,-20,-170,-10").expect("valid box");
        assert!(b.crosses_antimeridian());
        assert!(b.contains(178.4, -18.1), "Suva");
        assert!(b.contains(-175.2, -15.0));
        assert!(!b.contains(0.0, -15.0));
        assert_eq!(b.parts().len(), 2);
    }

    #[test]
    fn distances_are_great_circle() {
        // Beijing to Shanghai ≈ 1,067 km.
        let d = distance_m(39.9042, 116.4074, 31.2304, 121.4737);
        assert!((d - 1_067_000.0).abs() < 10_000.0, "{d}");
    }

    #[test]
    fn wrap_lon_keeps_range() {
        assert_eq!(wrap_lon(190.0), -170.0);
        assert_eq!(wrap_lon(-190.0), 170.0);
        assert_eq!(wrap_lon(180.0), 180.0);
    }
}
