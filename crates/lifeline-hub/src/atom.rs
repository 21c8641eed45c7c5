//! The Atom index of relayed CAP documents (`GET /v1/advisories.atom`).

use chrono::{DateTime, Utc};
use lifeline_core::markup::escape;

use crate::store::RelayedAdvisory;

/// Renders the feed; links are relative to the feed's own URL.
pub fn render(instance: &str, entries: &[RelayedAdvisory], updated: DateTime<Utc>) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    out.push_str(&format!(
        "  <id>urn:lifeline:hub:{}:advisories</id>\n",
        escape(instance)
    ));
    out.push_str("  <title>Lifeline hub: relayed advisories</title>\n");
    out.push_str(&format!("  <updated>{}</updated>\n", updated.to_rfc3339()));
    for e in entries {
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <id>urn:lifeline:advisory:{}</id>\n", e.id));
        out.push_str(&format!("    <title>{}</title>\n", escape(&e.title)));
        out.push_str(&format!("    <updated>{}</updated>\n", escape(&e.sent)));
        out.push_str(&format!(
            "    <author><name>{}</name></author>\n",
            escape(&e.sender)
        ));
        out.push_str(&format!(
            "    <link rel=\"alternate\" type=\"application/cap+xml\" href=\"advisories/{}.xml\"/>\n",
            e.id
        ));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}
