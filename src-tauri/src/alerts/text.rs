//! Notification texts in the desk's language. Short, and private by default: a notification
//! shows on a locked screen and sits in the notification server's history, so it names only
//! the category, the priority and the city — never a name, phone, document number, address
//! or description. A post may choose to see the start of the description too.

use lifeline_core::model::{Category, Priority, Severity};

fn zh(lang: &str) -> bool {
    lang == "zh"
}

pub fn category(lang: &str, c: Category) -> &'static str {
    match (zh(lang), c) {
        (true, Category::Medical) => "医疗",
        (true, Category::Detention) => "拘押 / 逮捕",
        (true, Category::CrimeVictim) => "遭受侵害",
        (true, Category::LostDocuments) => "证件遗失",
        (true, Category::MissingPerson) => "失联人员",
        (true, Category::Accident) => "意外事故",
        (true, Category::NaturalDisaster) => "自然灾害",
        (true, Category::ConflictUnrest) => "冲突 / 动乱",
        (true, Category::Evacuation) => "撤离",
        (true, Category::WelfareCheck) => "平安核实",
        (true, Category::Other) => "其他",
        (false, Category::Medical) => "Medical",
        (false, Category::Detention) => "Detention",
        (false, Category::CrimeVictim) => "Crime victim",
        (false, Category::LostDocuments) => "Lost documents",
        (false, Category::MissingPerson) => "Missing person",
        (false, Category::Accident) => "Accident",
        (false, Category::NaturalDisaster) => "Natural disaster",
        (false, Category::ConflictUnrest) => "Conflict / unrest",
        (false, Category::Evacuation) => "Evacuation",
        (false, Category::WelfareCheck) => "Welfare check",
        (false, Category::Other) => "Other",
    }
}

/// `紧急求助 · 医疗 · 伊斯坦布尔, TR` — category and place.
pub fn alert_title(lang: &str, emergency: bool, c: Category, place: &str) -> String {
    let kind = match (zh(lang), emergency) {
        (true, true) => "紧急求助",
        (true, false) => "危急求助",
        (false, true) => "SOS",
        (false, false) => "Critical",
    };
    if place.is_empty() {
        format!("{kind} · {}", category(lang, c))
    } else {
        format!("{kind} · {} · {place}", category(lang, c))
    }
}

/// `优先级 危急 · 2 人` — the priority and how many people: nothing that names or
/// describes the citizen.
pub fn alert_body_private(lang: &str, priority: Priority, people: u32) -> String {
    let p = match (zh(lang), priority) {
        (true, Priority::Critical) => "危急",
        (true, Priority::High) => "高",
        (true, Priority::Normal) => "一般",
        (true, Priority::Low) => "低",
        (false, p) => p.as_str(),
    };
    if zh(lang) {
        format!("优先级 {p} · {people} 人")
    } else {
        format!("Priority {p} · {people} people")
    }
}

/// `2 人 · 孩子高烧不退…` — how many people and the start of the description (only for
/// posts that chose to show it: `notification_details` in the settings).
pub fn alert_body(lang: &str, people: u32, description: &str) -> String {
    let excerpt: String = description.chars().take(60).collect();
    let more = if description.chars().count() > 60 {
        "…"
    } else {
        ""
    };
    if zh(lang) {
        format!("{people} 人 · {excerpt}{more}")
    } else {
        format!("{people} people · {excerpt}{more}")
    }
}

pub fn escalation_title(lang: &str, minutes: i64, title: &str) -> String {
    if zh(lang) {
        format!("{minutes} 分钟未确认：{title}")
    } else {
        format!("Unacknowledged {minutes} min: {title}")
    }
}

pub fn waiting_title(lang: &str, minutes: i64, title: &str) -> String {
    if zh(lang) {
        format!("求助人等待回复 {minutes} 分钟：{title}")
    } else {
        format!("Citizen waiting {minutes} min for a reply: {title}")
    }
}

pub fn summary_title(lang: &str, count: usize, place: &str) -> String {
    if zh(lang) {
        format!("{place}周边 {count} 个紧急求助")
    } else {
        format!("{count} SOS around {place}")
    }
}

pub fn summary_body(lang: &str, radius_km: f64, window_min: i64) -> String {
    if zh(lang) {
        format!("{window_min} 分钟内，{radius_km:.0} 公里范围")
    } else {
        format!("within {radius_km:.0} km in the last {window_min} min")
    }
}

pub fn escalation_summary_title(lang: &str, count: usize, place: &str) -> String {
    if zh(lang) {
        format!("{place}周边 {count} 个紧急求助仍未确认")
    } else {
        format!("{count} SOS around {place} still unacknowledged")
    }
}

pub fn severity(lang: &str, s: Severity) -> &'static str {
    match (zh(lang), s) {
        (true, Severity::Extreme) => "特别严重",
        (true, Severity::Severe) => "严重",
        (true, Severity::Moderate) => "较重",
        (true, Severity::Minor) => "一般",
        (true, Severity::Unknown) => "未知",
        (false, s) => s.as_str(),
    }
}

pub fn advisory_title(lang: &str, s: Severity, event: &str) -> String {
    format!("{} · {event}", severity(lang, s))
}

pub fn advisory_body(lang: &str, open: u32, headline: &str) -> String {
    if zh(lang) {
        format!("区域内有 {open} 个未结求助 · {headline}")
    } else {
        format!("{open} open requests inside · {headline}")
    }
}

pub fn test_title(lang: &str) -> &'static str {
    if zh(lang) {
        "测试提醒"
    } else {
        "Test alert"
    }
}

pub fn test_body(lang: &str) -> &'static str {
    if zh(lang) {
        "如果您看到这条通知，本席位的桌面通知工作正常。"
    } else {
        "If you see this, desktop notifications work on this desk."
    }
}
