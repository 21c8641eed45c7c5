//! Secrets the hub hands out or checks: random bearer tokens (stored as SHA-256, which is
//! enough for 256 random bits) and officers' passwords (stored as Argon2id, which is slow on
//! purpose because people choose guessable ones).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use crate::store::audit::hex;

/// What a token is for, by its prefix: a desk can tell one from another in a log it must
/// not print, and the hub looks each kind up in its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
    Channel,
    Service,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Access => "llh_a_",
            TokenKind::Refresh => "llh_r_",
            TokenKind::Channel => "llh_c_",
            TokenKind::Service => "llh_s_",
        }
    }

    pub fn of(token: &str) -> Option<TokenKind> {
        [
            TokenKind::Access,
            TokenKind::Refresh,
            TokenKind::Channel,
            TokenKind::Service,
        ]
        .into_iter()
        .find(|k| token.starts_with(k.prefix()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the system's random source failed: {0}")]
    Random(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| SecretError::Random(e.to_string()))?;
    Ok(bytes)
}

/// A new token of `kind`: its prefix and 256 random bits in hex.
pub fn new_token(kind: TokenKind) -> Result<String, SecretError> {
    Ok(format!("{}{}", kind.prefix(), hex(&random_bytes::<32>()?)))
}

/// A short random id (sessions, credentials): 64 bits in hex.
pub fn new_id(prefix: &str) -> Result<String, SecretError> {
    Ok(format!("{prefix}{}", hex(&random_bytes::<8>()?)))
}

/// What is stored of a token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time that depends on neither's content or length: both are
/// hashed to 32 bytes first, then compared byte for byte without an early exit.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The PHC string of an Argon2id hash of `password` with a random salt.
pub fn hash_password(password: &str) -> Result<String, SecretError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| SecretError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| SecretError::Hash(e.to_string()))
}

/// Whether `password` matches a stored PHC string. A malformed stored hash never matches.
pub fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to check against when the officer does not exist, so that a wrong name takes as
/// long to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never used").unwrap_or_default())
}

/// The rules a new password must meet.
pub fn check_password_rules(password: &str) -> Result<(), String> {
    if password.chars().count() < 12 {
        return Err("a password needs at least 12 characters".into());
    }
    if password.len() > 1024 {
        return Err("a password may have at most 1024 bytes".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_matches_only_itself() {
        let stored = hash_password("correct horse battery").expect("hash");
        assert!(
            stored.starts_with("$argon2id$"),
            "Argon2id, not another variant: {stored}"
        );
        assert!(password_matches("correct horse battery", &stored));
        assert!(!password_matches("correct horse battery ", &stored));
        assert!(!password_matches("correct horse battery", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_say_what_they_are() {
        let a = new_token(TokenKind::Access).expect("token");
        let b = new_token(TokenKind::Access).expect("token");
        assert_ne!(a, b);
        assert_eq!(TokenKind::of(&a), Some(TokenKind::Access));
        assert_eq!(a.len(), "llh_a_".len() + 64);
        assert_eq!(token_hash(&a).len(), 64);
    }

    #[test]
    fn secrets_compare_by_content_whatever_their_length() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
