//! Synthetic but plausible help requests, reproducible from a seed: for the hub's drill
//! simulator, the benchmarks and tests.
//!
//! Citizens are mostly Chinese nationals abroad (names in Chinese characters or pinyin,
//! +86 mobile numbers); descriptions are written in Chinese or English from templates per
//! category, with the place filled in. Positions scatter around real cities (see
//! [`crate::geo::places`]) with a density that falls off with distance.

pub mod media;

use chrono::{DateTime, Duration, Utc};

use crate::geo::places::Place;
use crate::geo::{destination, places::PLACES};
use crate::model::{
    Attachment, Category, Channel, Citizen, HelpRequest, Location, Priority, Status,
};

/// SplitMix64: tiny, fast and stable across versions, so a seed replays the same drill.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

const SURNAMES: &[(&str, &str)] = &[
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("黄", "Huang"),
    ("赵", "Zhao"),
    ("吴", "Wu"),
    ("周", "Zhou"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("马", "Ma"),
    ("朱", "Zhu"),
    ("胡", "Hu"),
    ("郭", "Guo"),
    ("何", "He"),
    ("林", "Lin"),
    ("罗", "Luo"),
    ("高", "Gao"),
];
const GIVEN: &[(&str, &str)] = &[
    ("伟", "Wei"),
    ("芳", "Fang"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("丽", "Li"),
    ("强", "Qiang"),
    ("磊", "Lei"),
    ("军", "Jun"),
    ("洋", "Yang"),
    ("勇", "Yong"),
    ("艳", "Yan"),
    ("杰", "Jie"),
    ("涛", "Tao"),
    ("明", "Ming"),
    ("超", "Chao"),
    ("秀英", "Xiuying"),
    ("建华", "Jianhua"),
    ("志强", "Zhiqiang"),
    ("晓燕", "Xiaoyan"),
];

/// (category, Chinese template, English template); `{city}` is replaced by the place.
const TEMPLATES: &[(Category, &str, &str)] = &[
    (
        Category::Medical,
        "我在{city}突发胸痛，需要就医帮助，不会说当地语言",
        "Sudden chest pain in {city}, need help finding a hospital, I do not speak the language",
    ),
    (
        Category::Medical,
        "孩子在{city}高烧不退，医院要求预付押金",
        "My child has a high fever in {city}; the hospital asks for a deposit first",
    ),
    (
        Category::Detention,
        "我的丈夫在{city}机场被警方带走，原因不明",
        "My husband was taken by police at {city} airport, no reason given",
    ),
    (
        Category::CrimeVictim,
        "在{city}被抢劫，护照和钱包都被偷了",
        "Robbed in {city}; passport and wallet stolen",
    ),
    (
        Category::CrimeVictim,
        "在{city}遭遇电信诈骗，被骗走全部积蓄",
        "Victim of a phone scam in {city}, lost all savings",
    ),
    (
        Category::LostDocuments,
        "护照在{city}火车站丢失，明天的航班怎么办",
        "Lost my passport at {city} train station, flight tomorrow",
    ),
    (
        Category::MissingPerson,
        "我母亲在{city}旅游时失联两天了",
        "My mother has been unreachable for two days while travelling in {city}",
    ),
    (
        Category::Accident,
        "在{city}发生车祸，两人受伤，需要翻译",
        "Car accident in {city}, two injured, need an interpreter",
    ),
    (
        Category::NaturalDisaster,
        "{city}地震后被困在酒店，需要救援",
        "Trapped in a hotel in {city} after the earthquake, need rescue",
    ),
    (
        Category::NaturalDisaster,
        "{city}洪水淹了住处，我们一家五口无处可去",
        "Flood in {city} reached our home, family of five with nowhere to go",
    ),
    (
        Category::ConflictUnrest,
        "{city}街头发生枪击，我们躲在宿舍不敢出门",
        "Gunfire in the streets of {city}, we are sheltering in our dorm",
    ),
    (
        Category::Evacuation,
        "我们在{city}有二十名工人，需要撤离安排",
        "Twenty workers of our company in {city} need evacuation",
    ),
    (
        Category::Evacuation,
        "{city}机场关闭，请问撤侨航班何时出发",
        "{city} airport is closed; when does the evacuation flight leave?",
    ),
    (
        Category::WelfareCheck,
        "请帮忙确认我在{city}留学的女儿是否平安",
        "Please check that my daughter studying in {city} is safe",
    ),
    (
        Category::Other,
        "在{city}签证过期，需要咨询如何办理",
        "Visa expired in {city}, need advice on what to do",
    ),
];

/// What kind of traffic a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// The everyday mix of consular work.
    Everyday,
    /// One-tap SOS during a sudden disaster.
    Sos,
    /// A mass evacuation: evacuation and welfare requests, many people per request.
    Evacuation,
}

/// Builds one request of `flavour` near `place`, created at `at`, scattered within about
/// `spread_km` (most within a third of it).
pub fn request_near(
    rng: &mut Rng,
    id: String,
    place: &Place,
    spread_km: f64,
    at: DateTime<Utc>,
    flavour: Flavour,
) -> HelpRequest {
    let (surname_zh, surname_en) = *rng.pick(SURNAMES);
    let (given_zh, given_en) = *rng.pick(GIVEN);
    let chinese = rng.chance(0.7);
    let name = if chinese {
        format!("{surname_zh}{given_zh}")
    } else {
        format!("{given_en} {surname_en}")
    };
    let candidates: Vec<&(Category, &str, &str)> = TEMPLATES
        .iter()
        .filter(|(c, _, _)| match flavour {
            Flavour::Everyday => true,
            Flavour::Sos => matches!(
                c,
                Category::NaturalDisaster | Category::Medical | Category::Accident
            ),
            Flavour::Evacuation => matches!(
                c,
                Category::Evacuation | Category::WelfareCheck | Category::ConflictUnrest
            ),
        })
        .collect();
    let (category, zh, en) = **rng.pick(&candidates);
    let city = if chinese {
        place.name_zh
    } else {
        place.name_en
    };
    let description = if chinese {
        zh.replace("{city}", city)
    } else {
        en.replace("{city}", city)
    };
    // Distance falls off: the square of a uniform draw puts most points near the centre.
    let distance_m = spread_km * 1000.0 * rng.unit().powi(2);
    let [lon, lat] = destination(place.lat, place.lon, rng.unit() * 360.0, distance_m);
    let emergency = match flavour {
        Flavour::Sos => true,
        Flavour::Evacuation => rng.chance(0.15),
        Flavour::Everyday => rng.chance(0.04),
    };
    let priority = if emergency {
        Priority::Critical
    } else {
        *rng.pick(&[
            Priority::High,
            Priority::Normal,
            Priority::Normal,
            Priority::Normal,
            Priority::Low,
        ])
    };
    let captured = at - Duration::seconds((rng.unit() * 600.0) as i64);
    HelpRequest {
        id,
        channel: *rng.pick(&[
            Channel::App,
            Channel::App,
            Channel::App,
            Channel::Chat,
            Channel::Hotline,
            Channel::Email,
        ]),
        category,
        emergency,
        priority,
        status: Status::New,
        duplicate_of: None,
        citizen: Citizen {
            name,
            phone: Some(format!(
                "+861{}{:09}",
                rng.pick(&["3", "5", "7", "8", "9"]),
                rng.next_u64() % 1_000_000_000
            )),
            id_document: rng
                .chance(0.6)
                .then(|| format!("E{:08}", rng.next_u64() % 100_000_000)),
            nationality: Some("CN".into()),
            language: Some(if chinese { "zh-CN".into() } else { "en".into() }),
        },
        people_count: match flavour {
            Flavour::Evacuation => 1 + rng.below(30) as u32,
            _ => 1 + rng.below(4) as u32,
        },
        location: Some(Location {
            lat,
            lon,
            accuracy_m: Some(5.0 + rng.unit() * 200.0),
            captured_at: Some(captured),
            address: None,
            country: Some(place.country.into()),
        }),
        description,
        attachments: if rng.chance(0.1) {
            vec![Attachment {
                name: "photo.jpg".into(),
                media_type: "image/jpeg".into(),
                size_bytes: 200_000 + rng.next_u64() % 2_000_000,
                url: None,
            }]
        } else {
            Vec::new()
        },
        assignee: None,
        post: Some(place.post.into()),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

/// A request near a city picked at random (weighted towards the first, busiest cities).
pub fn request_anywhere(rng: &mut Rng, id: String, at: DateTime<Utc>) -> HelpRequest {
    let i = (rng.unit().powi(2) * PLACES.len() as f64) as usize;
    let place = &PLACES[i.min(PLACES.len() - 1)];
    request_near(rng, id, place, 40.0, at, Flavour::Everyday)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_requests_and_all_valid() {
        let at = DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default();
        let a: Vec<_> = (0..200)
            .map({
                let mut rng = Rng::new(7);
                move |i| request_anywhere(&mut rng, format!("r{i}"), at)
            })
            .collect();
        let mut rng = Rng::new(7);
        let b: Vec<_> = (0..200)
            .map(|i| request_anywhere(&mut rng, format!("r{i}"), at))
            .collect();
        assert_eq!(a, b, "a seed replays the same requests");
        for r in &a {
            r.validate().unwrap_or_else(|e| panic!("{}: {e}", r.id));
        }
        assert!(
            a.iter()
                .any(|r| r.description.chars().any(crate::store::search::is_cjk))
        );
        assert!(a.iter().any(|r| r.description.is_ascii()));
    }
}
