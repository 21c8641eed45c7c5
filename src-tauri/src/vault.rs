//! The desk's secrets in the OS keyring (Secret Service on Linux, Credential Manager on
//! Windows, the Keychain on macOS): the key of its encrypted store, whether the post's
//! recovery copy of that key was handed out, the signed-in officer's refresh token, and the
//! verifier that unlocks an idle desk offline.
//!
//! The `keyring` crate has an in-memory store it falls back to when no platform backend is
//! compiled in (keys would vanish at exit), so the backends are named explicitly in
//! `Cargo.toml`, and [`Vault::probe`] writes and reads back a test entry before anything
//! relies on the keyring.

use std::path::Path;

use lifeline_core::store::StoreKey;

const SERVICE: &str = "Lifeline desk";
/// Entry names, each followed by the desk's data folder.
const REFRESH: &str = "refresh token: ";
const HUB_TOKEN: &str = "hub token: ";
const VERIFIER: &str = "unlock verifier: ";

/// Why the keyring cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// No keyring service answers (no session bus, no Secret Service daemon).
    #[error("the OS keyring is not available ({0})")]
    Unavailable(String),
    /// The keyring is there but refuses access (locked, or access denied).
    #[error("the OS keyring is locked or refuses access ({0})")]
    Locked(String),
    /// What was read back is not what was written.
    #[error("the OS keyring did not keep what was written to it ({0})")]
    Unreliable(String),
}

fn classify(e: keyring::Error) -> VaultError {
    match e {
        keyring::Error::NoStorageAccess(inner) => VaultError::Locked(inner.to_string()),
        keyring::Error::PlatformFailure(inner) => VaultError::Unavailable(inner.to_string()),
        other => VaultError::Unavailable(other.to_string()),
    }
}

/// The keyring entries of one desk (one data folder).
#[derive(Debug, Clone)]
pub struct Vault {
    account: String,
}

impl Vault {
    /// The entries of the desk whose data is in `data_dir` (desks side by side on one
    /// computer each have their own).
    pub fn for_data_dir(data_dir: &Path) -> Vault {
        let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        Vault {
            account: format!("store key of {}", dir.display()),
        }
    }

    fn entry(&self, what: &str) -> Result<keyring::Entry, VaultError> {
        keyring::Entry::new(SERVICE, &format!("{what}{}", self.account)).map_err(classify)
    }

    /// Writes a test entry, reads it back and removes it: the keyring works, for real.
    pub fn probe() -> Result<(), VaultError> {
        let entry = keyring::Entry::new(SERVICE, "probe").map_err(classify)?;
        let value = StoreKey::random()
            .map_err(|e| VaultError::Unavailable(e.to_string()))?
            .to_hex();
        entry.set_password(&value).map_err(classify)?;
        let back = entry.get_password().map_err(classify)?;
        let _ = entry.delete_credential();
        if back == value {
            Ok(())
        } else {
            Err(VaultError::Unreliable(
                "a test entry came back different".into(),
            ))
        }
    }

    /// The store key, if the keyring has one for this desk.
    pub fn store_key(&self) -> Result<Option<StoreKey>, VaultError> {
        match self.entry("")?.get_password() {
            Ok(hex) => StoreKey::from_hex(&hex).map(Some).ok_or_else(|| {
                VaultError::Unreliable("the stored key is not 64 hex digits".into())
            }),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    /// Keeps the store key, and reads it back before anyone relies on it.
    pub fn save_store_key(&self, key: &StoreKey) -> Result<(), VaultError> {
        let entry = self.entry("")?;
        entry.set_password(&key.to_hex()).map_err(classify)?;
        match entry.get_password() {
            Ok(back) if back == key.to_hex() => Ok(()),
            Ok(_) => Err(VaultError::Unreliable("the key came back different".into())),
            Err(e) => Err(classify(e)),
        }
    }

    fn read(&self, what: &str) -> Result<Option<String>, VaultError> {
        match self.entry(what)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    fn write(&self, what: &str, value: &str) -> Result<(), VaultError> {
        self.entry(what)?.set_password(value).map_err(classify)
    }

    fn remove(&self, what: &str) -> Result<(), VaultError> {
        match self.entry(what)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    /// The refresh token of the officer signed in at this desk (kept across restarts; the
    /// settings file names only the hub and the officer).
    pub fn refresh_token(&self) -> Result<Option<String>, VaultError> {
        self.read(REFRESH)
    }

    pub fn save_refresh_token(&self, token: &str) -> Result<(), VaultError> {
        self.write(REFRESH, token)
    }

    pub fn forget_refresh_token(&self) -> Result<(), VaultError> {
        self.remove(REFRESH)
    }

    /// A fixed hub token (a service account's secret) configured for this desk.
    pub fn hub_token(&self) -> Result<Option<String>, VaultError> {
        self.read(HUB_TOKEN)
    }

    pub fn save_hub_token(&self, token: &str) -> Result<(), VaultError> {
        self.write(HUB_TOKEN, token)
    }

    /// What unlocks an idle desk offline: the signed-in officer's id and an Argon2id hash of
    /// their password, as `officer\nPHC`.
    pub fn unlock_verifier(&self) -> Result<Option<(String, String)>, VaultError> {
        Ok(self.read(VERIFIER)?.and_then(|v| {
            v.split_once('\n')
                .map(|(officer, phc)| (officer.to_owned(), phc.to_owned()))
        }))
    }

    pub fn save_unlock_verifier(&self, officer: &str, phc: &str) -> Result<(), VaultError> {
        self.write(VERIFIER, &format!("{officer}\n{phc}"))
    }

    /// Whether the recovery copy of the key was handed out already (it is, once).
    pub fn recovery_exported(&self) -> Result<bool, VaultError> {
        match self.entry("recovery exported: ")?.get_password() {
            Ok(_) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }

    pub fn mark_recovery_exported(&self, at: &str) -> Result<(), VaultError> {
        self.entry("recovery exported: ")?
            .set_password(at)
            .map_err(classify)
    }

    /// Removes this desk's entries (tests).
    #[cfg(test)]
    pub fn forget(&self) {
        for what in ["", "recovery exported: ", REFRESH, HUB_TOKEN, VERIFIER] {
            if let Ok(e) = self.entry(what) {
                let _ = e.delete_credential();
            }
        }
    }
}

/// These need a keyring daemon on the session bus: `cargo xtask ci` runs them inside a
/// private session with gnome-keyring unlocked (`cargo test -p lifeline-desk -- --ignored`).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs a Secret Service on the session bus (cargo xtask ci provides one)"]
    fn a_key_written_is_read_back_and_desks_are_apart() {
        Vault::probe().expect("the keyring works");
        let (a, b) = (
            tempfile::tempdir().expect("dir"),
            tempfile::tempdir().expect("dir"),
        );
        let (va, vb) = (Vault::for_data_dir(a.path()), Vault::for_data_dir(b.path()));
        assert_eq!(
            va.store_key().expect("read"),
            None,
            "a new desk has no key yet"
        );
        let key = StoreKey::random().expect("key");
        va.save_store_key(&key).expect("save");
        assert_eq!(va.store_key().expect("read"), Some(key));
        assert_eq!(
            vb.store_key().expect("read"),
            None,
            "another desk's key is its own"
        );
        assert_eq!(va.refresh_token().expect("read"), None);
        va.save_refresh_token("llh_r_1").expect("save");
        va.save_unlock_verifier("li", "$argon2id$x").expect("save");
        assert_eq!(
            va.refresh_token().expect("read").as_deref(),
            Some("llh_r_1")
        );
        assert_eq!(
            va.unlock_verifier().expect("read"),
            Some(("li".into(), "$argon2id$x".into()))
        );
        assert_eq!(vb.refresh_token().expect("read"), None);
        va.forget_refresh_token().expect("forget");
        assert_eq!(va.refresh_token().expect("read"), None);
        assert!(!va.recovery_exported().expect("read"));
        va.mark_recovery_exported("now").expect("mark");
        assert!(va.recovery_exported().expect("read"));
        va.forget();
        vb.forget();
    }
}
