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
    /// IANA time zone, for showing a request's local time.
    pub tz: &'static str,
}

macro_rules! places {
    ($( ($en:literal, $zh:literal, $cc:literal, $lat:literal, $lon:literal, $post:literal, $tz:literal) ),+ $(,)?) => {
        /// The gazetteer, 56 cities on every inhabited continent.
        pub const PLACES: &[Place] = &[ $( Place { name_en: $en, name_zh: $zh, country: $cc, lat: $lat, lon: $lon, post: $post, tz: $tz } ),+ ];
    };
}

// One city a line: easier to read and to diff than rustfmt's layout.
#[rustfmt::skip]
places![
    ("Beirut", "贝鲁特", "LB", 33.8938, 35.5018, "Embassy Beirut", "Asia/Beirut"),
    ("Tripoli", "的黎波里", "LY", 32.8872, 13.1913, "Embassy Tripoli", "Africa/Tripoli"),
    ("Kabul", "喀布尔", "AF", 34.5553, 69.2075, "Embassy Kabul", "Asia/Kabul"),
    ("Khartoum", "喀土穆", "SD", 15.5007, 32.5599, "Embassy Khartoum", "Africa/Khartoum"),
    ("Kyiv", "基辅", "UA", 50.4501, 30.5234, "Embassy Kyiv", "Europe/Kyiv"),
    ("Tel Aviv", "特拉维夫", "IL", 32.0853, 34.7818, "Embassy Tel Aviv", "Asia/Jerusalem"),
    ("Istanbul", "伊斯坦布尔", "TR", 41.0082, 28.9784, "Consulate-General Istanbul", "Europe/Istanbul"),
    ("Ankara", "安卡拉", "TR", 39.9334, 32.8597, "Embassy Ankara", "Europe/Istanbul"),
    ("Cairo", "开罗", "EG", 30.0444, 31.2357, "Embassy Cairo", "Africa/Cairo"),
    ("Dubai", "迪拜", "AE", 25.2048, 55.2708, "Consulate-General Dubai", "Asia/Dubai"),
    ("Tehran", "德黑兰", "IR", 35.6892, 51.3890, "Embassy Tehran", "Asia/Tehran"),
    ("Kathmandu", "加德满都", "NP", 27.7172, 85.3240, "Embassy Kathmandu", "Asia/Kathmandu"),
    ("New Delhi", "新德里", "IN", 28.6139, 77.2090, "Embassy New Delhi", "Asia/Kolkata"),
    ("Mumbai", "孟买", "IN", 19.0760, 72.8777, "Consulate-General Mumbai", "Asia/Kolkata"),
    ("Bangkok", "曼谷", "TH", 13.7563, 100.5018, "Embassy Bangkok", "Asia/Bangkok"),
    ("Chiang Mai", "清迈", "TH", 18.7883, 98.9853, "Consulate-General Chiang Mai", "Asia/Bangkok"),
    ("Phuket", "普吉", "TH", 7.8804, 98.3923, "Consular Office Phuket", "Asia/Bangkok"),
    ("Kuala Lumpur", "吉隆坡", "MY", 3.1390, 101.6869, "Embassy Kuala Lumpur", "Asia/Kuala_Lumpur"),
    ("Singapore", "新加坡", "SG", 1.3521, 103.8198, "Embassy Singapore", "Asia/Singapore"),
    ("Jakarta", "雅加达", "ID", -6.2088, 106.8456, "Embassy Jakarta", "Asia/Jakarta"),
    ("Denpasar", "登巴萨", "ID", -8.6705, 115.2126, "Consulate-General Denpasar", "Asia/Makassar"),
    ("Manila", "马尼拉", "PH", 14.5995, 120.9842, "Embassy Manila", "Asia/Manila"),
    ("Hanoi", "河内", "VN", 21.0278, 105.8342, "Embassy Hanoi", "Asia/Ho_Chi_Minh"),
    ("Ho Chi Minh City", "胡志明市", "VN", 10.8231, 106.6297, "Consulate-General Ho Chi Minh City", "Asia/Ho_Chi_Minh"),
    ("Phnom Penh", "金边", "KH", 11.5564, 104.9282, "Embassy Phnom Penh", "Asia/Phnom_Penh"),
    ("Yangon", "仰光", "MM", 16.8409, 96.1735, "Consulate-General Yangon", "Asia/Yangon"),
    ("Tokyo", "东京", "JP", 35.6762, 139.6503, "Embassy Tokyo", "Asia/Tokyo"),
    ("Osaka", "大阪", "JP", 34.6937, 135.5023, "Consulate-General Osaka", "Asia/Tokyo"),
    ("Seoul", "首尔", "KR", 37.5665, 126.9780, "Embassy Seoul", "Asia/Seoul"),
    ("Sydney", "悉尼", "AU", -33.8688, 151.2093, "Consulate-General Sydney", "Australia/Sydney"),
    ("Auckland", "奥克兰", "NZ", -36.8485, 174.7633, "Consulate-General Auckland", "Pacific/Auckland"),
    ("Suva", "苏瓦", "FJ", -18.1248, 178.4501, "Embassy Suva", "Pacific/Fiji"),
    ("Nuku'alofa", "努库阿洛法", "TO", -21.1394, -175.2049, "Embassy Nuku'alofa", "Pacific/Tongatapu"),
    ("Moscow", "莫斯科", "RU", 55.7558, 37.6173, "Embassy Moscow", "Europe/Moscow"),
    ("London", "伦敦", "GB", 51.5074, -0.1278, "Embassy London", "Europe/London"),
    ("Paris", "巴黎", "FR", 48.8566, 2.3522, "Embassy Paris", "Europe/Paris"),
    ("Berlin", "柏林", "DE", 52.5200, 13.4050, "Embassy Berlin", "Europe/Berlin"),
    ("Rome", "罗马", "IT", 41.9028, 12.4964, "Embassy Rome", "Europe/Rome"),
    ("Madrid", "马德里", "ES", 40.4168, -3.7038, "Embassy Madrid", "Europe/Madrid"),
    ("Athens", "雅典", "GR", 37.9838, 23.7275, "Embassy Athens", "Europe/Athens"),
    ("Nairobi", "内罗毕", "KE", -1.2921, 36.8219, "Embassy Nairobi", "Africa/Nairobi"),
    ("Addis Ababa", "亚的斯亚贝巴", "ET", 9.0054, 38.7636, "Embassy Addis Ababa", "Africa/Addis_Ababa"),
    ("Lagos", "拉各斯", "NG", 6.5244, 3.3792, "Consulate-General Lagos", "Africa/Lagos"),
    ("Johannesburg", "约翰内斯堡", "ZA", -26.2041, 28.0473, "Consulate-General Johannesburg", "Africa/Johannesburg"),
    ("Luanda", "罗安达", "AO", -8.8390, 13.2894, "Embassy Luanda", "Africa/Luanda"),
    ("Kinshasa", "金沙萨", "CD", -4.4419, 15.2663, "Embassy Kinshasa", "Africa/Kinshasa"),
    ("New York", "纽约", "US", 40.7128, -74.0060, "Consulate-General New York", "America/New_York"),
    ("Los Angeles", "洛杉矶", "US", 34.0522, -118.2437, "Consulate-General Los Angeles", "America/Los_Angeles"),
    ("Anchorage", "安克雷奇", "US", 61.2181, -149.9003, "Consulate-General San Francisco", "America/Anchorage"),
    ("Honolulu", "檀香山", "US", 21.3069, -157.8583, "Consulate-General San Francisco", "Pacific/Honolulu"),
    ("Vancouver", "温哥华", "CA", 49.2827, -123.1207, "Consulate-General Vancouver", "America/Vancouver"),
    ("Mexico City", "墨西哥城", "MX", 19.4326, -99.1332, "Embassy Mexico City", "America/Mexico_City"),
    ("Lima", "利马", "PE", -12.0464, -77.0428, "Embassy Lima", "America/Lima"),
    ("São Paulo", "圣保罗", "BR", -23.5505, -46.6333, "Consulate-General São Paulo", "America/Sao_Paulo"),
    ("Buenos Aires", "布宜诺斯艾利斯", "AR", -34.6037, -58.3816, "Embassy Buenos Aires", "America/Argentina/Buenos_Aires"),
    ("Santiago", "圣地亚哥", "CL", -33.4489, -70.6693, "Embassy Santiago", "America/Santiago"),
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

/// The time zone of a point: its gazetteer city's within 600 km, else none (the UI then
/// shows the officer's time only).
pub fn time_zone(lat: f64, lon: f64) -> Option<&'static str> {
    let (place, d) = nearest(lat, lon);
    (d <= 600_000.0).then_some(place.tz)
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
