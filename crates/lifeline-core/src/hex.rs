//! Bytes as lowercase hexadecimal: content addresses, key exports, token hashes, the audit
//! chain.

use std::fmt::Write;

pub fn lower(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
