//! The shift hand-over: one page of what the next officer needs — what is open, what is
//! still unacknowledged, what changed during the shift, and the outgoing officer's notes —
//! from the store, in the officer's language. Shown in the window, printable, and saved as
//! a standalone HTML file. It names requests by id, category, priority and city: no
//! citizen's name, phone, address or description, so the file may leave the desk.

use chrono::{DateTime, Utc};
use lifeline_core::markup::escape;
use lifeline_core::model::Status;
use lifeline_core::store::{RequestOrder, RequestQuery, StoredRequest};

use super::DeskState;
use crate::convert::{city_name, ms};
use crate::dto::{Handover, HandoverItem};
use crate::error::{CommandError, CommandResult, ErrorCode};

/// At most this many requests in each list of the page.
const LIST_LIMIT: u32 = 200;

fn item(s: &StoredRequest, language: &str) -> HandoverItem {
    let r = &s.request;
    HandoverItem {
        id: r.id.clone(),
        emergency: r.emergency,
        priority: r.priority.to_string(),
        category: r.category.to_string(),
        status: r.status.to_string(),
        city: city_name(r, language),
        created_at: ms(r.created_at),
        updated_at: ms(r.updated_at),
        assignee: r.assignee.clone(),
    }
}

fn since_time(since_ms: f64) -> CommandResult<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_millis(since_ms as i64)
        .ok_or_else(|| CommandError::invalid("the shift's start is not a time"))
}

/// The hand-over of the shift that began at `since_ms`.
#[tauri::command(async)]
pub fn handover(desk: DeskState<'_>, since_ms: f64) -> CommandResult<Handover> {
    super::session::ensure_unlocked(&desk)?;
    let since = since_time(since_ms)?;
    let settings = desk.settings();
    let lang = settings.language.as_str();
    let unacknowledged = desk.store.query_requests(&RequestQuery {
        statuses: vec![Status::New],
        order: RequestOrder::Oldest,
        limit: Some(LIST_LIMIT),
        ..RequestQuery::default()
    })?;
    let counts = desk.store.counts(&RequestQuery::open())?;
    let changed = desk.store.changed_since(since, LIST_LIMIT)?;
    // Emergencies first, each list otherwise in its own order.
    let mut unacknowledged: Vec<HandoverItem> =
        unacknowledged.iter().map(|s| item(s, lang)).collect();
    unacknowledged.sort_by_key(|i| !i.emergency);
    Ok(Handover {
        since: ms(since),
        until: ms(Utc::now()),
        desk: settings.desk.clone(),
        officer: settings.officer.clone(),
        open: counts.total as u32,
        open_emergencies: counts.open_emergencies as u32,
        by_status: counts
            .by_status
            .into_iter()
            .map(|(s, n)| (s, n as u32))
            .collect(),
        unacknowledged,
        changed: changed.iter().map(|s| item(s, lang)).collect(),
    })
}

fn words(lang: &str) -> [&'static str; 12] {
    if lang == "zh" {
        [
            "交接班",
            "席位",
            "值班官员",
            "时段",
            "未结求助",
            "其中紧急求助",
            "尚未确认",
            "本班次内有变化",
            "交接备注",
            "编号",
            "类别 · 优先级",
            "状态 · 城市 · 指派",
        ]
    } else {
        [
            "Shift hand-over",
            "Desk",
            "Officer",
            "Shift",
            "Open requests",
            "of them emergencies",
            "Not yet acknowledged",
            "Changed during the shift",
            "Notes for the next officer",
            "Id",
            "Category · priority",
            "Status · city · assigned",
        ]
    }
}

fn status_word(lang: &str, status: &str) -> &'static str {
    let zh = lang == "zh";
    match status {
        "new" => {
            if zh {
                "新"
            } else {
                "new"
            }
        }
        "acknowledged" => {
            if zh {
                "已确认"
            } else {
                "acknowledged"
            }
        }
        "in_progress" => {
            if zh {
                "处理中"
            } else {
                "in progress"
            }
        }
        "resolved" => {
            if zh {
                "已解决"
            } else {
                "resolved"
            }
        }
        "closed" => {
            if zh {
                "已关闭"
            } else {
                "closed"
            }
        }
        "duplicate" => {
            if zh {
                "重复"
            } else {
                "duplicate"
            }
        }
        _ => "",
    }
}

fn priority_word(lang: &str, priority: &str) -> &'static str {
    let zh = lang == "zh";
    match priority {
        "critical" => {
            if zh {
                "危急"
            } else {
                "critical"
            }
        }
        "high" => {
            if zh {
                "高"
            } else {
                "high"
            }
        }
        "normal" => {
            if zh {
                "普通"
            } else {
                "normal"
            }
        }
        "low" => {
            if zh {
                "低"
            } else {
                "low"
            }
        }
        _ => "",
    }
}

fn time_text(ms_value: f64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms_value as i64)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn table(out: &mut String, items: &[HandoverItem], lang: &str, w: &[&str; 12]) {
    out.push_str(&format!(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        w[9], w[10], w[11]
    ));
    for i in items {
        let category = i
            .category
            .parse()
            .map(|c| crate::alerts::category_word(lang, c))
            .unwrap_or("");
        out.push_str(&format!(
            "<tr><td{}>{}</td><td>{}{} · {}</td><td>{} · {} · {}</td></tr>",
            if i.emergency { " class=\"sos\"" } else { "" },
            escape(&i.id),
            if i.emergency { "SOS · " } else { "" },
            category,
            priority_word(lang, &i.priority),
            status_word(lang, &i.status),
            escape(&i.city),
            escape(i.assignee.as_deref().unwrap_or("—")),
        ));
    }
    out.push_str("</table>");
}

/// The hand-over as a standalone HTML page: every value escaped, no script, and a content
/// policy that forbids loading anything.
pub fn page(h: &Handover, notes: &str, lang: &str) -> String {
    let w = words(lang);
    let mut body = format!(
        "<h1>{}</h1><p>{}: {} · {}: {} · {}: {} – {}</p><p>{}: {} ({} {})</p>",
        w[0],
        w[1],
        escape(&h.desk),
        w[2],
        escape(&h.officer),
        w[3],
        time_text(h.since),
        time_text(h.until),
        w[4],
        h.open,
        h.open_emergencies,
        w[5],
    );
    body.push_str(&format!("<h2>{} ({})</h2>", w[6], h.unacknowledged.len()));
    table(&mut body, &h.unacknowledged, lang, &w);
    body.push_str(&format!("<h2>{} ({})</h2>", w[7], h.changed.len()));
    table(&mut body, &h.changed, lang, &w);
    body.push_str(&format!(
        "<h2>{}</h2><div class=\"notes\">{}</div>",
        w[8],
        escape(notes)
    ));
    format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>{} {}</title>\n<style>body{{font-family:'Noto Sans CJK SC',sans-serif;margin:24px;color:#1d2430}}table{{border-collapse:collapse;width:100%;margin-bottom:16px}}th,td{{border:1px solid #ccd;padding:3px 6px;text-align:left;font-size:13px}}h1{{font-size:20px}}h2{{font-size:16px;margin-top:20px}}.sos{{color:#b3261e;font-weight:600}}.notes{{white-space:pre-wrap;border:1px solid #ccd;padding:8px}}</style></head>\n<body>{}</body></html>\n",
        if lang == "zh" { "zh-CN" } else { "en" },
        w[0],
        escape(&h.desk),
        body
    )
}

/// Saves the hand-over of the shift that began at `since_ms`, with the officer's notes, as
/// a standalone HTML file in the downloads folder (only this user's); returns where.
#[tauri::command(async)]
pub fn save_handover(
    app: tauri::AppHandle,
    desk: DeskState<'_>,
    since_ms: f64,
    notes: String,
) -> CommandResult<String> {
    if notes.len() > 64 * 1024 {
        return Err(CommandError::invalid(
            "the notes are too long (64 KiB at most)",
        ));
    }
    let lang = desk.settings().language;
    let h = handover(desk, since_ms)?;
    let html = page(&h, &notes, &lang);
    let (path, mut file) = super::downloads::create_private_file(&app, "handover", "html")?;
    use std::io::Write;
    file.write_all(html.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| {
            CommandError::new(
                ErrorCode::Storage,
                format!("cannot write the hand-over: {e}"),
            )
        })?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_holds_no_markup_from_its_values_and_no_personal_data_fields() {
        let h = Handover {
            since: 0.0,
            until: 3_600_000.0,
            desk: "desk<1>".into(),
            officer: "Li".into(),
            open: 2,
            open_emergencies: 1,
            by_status: vec![],
            unacknowledged: vec![HandoverItem {
                id: "R-<script>".into(),
                emergency: true,
                priority: "critical".into(),
                category: "medical".into(),
                status: "new".into(),
                city: "Istanbul, TR".into(),
                created_at: 0.0,
                updated_at: 0.0,
                assignee: None,
            }],
            changed: vec![],
        };
        let html = page(&h, "call back <b>at 9</b>", "zh");
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
        assert!(
            html.contains("R-&lt;script&gt;") && html.contains("医疗") && html.contains("交接班")
        );
        assert!(
            html.contains("default-src 'none'"),
            "the page may load nothing"
        );
    }
}
