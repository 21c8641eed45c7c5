//! Places by name, in either language: the cities and provinces an officer can pick as the
//! region the desk watches (`geo::cities`).

use lifeline_core::geo::cities::{self, Found};

use super::DeskState;
use crate::dto::{PlaceChoice, Region};

/// How many places a search offers.
const OFFERED: usize = 8;

/// Cities and provinces whose name (Chinese or English) begins with `query`, most
/// populous first, each with the box the desk would watch.
#[tauri::command(async)]
pub fn find_places(desk: DeskState<'_>, query: String) -> Vec<PlaceChoice> {
    let language = desk.settings().language;
    cities::find(&query, OFFERED)
        .into_iter()
        .filter_map(|found| {
            let b = found.region()?;
            let region = Region {
                west: b.west,
                south: b.south,
                east: b.east,
                north: b.north,
            };
            Some(match found {
                Found::City(c) => PlaceChoice {
                    kind: "city".into(),
                    code: c.subdivision.unwrap_or(c.country).to_owned(),
                    label: match c.province_name(&language) {
                        Some(province) => {
                            format!("{} · {province} · {}", c.name_in(&language), c.country)
                        }
                        None => format!("{} · {}", c.name_in(&language), c.country),
                    },
                    region,
                },
                Found::Subdivision(s) => PlaceChoice {
                    kind: "subdivision".into(),
                    code: s.code.to_owned(),
                    label: format!("{} ({})", s.name_in(&language), s.code),
                    region,
                },
            })
        })
        .collect()
}
