//! Secrets handed to people (API tokens, invitation links): random, shown once, stored as SHA-256.
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh secret: `prefix` followed by 64 hex characters (256 random bits).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// What the database keeps of a secret. A fast hash is enough: the secret has 256 random bits.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
