//! The key that encrypts a store at rest (SQLCipher, through rusqlite's bundled build).
//!
//! A desk's store, its derived query index and their WAL files are encrypted with one random
//! 256-bit key, kept in the OS keyring by the desk (never in a file next to the data). The
//! key is given to SQLCipher in its raw form (`x'…'`, no passphrase derivation): it is random
//! already. A store opened with the wrong key, or an encrypted one opened without a key,
//! fails at the first read, and nothing is written to it.

use std::path::Path;

use super::{Result, StoreError};

/// The 16 bytes every plaintext SQLite file starts with; an encrypted file starts with
/// random bytes instead.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// A 256-bit store key. Never printed: its `Debug` form hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey([u8; 32]);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(<hidden>)")
    }
}

impl StoreKey {
    /// A new random key from the system's random source.
    pub fn random() -> std::io::Result<StoreKey> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(StoreKey(bytes))
    }

    /// From 64 hex digits (the keyring's and the recovery file's form).
    pub fn from_hex(text: &str) -> Option<StoreKey> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(StoreKey(bytes))
    }

    pub fn to_hex(&self) -> String {
        crate::hex::lower(&self.0)
    }

    /// SQLCipher's raw-key form: `x'…'` (64 hex digits, used as the key itself).
    pub(super) fn sql_literal(&self) -> String {
        format!("x'{}'", self.to_hex())
    }
}

/// Whether the file at `path` is a plaintext SQLite database (`None`: no such file or an
/// empty one).
pub fn is_plaintext(path: &Path) -> std::io::Result<Option<bool>> {
    use std::io::Read;
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut head = [0u8; 16];
    match f.read_exact(&mut head) {
        Ok(()) => Ok(Some(&head == SQLITE_HEADER)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// Keys a fresh connection: must run before anything reads the file. Then reads the schema
/// once, so a wrong key (or a missing one) fails here, named, instead of somewhere later.
pub(super) fn apply(
    conn: &rusqlite::Connection,
    key: Option<&StoreKey>,
    path: &Path,
) -> Result<()> {
    if let Some(key) = key {
        conn.execute_batch(&format!("PRAGMA key = \"{}\";", key.sql_literal()))?;
    }
    match conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => {
            Err(match key {
                Some(_) => StoreError::WrongKey(path.to_path_buf()),
                None => StoreError::Encrypted(path.to_path_buf()),
            })
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_round_trips_through_hex_and_never_prints() {
        let k = StoreKey::random().expect("random");
        assert_eq!(StoreKey::from_hex(&k.to_hex()), Some(k.clone()));
        assert_eq!(format!("{k:?}"), "StoreKey(<hidden>)");
        assert!(StoreKey::from_hex("zz").is_none());
        assert!(StoreKey::from_hex(&"0".repeat(63)).is_none());
    }
}

/// What an in-place encryption of a plaintext store did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encrypted {
    pub requests: i64,
    pub case_events: i64,
}

fn count(conn: &rusqlite::Connection, schema: &str, table: &str) -> Result<i64> {
    Ok(
        conn.query_row(&format!("SELECT count(*) FROM {schema}.{table}"), [], |r| {
            r.get(0)
        })?,
    )
}

/// Encrypts the plaintext store at `path` with `key`, in place: a full encrypted copy is
/// written beside it, checked (`integrity_check`, and the same number of requests, case
/// events and outbox items as the original), synced, and only then renamed over the
/// original. A failure at any step leaves the original as it was. The derived query index,
/// plaintext too, is removed: the store rebuilds it, encrypted, when it opens.
pub fn encrypt_in_place(path: &Path, key: &StoreKey) -> Result<Encrypted> {
    let io = |p: &Path, e: std::io::Error| StoreError::Io {
        path: p.to_path_buf(),
        source: e,
    };
    let copy = path.with_extension("sqlite.encrypting");
    for suffix in ["", "-wal", "-shm"] {
        let mut p = copy.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    {
        let conn = rusqlite::Connection::open(path)?;
        apply(&conn, None, path)?;
        // Everything in the WAL goes into the main file first: the copy is of all of it.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let copy_text = copy
            .to_str()
            .ok_or_else(|| io(&copy, std::io::Error::other("the path is not valid UTF-8")))?;
        conn.execute(
            "ATTACH DATABASE ?1 AS enc KEY ?2",
            rusqlite::params![copy_text, key.sql_literal()],
        )?;
        conn.query_row("SELECT sqlcipher_export('enc')", [], |_| Ok(()))?;
        // sqlcipher_export copies the schema and rows, not the schema version.
        conn.execute_batch(&format!("PRAGMA enc.user_version = {version};"))?;
        for table in ["requests", "case_events", "outbox"] {
            if count(&conn, "main", table)? != count(&conn, "enc", table)? {
                return Err(StoreError::Corrupt {
                    what: format!("the encrypted copy of {}", path.display()),
                    reason: format!("{table} differ in number; the original is kept"),
                });
            }
        }
        conn.execute_batch("DETACH DATABASE enc;")?;
    }
    let report = {
        let enc = rusqlite::Connection::open(&copy)?;
        apply(&enc, Some(key), &copy)?;
        let check: String = enc.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                what: format!("the encrypted copy of {}", path.display()),
                reason: format!("integrity check: {check}; the original is kept"),
            });
        }
        Encrypted {
            requests: count(&enc, "main", "requests")?,
            case_events: count(&enc, "main", "case_events")?,
        }
    };
    std::fs::File::open(&copy)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(&copy, e))?;
    std::fs::rename(&copy, path).map_err(|e| io(path, e))?;
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let derived = super::derived::derived_path(path);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = derived.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    Ok(report)
}
