//! The drill simulator: realistic crisis traffic at a chosen rate, reproducible from a seed.
//!
//! * `evacuation` — a mass evacuation from Khartoum: evacuation and welfare requests, families
//!   and work crews, with an armed-clashes advisory over the city.
//! * `earthquake` — a strong earthquake near Istanbul: an Extreme CAP alert, then a burst of
//!   SOS requests around the epicentre (five times the rate for the first minute).
//! * `everyday` — ordinary consular work across Southeast Asia, with a heavy-rain advisory.

pub mod citizens;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lifeline_core::cap_alert as cap;
use lifeline_core::geo::places::{Place, by_name};
use lifeline_core::model::HelpRequest;
use lifeline_core::protocol::{WireAttachment, WireIntake, WireLocation};
use lifeline_core::synth::{Flavour, Rng, request_near};

use crate::HubState;
use crate::api::EXERCISE_PREFIX;
use crate::store::{NewAdvisory, Post};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Evacuation,
    Earthquake,
    Everyday,
}

impl Scenario {
    pub const ALL: &'static [Scenario] = &[
        Scenario::Evacuation,
        Scenario::Earthquake,
        Scenario::Everyday,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Evacuation => "evacuation",
            Scenario::Earthquake => "earthquake",
            Scenario::Everyday => "everyday",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Scenario::Evacuation => {
                "mass evacuation from Khartoum: evacuation and welfare requests, an armed-clashes advisory"
            }
            Scenario::Earthquake => {
                "earthquake near Istanbul: an Extreme CAP alert, then a burst of SOS around the epicentre"
            }
            Scenario::Everyday => {
                "everyday consular work across Southeast Asia, with a heavy-rain advisory"
            }
        }
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.iter().copied().find(|x| x.name() == s)
    }
}

#[derive(Debug, Clone)]
pub struct DrillConfig {
    pub scenario: Scenario,
    /// Requests per minute (on average; arrivals are random).
    pub rate_per_minute: f64,
    pub seed: u64,
    /// Stop after this many requests (tests); run forever otherwise.
    pub limit: Option<u64>,
}

const SOUTHEAST_ASIA: &[&str] = &[
    "Bangkok",
    "Chiang Mai",
    "Phuket",
    "Kuala Lumpur",
    "Singapore",
    "Jakarta",
    "Denpasar",
    "Manila",
    "Hanoi",
    "Ho Chi Minh City",
    "Phnom Penh",
    "Yangon",
];

fn place(name: &str) -> &'static Place {
    by_name(name).unwrap_or(&lifeline_core::geo::places::PLACES[0])
}

/// The intake a drill request is posted as (the hub assigns id and version).
pub fn intake_of(r: HelpRequest) -> WireIntake {
    WireIntake {
        id: None,
        channel: r.channel,
        category: r.category,
        emergency: r.emergency,
        priority: Some(r.priority),
        citizen: r.citizen.into(),
        people_count: r.people_count,
        location: r.location.map(WireLocation::from),
        description: r.description,
        attachments: r.attachments.iter().map(WireAttachment::from).collect(),
        post: r.post,
    }
}

impl Scenario {
    /// The places a scenario's requests come from.
    pub fn places(self) -> Vec<&'static Place> {
        match self {
            Scenario::Evacuation => vec![place("Khartoum"), place("Addis Ababa")],
            Scenario::Earthquake => vec![place("Istanbul")],
            Scenario::Everyday => SOUTHEAST_ASIA.iter().map(|n| place(n)).collect(),
        }
    }
}

/// A post's id from its English name: `Consulate-General Istanbul` → `consulate-general-istanbul`.
pub fn post_id(name_en: &str) -> String {
    let mut id = String::new();
    for c in name_en.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_matches('-').to_owned()
}

/// The posts that answer for a scenario's places, as a drill hub is set up with them.
pub fn posts_of(scenario: Scenario) -> Vec<Post> {
    let mut posts: Vec<Post> = Vec::new();
    for p in scenario.places() {
        let zh = if let Some(city) = p.post.strip_prefix("Embassy ") {
            format!("驻{}使馆", by_name(city).map_or(p.name_zh, |c| c.name_zh))
        } else if p.post.starts_with("Consulate-General") {
            format!("驻{}总领馆", p.name_zh)
        } else {
            format!("驻{}领事办公室", p.name_zh)
        };
        match posts.iter_mut().find(|x| x.name_en == p.post) {
            Some(existing) => {
                if !existing.countries.iter().any(|c| c == p.country) {
                    existing.countries.push(p.country.into());
                }
            }
            None => posts.push(Post {
                id: post_id(p.post),
                name_zh: zh,
                name_en: p.post.into(),
                countries: vec![p.country.into()],
                subregions: Vec::new(),
            }),
        }
    }
    posts
}

/// The next request of a scenario, `n` counting from zero.
pub fn next_request(scenario: Scenario, rng: &mut Rng, n: u64) -> HelpRequest {
    let now = Utc::now();
    let id = format!("drill-{n}");
    match scenario {
        Scenario::Evacuation => {
            // Most from the capital, some from the roads out of it.
            let city = if rng.chance(0.8) {
                place("Khartoum")
            } else {
                place("Addis Ababa")
            };
            request_near(rng, id, city, 25.0, now, Flavour::Evacuation)
        }
        Scenario::Earthquake => {
            let flavour = if rng.chance(0.85) {
                Flavour::Sos
            } else {
                Flavour::Everyday
            };
            request_near(rng, id, place("Istanbul"), 60.0, now, flavour)
        }
        Scenario::Everyday => {
            let city = place(rng.pick::<&str>(SOUTHEAST_ASIA));
            request_near(rng, id, city, 30.0, now, Flavour::Everyday)
        }
    }
}

fn scenario_advisory(scenario: Scenario, seed: u64) -> (String, String) {
    let now = Utc::now();
    let id = format!(
        "drill-{}-{seed}-{}",
        scenario.name(),
        now.format("%Y%m%d%H%M")
    );
    let alert = match scenario {
        Scenario::Evacuation => cap::CapAlert {
            identifier: &id,
            sender: "drill@lifeline.example",
            sender_name: "Lifeline drill",
            status: "Exercise",
            sent: now,
            expires: now + chrono::Duration::days(3),
            category: "Security",
            severity: "Severe",
            urgency: "Immediate",
            certainty: "Observed",
            area_desc: "Khartoum, Omdurman and Bahri",
            shape: cap::Shape::Polygon(vec![
                (15.75, 32.35),
                (15.78, 32.70),
                (15.45, 32.75),
                (15.35, 32.45),
            ]),
            texts: vec![
                cap::InfoText {
                    language: "en-US",
                    event: "Armed clashes",
                    headline: "Armed clashes in Khartoum: shelter in place",
                    description: "Heavy fighting reported across the capital; the airport is closed.",
                    instruction: "Stay indoors, away from windows; register for evacuation with the embassy.",
                },
                cap::InfoText {
                    language: "zh-CN",
                    event: "武装冲突",
                    headline: "喀土穆发生武装冲突：请就地避险",
                    description: "首都多处爆发激烈交火，机场已关闭。",
                    instruction: "请留在室内，远离窗户，并向使馆登记撤离。",
                },
            ],
        },
        Scenario::Earthquake => cap::CapAlert {
            identifier: &id,
            sender: "drill@lifeline.example",
            sender_name: "Lifeline drill",
            status: "Exercise",
            sent: now,
            expires: now + chrono::Duration::days(2),
            category: "Geo",
            severity: "Extreme",
            urgency: "Immediate",
            certainty: "Observed",
            area_desc: "Istanbul and the Marmara coast",
            shape: cap::Shape::Circle(40.95, 28.90, 70.0),
            texts: vec![
                cap::InfoText {
                    language: "en-US",
                    event: "Earthquake",
                    headline: "M7.2 earthquake south of Istanbul",
                    description: "Strong shaking; buildings collapsed in several districts.",
                    instruction: "Expect aftershocks. Stay out of damaged buildings.",
                },
                cap::InfoText {
                    language: "zh-CN",
                    event: "地震",
                    headline: "伊斯坦布尔以南发生7.2级地震",
                    description: "震感强烈，多个城区有建筑倒塌。",
                    instruction: "注意余震，不要进入受损建筑。",
                },
            ],
        },
        Scenario::Everyday => cap::CapAlert {
            identifier: &id,
            sender: "drill@lifeline.example",
            sender_name: "Lifeline drill",
            status: "Exercise",
            sent: now,
            expires: now + chrono::Duration::days(1),
            category: "Met",
            severity: "Moderate",
            urgency: "Expected",
            certainty: "Likely",
            area_desc: "Bangkok metropolitan region",
            shape: cap::Shape::Circle(13.75, 100.50, 40.0),
            texts: vec![
                cap::InfoText {
                    language: "en-US",
                    event: "Heavy rain",
                    headline: "Heavy rain and street flooding in Bangkok",
                    description: "Up to 120 mm of rain expected this evening.",
                    instruction: "Avoid underpasses; allow extra time for airport transfers.",
                },
                cap::InfoText {
                    language: "zh-CN",
                    event: "暴雨",
                    headline: "曼谷暴雨，街道积水",
                    description: "预计今晚降雨量可达120毫米。",
                    instruction: "避开地下通道，前往机场请预留时间。",
                },
            ],
        },
    };
    let title = alert.texts[0].headline.to_owned();
    (cap::render(&alert), title)
}

/// Runs the drill until its limit (or forever).
pub async fn run(state: Arc<HubState>, cfg: DrillConfig) {
    let mut rng = Rng::new(cfg.seed);
    let (xml, title) = scenario_advisory(cfg.scenario, cfg.seed);
    let identifier = xml
        .split("<identifier>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_default()
        .to_owned();
    let store = Arc::clone(&state.store);
    let sent = Utc::now().format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
    let published = tokio::task::spawn_blocking(move || {
        store.publish_advisory(
            NewAdvisory {
                sender: "drill@lifeline.example",
                identifier: &identifier,
                sent: &sent,
                title: &title,
                xml: &xml,
            },
            "drill",
            Utc::now(),
        )
    })
    .await;
    if matches!(published, Ok(Ok(crate::store::Published::New(_)))) {
        state.advisories_changed.send_modify(|v| *v += 1);
    }
    let started = std::time::Instant::now();
    let mut n = 0u64;
    while cfg.limit.is_none_or(|l| n < l) {
        let burst =
            cfg.scenario == Scenario::Earthquake && started.elapsed() < Duration::from_secs(60);
        let rate = cfg.rate_per_minute.max(0.01) * if burst { 5.0 } else { 1.0 };
        // Exponential inter-arrival times: a Poisson stream, like real calls.
        let wait = -(1.0 - rng.unit()).ln() * 60.0 / rate;
        tokio::time::sleep(Duration::from_secs_f64(wait.min(600.0))).await;
        let mut intake = intake_of(next_request(cfg.scenario, &mut rng, n));
        // A drill runs only on an exercise hub: its ids say it is an exercise.
        intake.id = Some(format!("{EXERCISE_PREFIX}{}-{n:06}", cfg.seed));
        let store = Arc::clone(&state.store);
        if let Ok(Ok(_)) =
            tokio::task::spawn_blocking(move || store.intake(intake, "drill", Utc::now())).await
            && let Ok(head) = state.store.head()
        {
            state.announce(head);
        }
        n += 1;
    }
}
