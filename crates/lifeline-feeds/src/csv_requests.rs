//! Help requests from CSV: Ushahidi crisis-map exports (the classic columns, multi-line quoted
//! fields, day-first dates; and the Ushahidi platform's exports with `Post ID`, `Title`,
//! `Location.lat` and repeated `Categories.0`, `Categories.1` columns) and any other CSV
//! given a column mapping (`--map id=Ref,description=Details,lat=Lat,lon=Lng,created_at=Date`).
//!
//! Exports as people have them: any line ending (CRLF, LF, a lone CR), header names with
//! spaces around them, columns in any order, a field spread over numbered columns
//! (`Categories.0`, `Categories.1`: their values joined), rows without coordinates (kept,
//! without a location).

use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, Utc};
use lifeline_core::model::{
    CaseEvent, CaseEventKind, Category, Channel, Citizen, HelpRequest, Location, Origin, Priority,
    Status,
};
use lifeline_core::store::{IncomingRequest, Rejection};

use crate::open311::sanitize_id;
use crate::{FeedError, MAX_RECORD_BYTES, time};

/// Which request field comes from which CSV column.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnMap {
    fields: Vec<(Field, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Id,
    Title,
    Description,
    CreatedAt,
    Name,
    Phone,
    Lat,
    Lon,
    Category,
    Emergency,
    Priority,
    Status,
    Country,
    Address,
    Post,
    People,
}

const FIELD_NAMES: &[(&str, Field)] = &[
    ("id", Field::Id),
    ("title", Field::Title),
    ("description", Field::Description),
    ("created_at", Field::CreatedAt),
    ("name", Field::Name),
    ("phone", Field::Phone),
    ("lat", Field::Lat),
    ("lon", Field::Lon),
    ("category", Field::Category),
    ("emergency", Field::Emergency),
    ("priority", Field::Priority),
    ("status", Field::Status),
    ("country", Field::Country),
    ("address", Field::Address),
    ("post", Field::Post),
    ("people", Field::People),
];

impl ColumnMap {
    /// Parses `field=Column,field=Column`. Fields: id, title, description, created_at, name,
    /// phone, lat, lon, category, emergency, priority, status, country, address, post, people.
    pub fn parse(text: &str) -> Result<ColumnMap, String> {
        let mut fields = Vec::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, column) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` is not field=Column"))?;
            let field = FIELD_NAMES
                .iter()
                .find(|(n, _)| *n == field.trim())
                .map(|(_, f)| *f)
                .ok_or_else(|| {
                    format!(
                        "unknown field `{field}`; known: {}",
                        FIELD_NAMES
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            fields.push((field, column.trim().to_owned()));
        }
        if !fields
            .iter()
            .any(|(f, _)| matches!(f, Field::Description | Field::Title))
        {
            return Err("the mapping needs description= (or title=)".into());
        }
        Ok(ColumnMap { fields })
    }

    /// The columns of an Ushahidi export: the platform's (`Post ID`, `Title`, …) when the
    /// header has them, else the classic crisis-map export's.
    pub fn ushahidi(headers: &csv::StringRecord) -> ColumnMap {
        if headers
            .iter()
            .any(|h| h.trim().eq_ignore_ascii_case("Post ID"))
        {
            let pairs = [
                (Field::Id, "Post ID"),
                (Field::Title, "Title"),
                (Field::Description, "Description"),
                (Field::CreatedAt, "Post Date (UTC)"),
                (Field::Lat, "Location.lat"),
                (Field::Lon, "Location.lon"),
                (Field::Category, "Categories"),
            ];
            return ColumnMap {
                fields: pairs.iter().map(|(f, c)| (*f, (*c).to_owned())).collect(),
            };
        }
        let id_column = headers
            .iter()
            .find(|h| matches!(h.trim(), "#" | "Serial" | "ID" | "Id"))
            .unwrap_or("#");
        let pairs = [
            (Field::Id, id_column),
            (Field::Title, "INCIDENT TITLE"),
            (Field::CreatedAt, "INCIDENT DATE"),
            (Field::Address, "LOCATION"),
            (Field::Description, "DESCRIPTION"),
            (Field::Category, "CATEGORY"),
            (Field::Lat, "LATITUDE"),
            (Field::Lon, "LONGITUDE"),
        ];
        ColumnMap {
            fields: pairs.iter().map(|(f, c)| (*f, (*c).to_owned())).collect(),
        }
    }
}

/// Reads requests one CSV record at a time.
pub struct CsvRequests<R: Read> {
    reader: csv::Reader<R>,
    /// The columns of each field: one, or several numbered ones (`Categories.0`, `.1`).
    columns: HashMap<Field, Vec<usize>>,
    id_prefix: String,
    source: String,
    record: csv::StringRecord,
    now: DateTime<Utc>,
}

impl<R: Read> CsvRequests<R> {
    /// `map` is `None` for an Ushahidi export (columns found by their classic names).
    pub fn new(
        input: R,
        map: Option<&ColumnMap>,
        id_prefix: &str,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, FeedError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let headers = reader
            .headers()
            .map_err(|e| FeedError::Csv(e.to_string()))?
            .clone();
        let map = match map {
            Some(m) => m.clone(),
            None => ColumnMap::ushahidi(&headers),
        };
        let mut columns = HashMap::new();
        for (field, column) in &map.fields {
            let found: Vec<usize> = headers
                .iter()
                .enumerate()
                .filter(|(_, h)| same_column(h, column))
                .map(|(i, _)| i)
                .collect();
            match found.is_empty() {
                false => {
                    columns.insert(*field, found);
                }
                true if matches!(
                    field,
                    Field::Id | Field::Category | Field::Address | Field::CreatedAt
                ) => {}
                true => {
                    return Err(FeedError::Csv(format!(
                        "column `{column}` is not in the header ({})",
                        headers.iter().collect::<Vec<_>>().join(", ")
                    )));
                }
            }
        }
        Ok(CsvRequests {
            reader,
            columns,
            id_prefix: sanitize_id(id_prefix),
            source: source.to_owned(),
            record: csv::StringRecord::new(),
            now,
        })
    }

    /// The next record, or `None` at the end. A record that cannot be read or used is a
    /// rejection; reading goes on after it.
    pub fn next_record(&mut self) -> Option<Result<IncomingRequest, Rejection>> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => None,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                // A broken quote can swallow the rest of the file; report it and stop there.
                Some(Err(Rejection {
                    record_ref: Some(format!("line {line}")),
                    reason: e.to_string(),
                    raw: Vec::new(),
                }))
            }
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                let raw = self
                    .record
                    .iter()
                    .collect::<Vec<_>>()
                    .join(",")
                    .into_bytes();
                if raw.len() > MAX_RECORD_BYTES {
                    return Some(Err(Rejection {
                        record_ref: Some(format!("line {line}")),
                        reason: format!(
                            "the record is {} bytes; the limit is {MAX_RECORD_BYTES}",
                            raw.len()
                        ),
                        raw: raw[..1024].to_vec(),
                    }));
                }
                Some(self.to_request(line).map_err(|reason| Rejection {
                    record_ref: Some(format!("line {line}")),
                    reason,
                    raw,
                }))
            }
        }
    }

    /// The field's value: its column's, or the non-empty values of its numbered columns
    /// joined with `, `.
    fn get(&self, f: Field) -> Option<std::borrow::Cow<'_, str>> {
        let values: Vec<&str> = self
            .columns
            .get(&f)?
            .iter()
            .filter_map(|i| self.record.get(*i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        match values[..] {
            [] => None,
            [one] => Some(std::borrow::Cow::Borrowed(one)),
            _ => Some(std::borrow::Cow::Owned(values.join(", "))),
        }
    }

    fn to_request(&self, line: u64) -> Result<IncomingRequest, String> {
        let id = match self.get(Field::Id) {
            Some(id) => format!("{}-{}", self.id_prefix, sanitize_id(&id)),
            None => format!("{}-line{line}", self.id_prefix),
        };
        let created = match self.get(Field::CreatedAt) {
            Some(t) => time::parse_local_day_first(&t)
                .ok_or_else(|| format!("date `{t}` is not a date (day/month/year hh:mm)"))?,
            None => self.now,
        };
        let coordinate = |f: Field, name: &str| -> Result<Option<f64>, String> {
            self.get(f)
                .map(|t| {
                    t.parse::<f64>()
                        .map_err(|_| format!("{name} `{t}` is not a number"))
                })
                .transpose()
        };
        let location = match (
            coordinate(Field::Lat, "latitude")?,
            coordinate(Field::Lon, "longitude")?,
        ) {
            (Some(lat), Some(lon)) => Some(Location {
                lat,
                lon,
                accuracy_m: None,
                captured_at: Some(created),
                address: self.get(Field::Address).map(|a| a.into_owned()),
                country: self.get(Field::Country).map(|c| c.to_uppercase()),
            }),
            (None, None) => None,
            _ => return Err("latitude and longitude must both be given or both be empty".into()),
        };
        let category_text = self.get(Field::Category).unwrap_or_default();
        let description = match (self.get(Field::Title), self.get(Field::Description)) {
            (Some(t), Some(d)) => format!("{t}\n{d}"),
            (Some(t), None) => t.into_owned(),
            (None, Some(d)) => d.into_owned(),
            (None, None) => return Err("the record has no title or description".into()),
        };
        let mut address_note = String::new();
        if location.is_none()
            && let Some(a) = self.get(Field::Address)
        {
            address_note = format!("\nLocation: {a}");
        }
        // Our vocabulary spelled loosely: `Crime victim` → `crime_victim`.
        let word = |f: Field| self.get(f).map(|s| s.to_lowercase().replace(' ', "_"));
        let category = match word(Field::Category).and_then(|c| c.parse::<Category>().ok()) {
            Some(c) => c,
            None => category_from_text(&category_text),
        };
        let emergency = match self.get(Field::Emergency) {
            Some(v) => matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "1" | "y"),
            None => is_emergency_text(&category_text),
        };
        let priority = match word(Field::Priority) {
            Some(p) => p.parse::<Priority>().map_err(|e| e.to_string())?,
            None if emergency => Priority::High,
            None => Priority::Normal,
        };
        let status = match word(Field::Status) {
            Some(s) => s.parse::<Status>().map_err(|e| e.to_string())?,
            None => Status::New,
        };
        let request = HelpRequest {
            id: id.clone(),
            channel: Channel::Other,
            category,
            emergency,
            priority,
            status,
            duplicate_of: None,
            citizen: Citizen {
                name: self.get(Field::Name).unwrap_or_default().into_owned(),
                phone: self.get(Field::Phone).map(|p| p.into_owned()),
                ..Citizen::default()
            },
            people_count: match self.get(Field::People) {
                Some(n) => n
                    .parse()
                    .map_err(|_| format!("people `{n}` is not a whole number"))?,
                None => 1,
            },
            location,
            description: format!("{description}{address_note}"),
            attachments: Vec::new(),
            assignee: None,
            post: self.get(Field::Post).map(|p| p.into_owned()),
            created_at: created,
            updated_at: created,
            version: 0,
        };
        request.validate().map_err(|e| e.to_string())?;
        let events = vec![CaseEvent {
            id: format!("{id}.created"),
            request_id: id,
            kind: CaseEventKind::Created,
            actor: Some(format!("import: {}", self.source)),
            at: created,
            origin: Origin::Import,
        }];
        Ok(IncomingRequest { request, events })
    }
}

/// Whether header `header` is column `column`: the same name whatever the case and the
/// spaces around it, or one of its numbered columns (`Categories.0` for `Categories`).
fn same_column(header: &str, column: &str) -> bool {
    let h = header.trim();
    if h.eq_ignore_ascii_case(column) {
        return true;
    }
    h.len() > column.len() + 1
        && h.is_char_boundary(column.len())
        && h[..column.len()].eq_ignore_ascii_case(column)
        && h[column.len()..]
            .strip_prefix('.')
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_emergency_text(text: &str) -> bool {
    let t = text.to_lowercase();
    ["emergency", "urgence", "urgent", "trapped", "sos"]
        .iter()
        .any(|w| t.contains(w))
}

/// Ushahidi category labels (`1. Urgences | Emergency, 3. Public Health`) to our categories.
fn category_from_text(text: &str) -> Category {
    let t = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if has(&["health", "medical", "santé", "injur", "hospital"]) {
        Category::Medical
    } else if has(&[
        "trapped",
        "collapsed",
        "earthquake",
        "flood",
        "hurricane",
        "tsunami",
    ]) {
        Category::NaturalDisaster
    } else if has(&["missing", "disparu", "person"]) {
        Category::MissingPerson
    } else if has(&["security", "sécurité", "crime", "violence", "looting"]) {
        Category::CrimeVictim
    } else if has(&["evacuat"]) {
        Category::Evacuation
    } else {
        Category::Other
    }
}
