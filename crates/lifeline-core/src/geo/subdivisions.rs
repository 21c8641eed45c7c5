//! ISO 3166-2 subdivisions (provinces, states, regions) with their names in both languages:
//! `data/subdivisions.tsv`, made from Debian's `iso-codes` by `data/make-subdivisions.py`.
//! A CAP alert that names its area only by subdivision codes is shown with their names.

use std::collections::HashMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../../data/subdivisions.tsv");

/// One subdivision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subdivision {
    /// `TR-34`.
    pub code: &'static str,
    /// `Province`, `State`, `Region`…
    pub kind: &'static str,
    /// Its name as ISO 3166-2 gives it (`İstanbul`).
    pub name: &'static str,
    /// Its Simplified Chinese name, when there is one (`伊斯坦布尔`).
    pub name_zh: Option<&'static str>,
    /// The subdivision it lies in, for a second level (`ES-LE` León lies in `ES-CL`
    /// Castilla y León).
    pub parent: Option<&'static str>,
}

impl Subdivision {
    /// The name for an officer reading `language` (`zh` or `en`).
    pub fn name_in(&self, language: &str) -> &'static str {
        match (language.starts_with("zh"), self.name_zh) {
            (true, Some(zh)) => zh,
            _ => self.name,
        }
    }
}

fn table() -> &'static HashMap<&'static str, Subdivision> {
    static TABLE_BY_CODE: OnceLock<HashMap<&'static str, Subdivision>> = OnceLock::new();
    TABLE_BY_CODE.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| {
                let mut f = l.split('\t');
                let (code, kind, name) = (f.next()?, f.next()?, f.next()?);
                let name_zh = f.next().filter(|z| !z.is_empty());
                let parent = f.next().filter(|p| !p.is_empty());
                Some((
                    code,
                    Subdivision {
                        code,
                        kind,
                        name,
                        name_zh,
                        parent,
                    },
                ))
            })
            .collect()
    })
}

/// The subdivision with this ISO 3166-2 code (any case: `tr-34` is `TR-34`).
pub fn by_code(code: &str) -> Option<Subdivision> {
    table()
        .get(code.trim().to_ascii_uppercase().as_str())
        .copied()
}

/// A subdivision's code, then its parent's, and so on up (at most a few levels).
pub fn lineage(code: &'static str) -> impl Iterator<Item = &'static str> {
    std::iter::successors(Some(code), |c| by_code(c).and_then(|s| s.parent)).take(4)
}

/// Every subdivision, in no particular order.
pub fn all() -> impl Iterator<Item = &'static Subdivision> {
    table().values()
}

/// Whether a CAP `geocode`'s `valueName` says the value is an ISO 3166-2 code (feeds write
/// it several ways).
pub fn is_iso_3166_2(value_name: &str) -> bool {
    let squeezed: String = value_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    squeezed == "iso31662"
}

/// The names of the ISO 3166-2 subdivisions among `geocodes` (`(valueName, value)` pairs),
/// in `language`, with their codes: `伊斯坦布尔 (TR-34)`.
pub fn names_of_geocodes(geocodes: &[(String, String)], language: &str) -> Vec<String> {
    geocodes
        .iter()
        .filter(|(name, _)| is_iso_3166_2(name))
        .filter_map(|(_, value)| by_code(value))
        .map(|s| format!("{} ({})", s.name_in(language), s.code))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdivisions_have_their_names_in_both_languages() {
        let istanbul = by_code("tr-34").expect("TR-34");
        assert_eq!(istanbul.name_in("en"), "İstanbul");
        assert_eq!(istanbul.name_in("zh"), "伊斯坦布尔");
        assert_eq!(by_code("TH-50").map(|s| s.name_in("zh")), Some("清迈府"));
        // No Chinese name in iso-codes: the ISO name, in both languages.
        let uusimaa = by_code("FI-18").expect("FI-18");
        assert_eq!(uusimaa.name_in("zh"), "Uusimaa");
        assert!(by_code("XX-99").is_none());
        assert_eq!(lineage("ES-LE").collect::<Vec<_>>(), ["ES-LE", "ES-CL"]);
        assert_eq!(lineage("GB-BFS").collect::<Vec<_>>(), ["GB-BFS", "GB-NIR"]);
        assert!(table().len() > 5000);
    }

    #[test]
    fn a_cap_areas_iso_geocodes_are_named_and_others_ignored() {
        let geocodes = vec![
            ("ISO 3166-2".to_owned(), "TR-34".to_owned()),
            ("iso3166-2".to_owned(), "TR-41".to_owned()),
            ("SAME".to_owned(), "006109".to_owned()),
            ("ISO3166-2".to_owned(), "nonsense".to_owned()),
        ];
        assert_eq!(
            names_of_geocodes(&geocodes, "zh"),
            ["伊斯坦布尔 (TR-34)", "科贾埃利 (TR-41)"]
        );
        assert_eq!(
            names_of_geocodes(&geocodes, "en"),
            ["İstanbul (TR-34)", "Kocaeli (TR-41)"]
        );
    }
}
