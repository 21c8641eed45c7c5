//! Opening the desk's store at start: always encrypted, never silently new.
//!
//! | the data folder holds   | the keyring holds | what happens |
//! |---|---|---|
//! | no store                | no key            | a new random key, kept in the keyring (read back), a new encrypted store |
//! | no store                | a key             | a new encrypted store with that key |
//! | a plaintext store       | anything          | encrypted in place with the keyring's key (or a new one), after a verified copy |
//! | an encrypted store      | its key           | opened |
//! | an encrypted store      | no key            | blocked: "key lost" — the data is intact; restore the keyring or give the recovery key |
//! | an encrypted store      | another key       | blocked: "wrong key" |
//! | (the keyring does not work) | —             | blocked: "keyring unavailable" — never a plaintext store |
//!
//! Blocked, the window opens on a screen that says what happened and what to do; the files
//! are not touched.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lifeline_core::Store;
use lifeline_core::store::{StoreError, StoreKey, encrypt_in_place, is_plaintext};
use serde::Serialize;
use ts_rs::TS;

use crate::vault::{Vault, VaultError};

/// Why the desk cannot open its data, for the blocking screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct StartupProblem {
    /// `keyring_unavailable`, `keyring_locked`, `key_lost`, `wrong_key`, `storage`.
    pub code: String,
    /// What happened and what to do, in English (the screen has both languages by code).
    pub message: String,
    pub data_dir: String,
}

pub enum Opened {
    Ready(Arc<Store>),
    Blocked(StartupProblem),
}

fn problem(code: &str, message: String, dir: &Path) -> Opened {
    tracing::error!("the desk cannot open its data: {message}");
    Opened::Blocked(StartupProblem {
        code: code.into(),
        message,
        data_dir: dir.display().to_string(),
    })
}

fn keyring_problem(e: VaultError, dir: &Path) -> Opened {
    let code = match e {
        VaultError::Locked(_) => "keyring_locked",
        _ => "keyring_unavailable",
    };
    problem(
        code,
        format!(
            "{e}. The desk keeps the key of its encrypted database in the OS keyring and never stores citizens' data unencrypted: unlock the keyring (sign in to the desktop session) and start the desk again."
        ),
        dir,
    )
}

/// Only this user may read the data folder and its files (umask for what the desk creates
/// later, modes for what exists).
pub fn secure_folder(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        for entry in std::fs::read_dir(dir)?.flatten() {
            if entry.path().is_file() {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

pub fn store_path(dir: &Path) -> PathBuf {
    dir.join("desk.sqlite")
}

/// Opens (or creates, or migrates) the store of the desk in `dir` as the table above says.
/// `recovery` is a recovery key given by hand (`--recovery-key FILE`): it is tried when the
/// keyring's key is missing or wrong, and kept in the keyring when it opens the store.
pub fn open(dir: &Path, recovery: Option<StoreKey>) -> Opened {
    if let Err(e) = secure_folder(dir) {
        return problem(
            "storage",
            format!("cannot prepare the data folder: {e}"),
            dir,
        );
    }
    if let Err(e) = Vault::probe() {
        return keyring_problem(e, dir);
    }
    let vault = Vault::for_data_dir(dir);
    let path = store_path(dir);
    let kept = match vault.store_key() {
        Ok(k) => k,
        Err(e) => return keyring_problem(e, dir),
    };
    let state = match is_plaintext(&path) {
        Ok(s) => s,
        Err(e) => {
            return problem(
                "storage",
                format!("cannot read {}: {e}", path.display()),
                dir,
            );
        }
    };
    let key = match (state, kept, recovery) {
        // An encrypted store: its key, or the recovery key, or nothing at all.
        (Some(false), kept, recovery) => {
            let candidates: Vec<StoreKey> = kept.into_iter().chain(recovery).collect();
            if candidates.is_empty() {
                return problem(
                    "key_lost",
                    format!(
                        "The key of this desk's database is not in the keyring. The data in {} is intact but cannot be read without it. Restore the keyring from its backup, or start the desk with the post's recovery key (lifeline-desk --recovery-key FILE). Do not delete the data folder: a new, empty database would not bring the requests back.",
                        dir.display()
                    ),
                    dir,
                );
            }
            let mut last = None;
            for k in candidates {
                match Store::open_encrypted(&path, &k) {
                    Ok(store) => {
                        if vault.store_key().ok().flatten().as_ref() != Some(&k)
                            && let Err(e) = vault.save_store_key(&k)
                        {
                            return keyring_problem(e, dir);
                        }
                        let _ = secure_folder(dir);
                        return Opened::Ready(Arc::new(store));
                    }
                    Err(e @ StoreError::WrongKey(_)) => last = Some(e),
                    Err(e) => return problem("storage", e.to_string(), dir),
                }
            }
            return problem(
                "wrong_key",
                format!(
                    "{} The keyring holds a key, but not this database's. Nothing was changed. Start the desk with the post's recovery key (lifeline-desk --recovery-key FILE).",
                    last.map(|e| e.to_string()).unwrap_or_default()
                ),
                dir,
            );
        }
        // No store yet, or a plaintext one: the keyring's key, else a new one (kept first).
        (_, Some(k), _) => k,
        (_, None, recovery) => {
            let k = match recovery.map_or_else(StoreKey::random, Ok) {
                Ok(k) => k,
                Err(e) => return problem("storage", e.to_string(), dir),
            };
            if let Err(e) = vault.save_store_key(&k) {
                return keyring_problem(e, dir);
            }
            k
        }
    };
    if state == Some(true) {
        match encrypt_in_place(&path, &key) {
            Ok(done) => tracing::warn!(
                "encrypted the desk's plaintext database in place ({} requests, {} case events)",
                done.requests,
                done.case_events
            ),
            Err(e) => {
                return problem(
                    "storage",
                    format!("could not encrypt the existing database (it is left as it was): {e}"),
                    dir,
                );
            }
        }
    }
    match Store::open_encrypted(&path, &key) {
        Ok(store) => {
            let _ = secure_folder(dir);
            Opened::Ready(Arc::new(store))
        }
        Err(e) => problem("storage", e.to_string(), dir),
    }
}

/// `--export-recovery-key FILE`: the key, for the post's security officer — once.
pub fn export_recovery_key(dir: &Path, file: &Path) -> Result<(), String> {
    let vault = Vault::for_data_dir(dir);
    if vault.recovery_exported().map_err(|e| e.to_string())? {
        return Err("the recovery key of this desk was exported already; it is handed out once (ask the post's security officer for it)".into());
    }
    let key = vault
        .store_key()
        .map_err(|e| e.to_string())?
        .ok_or("this desk has no key yet: start it once first")?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut f = options
        .open(file)
        .map_err(|e| format!("cannot create {}: {e}", file.display()))?;
    writeln!(f, "{}", key.to_hex()).map_err(|e| e.to_string())?;
    f.sync_all().map_err(|e| e.to_string())?;
    vault
        .mark_recovery_exported(&chrono::Utc::now().to_rfc3339())
        .map_err(|e| e.to_string())
}

/// `--recovery-key FILE`: reads a recovery key.
pub fn read_recovery_key(file: &Path) -> Result<StoreKey, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    StoreKey::from_hex(&text).ok_or_else(|| {
        format!(
            "{} does not hold a recovery key (64 hex digits)",
            file.display()
        )
    })
}
