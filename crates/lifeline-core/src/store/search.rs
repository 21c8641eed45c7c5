//! Text search segmentation for Chinese (and Japanese, Korean) alongside Latin scripts.
//!
//! SQLite's `unicode61` tokenizer splits on spaces and punctuation, which Chinese does not
//! use between words: a whole sentence would become one token and `护照` (passport) would
//! never match `我的护照丢了`. The `trigram` tokenizer finds substrings but cannot match
//! queries shorter than three characters, and most Chinese words are two. So the store
//! segments text itself before it reaches FTS5, the way Lucene's CJK analyser does:
//!
//! * every run of CJK characters becomes its overlapping bigrams (`我的护照` → `我的 的护 护照`),
//!   written space-separated so `unicode61` indexes each bigram as a word;
//! * every CJK character is also written, alone, to the `unigrams` column, so a one-character
//!   query (`震`) still matches;
//! * other scripts pass through for `unicode61` (case folding, diacritics removed).
//!
//! A query is segmented the same way: a CJK run becomes a phrase of its bigrams (adjacent
//! positions, so `护照丢失` matches only that sequence), a Latin word a token, the last one
//! as a prefix so search-as-you-type works. Ranking is FTS5's bm25.

/// Whether a character belongs to a script written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF      // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F  // Extensions B–F, compatibility supplement
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x31F0..=0x31FF    // Katakana extensions
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0x1100..=0x11FF    // Hangul Jamo
        | 0x3130..=0x318F) // Hangul compatibility Jamo
}

/// One piece of text: a run of CJK characters, or a run of anything else.
enum Piece<'a> {
    Cjk(Vec<char>),
    Other(&'a str),
}

fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut cjk: Vec<char> = Vec::new();
    for (i, c) in text.char_indices() {
        if is_cjk(c) {
            if cjk.is_empty() && start < i {
                out.push(Piece::Other(&text[start..i]));
            }
            cjk.push(c);
            start = i + c.len_utf8();
        } else if !cjk.is_empty() {
            out.push(Piece::Cjk(std::mem::take(&mut cjk)));
            start = i;
        }
    }
    if !cjk.is_empty() {
        out.push(Piece::Cjk(cjk));
    } else if start < text.len() {
        out.push(Piece::Other(&text[start..]));
    }
    out
}

fn bigrams(run: &[char]) -> impl Iterator<Item = String> + '_ {
    let single = (run.len() == 1).then(|| run[0].to_string());
    single
        .into_iter()
        .chain(run.windows(2).map(|w| w.iter().collect()))
}

/// Text as it is written to the FTS5 index: `(segmented, unigrams)`.
pub fn segment_for_index(text: &str) -> (String, String) {
    let mut segmented = String::with_capacity(text.len() * 2);
    let mut unigrams = String::new();
    for piece in pieces(text) {
        match piece {
            Piece::Other(s) => {
                segmented.push_str(s);
                segmented.push(' ');
            }
            Piece::Cjk(run) => {
                for gram in bigrams(&run) {
                    segmented.push_str(&gram);
                    segmented.push(' ');
                }
                for c in &run {
                    unigrams.push(*c);
                    unigrams.push(' ');
                }
            }
        }
    }
    (segmented, unigrams)
}

/// The FTS5 MATCH expression for what an officer typed, or `None` when it holds nothing
/// searchable (only punctuation). Never passes user syntax through: every term is quoted.
pub fn match_expression(query: &str) -> Option<String> {
    enum Term {
        Word(String),
        Phrase(Vec<String>),
        Unigram(char),
    }
    let mut terms: Vec<Term> = Vec::new();
    for piece in pieces(query) {
        match piece {
            Piece::Cjk(run) if run.len() == 1 => terms.push(Term::Unigram(run[0])),
            Piece::Cjk(run) => terms.push(Term::Phrase(bigrams(&run).collect())),
            Piece::Other(s) => terms.extend(
                s.split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(|w| Term::Word(w.to_owned())),
            ),
        }
    }
    // `place` holds the names of the request's nearest city and province (derived index):
    // matched as whole words only, so that a surname typed as a prefix (`Li`) does not
    // find every request near Lianyungang or Lima.
    const TEXT_COLUMNS: &str = "{description name address notes ref place}";
    const OWN_TEXT: &str = "{description name address notes ref}";
    let last = terms.len().checked_sub(1)?;
    let rendered: Vec<String> = terms
        .iter()
        .enumerate()
        .map(|(i, term)| match term {
            Term::Unigram(c) => format!("unigrams : \"{c}\""),
            Term::Phrase(grams) => format!("{TEXT_COLUMNS} : \"{}\"", grams.join(" ")),
            // The last word typed is probably unfinished: match it as a prefix (two
            // characters at least, so `a` does not expand to half the dictionary).
            Term::Word(w) if i == last && w.chars().count() >= 2 => {
                format!("({OWN_TEXT} : \"{w}\"* OR place : \"{w}\")")
            }
            Term::Word(w) => format!("{TEXT_COLUMNS} : \"{w}\""),
        })
        .collect();
    Some(rendered.join(" AND "))
}

/// A query that looks like a phone number (digits with `+`, spaces, dashes, dots or
/// brackets; four digits at least), as the digit strings a stored number may contain: as
/// typed, and without an international (`00`) or trunk (`0`) prefix. `None` for any other
/// query.
pub fn phone_patterns(query: &str) -> Option<Vec<String>> {
    let q = query.trim();
    if q.is_empty()
        || !q
            .chars()
            .all(|c| c.is_ascii_digit() || " +-.()".contains(c))
    {
        return None;
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return None;
    }
    let mut out = vec![digits.clone()];
    let shorter = digits
        .strip_prefix("00")
        .or_else(|| digits.strip_prefix('0'))
        .filter(|rest| rest.len() >= 4);
    out.extend(shorter.map(str::to_owned));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_runs_become_bigrams_and_unigrams() {
        let (seg, uni) = segment_for_index("我的护照丢了 lost passport");
        assert_eq!(
            seg.split_whitespace().collect::<Vec<_>>(),
            ["我的", "的护", "护照", "照丢", "丢了", "lost", "passport"]
        );
        assert_eq!(uni.split_whitespace().count(), 6);
    }

    #[test]
    fn mixed_script_words_are_separated() {
        let (seg, _) = segment_for_index("在Paris遇到");
        assert_eq!(
            seg.split_whitespace().collect::<Vec<_>>(),
            ["在", "Paris", "遇到"]
        );
    }

    #[test]
    fn query_expressions_quote_every_term() {
        assert_eq!(
            match_expression("护照").as_deref(),
            Some("{description name address notes ref place} : \"护照\"")
        );
        assert_eq!(match_expression("震").as_deref(), Some("unigrams : \"震\""));
        assert_eq!(
            match_expression("lost 护照丢失").as_deref(),
            Some(
                "{description name address notes ref place} : \"lost\" AND {description name address notes ref place} : \"护照 照丢 丢失\""
            )
        );
        assert_eq!(
            match_expression("passp").as_deref(),
            Some("({description name address notes ref} : \"passp\"* OR place : \"passp\")"),
            "the last word is a prefix"
        );
        assert_eq!(match_expression("\" OR * NEAR("), Some("{description name address notes ref place} : \"OR\" AND ({description name address notes ref} : \"NEAR\"* OR place : \"NEAR\")".to_owned()));
        assert_eq!(match_expression("!!! ..."), None);
    }

    #[test]
    fn phone_numbers_are_searched_by_their_digits() {
        assert_eq!(
            phone_patterns("+86 138-0013-8000"),
            Some(vec!["8613800138000".to_owned()])
        );
        assert_eq!(
            phone_patterns("0086 13800138000"),
            Some(vec![
                "008613800138000".to_owned(),
                "8613800138000".to_owned()
            ])
        );
        assert_eq!(
            phone_patterns("0532 123"),
            Some(vec!["0532123".to_owned(), "532123".to_owned()])
        );
        assert_eq!(phone_patterns("138"), None, "too short to be a number");
        assert_eq!(phone_patterns("护照 138"), None);
        assert_eq!(phone_patterns("E2E-001"), None);
    }
}
