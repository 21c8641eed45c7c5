//! Searching the queue as an officer types: by phone number (whole or partial, with or
//! without the country code), alongside the text search.

use lifeline_core::model::Citizen;
use lifeline_core::store::RequestQuery;

mod common;
use common::*;

/// The ids of the requests a search for `text` finds, sorted.
fn found(store: &lifeline_core::store::Store, text: &str) -> Vec<String> {
    let (_, rows) = store
        .indexed_page(&RequestQuery {
            text: Some(text.into()),
            ..RequestQuery::default()
        })
        .expect("query");
    let mut ids: Vec<String> = rows.into_iter().map(|r| r.request.id).collect();
    ids.sort();
    ids
}

#[test]
fn a_phone_number_finds_its_request_however_it_is_typed() {
    let (_dir, store) = open_store();
    let mut chinese = request("R-CN", 13.7, 100.5);
    chinese.citizen = Citizen {
        name: "Li Na".into(),
        phone: Some("+86 138-0013-8000".into()),
        ..Citizen::default()
    };
    let mut turkish = request("R-TR", 41.0, 29.0);
    turkish.citizen.phone = Some("+905321234567".into());
    let mut none = request("R-NONE", 41.0, 29.0);
    none.citizen.phone = None;
    store
        .upsert_requests(
            &[incoming(chinese), incoming(turkish), incoming(none)],
            "test",
            None,
        )
        .expect("upsert");
    store.catch_up_index().expect("indexed");
    store.enable_index().expect("index");
    let found = |text: &str| found(&store, text);
    for typed in [
        "+8613800138000",
        "13800138000",
        "138 0013 8000",
        "0086 138 0013 8000",
        "8000",
    ] {
        assert_eq!(found(typed), ["R-CN"], "typed {typed:?}");
    }
    for typed in ["+90 532 123 45 67", "05321234567", "532-123"] {
        assert_eq!(found(typed), ["R-TR"], "typed {typed:?}");
    }
    assert!(found("999999").is_empty());
    assert_eq!(found("Li Na"), ["R-CN"], "names are still text");
}

#[test]
fn a_place_name_in_either_language_finds_the_requests_made_there() {
    let (_dir, store) = open_store();
    // Neither description nor address says where: only the position does.
    let mut old_town = request("R-CM", 18.7877, 98.9931);
    old_town.description = "钱包被偷".into();
    let mut san_kamphaeng = request("R-SK", 18.745, 99.12); // same province, another town
    san_kamphaeng.description = "lost passport".into();
    let bangkok = request("R-BKK", 13.7563, 100.5018);
    let helsinki = request("R-HEL", 60.1699, 24.9384);
    let lima = request("R-PE", -12.0464, -77.0428);
    store
        .upsert_requests(
            &[
                incoming(old_town),
                incoming(san_kamphaeng),
                incoming(bangkok),
                incoming(helsinki),
                incoming(lima),
            ],
            "test",
            None,
        )
        .expect("upsert");
    store.catch_up_index().expect("indexed");
    store.enable_index().expect("index");
    let found = |text: &str| found(&store, text);
    assert_eq!(
        found("清迈府"),
        ["R-CM", "R-SK"],
        "the province, in Chinese"
    );
    assert_eq!(found("曼谷"), ["R-BKK"], "a city, in Chinese");
    assert_eq!(found("Bangkok"), ["R-BKK"], "and in English");
    assert_eq!(found("赫尔辛基"), ["R-HEL"]);
    assert_eq!(found("Uusimaa"), ["R-HEL"], "Helsinki's region");
    assert_eq!(
        found("清迈 钱包"),
        ["R-CM"],
        "a place and a word of the text"
    );
    assert!(found("伊斯坦布尔").is_empty());
    // Place names are whole words: a surname typed as a prefix, or one character, does
    // not find everyone near Lima or 清迈.
    assert_eq!(found("Lima"), ["R-PE"]);
    assert!(found("Li").is_empty(), "{:?}", found("Li"));
    assert!(found("清").is_empty(), "{:?}", found("清"));
}
