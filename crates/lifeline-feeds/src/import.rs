//! From a file (or fetched bytes) to the store: detect, parse, store in batches, quarantine
//! what was rejected, and report what happened, per file.
//!
//! Record formats are committed in batches of [`ImportOptions::batch_size`]: a crash in the
//! middle of a large import leaves every committed batch in place and nothing half-written.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use chrono::{DateTime, Utc};
use lifeline_core::model::{AdvisoryKey, Lifecycle};
use lifeline_core::store::{IncomingRequest, Rejection, Store, UpsertOutcome};

use crate::csv_requests::{ColumnMap, CsvRequests};
use crate::detect::{self, Format, SNIFF_BYTES};
use crate::feed_index::{LinkedAlert, fill_missing_geometry};
use crate::{
    FeedError, MAX_DOCUMENT_BYTES, MAX_RECORD_BYTES, ParsedDocument, parse_document, requests_json,
};

/// Fetches a linked CAP document (by URL or relative path) for a feed index; the sync
/// engine passes one that speaks HTTP, file import one that reads beside the file.
pub type LinkFetcher<'a> = &'a mut dyn FnMut(&str) -> Result<Vec<u8>, String>;

pub struct ImportOptions<'a> {
    /// Column mapping for a CSV that is not an Ushahidi export.
    pub csv_map: Option<ColumnMap>,
    /// Prefix for ids made from CSV rows (default: the file's name).
    pub id_prefix: Option<String>,
    pub batch_size: usize,
    pub now: DateTime<Utc>,
    pub fetch_link: Option<LinkFetcher<'a>>,
}

impl Default for ImportOptions<'_> {
    fn default() -> Self {
        ImportOptions {
            csv_map: None,
            id_prefix: None,
            batch_size: 1000,
            now: Utc::now(),
            fetch_link: None,
        }
    }
}

/// A rejected record as reported to the officer.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedRecord {
    pub record_ref: Option<String>,
    pub reason: String,
}

/// What importing one file did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileReport {
    pub source: String,
    pub format: Option<Format>,
    /// Records stored as new or newer versions.
    pub accepted: u64,
    /// Records already stored at this version or newer.
    pub unchanged: u64,
    pub rejected: Vec<RejectedRecord>,
    /// Earlier advisories this file superseded or cancelled.
    pub superseded: Vec<AdvisoryKey>,
    pub cancelled: Vec<AdvisoryKey>,
    /// Hazard events the source withdrew.
    pub removed: u64,
    /// Feed entries whose linked CAP document could not be read (the entry's own summary is
    /// stored instead when it has one).
    pub links_not_followed: Vec<(String, String)>,
    /// Ids of requests inserted or updated (for callers that push changes to a UI).
    pub changed_request_ids: Vec<String>,
    /// Nothing in the file could be used: the reason.
    pub error: Option<String>,
}

impl FileReport {
    /// Whether the file yielded anything at all (the CLI exits non-zero when none did).
    pub fn read_anything(&self) -> bool {
        self.error.is_none()
            && (self.accepted + self.unchanged + self.removed > 0 || self.rejected.is_empty())
    }
}

/// Imports one file. Never fails as a whole for a bad record; a file that cannot be read or
/// recognised at all is reported in `error`.
pub fn import_file(
    store: &Store,
    path: &Path,
    opts: &mut ImportOptions<'_>,
    progress: &mut dyn FnMut(u64),
) -> FileReport {
    let source = path.display().to_string();
    let mut report = FileReport {
        source: source.clone(),
        ..FileReport::default()
    };
    if let Err(e) = import_into(store, path, &source, opts, progress, &mut report) {
        report.error = Some(e.to_string());
    }
    report
}

fn import_into(
    store: &Store,
    path: &Path,
    source: &str,
    opts: &mut ImportOptions<'_>,
    progress: &mut dyn FnMut(u64),
    report: &mut FileReport,
) -> Result<(), FeedError> {
    let io = |e: std::io::Error| FeedError::Io {
        path: source.to_owned(),
        source: e,
    };
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut reader = BufReader::with_capacity(SNIFF_BYTES, file);
    let head = reader.fill_buf().map_err(io)?.to_vec();
    let format = detect::detect(&head)?;
    report.format = Some(format);
    match format {
        Format::JsonLines => import_json_lines(store, reader, source, opts, progress, report),
        Format::UshahidiCsv | Format::Csv => {
            if format == Format::Csv && opts.csv_map.is_none() {
                return Err(FeedError::Unsupported(
                    "this CSV is not an Ushahidi export; give a column mapping with --map field=Column,...".into(),
                ));
            }
            let prefix = opts.id_prefix.clone().unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "csv".into())
            });
            let mut rows =
                CsvRequests::new(reader, opts.csv_map.as_ref(), &prefix, source, opts.now)?;
            let mut batch = Vec::with_capacity(opts.batch_size);
            let mut rejected = Vec::new();
            while let Some(r) = rows.next_record() {
                match r {
                    Ok(req) => batch.push(req),
                    Err(rej) => rejected.push(rej),
                }
                if batch.len() >= opts.batch_size {
                    commit_requests(
                        store,
                        &mut batch,
                        &mut rejected,
                        source,
                        opts.now,
                        report,
                        progress,
                    )?;
                }
            }
            commit_requests(
                store,
                &mut batch,
                &mut rejected,
                source,
                opts.now,
                report,
                progress,
            )
        }
        _ => {
            if size > MAX_DOCUMENT_BYTES as u64 {
                return Err(FeedError::TooLarge {
                    size,
                    limit: MAX_DOCUMENT_BYTES,
                });
            }
            let mut bytes = Vec::with_capacity(size as usize);
            // `take` guards against a file that grows while we read it.
            reader
                .take(MAX_DOCUMENT_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(io)?;
            if bytes.len() > MAX_DOCUMENT_BYTES {
                return Err(FeedError::TooLarge {
                    size: bytes.len() as u64,
                    limit: MAX_DOCUMENT_BYTES,
                });
            }
            let parsed = parse_document(format, &bytes, source)?;
            let base = path.parent().map(Path::to_path_buf);
            let mut read_beside = |link: &str| -> Result<Vec<u8>, String> {
                let relative = link.strip_prefix("file://").unwrap_or(link);
                if relative.contains("://") {
                    return Err("a web address: fetch the feed with `lifeline sync --feed URL` to follow it".into());
                }
                let p = base
                    .as_deref()
                    .map_or_else(|| Path::new(relative).to_path_buf(), |b| b.join(relative));
                std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))
            };
            let fetch: LinkFetcher<'_> = match opts.fetch_link.as_mut() {
                Some(f) => &mut **f,
                None => &mut read_beside,
            };
            apply_into(
                store,
                parsed,
                source,
                opts.now,
                Some(fetch),
                report,
                progress,
            )
        }
    }
}

fn import_json_lines(
    store: &Store,
    mut reader: BufReader<File>,
    source: &str,
    opts: &ImportOptions<'_>,
    progress: &mut dyn FnMut(u64),
    report: &mut FileReport,
) -> Result<(), FeedError> {
    let mut batch = Vec::with_capacity(opts.batch_size);
    let mut rejected = Vec::new();
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        number += 1;
        let n = (&mut reader)
            .take(MAX_RECORD_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| FeedError::Io {
                path: source.to_owned(),
                source: e,
            })?;
        if n == 0 {
            break;
        }
        if line.len() > MAX_RECORD_BYTES && !line.ends_with(b"\n") {
            // Skip the rest of the oversized line.
            let mut sink = Vec::new();
            while !sink.ends_with(b"\n") {
                sink.clear();
                if (&mut reader)
                    .take(MAX_RECORD_BYTES as u64)
                    .read_until(b'\n', &mut sink)
                    .unwrap_or(0)
                    == 0
                {
                    break;
                }
            }
            rejected.push(Rejection {
                record_ref: Some(format!("line {number}")),
                reason: format!("the line is longer than {MAX_RECORD_BYTES} bytes"),
                raw: line[..1024].to_vec(),
            });
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<serde_json::Value>(text.trim())
            .map_err(|e| format!("not valid JSON: {e}"))
            .and_then(|v| requests_json::request_from_value(v, source));
        match parsed {
            Ok(r) => batch.push(r),
            Err(reason) => rejected.push(Rejection {
                record_ref: Some(format!("line {number}")),
                reason,
                raw: line.clone(),
            }),
        }
        if batch.len() >= opts.batch_size {
            commit_requests(
                store,
                &mut batch,
                &mut rejected,
                source,
                opts.now,
                report,
                progress,
            )?;
        }
    }
    commit_requests(
        store,
        &mut batch,
        &mut rejected,
        source,
        opts.now,
        report,
        progress,
    )
}

fn commit_requests(
    store: &Store,
    batch: &mut Vec<IncomingRequest>,
    rejected: &mut Vec<Rejection>,
    source: &str,
    now: DateTime<Utc>,
    report: &mut FileReport,
    progress: &mut dyn FnMut(u64),
) -> Result<(), FeedError> {
    if !batch.is_empty() {
        let r = store.upsert_requests(batch, source, None)?;
        report.accepted += (r.inserted.len() + r.updated.len()) as u64;
        report.unchanged += r.unchanged as u64;
        report
            .changed_request_ids
            .extend(r.inserted.into_iter().chain(r.updated));
        batch.clear();
        progress(report.accepted + report.unchanged);
    }
    if !rejected.is_empty() {
        store.quarantine(source, rejected, now)?;
        report
            .rejected
            .extend(rejected.drain(..).map(|r| RejectedRecord {
                record_ref: r.record_ref,
                reason: r.reason,
            }));
    }
    Ok(())
}

/// Stores a parsed document (requests, advisories, removals) and quarantines its rejections.
/// Linked CAP documents are read through `fetch_link` when given.
pub fn apply_document(
    store: &Store,
    parsed: ParsedDocument,
    source: &str,
    now: DateTime<Utc>,
    fetch_link: Option<LinkFetcher<'_>>,
) -> Result<FileReport, FeedError> {
    let mut report = FileReport {
        source: source.to_owned(),
        ..FileReport::default()
    };
    apply_into(
        store,
        parsed,
        source,
        now,
        fetch_link,
        &mut report,
        &mut |_| {},
    )?;
    Ok(report)
}

fn apply_into(
    store: &Store,
    mut parsed: ParsedDocument,
    source: &str,
    now: DateTime<Utc>,
    mut fetch_link: Option<LinkFetcher<'_>>,
    report: &mut FileReport,
    progress: &mut dyn FnMut(u64),
) -> Result<(), FeedError> {
    let links = std::mem::take(&mut parsed.links);
    let linked = links.len();
    let mut unread = Vec::new();
    for link in links {
        if let Some(rejection) = follow_link(link, &mut fetch_link, &mut parsed, report) {
            unread.push(rejection);
        }
    }
    // An index whose every entry only links elsewhere, none of which could be read here (a
    // file imported without the network): say what it is and how to get its alerts.
    if linked > 0
        && unread.len() == linked
        && parsed.advisories.is_empty()
        && parsed.requests.is_empty()
    {
        let why = report
            .links_not_followed
            .first()
            .map(|(_, reason)| reason.clone())
            .unwrap_or_default();
        return Err(FeedError::Unsupported(format!(
            "an index that links to {linked} CAP alerts and holds none itself; none could be read here ({why})"
        )));
    }
    parsed.rejected.extend(unread);
    let mut rejected = std::mem::take(&mut parsed.rejected);
    for chunk in parsed.requests.chunks_mut(1000) {
        let mut batch = chunk.to_vec();
        commit_requests(
            store,
            &mut batch,
            &mut rejected,
            source,
            now,
            report,
            progress,
        )?;
    }
    commit_requests(
        store,
        &mut Vec::new(),
        &mut rejected,
        source,
        now,
        report,
        progress,
    )?;
    if !parsed.advisories.is_empty() {
        for change in store.upsert_advisories(&parsed.advisories, now)? {
            match change.outcome {
                UpsertOutcome::Inserted | UpsertOutcome::Updated => report.accepted += 1,
                UpsertOutcome::Unchanged => report.unchanged += 1,
            }
            for (key, state) in change.affected {
                match state {
                    Lifecycle::Cancelled => report.cancelled.push(key),
                    _ => report.superseded.push(key),
                }
            }
        }
    }
    for removal in &parsed.removals {
        if store.remove_hazard(removal.format, &removal.ids)? {
            report.removed += 1;
        }
    }
    Ok(())
}

/// Reads the CAP document an index entry links to; falls back to the entry's own summary.
/// Returns the rejection of an entry that yielded nothing (no document, no summary).
fn follow_link(
    link: LinkedAlert,
    fetch: &mut Option<LinkFetcher<'_>>,
    parsed: &mut ParsedDocument,
    report: &mut FileReport,
) -> Option<Rejection> {
    let fetched = match fetch {
        Some(f) => f(&link.url),
        None => Err("links are not followed here".into()),
    };
    let outcome = fetched.and_then(|bytes| {
        let format = detect::detect(&bytes).map_err(|e| e.to_string())?;
        if !matches!(format, Format::Cap | Format::EdxlDe) {
            return Err(format!("the linked document is {}, not CAP", format.name()));
        }
        parse_document(format, &bytes, &link.url).map_err(|e| e.to_string())
    });
    match outcome {
        Ok(doc) => {
            for mut a in doc.advisories {
                fill_missing_geometry(&mut a, link.georss.as_ref(), &link.entry_id);
                parsed.advisories.push(a);
            }
            parsed.rejected.extend(doc.rejected);
            None
        }
        Err(reason) => {
            report.links_not_followed.push((link.url.clone(), reason));
            if let Some(summary) = link.summary {
                parsed.advisories.push(summary);
                None
            } else {
                Some(Rejection {
                    record_ref: Some(format!("entry {}", link.entry_id)),
                    reason: format!(
                        "linked CAP document {} could not be read and the entry has no summary",
                        link.url
                    ),
                    raw: Vec::new(),
                })
            }
        }
    }
}
