//! Text written into XML or HTML that Lifeline makes (the hub's Atom index, drill CAP
//! documents, the desk's saved hand-over page): every character that could start markup
//! or end an attribute becomes a character reference. The numeric `&#39;` is read the same
//! by XML and by every HTML.

/// `text` as XML/HTML character data or attribute value.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_characters_become_references() {
        assert_eq!(
            super::escape("<b>\"Li\" & 'Wang'</b>"),
            "&lt;b&gt;&quot;Li&quot; &amp; &#39;Wang&#39;&lt;/b&gt;"
        );
    }
}
