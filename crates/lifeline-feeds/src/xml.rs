//! Safe XML parsing and small helpers for namespace-aware lookups.
//!
//! roxmltree rejects DTDs (so no entity-expansion bombs) and builds the whole tree in memory,
//! so documents are size-capped before parsing and node-capped during it.

use roxmltree::{Document, Node, ParsingOptions};

use crate::FeedError;

/// At most this many XML nodes per document: a 16 MiB feed of small elements stays under it,
/// a pathological one stops early instead of exhausting memory.
pub const MAX_XML_NODES: u32 = 2_000_000;

pub fn parse(text: &str) -> Result<Document<'_>, FeedError> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_XML_NODES,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, options).map_err(|e| FeedError::Xml(e.to_string()))
}

/// The element children of `node` with local name `name`, in any namespace listed in `ns`
/// (an empty list accepts any namespace).
pub fn children<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    ns: &'a [&'a str],
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name && in_ns(*c, ns))
}

pub fn child<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    ns: &'a [&'a str],
    name: &'a str,
) -> Option<Node<'a, 'input>> {
    children(node, ns, name).next()
}

fn in_ns(node: Node<'_, '_>, ns: &[&str]) -> bool {
    ns.is_empty() || ns.contains(&node.tag_name().namespace().unwrap_or(""))
}

/// Text content of an element (all text descendants, trimmed); `None` when empty.
pub fn text(node: Node<'_, '_>) -> Option<String> {
    let mut s = String::new();
    for d in node.descendants().filter(|d| d.is_text()) {
        s.push_str(d.text().unwrap_or(""));
    }
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub fn child_text(node: Node<'_, '_>, ns: &[&str], name: &str) -> Option<String> {
    child(node, ns, name).and_then(text)
}

pub fn children_text(node: Node<'_, '_>, ns: &[&str], name: &str) -> Vec<String> {
    children(node, ns, name).filter_map(text).collect()
}

/// A short human reference to an element for error messages: `line 12`.
pub fn position(node: Node<'_, '_>) -> String {
    let pos = node.document().text_pos_at(node.range().start);
    format!("line {}", pos.row)
}
