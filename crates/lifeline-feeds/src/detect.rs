//! Telling formats apart by their content (the first 64 KiB), never by file name: feeds are
//! served as `alerts.php`, saved as `download (3)`, mailed as `.txt`.

use crate::FeedError;

/// How much of a file detection looks at.
pub const SNIFF_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Cap,
    EdxlDe,
    Atom,
    Rss,
    GdacsRss,
    UsgsGeoJson,
    GeoJsonAdvisories,
    GeoJsonRequests,
    RequestArray,
    Open311Json,
    Open311Xml,
    /// An Open311 service list or service definition: what a city offers, no requests.
    Open311Services,
    /// The USGS earthquake feed as Atom.
    UsgsAtom,
    JsonLines,
    UshahidiCsv,
    Csv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Cap => "CAP",
            Format::EdxlDe => "EDXL-DE (CAP)",
            Format::Atom => "Atom feed",
            Format::Rss => "RSS feed",
            Format::GdacsRss => "GDACS RSS",
            Format::UsgsGeoJson => "USGS earthquake GeoJSON",
            Format::GeoJsonAdvisories => "GeoJSON advisories",
            Format::GeoJsonRequests => "GeoJSON help requests",
            Format::RequestArray => "JSON help requests",
            Format::Open311Json => "Open311 GeoReport v2 (JSON)",
            Format::Open311Xml => "Open311 GeoReport v2 (XML)",
            Format::Open311Services => "Open311 service metadata",
            Format::UsgsAtom => "USGS earthquake Atom feed",
            Format::JsonLines => "JSON lines help requests",
            Format::UshahidiCsv => "Ushahidi CSV export",
            Format::Csv => "CSV",
        }
    }

    /// Record formats are read record by record; the others as one document.
    pub fn is_streamed(self) -> bool {
        matches!(self, Format::JsonLines | Format::UshahidiCsv | Format::Csv)
    }
}

/// The text of a document: UTF-8, without a byte-order mark.
pub fn decode_text(bytes: &[u8]) -> Result<&str, FeedError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(FeedError::Unsupported(
            "the file is UTF-16; Lifeline reads UTF-8".into(),
        ));
    }
    std::str::from_utf8(bytes)
        .map_err(|e| FeedError::Unsupported(format!("the file is not UTF-8 text ({e})")))
}

/// Detects the format from the beginning of the content.
pub fn detect(head: &[u8]) -> Result<Format, FeedError> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    // The head may end inside a multi-byte character: decode what is valid.
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => {
            return Err(FeedError::Unrecognized(
                "binary or non-UTF-8 content".into(),
            ));
        }
    };
    let trimmed = text.trim_start();
    match trimmed.chars().next() {
        None => Err(FeedError::Unrecognized("the file is empty".into())),
        Some('<') => detect_xml(trimmed),
        Some('{') => Ok(detect_json_object(trimmed)),
        Some('[') => Ok(if trimmed.contains("\"service_request_id\"") {
            Format::Open311Json
        } else if trimmed.contains("\"service_code\"") {
            Format::Open311Services
        } else {
            Format::RequestArray
        }),
        Some(_) => {
            // Any line ending: CRLF, LF, or the old Mac CR alone.
            let header = trimmed.split(['\r', '\n']).next().unwrap_or("");
            let upper = header.to_ascii_uppercase();
            if upper.contains("INCIDENT TITLE")
                || (upper.contains("POST ID") && upper.contains("TITLE"))
            {
                Ok(Format::UshahidiCsv)
            } else if header.contains(',') || header.contains(';') || header.contains('\t') {
                Ok(Format::Csv)
            } else {
                Err(FeedError::Unrecognized(format!(
                    "starts with `{}`",
                    header.chars().take(40).collect::<String>()
                )))
            }
        }
    }
}

fn detect_xml(text: &str) -> Result<Format, FeedError> {
    let root = root_element_name(text)
        .ok_or_else(|| FeedError::Unrecognized("XML without a root element".into()))?;
    let local = root.rsplit(':').next().unwrap_or(root);
    match local {
        "alert" => Ok(Format::Cap),
        "EDXLDistribution" => Ok(Format::EdxlDe),
        "feed"
            if text.contains("urn:earthquake-usgs-gov:")
                || text.contains("earthquake.usgs.gov/earthquakes/feed") =>
        {
            Ok(Format::UsgsAtom)
        }
        "feed" => Ok(Format::Atom),
        "rss" if text.contains("http://www.gdacs.org") => Ok(Format::GdacsRss),
        "rss" => Ok(Format::Rss),
        "service_requests" => Ok(Format::Open311Xml),
        "services" | "service_definition" => Ok(Format::Open311Services),
        other => Err(FeedError::Unrecognized(format!(
            "XML with root element <{other}>"
        ))),
    }
}

/// The name of the first element, skipping the declaration, processing instructions,
/// comments and a DOCTYPE (which the parser will then refuse).
fn root_element_name(mut text: &str) -> Option<&str> {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix("<?") {
            text = &rest[rest.find("?>")? + 2..];
        } else if let Some(rest) = text.strip_prefix("<!--") {
            text = &rest[rest.find("-->")? + 3..];
        } else if let Some(rest) = text.strip_prefix("<!") {
            // A DOCTYPE may carry an internal subset `[ ... ]` with `>` inside it.
            let close = rest.find('>')?;
            let end = match rest.find('[') {
                Some(open) if open < close => {
                    let subset_end = open + rest[open..].find(']')?;
                    subset_end + rest[subset_end..].find('>')?
                }
                _ => close,
            };
            text = &rest[end + 1..];
        } else if let Some(rest) = text.strip_prefix('<') {
            let end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
            return Some(&rest[..end]);
        } else {
            return None;
        }
    }
}

fn detect_json_object(text: &str) -> Format {
    // JSON lines: the first line is a whole object and more follows on the next lines.
    if let Some((first, rest)) = text.split_once('\n')
        && !rest.trim().is_empty()
        && serde_json::from_str::<serde_json::Value>(first.trim()).is_ok_and(|v| v.is_object())
    {
        return Format::JsonLines;
    }
    let compact: String = text
        .chars()
        .take(SNIFF_BYTES)
        .filter(|c| !c.is_whitespace())
        .collect();
    // Open311: one request as an object instead of an array of one (a server quirk), or a
    // service definition.
    if compact.contains("\"service_request_id\":") {
        return Format::Open311Json;
    }
    if compact.contains("\"service_code\":") && !compact.contains("\"type\":\"Feature") {
        return Format::Open311Services;
    }
    if compact.contains("earthquake.usgs.gov")
        || (compact.contains("\"mag\":") && compact.contains("\"ids\":"))
    {
        Format::UsgsGeoJson
    } else if compact.contains("\"channel\":") && compact.contains("\"category\":") {
        if compact.contains("\"type\":\"Feature") {
            Format::GeoJsonRequests
        } else {
            Format::JsonLines
        }
    } else {
        Format::GeoJsonAdvisories
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart_by_content() {
        let cases: &[(&str, Format)] = &[
            (
                "<?xml version='1.0'?>\n<!-- c --><alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'>",
                Format::Cap,
            ),
            (
                "<cap:alert xmlns:cap='urn:oasis:names:tc:emergency:cap:1.1'>",
                Format::Cap,
            ),
            (
                "\u{feff}<?xml version='1.0'?><rss xmlns:gdacs=\"http://www.gdacs.org\">",
                Format::GdacsRss,
            ),
            ("<rss version='2.0'>", Format::Rss),
            ("<feed xmlns='http://www.w3.org/2005/Atom'>", Format::Atom),
            ("<edxlde:EDXLDistribution xmlns:edxlde='x'>", Format::EdxlDe),
            ("<service_requests><request>", Format::Open311Xml),
            ("[{\"service_request_id\":\"1\"}]", Format::Open311Json),
            (
                "{\"type\":\"FeatureCollection\",\"metadata\":{\"url\":\"https://earthquake.usgs.gov/x\"}}",
                Format::UsgsGeoJson,
            ),
            (
                "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"properties\": {\"channel\": \"app\", \"category\": \"medical\"}}]}",
                Format::GeoJsonRequests,
            ),
            (
                "{\"type\":\"Polygon\",\"coordinates\":[]}",
                Format::GeoJsonAdvisories,
            ),
            ("{\"id\":\"a\"}\n{\"id\":\"b\"}\n", Format::JsonLines),
            (
                "Serial,INCIDENT TITLE,INCIDENT DATE\n1,a,b",
                Format::UshahidiCsv,
            ),
            ("ref,lat,lon\n1,2,3", Format::Csv),
            ("#,INCIDENT TITLE\r1,a\r2,b", Format::UshahidiCsv),
            (
                "Post ID,Post Status,Title,Description,Location.lat\n1,published,a,b,1",
                Format::UshahidiCsv,
            ),
            ("<services><service>", Format::Open311Services),
            ("<service_definition>", Format::Open311Services),
            ("[{\"service_code\":\"001\"}]", Format::Open311Services),
            (
                "{\"service_code\":\"001\",\"attributes\":[]}",
                Format::Open311Services,
            ),
            ("{\"service_request_id\":\"7\"}", Format::Open311Json),
            (
                "<feed xmlns='http://www.w3.org/2005/Atom'><id>https://earthquake.usgs.gov/earthquakes/feed/v1.0/summary/4.5_day.atom</id>",
                Format::UsgsAtom,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text.as_bytes()).expect(text), *want, "{text}");
        }
        assert!(detect(b"").is_err());
        assert!(detect(b"\x00\x01\x02\xff").is_err());
        assert!(detect(b"<html><body>").is_err());
    }
}
