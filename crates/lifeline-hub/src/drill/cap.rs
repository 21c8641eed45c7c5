//! CAP 1.2 documents for drill advisories (what a ministry or a met service would publish).

use chrono::{DateTime, Utc};
use lifeline_core::markup::escape;

/// One language's text of a drill alert.
pub struct InfoText<'a> {
    pub language: &'a str,
    pub event: &'a str,
    pub headline: &'a str,
    pub description: &'a str,
    pub instruction: &'a str,
}

pub enum Shape {
    /// `lat, lon, radius_km`
    Circle(f64, f64, f64),
    /// `(lat, lon)` vertices, closed by the function.
    Polygon(Vec<(f64, f64)>),
}

pub struct DrillAlert<'a> {
    pub identifier: &'a str,
    pub sender: &'a str,
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

pub fn render(a: &DrillAlert<'_>) -> String {
    let sent = a.sent.format("%Y-%m-%dT%H:%M:%S+00:00");
    let expires = a.expires.format("%Y-%m-%dT%H:%M:%S+00:00");
    let area = match &a.shape {
        Shape::Circle(lat, lon, km) => format!("<circle>{lat:.4},{lon:.4} {km:.1}</circle>"),
        Shape::Polygon(points) => {
            let mut pts: Vec<String> = points
                .iter()
                .map(|(lat, lon)| format!("{lat:.4},{lon:.4}"))
                .collect();
            if let Some(first) = pts.first().cloned() {
                pts.push(first);
            }
            format!("<polygon>{}</polygon>", pts.join(" "))
        }
    };
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n  \
         <identifier>{}</identifier>\n  <sender>{}</sender>\n  <sent>{sent}</sent>\n  <status>Exercise</status>\n  \
         <msgType>Alert</msgType>\n  <scope>Public</scope>\n",
        escape(a.identifier),
        escape(a.sender)
    );
    for t in &a.texts {
        xml.push_str(&format!(
            "  <info>\n    <language>{}</language>\n    <category>{}</category>\n    <event>{}</event>\n    \
             <urgency>{}</urgency>\n    <severity>{}</severity>\n    <certainty>{}</certainty>\n    <expires>{expires}</expires>\n    \
             <senderName>Lifeline drill</senderName>\n    <headline>{}</headline>\n    <description>{}</description>\n    \
             <instruction>{}</instruction>\n    <area>\n      <areaDesc>{}</areaDesc>\n      {area}\n    </area>\n  </info>\n",
            escape(t.language),
            escape(a.category),
            escape(t.event),
            escape(a.urgency),
            escape(a.severity),
            escape(a.certainty),
            escape(t.headline),
            escape(t.description),
            escape(t.instruction),
            escape(a.area_desc)
        ));
    }
    xml.push_str("</alert>\n");
    xml
}
