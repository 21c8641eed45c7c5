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

/// The page's fixed words in one language.
struct Words {
    title: &'static str,
    desk: &'static str,
    officer: &'static str,
    shift: &'static str,
    open: &'static str,
    of_them_sos: &'static str,
    unacknowledged: &'static str,
    changed: &'static str,
    notes: &'static str,
    id_column: &'static str,
    kind_column: &'static str,
    state_column: &'static str,
}

const ZH: Words = Words {
    title: "交接班",
    desk: "席位",
    officer: "值班官员",
    shift: "时段",
    open: "未结求助",
    of_them_sos: "其中紧急求助",
    unacknowledged: "尚未确认",
    changed: "本班次内有变化",
    notes: "交接备注",
    id_column: "编号",
    kind_column: "类别 · 优先级",
    state_column: "状态 · 城市 · 指派",
};

const EN: Words = Words {
    title: "Shift hand-over",
    desk: "Desk",
    officer: "Officer",
    shift: "Shift",
    open: "Open requests",
    of_them_sos: "of them emergencies",
    unacknowledged: "Not yet acknowledged",
    changed: "Changed during the shift",
    notes: "Notes for the next officer",
    id_column: "Id",
    kind_column: "Category · priority",
    state_column: "Status · city · assigned",
};

fn words(lang: &str) -> &'static Words {
    if lang == "zh" { &ZH } else { &EN }
}

fn status_word(lang: &str, status: &str) -> &'static str {
    match (lang == "zh", status) {
        (true, "new") => "新",
        (true, "acknowledged") => "已确认",
        (true, "in_progress") => "处理中",
        (true, "resolved") => "已解决",
        (true, "closed") => "已关闭",
        (true, "duplicate") => "重复",
        (false, "new") => "new",
        (false, "acknowledged") => "acknowledged",
        (false, "in_progress") => "in progress",
        (false, "resolved") => "resolved",
        (false, "closed") => "closed",
        (false, "duplicate") => "duplicate",
        _ => "",
    }
}

fn priority_word(lang: &str, priority: &str) -> &'static str {
    match (lang == "zh", priority) {
        (true, "critical") => "危急",
        (true, "high") => "高",
        (true, "normal") => "普通",
        (true, "low") => "低",
        (false, "critical") => "critical",
        (false, "high") => "high",
        (false, "normal") => "normal",
        (false, "low") => "low",
        _ => "",
    }
}

fn time_text(ms_value: f64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms_value as i64)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn table(out: &mut String, items: &[HandoverItem], lang: &str, w: &Words) {
    out.push_str(&format!(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        w.id_column, w.kind_column, w.state_column
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
        w.title,
        w.desk,
        escape(&h.desk),
        w.officer,
        escape(&h.officer),
        w.shift,
        time_text(h.since),
        time_text(h.until),
        w.open,
        h.open,
        h.open_emergencies,
        w.of_them_sos,
    );
    body.push_str(&format!(
        "<h2>{} ({})</h2>",
        w.unacknowledged,
        h.unacknowledged.len()
    ));
    table(&mut body, &h.unacknowledged, lang, w);
    body.push_str(&format!("<h2>{} ({})</h2>", w.changed, h.changed.len()));
    table(&mut body, &h.changed, lang, w);
    body.push_str(&format!(
        "<h2>{}</h2><div class=\"notes\">{}</div>",
        w.notes,
        escape(notes)
    ));
    format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>{} {}</title>\n<style>body{{font-family:'Noto Sans CJK SC',sans-serif;margin:24px;color:#1d2430}}table{{border-collapse:collapse;width:100%;margin-bottom:16px}}th,td{{border:1px solid #ccd;padding:3px 6px;text-align:left;font-size:13px}}h1{{font-size:20px}}h2{{font-size:16px;margin-top:20px}}.sos{{color:#b3261e;font-weight:600}}.notes{{white-space:pre-wrap;border:1px solid #ccd;padding:8px}}</style></head>\n<body>{}</body></html>\n",
        if lang == "zh" { "zh-CN" } else { "en" },
        w.title,
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
