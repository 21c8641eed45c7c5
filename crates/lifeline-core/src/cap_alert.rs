//! Writing CAP 1.2 alerts: the drill's advisories (what a ministry or a met service would
//! publish), and a safety reminder an officer publishes for its area so other desks see it.

use crate::markup::escape;
use chrono::{DateTime, Utc};

/// One language's text of an alert.
pub struct InfoText<'a> {
    pub language: &'a str,
    pub event: &'a str,
    pub headline: &'a str,
    pub description: &'a str,
    pub instruction: &'a str,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// `lat, lon, radius_km`
    Circle(f64, f64, f64),
    /// `(lat, lon)` vertices, closed by the function. Longitudes past ±180 (a ring drawn
    /// across the antimeridian) are written back into -180..180, as CAP requires; readers
    /// split such a ring at 180°.
    Polygon(Vec<(f64, f64)>),
}

pub struct CapAlert<'a> {
    pub identifier: &'a str,
    pub sender: &'a str,
    /// Who the readers see as the sender (`senderName`).
    pub sender_name: &'a str,
    /// `Actual`, or `Exercise` on a drill.
    pub status: &'a str,
    pub sent: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub category: &'a str,
    pub severity: &'a str,
    pub urgency: &'a str,
    pub certainty: &'a str,
    pub area_desc: &'a str,
    pub shape: Shape,
    pub texts: Vec<InfoText<'a>>,
}

pub fn render(a: &CapAlert<'_>) -> String {
    let sent = a.sent.format("%Y-%m-%dT%H:%M:%S+00:00");
    let expires = a.expires.format("%Y-%m-%dT%H:%M:%S+00:00");
    let area = match &a.shape {
        Shape::Circle(lat, lon, km) => format!(
            "<circle>{lat:.4},{:.4} {km:.1}</circle>",
            crate::geo::wrap_lon(*lon)
        ),
        Shape::Polygon(points) => {
            let mut pts: Vec<String> = points
                .iter()
                .map(|(lat, lon)| format!("{lat:.4},{:.4}", crate::geo::wrap_lon(*lon)))
                .collect();
            if let Some(first) = pts.first().cloned() {
                pts.push(first);
            }
            format!("<polygon>{}</polygon>", pts.join(" "))
        }
    };
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n  \
         <identifier>{}</identifier>\n  <sender>{}</sender>\n  <sent>{sent}</sent>\n  <status>{}</status>\n  \
         <msgType>Alert</msgType>\n  <scope>Public</scope>\n",
        escape(a.identifier),
        escape(a.sender),
        escape(a.status)
    );
    for t in &a.texts {
        xml.push_str(&format!(
            "  <info>\n    <language>{}</language>\n    <category>{}</category>\n    <event>{}</event>\n    \
             <urgency>{}</urgency>\n    <severity>{}</severity>\n    <certainty>{}</certainty>\n    <expires>{expires}</expires>\n    \
             <senderName>{}</senderName>\n    <headline>{}</headline>\n    <description>{}</description>\n    \
             <instruction>{}</instruction>\n    <area>\n      <areaDesc>{}</areaDesc>\n      {area}\n    </area>\n  </info>\n",
            escape(t.language),
            escape(a.category),
            escape(t.event),
            escape(a.urgency),
            escape(a.severity),
            escape(a.certainty),
            escape(a.sender_name),
            escape(t.headline),
            escape(t.description),
            escape(t.instruction),
            escape(a.area_desc)
        ));
    }
    xml.push_str("</alert>\n");
    xml
}

/// A safety reminder as a CAP alert, for other desks' maps: the officer's text in the
/// officer's language, the drawn area, valid for a day. Answers the alert's identifier and
/// its XML. The text goes out as written: it is a public reminder, not a citizen's data.
pub struct SafetyReminder<'a> {
    pub text: &'a str,
    /// `zh-CN` or `en`.
    pub language: &'a str,
    /// The post's address for CAP (`sender`), and who signs it (`senderName`).
    pub sender: &'a str,
    pub sender_name: &'a str,
    /// `Actual`, or `Exercise` on a desk that holds a drill's data.
    pub status: &'a str,
    pub shape: Shape,
    pub sent: DateTime<Utc>,
}

impl Shape {
    /// A box `west, south, east, north` (west > east crosses the antimeridian) as a polygon.
    pub fn from_box(west: f64, south: f64, east: f64, north: f64) -> Shape {
        let east = if east < west { east + 360.0 } else { east };
        Shape::Polygon(vec![
            (south, west),
            (south, east),
            (north, east),
            (north, west),
        ])
    }
}

pub fn safety_reminder(r: &SafetyReminder<'_>) -> (String, String) {
    let identifier = format!("lifeline-reminder-{}", r.sent.format("%Y%m%dT%H%M%S%.3fZ"));
    let zh = r.language.starts_with("zh");
    let headline: String = r.text.chars().take(80).collect();
    let xml = render(&CapAlert {
        identifier: &identifier,
        sender: r.sender,
        sender_name: r.sender_name,
        status: r.status,
        sent: r.sent,
        expires: r.sent + chrono::Duration::hours(24),
        category: "Safety",
        severity: "Minor",
        urgency: "Expected",
        certainty: "Likely",
        area_desc: if zh {
            "领保安全提醒区域"
        } else {
            "Safety reminder area"
        },
        shape: r.shape.clone(),
        texts: vec![InfoText {
            language: r.language,
            event: if zh {
                "安全提醒"
            } else {
                "Safety reminder"
            },
            headline: &headline,
            description: r.text,
            instruction: r.text,
        }],
    });
    (identifier, xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reminder_across_the_antimeridian_is_written_within_range_and_escaped() {
        let (id, xml) = safety_reminder(&SafetyReminder {
            text: "Cyclone <Winston>: go to the shelter & stay there",
            language: "en",
            sender: "consular@embassy.example",
            sender_name: "Embassy Suva",
            status: "Exercise",
            shape: Shape::Polygon(vec![(-19.0, 177.5), (-19.0, 181.5), (-15.0, 179.5)]),
            sent: chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("time"),
        });
        assert!(id.starts_with("lifeline-reminder-"));
        assert!(xml.contains("<status>Exercise</status>"));
        assert!(xml.contains("-19.0000,-178.5000"), "{xml}");
        assert!(xml.contains("Cyclone &lt;Winston&gt;: go to the shelter &amp; stay there"));
        assert!(!xml.contains("<Winston>"));
    }
}
