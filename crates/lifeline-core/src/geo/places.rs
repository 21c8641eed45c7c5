//! A small gazetteer of cities where citizens abroad most often ask for help.
//!
//! Used to name a place in an alert ("12 SOS within 50 km of Istanbul"), by the drill
//! simulator and by the benchmarks, which cluster synthetic requests around real cities.

/// A city with its names in English and Chinese and the consular post that covers it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub name_en: &'static str,
    pub name_zh: &'static str,
    /// ISO 3166-1 alpha-2.
    pub country: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub post: &'static str,
}

macro_rules! places {
    ($( ($en:literal, $zh:literal, $cc:literal, $lat:literal, $lon:literal, $post:literal) ),+ $(,)?) => {
        /// The gazetteer, 56 cities on every inhabited continent.
        pub const PLACES: &[Place] = &[ $( Place { name_en: $en, name_zh: $zh, country: $cc, lat: $lat, lon: $lon, post: $post } ),+ ];
    };
}

places![
    ("Beirut", "贝鲁特", "LB", 33.8938, 35.5018, "Embassy Beirut"),
    (
        "Tripoli",
        "的黎波里",
        "LY",
        32.8872,
        13.1913,
        "Embassy Tripoli"
    ),
    ("Kabul", "喀布尔", "AF", 34.5553, 69.2075, "Embassy Kabul"),
    (
        "Khartoum",
        "喀土穆",
        "SD",
        15.5007,
        32.5599,
        "Embassy Khartoum"
    ),
    ("Kyiv", "基辅", "UA", 50.4501, 30.5234, "Embassy Kyiv"),
    (
        "Tel Aviv",
        "特拉维夫",
        "IL",
        32.0853,
        34.7818,
        "Embassy Tel Aviv"
    ),
    (
        "Istanbul",
        "伊斯坦布尔",
        "TR",
        41.0082,
        28.9784,
        "Consulate-General Istanbul"
    ),
    ("Ankara", "安卡拉", "TR", 39.9334, 32.8597, "Embassy Ankara"),
    ("Cairo", "开罗", "EG", 30.0444, 31.2357, "Embassy Cairo"),
    (
        "Dubai",
        "迪拜",
        "AE",
        25.2048,
        55.2708,
        "Consulate-General Dubai"
    ),
    ("Tehran", "德黑兰", "IR", 35.6892, 51.3890, "Embassy Tehran"),
    (
        "Kathmandu",
        "加德满都",
        "NP",
        27.7172,
        85.3240,
        "Embassy Kathmandu"
    ),
    (
        "New Delhi",
        "新德里",
        "IN",
        28.6139,
        77.2090,
        "Embassy New Delhi"
    ),
    (
        "Mumbai",
        "孟买",
        "IN",
        19.0760,
        72.8777,
        "Consulate-General Mumbai"
    ),
    (
        "Bangkok",
        "曼谷",
        "TH",
        13.7563,
        100.5018,
        "Embassy Bangkok"
    ),
    (
        "Chiang Mai",
        "清迈",
        "TH",
        18.7883,
        98.9853,
        "Consulate-General Chiang Mai"
    ),
    (
        "Phuket",
        "普吉",
        "TH",
        7.8804,
        98.3923,
        "Consular Office Phuket"
    ),
    (
        "Kuala Lumpur",
        "吉隆坡",
        "MY",
        3.1390,
        101.6869,
        "Embassy Kuala Lumpur"
    ),
    (
        "Singapore",
        "新加坡",
        "SG",
        1.3521,
        103.8198,
        "Embassy Singapore"
    ),
    (
        "Jakarta",
        "雅加达",
        "ID",
        -6.2088,
        106.8456,
        "Embassy Jakarta"
    ),
    (
        "Denpasar",
        "登巴萨",
        "ID",
        -8.6705,
        115.2126,
        "Consulate-General Denpasar"
    ),
    (
        "Manila",
        "马尼拉",
        "PH",
        14.5995,
        120.9842,
        "Embassy Manila"
    ),
    ("Hanoi", "河内", "VN", 21.0278, 105.8342, "Embassy Hanoi"),
    (
        "Ho Chi Minh City",
        "胡志明市",
        "VN",
        10.8231,
        106.6297,
        "Consulate-General Ho Chi Minh City"
    ),
    (
        "Phnom Penh",
        "金边",
        "KH",
        11.5564,
        104.9282,
        "Embassy Phnom Penh"
    ),
    (
        "Yangon",
        "仰光",
        "MM",
        16.8409,
        96.1735,
        "Consulate-General Yangon"
    ),
    ("Tokyo", "东京", "JP", 35.6762, 139.6503, "Embassy Tokyo"),
    (
        "Osaka",
        "大阪",
        "JP",
        34.6937,
        135.5023,
        "Consulate-General Osaka"
    ),
    ("Seoul", "首尔", "KR", 37.5665, 126.9780, "Embassy Seoul"),
    (
        "Sydney",
        "悉尼",
        "AU",
        -33.8688,
        151.2093,
        "Consulate-General Sydney"
    ),
    (
        "Auckland",
        "奥克兰",
        "NZ",
        -36.8485,
        174.7633,
        "Consulate-General Auckland"
    ),
    ("Suva", "苏瓦", "FJ", -18.1248, 178.4501, "Embassy Suva"),
    (
        "Nuku'alofa",
        "努库阿洛法",
        "TO",
        -21.1394,
        -175.2049,
        "Embassy Nuku'alofa"
    ),
    ("Moscow", "莫斯科", "RU", 55.7558, 37.6173, "Embassy Moscow"),
    ("London", "伦敦", "GB", 51.5074, -0.1278, "Embassy London"),
    ("Paris", "巴黎", "FR", 48.8566, 2.3522, "Embassy Paris"),
    ("Berlin", "柏林", "DE", 52.5200, 13.4050, "Embassy Berlin"),
    ("Rome", "罗马", "IT", 41.9028, 12.4964, "Embassy Rome"),
    ("Madrid", "马德里", "ES", 40.4168, -3.7038, "Embassy Madrid"),
    ("Athens", "雅典", "GR", 37.9838, 23.7275, "Embassy Athens"),
    (
        "Nairobi",
        "内罗毕",
        "KE",
        -1.2921,
        36.8219,
        "Embassy Nairobi"
    ),
    (
        "Addis Ababa",
        "亚的斯亚贝巴",
        "ET",
        9.0054,
        38.7636,
        "Embassy Addis Ababa"
    ),
    (
        "Lagos",
        "拉各斯",
        "NG",
        6.5244,
        3.3792,
        "Consulate-General Lagos"
    ),
    (
        "Johannesburg",
        "约翰内斯堡",
        "ZA",
        -26.2041,
        28.0473,
        "Consulate-General Johannesburg"
    ),
    ("Luanda", "罗安达", "AO", -8.8390, 13.2894, "Embassy Luanda"),
    (
        "Kinshasa",
        "金沙萨",
        "CD",
        -4.4419,
        15.2663,
        "Embassy Kinshasa"
    ),
    (
        "New York",
        "纽约",
        "US",
        40.7128,
        -74.0060,
        "Consulate-General New York"
    ),
    (
        "Los Angeles",
        "洛杉矶",
        "US",
        34.0522,
        -118.2437,
        "Consulate-General Los Angeles"
    ),
    (
        "Anchorage",
        "安克雷奇",
        "US",
        61.2181,
        -149.9003,
        "Consulate-General San Francisco"
    ),
    (
        "Honolulu",
        "檀香山",
        "US",
        21.3069,
        -157.8583,
        "Consulate-General San Francisco"
    ),
    (
        "Vancouver",
        "温哥华",
        "CA",
        49.2827,
        -123.1207,
        "Consulate-General Vancouver"
    ),
    (
        "Mexico City",
        "墨西哥城",
        "MX",
        19.4326,
        -99.1332,
        "Embassy Mexico City"
    ),
    ("Lima", "利马", "PE", -12.0464, -77.0428, "Embassy Lima"),
    (
        "São Paulo",
        "圣保罗",
        "BR",
        -23.5505,
        -46.6333,
        "Consulate-General São Paulo"
    ),
    (
        "Buenos Aires",
        "布宜诺斯艾利斯",
        "AR",
        -34.6037,
        -58.3816,
        "Embassy Buenos Aires"
    ),
    (
        "Santiago",
        "圣地亚哥",
        "CL",
        -33.4489,
        -70.6693,
        "Embassy Santiago"
    ),
];

/// The gazetteer city nearest to a point, with its distance in metres.
pub fn nearest(lat: f64, lon: f64) -> (&'static Place, f64) {
    let mut best = (&PLACES[0], f64::INFINITY);
    for place in PLACES {
        let d = super::distance_m(lat, lon, place.lat, place.lon);
        if d < best.1 {
            best = (place, d);
        }
    }
    best
}

/// Looks a city up by its English name (case-insensitive).
pub fn by_name(name: &str) -> Option<&'static Place> {
    PLACES.iter().find(|p| p.name_en.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_city_is_found() {
        let (place, d) = nearest(41.05, 29.0);
        assert_eq!(place.name_en, "Istanbul");
        assert!(d < 10_000.0, "{d}");
    }

    #[test]
    fn gazetteer_has_valid_coordinates_and_codes() {
        assert_eq!(PLACES.len(), 56);
        for p in PLACES {
            assert!(p.lat.abs() <= 90.0 && p.lon.abs() <= 180.0, "{}", p.name_en);
            assert!(
                crate::model::request::check_country("country", p.country).is_ok(),
                "{}",
                p.name_en
            );
        }
    }
}
