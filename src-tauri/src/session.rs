//! Who works at this desk: the credential the sync engine starts with, keeping a signed-in
//! officer's session across restarts, and locking the window when the officer steps away.
//!
//! Secrets live in the OS keyring only ([`Vault`]): the refresh token of the signed-in
//! officer, a service account's token, and an Argon2id verifier of the officer's password
//! that unlocks an idle desk without the hub (on a plane, during an outage). The settings
//! file names the hub and the officer, nothing more.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use lifeline_sync::{HubAuth, SessionAuth, SessionKeeper};

use crate::settings::{HubCredential, Settings};
use crate::vault::{Vault, VaultError};

/// Failed unlocks allowed before each further try waits.
const FREE_UNLOCK_TRIES: u32 = 5;
/// The wait after too many failed unlocks (it doubles with each further failure).
const UNLOCK_PAUSE: Duration = Duration::from_secs(30);

/// Why an unlock was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnlockError {
    #[error("the password is wrong")]
    WrongPassword,
    #[error("too many wrong passwords: try again in {0} s")]
    TooManyTries(u64),
    /// No officer ever signed in at this desk with a password: nothing to check against.
    #[error(
        "no officer has signed in at this desk with a password, so it cannot be unlocked offline; sign in to the hub"
    )]
    NoVerifier,
    #[error(transparent)]
    Keyring(#[from] VaultError),
}

#[derive(Default)]
struct Failures {
    count: u32,
    wait_until: Option<Instant>,
}

/// The desk's session and lock state.
pub struct DeskSession {
    vault: Vault,
    /// An unlock verifier is in the keyring (so the window may lock).
    has_verifier: AtomicBool,
    locked: AtomicBool,
    failures: Mutex<Failures>,
}

/// An Argon2id PHC string of `password` with a random salt.
fn hash_password(password: &str) -> Option<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).ok()?;
    let salt = SaltString::encode_b64(&salt).ok()?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .ok()
        .map(|h| h.to_string())
}

fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

impl DeskSession {
    pub fn new(vault: Vault) -> DeskSession {
        // Read once: the health bar asks at every refresh, and each keyring read is a round
        // trip to the Secret Service.
        let has_verifier = matches!(vault.unlock_verifier(), Ok(Some(_)));
        DeskSession {
            vault,
            has_verifier: AtomicBool::new(has_verifier),
            locked: AtomicBool::new(false),
            failures: Mutex::new(Failures::default()),
        }
    }

    /// Completes the settings from the keyring, and moves a token written into the settings
    /// file by hand into the keyring.
    pub fn complete(&self, settings: &mut Settings) {
        match &settings.credential {
            Some(HubCredential::Token(token)) if settings.token_in_file => {
                match self.vault.save_hub_token(token) {
                    Ok(()) => match settings.remove_token_from_file() {
                        Ok(()) => tracing::warn!(
                            "moved the hub token from settings.json into the OS keyring"
                        ),
                        Err(e) => tracing::error!("cannot rewrite settings.json: {e}"),
                    },
                    Err(e) => tracing::error!("cannot keep the hub token in the keyring: {e}"),
                }
            }
            None if settings.hub_url.is_some() => {
                if let Ok(Some(token)) = self.vault.hub_token() {
                    settings.credential = Some(HubCredential::Token(token));
                    settings.missing_token = false;
                }
            }
            _ => {}
        }
    }

    /// Keeps each session the hub hands out: the refresh token in the keyring and, for the
    /// session a password opened, the verifier that unlocks this desk offline.
    pub fn keeper(self: &Arc<Self>, password: Option<String>) -> SessionKeeper {
        let me = Arc::clone(self);
        let pending = Mutex::new(password);
        Arc::new(move |session| {
            if let Err(e) = me.vault.save_refresh_token(&session.refresh_token) {
                tracing::error!(
                    "cannot keep the session in the keyring (sign in again after a restart): {e}"
                );
            }
            let password = pending.lock().ok().and_then(|mut p| p.take());
            if let Some(password) = password {
                me.remember_password(&session.officer.id, &password);
            }
        })
    }

    /// Keeps the verifier of `officer`'s password (after the hub accepted it).
    pub fn remember_password(&self, officer: &str, password: &str) {
        match hash_password(password) {
            Some(phc) => match self.vault.save_unlock_verifier(officer, &phc) {
                Ok(()) => self.has_verifier.store(true, Ordering::SeqCst),
                Err(e) => {
                    tracing::error!("cannot keep the unlock verifier in the keyring: {e}")
                }
            },
            None => tracing::error!("cannot hash the password for the unlock verifier"),
        }
    }

    /// The credential the engine starts with: a password given at start, a session kept in
    /// the keyring, or a fixed token. `None` for an officer with neither: the window asks
    /// them to sign in.
    pub fn hub_auth_at_start(self: &Arc<Self>, settings: &Settings) -> Option<HubAuth> {
        match settings.credential.as_ref()? {
            HubCredential::Token(t) => Some(HubAuth::Token(t.clone())),
            HubCredential::Officer {
                id,
                password: Some(password),
            } => Some(HubAuth::Session(Arc::new(SessionAuth::with_password(
                id,
                password.clone(),
                &settings.desk,
                Some(self.keeper(Some(password.clone()))),
            )))),
            HubCredential::Officer { id, password: None } => match self.vault.refresh_token() {
                Ok(Some(refresh)) => {
                    Some(HubAuth::Session(Arc::new(SessionAuth::from_refresh_token(
                        refresh,
                        &settings.desk,
                        Some(self.keeper(None)),
                    ))))
                }
                Ok(None) => {
                    tracing::warn!("{id} has no session at this desk: the window asks to sign in");
                    None
                }
                Err(e) => {
                    tracing::error!("cannot read the session from the keyring: {e}");
                    None
                }
            },
        }
    }

    /// Forgets the session kept for this desk (signing out).
    pub fn forget_session(&self) -> Result<(), VaultError> {
        self.vault.forget_refresh_token()
    }

    /// Whether an idle desk can lock: someone must be able to unlock it offline.
    pub fn can_lock(&self) -> bool {
        self.has_verifier.load(Ordering::SeqCst)
    }

    pub fn is_locked(&self) -> bool {
        self.locked.load(Ordering::SeqCst)
    }

    /// Locks the window (only when it can be unlocked again).
    pub fn lock(&self) -> bool {
        if !self.can_lock() {
            return false;
        }
        self.locked.store(true, Ordering::SeqCst);
        true
    }

    /// Unlocks with the password of the officer who signed in last at this desk, checked
    /// against the keyring's verifier. After five wrong passwords each try waits, longer
    /// and longer.
    pub fn unlock(&self, password: &str) -> Result<(), UnlockError> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = failures.wait_until {
            let now = Instant::now();
            if until > now {
                return Err(UnlockError::TooManyTries((until - now).as_secs() + 1));
            }
        }
        let (_, phc) = self
            .vault
            .unlock_verifier()?
            .ok_or(UnlockError::NoVerifier)?;
        if password_matches(password, &phc) {
            *failures = Failures::default();
            self.locked.store(false, Ordering::SeqCst);
            return Ok(());
        }
        failures.count += 1;
        if failures.count >= FREE_UNLOCK_TRIES {
            let doublings = (failures.count - FREE_UNLOCK_TRIES).min(6);
            failures.wait_until = Some(Instant::now() + UNLOCK_PAUSE * 2u32.pow(doublings));
        }
        Err(UnlockError::WrongPassword)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_matches_only_its_password() {
        let phc = hash_password("correct horse battery").expect("hash");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(password_matches("correct horse battery", &phc));
        assert!(!password_matches("correct horse batterY", &phc));
        assert!(!password_matches("correct horse battery", "not a hash"));
    }

    /// Needs a Secret Service on the session bus (`cargo xtask ci` runs it).
    #[test]
    #[ignore = "needs a Secret Service on the session bus (cargo xtask ci provides one)"]
    fn a_locked_desk_opens_only_with_the_password_and_slows_guessing() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = Vault::for_data_dir(dir.path());
        let session = DeskSession::new(vault.clone());
        assert!(!session.lock(), "no verifier yet: the desk does not lock");
        assert_eq!(session.unlock("x"), Err(UnlockError::NoVerifier));
        session.remember_password("li", "s3cret-pass");
        assert!(session.lock());
        assert!(session.is_locked());
        for _ in 0..FREE_UNLOCK_TRIES {
            assert_eq!(session.unlock("guess"), Err(UnlockError::WrongPassword));
        }
        assert!(session.is_locked());
        assert!(
            matches!(
                session.unlock("s3cret-pass"),
                Err(UnlockError::TooManyTries(_))
            ),
            "after five wrong passwords even the right one waits"
        );
        session.failures.lock().expect("lock").wait_until.take();
        session.unlock("s3cret-pass").expect("the right password");
        assert!(!session.is_locked());
        vault.forget();
    }
}
