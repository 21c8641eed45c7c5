//! The audit trail's entries and the hash that chains them.
//!
//! Each entry's hash covers the previous entry's hash and every field of its own, so editing,
//! removing or reordering any entry breaks every hash after it: `lifeline-hub audit verify`
//! recomputes the chain from its anchor and names the first entry that does not match. The
//! anchor is the hash before the first entry kept: zeros for a new trail, or the hash of the
//! last entry moved out by rotation (whose archive verifies on its own up to that hash).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The anchor of a trail that was never rotated.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Something to record. Never put personal data in `detail`: ids and counts only.
#[derive(Debug, Clone, Copy)]
pub struct AuditEntry<'a> {
    /// Who: `officer:li@desk-a`, `channel:hotline`, `admin-cli`, `dev-token`…
    pub actor: &'a str,
    /// What: `sign_in`, `sign_in_failed`, `read_request`, `read_page`, `act`, `transfer`,
    /// `publish_advisory`, `officer_added`, `session_revoked`…
    pub action: &'a str,
    /// On what: a request id, an officer id, a session id…
    pub target: Option<&'a str>,
    /// More, as short text (an action's name, a page's count).
    pub detail: &'a str,
}

/// An entry as stored, with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry given the one before it.
pub fn chain_hash(
    prev_hash: &str,
    seq: i64,
    at_ms: i64,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    // Length-prefixed fields: no two different entries hash the same bytes.
    for field in [
        prev_hash,
        &seq.to_string(),
        &at_ms.to_string(),
        actor,
        action,
        target.unwrap_or("\u{0}"),
        detail,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex(&h.finalize())
}

pub use lifeline_core::hex::lower as hex;

impl AuditRecord {
    /// Whether this entry's own hash matches its fields and `prev_hash`.
    pub fn hash_matches(&self) -> bool {
        chain_hash(
            &self.prev_hash,
            self.seq,
            self.at.timestamp_millis(),
            &self.actor,
            &self.action,
            self.target.as_deref(),
            &self.detail,
        ) == self.hash
    }
}

/// Checks a run of entries from `anchor`: every hash recomputes and links to the one before.
pub fn check_chain(anchor: &str, entries: &[AuditRecord]) -> ChainCheck {
    let mut prev = anchor.to_owned();
    for e in entries {
        if e.prev_hash != prev || !e.hash_matches() {
            return ChainCheck::Broken {
                seq: e.seq,
                checked: entries.iter().take_while(|x| x.seq < e.seq).count(),
            };
        }
        prev.clone_from(&e.hash);
    }
    ChainCheck::Intact {
        entries: entries.len(),
        head: prev,
    }
}

/// The chain proves every entry up to its last; `head` (`seq:hash`, recorded at each append)
/// proves that the last is the last one written.
pub fn check_head(check: ChainCheck, entries: &[AuditRecord], head: Option<String>) -> ChainCheck {
    if let (ChainCheck::Intact { .. }, Some(head)) = (&check, head) {
        let last = entries.last().map(|e| format!("{}:{}", e.seq, e.hash));
        if last.as_deref() != Some(head.as_str()) {
            let expected = head
                .split(':')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            return ChainCheck::Truncated {
                last_seq: entries.last().map_or(0, |e| e.seq),
                expected_seq: expected,
            };
        }
    }
    check
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainCheck {
    /// Every entry recomputes; `head` is the last hash.
    Intact { entries: usize, head: String },
    /// Entry `seq` does not match: it, or one before it, was changed or removed.
    Broken { seq: i64, checked: usize },
    /// The entries verify, but they end at `last_seq` where entry `expected_seq` was the
    /// last written: the newest entries were removed.
    Truncated { last_seq: i64, expected_seq: i64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: i64, prev: &str, detail: &str) -> AuditRecord {
        let at = DateTime::from_timestamp_millis(1_700_000_000_000 + seq).expect("time");
        let hash = chain_hash(
            prev,
            seq,
            at.timestamp_millis(),
            "cli",
            "test",
            None,
            detail,
        );
        AuditRecord {
            seq,
            at,
            actor: "cli".into(),
            action: "test".into(),
            target: None,
            detail: detail.into(),
            prev_hash: prev.into(),
            hash,
        }
    }

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map_or(GENESIS.to_owned(), |r| r.hash.clone());
            out.push(record(seq, &prev, &format!("entry {seq}")));
        }
        out
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert!(matches!(
            check_chain(GENESIS, &chain(5)),
            ChainCheck::Intact { entries: 5, .. }
        ));
    }

    #[test]
    fn an_edited_entry_breaks_the_chain_at_that_entry() {
        let mut c = chain(5);
        c[2].detail = "entry 3, edited".into();
        assert_eq!(
            check_chain(GENESIS, &c),
            ChainCheck::Broken { seq: 3, checked: 2 }
        );
    }

    #[test]
    fn a_removed_entry_breaks_the_chain_after_the_gap() {
        let mut c = chain(5);
        c.remove(1);
        assert!(matches!(
            check_chain(GENESIS, &c),
            ChainCheck::Broken { seq: 3, .. }
        ));
    }

    #[test]
    fn a_rehashed_entry_still_breaks_the_link_to_the_next() {
        // Someone edits entry 2 and recomputes its own hash: entry 3 no longer links.
        let mut c = chain(4);
        let e = &c[1];
        c[1] = record(e.seq, &e.prev_hash, "forged");
        assert!(matches!(
            check_chain(GENESIS, &c),
            ChainCheck::Broken { seq: 3, .. }
        ));
    }
}
