//! The world's cities of 15,000 people or more and its smaller capitals (about 34,000, from
//! GeoNames: CC BY 4.0), with their Chinese names, ISO 3166-2 subdivision, population and
//! time zone: `data/cities.tsv`, made by `data/make-cities.py`.
//!
//! Used to name where a request is in the officer's language (its nearest city and
//! province), to search by place, to place an alert that names only subdivisions at their
//! principal cities, and to pick a watched region by name. The 56 cities of `places.rs`
//! stay what a notification names: coarser, so a locked screen says less.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::fold::fold;
use super::subdivisions::{self, Subdivision};

const TABLE: &str = include_str!("../../data/cities.tsv");

/// Beyond this, a point is not "near" any city: it is named by its country only.
pub const NEAR_M: f64 = 100_000.0;

/// How far from its nearest city a point still counts as in that city's province, for an
/// alert that names only provinces: farther than [`NEAR_M`], so that the people of a
/// province's remote parts (a desert, the outback) are not left out of its alert.
pub const CONTAIN_M: f64 = 300_000.0;

/// Rings of one-degree cells searched around a point before giving up (about 660 km).
const MAX_RINGS: i32 = 6;

/// One city.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct City {
    /// Its name as GeoNames gives it (`Chiang Mai`).
    pub name: &'static str,
    /// Its Simplified Chinese name, when one is known (`清迈`).
    pub name_zh: Option<&'static str>,
    /// ISO 3166-1 alpha-2.
    pub country: &'static str,
    /// ISO 3166-2 code of its first-level subdivision (`TH-50`), when known.
    pub subdivision: Option<&'static str>,
    pub lat: f64,
    pub lon: f64,
    pub population: u32,
    /// IANA time zone.
    pub tz: &'static str,
}

impl City {
    /// The name for an officer reading `language` (`zh` or `en`).
    pub fn name_in(&self, language: &str) -> &'static str {
        match (language.starts_with("zh"), self.name_zh) {
            (true, Some(zh)) => zh,
            _ => self.name,
        }
    }

    /// Its subdivision, from the ISO 3166-2 table.
    pub fn subdivision(&self) -> Option<Subdivision> {
        self.subdivision.and_then(subdivisions::by_code)
    }

    /// Its province's name in `language`, when it is not the city's own (Chiang Mai in
    /// English): how a city is named with its province, once each.
    pub fn province_name(&self, language: &str) -> Option<&'static str> {
        let name = self.subdivision()?.name_in(language);
        (name != self.name_in(language)).then_some(name)
    }

    /// Whether it lies in this subdivision, directly or through its subdivision's parent
    /// (León in Castilla y León).
    pub fn is_in(&self, code: &str) -> bool {
        self.subdivision
            .is_some_and(|own| subdivisions::lineage(own).any(|c| c.eq_ignore_ascii_case(code)))
    }
}

struct Gazetteer {
    cities: Vec<City>,
    /// Each city's name, folded for search (`fold`), in the order of `cities`.
    folded: Vec<String>,
    /// Indexes into `cities` by one-degree cell (`floor(lat)`, `floor(lon)`).
    cells: HashMap<(i32, i32), Vec<u32>>,
    /// The most populous city of each subdivision, by ISO 3166-2 code.
    principal: HashMap<&'static str, u32>,
}

fn parse(line: &'static str) -> Option<City> {
    let mut f = line.split('\t');
    let name = f.next()?;
    let name_zh = f.next().filter(|z| !z.is_empty());
    let country = f.next()?;
    let subdivision = f.next().filter(|s| !s.is_empty());
    let lat = f.next()?.parse().ok()?;
    let lon = f.next()?.parse().ok()?;
    let population = f.next()?.parse().ok()?;
    let tz = f.next()?;
    Some(City {
        name,
        name_zh,
        country,
        subdivision,
        lat,
        lon,
        population,
        tz,
    })
}

fn cell(lat: f64, lon: f64) -> (i32, i32) {
    (lat.floor() as i32, lon.floor() as i32)
}

fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(|| {
        let cities: Vec<City> = TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(parse)
            .collect();
        let mut cells: HashMap<(i32, i32), Vec<u32>> = HashMap::new();
        let mut principal: HashMap<&'static str, u32> = HashMap::new();
        for (i, c) in cities.iter().enumerate() {
            cells.entry(cell(c.lat, c.lon)).or_default().push(i as u32);
            // The principal city of its subdivision, and of that one's parent.
            for code in c.subdivision.into_iter().flat_map(subdivisions::lineage) {
                let best = principal.entry(code).or_insert(i as u32);
                if cities[*best as usize].population < c.population {
                    *best = i as u32;
                }
            }
        }
        let folded = cities.iter().map(|c| fold(c.name)).collect();
        Gazetteer {
            cities,
            folded,
            cells,
            principal,
        }
    })
}

/// Every city, by country, most populous first.
pub fn all() -> &'static [City] {
    &gazetteer().cities
}

/// The city nearest to a point, with its distance in metres, as far as six rings of
/// one-degree cells reach around it: about 660 km north and south, less east and west
/// toward the poles (330 km at 60°).
pub fn nearest(lat: f64, lon: f64) -> Option<(&'static City, f64)> {
    nearest_within(lat, lon, f64::INFINITY)
}

/// The city nearest to a point within `max_m` metres. Searches one-degree cells ring by
/// ring, and stops once no unsearched cell can hold a nearer city, or one within `max_m`.
pub fn nearest_within(lat: f64, lon: f64, max_m: f64) -> Option<(&'static City, f64)> {
    if !lat.is_finite() || !lon.is_finite() {
        return None;
    }
    let g = gazetteer();
    let (row, col) = cell(lat, super::wrap_lon(lon));
    let mut best: Option<(&'static City, f64)> = None;
    for ring in 0..=MAX_RINGS {
        for dy in -ring..=ring {
            for dx in -ring..=ring {
                if dy.abs() != ring && dx.abs() != ring {
                    continue; // inside: searched in an earlier ring
                }
                let x = (col + dx + 180).rem_euclid(360) - 180;
                for &i in g.cells.get(&(row + dy, x)).into_iter().flatten() {
                    let c = &g.cities[i as usize];
                    let d = super::distance_m(lat, lon, c.lat, c.lon);
                    if best.is_none_or(|(_, b)| d < b) {
                        best = Some((c, d));
                    }
                }
            }
        }
        // Anything outside this ring's window is at least `ring` degrees of latitude or of
        // longitude (at the window's most poleward latitude) away.
        let poleward = (lat.abs() + f64::from(ring) + 1.0).min(89.9).to_radians();
        let bound = f64::from(ring) * 111_195.0 * poleward.cos();
        if best.is_some_and(|(_, d)| d <= bound) || bound > max_m {
            break;
        }
    }
    best.filter(|(_, d)| *d <= max_m)
}

/// The most populous city of an ISO 3166-2 subdivision: where an alert that names only
/// its subdivision is placed on the map.
pub fn principal_city(subdivision_code: &str) -> Option<&'static City> {
    let g = gazetteer();
    let code = subdivisions::by_code(subdivision_code)?.code;
    g.principal.get(code).map(|&i| &g.cities[i as usize])
}

/// The subdivisions an area names by ISO 3166-2 geocode (`(valueName, value)` pairs), each
/// with its principal city: where an alert without a polygon is placed on the map.
pub fn placed_subdivisions(geocodes: &[(String, String)]) -> Vec<(Subdivision, &'static City)> {
    geocodes
        .iter()
        .filter(|(name, _)| subdivisions::is_iso_3166_2(name))
        .filter_map(|(_, code)| subdivisions::by_code(code))
        .filter_map(|s| Some((s, principal_city(s.code)?)))
        .collect()
}

/// The box that holds every point whose nearest city (within [`CONTAIN_M`]) is in this
/// subdivision: its cities' extent widened by that distance. Indexes an area named only by
/// subdivision codes.
pub fn subdivision_extent(code: &str) -> Option<super::BBox> {
    let (south, west, north, east) = cities_extent(code)?;
    let dlat = (CONTAIN_M / super::EARTH_RADIUS_M).to_degrees();
    let poleward = south.abs().max(north.abs()) + dlat;
    if poleward >= 89.0 {
        return super::BBox::new(
            -180.0,
            (south - dlat).max(-90.0),
            180.0,
            (north + dlat).min(90.0),
        )
        .ok();
    }
    let dlon = dlat / poleward.to_radians().cos();
    if east - west + 2.0 * dlon >= 360.0 {
        return super::BBox::new(-180.0, south - dlat, 180.0, north + dlat).ok();
    }
    super::BBox::new(
        super::wrap_lon(west - dlon),
        south - dlat,
        super::wrap_lon(east + dlon),
        north + dlat,
    )
    .ok()
}

/// `(south, west, north, east)` of the cities in a subdivision (or in one within it).
fn cities_extent(code: &str) -> Option<(f64, f64, f64, f64)> {
    let code = subdivisions::by_code(code)?.code;
    let mut cities = all().iter().filter(|c| c.is_in(code));
    let first = cities.next()?;
    Some(
        cities.fold((first.lat, first.lon, first.lat, first.lon), |b, c| {
            (
                b.0.min(c.lat),
                b.1.min(c.lon),
                b.2.max(c.lat),
                b.3.max(c.lon),
            )
        }),
    )
}

/// Whether a point lies in one of these subdivisions, as far as the gazetteer can tell:
/// whether its nearest city within [`CONTAIN_M`] is in one of them (or in a subdivision of
/// one of them).
pub fn in_subdivisions(lat: f64, lon: f64, codes: &[&str]) -> bool {
    nearest_within(lat, lon, CONTAIN_M)
        .is_some_and(|(city, _)| codes.iter().any(|code| city.is_in(code)))
}

/// Where a point is, for an officer: its nearest city within [`NEAR_M`], and the city's
/// subdivision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub city: &'static City,
    pub distance_m: f64,
}

impl Near {
    /// `清迈 · 清迈府` or, farther than 5 km, `清迈 (12 km) · 清迈府`.
    pub fn text(&self, language: &str) -> String {
        let mut out = self.city.name_in(language).to_owned();
        if self.distance_m >= 5_000.0 {
            out.push_str(&format!(" ({:.0} km)", self.distance_m / 1000.0));
        }
        if let Some(province) = self.city.province_name(language) {
            out.push_str(" · ");
            out.push_str(province);
        }
        out
    }
}

/// The nearest city within [`NEAR_M`] and its subdivision.
pub fn near(lat: f64, lon: f64) -> Option<Near> {
    let (city, distance_m) = nearest_within(lat, lon, NEAR_M)?;
    Some(Near { city, distance_m })
}

/// The time zone of a point: its nearest city's, within about 600 km.
pub fn time_zone(lat: f64, lon: f64) -> Option<&'static str> {
    nearest(lat, lon).map(|(c, _)| c.tz)
}

/// What an officer may pick by name: a city or a subdivision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found {
    City(&'static City),
    Subdivision(Subdivision),
}

impl Found {
    /// A box around it: a city's surroundings (about 30 km), or the extent of a
    /// subdivision's cities with a margin. `None` for a subdivision without cities.
    pub fn region(&self) -> Option<super::BBox> {
        let (mut south, mut west, mut north, mut east) = match self {
            Found::City(c) => (c.lat, c.lon, c.lat, c.lon),
            Found::Subdivision(s) => cities_extent(s.code)?,
        };
        let margin = if matches!(self, Found::City(_)) {
            0.3
        } else {
            0.5
        };
        south = (south - margin).max(-90.0);
        north = (north + margin).min(90.0);
        west = super::wrap_lon(west - margin);
        east = super::wrap_lon(east + margin);
        super::BBox::new(west, south, east, north).ok()
    }
}

/// Cities and subdivisions whose name, in either language, has a word starting with
/// `query` (accents and case aside), or holds it, for Chinese; the exact name first, then
/// the most populous; a subdivision before its own principal city. Subdivisions without a
/// city in the gazetteer are left out: there is nowhere to watch. An empty query finds
/// nothing.
pub fn find(query: &str, limit: usize) -> Vec<Found> {
    let q = fold(query.trim());
    if q.is_empty() {
        return Vec::new();
    }
    let word_starts = |folded: &str| {
        folded
            .match_indices(q.as_str())
            .any(|(i, _)| !folded[..i].ends_with(char::is_alphanumeric))
    };
    let zh_holds = |zh: Option<&str>| zh.is_some_and(|z| z.contains(query.trim()));
    let g = gazetteer();
    // Rank: exact name first, then by population (a subdivision by its principal city's).
    let mut found: Vec<(bool, u32, Found)> = Vec::new();
    for s in subdivisions::all() {
        let folded = fold(s.name);
        if !(word_starts(&folded) || zh_holds(s.name_zh)) {
            continue;
        }
        let Some(principal) = principal_city(s.code) else {
            continue;
        };
        let exact = folded == q || s.name_zh == Some(query.trim());
        found.push((
            exact,
            principal.population.saturating_add(1),
            Found::Subdivision(*s),
        ));
    }
    for (c, folded) in g.cities.iter().zip(&g.folded) {
        if word_starts(folded) || zh_holds(c.name_zh) {
            let exact = *folded == q || c.name_zh == Some(query.trim());
            found.push((exact, c.population, Found::City(c)));
        }
    }
    let name = |f: &Found| match f {
        Found::City(c) => c.name,
        Found::Subdivision(s) => s.code,
    };
    found.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then_with(|| name(&a.2).cmp(name(&b.2)))
    });
    found.into_iter().take(limit).map(|(_, _, f)| f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_city_and_its_province_are_named_in_both_languages() {
        // A street in Chiang Mai's old town.
        let near = near(18.7877, 98.9931).expect("near Chiang Mai");
        assert_eq!(near.city.name, "Chiang Mai");
        assert_eq!(near.text("zh"), "清迈 · 清迈府");
        // The province shares the city's name in English: said once.
        assert_eq!(near.text("en"), "Chiang Mai");
        // Between cities: the distance is said.
        let far = super::near(41.30, 28.50).expect("near Istanbul");
        assert!(far.text("zh").contains(" km)"), "{}", far.text("zh"));
        assert!(super::near(0.0, -140.0).is_none(), "mid-Pacific");
    }

    #[test]
    fn nearest_within_agrees_with_a_scan_of_every_city() {
        // Fixed corners (the antimeridian both ways, Svalbard, Nuuk, mid-ocean), then points
        // spread over the globe by a fixed sequence, high latitudes included.
        let mut points = vec![
            (60.17, 24.94),
            (-18.1, 179.9),
            (-18.1, -179.9),
            (78.2, 15.6),
            (64.18, -51.72),
            (50.0, -30.0),
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..400 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let lat = (x % 15_000) as f64 / 100.0 - 70.0;
            let lon = ((x >> 20) % 36_000) as f64 / 100.0 - 180.0;
            points.push((lat, lon));
        }
        for (lat, lon) in points {
            for max_m in [NEAR_M, CONTAIN_M] {
                let scan = all()
                    .iter()
                    .map(|c| (c, crate::geo::distance_m(lat, lon, c.lat, c.lon)))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .filter(|(_, d)| *d <= max_m);
                match (scan, nearest_within(lat, lon, max_m)) {
                    (Some((a, _)), Some((b, _))) => {
                        assert_eq!(a.name, b.name, "{lat},{lon} within {max_m}")
                    }
                    (None, None) => {}
                    (a, b) => panic!("{lat},{lon} within {max_m}: scan {a:?}, grid {b:?}"),
                }
            }
        }
    }

    #[test]
    fn well_known_cities_are_in_their_provinces() {
        // Pairs the sources get wrong when taken alone (one puts Nanjing in Taiwan, Belfast
        // in North Yorkshire; GeoNames codes Chiang Mai TH.02; ISO renumbered Poland).
        for (name, country, code) in [
            ("Nanjing", "CN", "CN-JS"),
            ("Taipei", "TW", "TW-TPE"),
            ("Ho Chi Minh City", "VN", "VN-SG"),
            ("Belfast", "GB", "GB-NIR"),
            ("Warsaw", "PL", "PL-14"),
            ("Mexico City", "MX", "MX-CMX"),
            ("Chiang Mai", "TH", "TH-50"),
            ("Istanbul", "TR", "TR-34"),
            ("Nairobi", "KE", "KE-30"),
            ("Mumbai", "IN", "IN-MH"),
            ("Perth", "AU", "AU-WA"),
            ("León", "ES", "ES-CL"),
        ] {
            let city = all()
                .iter()
                .filter(|c| c.name == name && c.country == country)
                .max_by_key(|c| c.population)
                .unwrap_or_else(|| panic!("{name} is in the table"));
            assert!(
                city.is_in(code),
                "{name}: {:?}, not in {code}",
                city.subdivision
            );
        }
    }

    #[test]
    fn a_subdivision_has_its_principal_city() {
        assert_eq!(principal_city("TR-34").map(|c| c.name), Some("Istanbul"));
        assert_eq!(principal_city("th-50").map(|c| c.name), Some("Chiang Mai"));
        assert_eq!(principal_city("FI-18").map(|c| c.name), Some("Helsinki"));
        assert!(principal_city("XX-99").is_none());
    }

    #[test]
    fn an_area_named_by_codes_is_placed_at_its_principal_cities() {
        let geocodes = vec![
            ("ISO 3166-2".to_owned(), "TR-34".to_owned()),
            ("SAME".to_owned(), "006109".to_owned()),
            ("iso3166-2".to_owned(), "TR-41".to_owned()),
        ];
        let placed: Vec<(&str, &str)> = placed_subdivisions(&geocodes)
            .iter()
            .map(|(s, c)| (s.code, c.name))
            .collect();
        // The most populous city (Gebze), not the seat (İzmit): the table has no seats.
        assert_eq!(placed, [("TR-34", "Istanbul"), ("TR-41", "Gebze")]);
    }

    #[test]
    fn a_subdivision_holds_the_points_nearest_its_cities() {
        let extent = subdivision_extent("TH-50").expect("Chiang Mai province");
        // Chiang Mai's old town, and Doi Inthanon (the province's south-west).
        for (lat, lon) in [(18.7877, 98.9931), (18.5883, 98.4867)] {
            assert!(in_subdivisions(lat, lon, &["TH-50"]), "{lat},{lon}");
            assert!(extent.contains(lon, lat), "{lat},{lon} in {extent:?}");
        }
        assert!(!in_subdivisions(13.7563, 100.5018, &["TH-50"]), "Bangkok");
        assert!(in_subdivisions(13.7563, 100.5018, &["th-10", "TH-50"]));
        // A second level: León is in Castilla y León, and is found from either.
        assert!(in_subdivisions(42.6, -5.57, &["ES-CL"]));
        assert!(in_subdivisions(42.6, -5.57, &["ES-LE"]));
        // Fiji's Northern division (Labasa, by 180°): its box reaches across.
        let fiji = subdivision_extent("FJ-N").expect("Fiji Northern");
        assert!(fiji.crosses_antimeridian(), "{fiji:?}");
        assert!(fiji.contains(-179.9, -16.5), "{fiji:?}");
        // A remote place far from any city of the province is still in it.
        assert!(
            near(-29.0, 121.5).is_none(),
            "farther than a request is named by"
        );
        assert!(
            in_subdivisions(-29.0, 121.5, &["AU-WA"]),
            "the outback north of Kalgoorlie"
        );
    }

    #[test]
    fn places_are_found_by_either_name() {
        let first = |q: &str| match find(q, 5).first() {
            Some(Found::City(c)) => c.name.to_owned(),
            Some(Found::Subdivision(s)) => s.code.to_owned(),
            None => String::new(),
        };
        assert_eq!(first("清迈"), "Chiang Mai");
        assert_eq!(first("清迈府"), "TH-50");
        let typed = find("chiang m", 5);
        assert!(typed.contains(&Found::City(principal_city("TH-50").expect("Chiang Mai"))));
        assert!(typed.contains(&Found::Subdivision(
            subdivisions::by_code("TH-50").expect("TH-50")
        )));
        assert_eq!(first("赫尔辛基"), "Helsinki");
        assert_eq!(first("Uusimaa"), "FI-18");
        assert_eq!(first("izmir"), "TR-35", "İzmir, typed without its dot");
        assert_eq!(first("sao paulo"), "BR-SP");
        assert_eq!(first("paulo"), "BR-SP", "a later word of the name");
        assert!(find("  ", 5).is_empty());
        // A province with no city in the gazetteer is not offered: nowhere to watch.
        assert!(find("Jiangsu", 8).iter().all(|f| f.region().is_some()));
        let region = find("清迈府", 1)[0].region().expect("a box");
        assert!(region.contains(98.99, 18.79), "{region:?}");
    }

    #[test]
    fn the_table_is_whole() {
        assert!(all().len() > 30_000, "{}", all().len());
        for c in all() {
            assert!(c.lat.abs() <= 90.0 && c.lon.abs() <= 180.0, "{}", c.name);
            if let Some(code) = c.subdivision {
                assert!(subdivisions::by_code(code).is_some(), "{code}");
            }
        }
        assert_eq!(time_zone(18.79, 98.98), Some("Asia/Bangkok"));
    }
}
