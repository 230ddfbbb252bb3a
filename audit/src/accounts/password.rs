//! Password hashing with argon2id, off the async runtime (it is slow on purpose).
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::error::{Error, Result};
use crate::fields::Password;

pub async fn hash(password: &Password) -> Result<String> {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2 hash: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hash task: {e}")))?
}

/// Checks a password against a stored hash. With no hash (unknown e-mail) it checks against a
/// fixed one, so that a wrong e-mail costs as much time as a wrong password.
pub async fn verify(candidate: &str, stored: Option<String>) -> Result<bool> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let known = stored.is_some();
    let candidate = candidate.to_owned();
    let matches = tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| {
            DUMMY
                .get_or_init(|| {
                    let salt = SaltString::generate(&mut OsRng);
                    Argon2::default()
                        .hash_password(b"no such account", &salt)
                        .map(|h| h.to_string())
                        .unwrap_or_default()
                })
                .clone()
        });
        PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(candidate.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(|e| Error::Internal(format!("verify task: {e}")))?;
    Ok(known && matches)
}
