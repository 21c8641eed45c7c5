//! Everything Lifeline reads from outside: official warnings, hazard feeds and help requests
//! exported by other systems. Each parser turns bytes into domain records; a record that
//! cannot be used becomes a [`Rejection`] with its reason and raw bytes, and the records
//! around it still land.
//!
//! Formats are detected from content, never from file names ([`detect`]). Document formats
//! (XML, JSON) are size-capped before parsing; record formats (JSON lines, CSV) stream with
//! a cap per record, so a file of 10^6 requests imports in constant memory ([`import`]).

pub mod cap;
pub mod csv_requests;
pub mod detect;
pub mod feed_index;
pub mod gdacs;
pub mod geojson_feeds;
pub mod import;
pub mod open311;
pub mod requests_json;
mod time;
pub mod usgs_atom;
pub mod xml;

use lifeline_core::model::{Advisory, SourceFormat};
use lifeline_core::store::{IncomingRequest, Rejection};

pub use detect::Format;
pub use import::{FileReport, ImportOptions, apply_document, import_file};

/// Largest XML or JSON document accepted (a USGS month-of-earthquakes feed is ~10 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
/// Largest single record in a streamed format (one JSON line, one CSV row).
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// A whole-file problem: nothing in the file could be used.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the document is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: u64, limit: usize },
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("not valid CSV: {0}")]
    Csv(String),
    #[error("the content is not a format Lifeline reads ({0})")]
    Unrecognized(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("storing the records failed: {0}")]
    Store(#[from] lifeline_core::store::StoreError),
}

/// A hazard event its source withdrew (USGS `status: deleted`).
#[derive(Debug, Clone, PartialEq)]
pub struct HazardRemoval {
    pub format: SourceFormat,
    pub ids: Vec<String>,
}

/// What a document holds, before anything is stored.
#[derive(Debug, Default)]
pub struct ParsedDocument {
    pub requests: Vec<IncomingRequest>,
    pub advisories: Vec<Advisory>,
    pub removals: Vec<HazardRemoval>,
    /// Feed entries that only link to a CAP document (URL as published), with any GeoRSS
    /// geometry the entry carried, for the caller to fetch.
    pub links: Vec<feed_index::LinkedAlert>,
    pub rejected: Vec<Rejection>,
}

/// Parses a whole document of a known document format.
pub fn parse_document(
    format: Format,
    bytes: &[u8],
    source: &str,
) -> Result<ParsedDocument, FeedError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(FeedError::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let text = detect::decode_text(bytes)?;
    match format {
        Format::Cap | Format::EdxlDe => {
            let doc = xml::parse(text)?;
            let nodes = cap::alerts_in(doc.root_element());
            if nodes.is_empty() {
                return Err(FeedError::Unsupported(
                    "the envelope holds no CAP alert".into(),
                ));
            }
            let mut out = ParsedDocument::default();
            for r in cap::parse_alerts(&nodes, source) {
                match r {
                    Ok(a) => out.advisories.push(a),
                    Err(rej) => out.rejected.push(rej),
                }
            }
            Ok(out)
        }
        Format::Atom | Format::Rss => feed_index::parse(text, source),
        Format::GdacsRss => gdacs::parse(text, source),
        Format::UsgsGeoJson => geojson_feeds::parse_usgs(text, source),
        Format::GeoJsonAdvisories => geojson_feeds::parse_advisories(text, source),
        Format::GeoJsonRequests => requests_json::parse_geojson(text, source),
        Format::RequestArray => requests_json::parse_array(text, source),
        Format::Open311Json => open311::parse_json(text, source),
        Format::Open311Xml => open311::parse_xml(text, source),
        Format::UsgsAtom => usgs_atom::parse(text, source),
        Format::Open311Services => Err(FeedError::Unsupported(open311::services_message(text))),
        Format::JsonLines | Format::UshahidiCsv | Format::Csv => Err(FeedError::Unsupported(
            format!("{} is a record format; import it as a file", format.name()),
        )),
    }
}
