//! Secrets at rest: a client's database connection string is sealed (ChaCha20-Poly1305) with the
//! installation's key before it is stored, and opened only inside the job that runs the probe.
//! The engagement id is bound in as associated data, so a sealed string copied into another
//! engagement's row does not open.
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

use crate::error::{Error, Result};

const NONCE_LEN: usize = 12;

/// The installation's 32-byte key. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(…)")
    }
}

impl SealKey {
    /// From 64 hex digits (how the setting `PLUMBLINE_SECRET_KEY` is written).
    pub fn from_hex(text: &str) -> std::result::Result<SealKey, String> {
        let bytes = hex::decode(text.trim()).map_err(|_| "not hexadecimal".to_owned())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "must be 64 hex digits (32 bytes)".to_owned())?;
        Ok(SealKey(key))
    }

    pub fn generate() -> SealKey {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SealKey(key)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads the key file, or creates it (readable by its owner only) on first start.
    pub fn load_or_create(path: &std::path::Path) -> std::result::Result<SealKey, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => SealKey::from_hex(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                let key = SealKey::generate();
                write_private(path, &key.to_hex())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(key)
            }
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Seals `plain` for `context` (e.g. `postgres:42`): base64 of nonce ‖ ciphertext.
    pub fn seal(&self, context: &str, plain: &str) -> Result<String> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.0));
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Error::Internal("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// Opens what `seal` made for the same `context`; a wrong key or context is an error.
    pub fn open(&self, context: &str, sealed: &str) -> Result<String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed.trim())
            .map_err(|_| Error::Internal("sealed value is not base64".into()))?;
        if bytes.len() <= NONCE_LEN {
            return Err(Error::Internal("sealed value too short".into()));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.0));
        let plain = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| {
                Error::Internal(
                    "the stored connection string does not open with this installation's key \
                     (was PLUMBLINE_SECRET_KEY changed?)"
                        .into(),
                )
            })?;
        String::from_utf8(plain).map_err(|_| Error::Internal("sealed value is not text".into()))
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn seals_and_opens_only_in_its_context() {
        let key = SealKey::generate();
        let sealed = key.seal("postgres:1", "postgres://a:secret@h/db").unwrap();
        assert!(!sealed.contains("secret"));
        assert_eq!(
            key.open("postgres:1", &sealed).unwrap(),
            "postgres://a:secret@h/db"
        );
        assert!(key.open("postgres:2", &sealed).is_err());
        assert!(SealKey::generate().open("postgres:1", &sealed).is_err());
        assert!(key.open("postgres:1", "bm9wZQ==").is_err());
    }

    #[test]
    fn key_from_hex_says_what_is_wrong() {
        assert!(SealKey::from_hex("zz").is_err());
        assert!(SealKey::from_hex("abcd").is_err());
        let key = SealKey::generate();
        assert_eq!(SealKey::from_hex(&key.to_hex()).unwrap().0, key.0);
        assert_eq!(format!("{key:?}"), "SealKey(…)");
    }
}
