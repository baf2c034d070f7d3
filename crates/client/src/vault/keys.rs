//! Keys and key wrapping.
//!
//! Each partition (one person's data on this device) has a random 256-bit **data key**. It opens
//! that person's SQLCipher database and encrypts the per-document file keys' home. The data key
//! never touches disk in the clear: it is kept *wrapped* (encrypted) by
//! - the OS keyring (see [`super::keystore`]), so the app opens without asking, and
//! - a **key-encryption key** derived from the person's passphrase or PIN with Argon2id, so the
//!   vault also opens offline and on machines without a keyring.
//!
//! Changing the passphrase re-wraps the same data key; no data is re-encrypted.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Length of every symmetric key in the vault, in bytes.
pub const KEY_LEN: usize = 32;
/// Salt length for Argon2id.
pub const SALT_LEN: usize = 16;

/// A 256-bit secret key, wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        SecretKey(random_bytes())
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SecretKey(bytes)
    }

    /// From a slice of exactly [`KEY_LEN`] bytes (e.g. what the keyring returned).
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; KEY_LEN]>::try_from(bytes).ok().map(SecretKey)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key as SQLCipher's raw-key literal (`x'…'`): used as is, no key derivation inside
    /// SQLCipher (the key is already uniformly random).
    pub(crate) fn sqlcipher_literal(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", hex::encode(self.0)))
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// Random bytes from the OS. Panics only if the OS has no randomness, when nothing is safe.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).expect("the operating system provides randomness");
    out
}

/// Argon2id cost parameters, stored beside each wrapped key so they can be raised later without
/// breaking existing vaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory, KiB.
    pub m_cost_kib: u32,
    /// Passes over memory.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// RFC 9106's second recommended option (64 MiB, 3 passes), one lane: cheap laptops have
    /// few cores, and the cost must stay bearable (well under a second) on them.
    pub const RECOMMENDED: KdfParams = KdfParams {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// Weaker but still real Argon2id, for tests that derive many keys. Never for user data.
    pub const FAST_INSECURE_FOR_TESTS: KdfParams = KdfParams {
        m_cost_kib: 1024,
        t_cost: 1,
        p_cost: 1,
    };

    fn argon2(&self) -> Result<Argon2<'static>, KeyError> {
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(KEY_LEN))
            .map_err(|e| KeyError::BadParams(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// Authentication failed: wrong passphrase/key, or the wrapped key was altered.
    #[error("the key does not fit")]
    Mismatch,
    #[error("invalid key-derivation parameters: {0}")]
    BadParams(String),
}

/// Derive the key-encryption key from a passphrase. Deliberately slow (Argon2id).
pub fn derive_kek(
    passphrase: &str,
    salt: &[u8; SALT_LEN],
    params: KdfParams,
) -> Result<SecretKey, KeyError> {
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    params
        .argon2()?
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|e| KeyError::BadParams(e.to_string()))?;
    Ok(SecretKey(*out))
}

/// A key encrypted under another key (XChaCha20-Poly1305), safe to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    #[serde(with = "hex_bytes")]
    pub nonce: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub ciphertext: Vec<u8>,
}

/// Encrypt `key` under `kek`. `context` (e.g. the partition id) is authenticated, so a wrapped
/// key copied into another partition's slot does not open.
pub fn wrap(kek: &SecretKey, key: &SecretKey, context: &[u8]) -> WrappedKey {
    let nonce: [u8; 24] = random_bytes();
    let cipher = XChaCha20Poly1305::new(kek.as_bytes().into());
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: key.as_bytes(),
                aad: context,
            },
        )
        .expect("encrypting 32 bytes cannot fail");
    WrappedKey {
        nonce: nonce.to_vec(),
        ciphertext,
    }
}

/// Decrypt a wrapped key; [`KeyError::Mismatch`] if `kek` or `context` is wrong or it was altered.
pub fn unwrap(
    kek: &SecretKey,
    wrapped: &WrappedKey,
    context: &[u8],
) -> Result<SecretKey, KeyError> {
    if wrapped.nonce.len() != 24 {
        return Err(KeyError::Mismatch);
    }
    let cipher = XChaCha20Poly1305::new(kek.as_bytes().into());
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                XNonce::from_slice(&wrapped.nonce),
                Payload {
                    msg: &wrapped.ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| KeyError::Mismatch)?,
    );
    SecretKey::from_slice(&plain).ok_or(KeyError::Mismatch)
}

/// Serde helper: bytes as lowercase hex strings.
pub(crate) mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_unwrap_round_trip_and_context_binding() {
        let kek = SecretKey::generate();
        let key = SecretKey::generate();
        let wrapped = wrap(&kek, &key, b"partition-a");
        assert_eq!(unwrap(&kek, &wrapped, b"partition-a").unwrap(), key);
        assert_eq!(
            unwrap(&kek, &wrapped, b"partition-b"),
            Err(KeyError::Mismatch)
        );
        assert_eq!(
            unwrap(&SecretKey::generate(), &wrapped, b"partition-a"),
            Err(KeyError::Mismatch)
        );
        let mut tampered = wrapped.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(
            unwrap(&kek, &tampered, b"partition-a"),
            Err(KeyError::Mismatch)
        );
    }

    #[test]
    fn kek_depends_on_passphrase_and_salt() {
        let p = KdfParams::FAST_INSECURE_FOR_TESTS;
        let salt = [7u8; SALT_LEN];
        let a = derive_kek("correct horse", &salt, p).unwrap();
        assert_eq!(a, derive_kek("correct horse", &salt, p).unwrap());
        assert_ne!(a, derive_kek("correct horsf", &salt, p).unwrap());
        assert_ne!(a, derive_kek("correct horse", &[8u8; SALT_LEN], p).unwrap());
    }

    #[test]
    fn debug_never_prints_key_material() {
        let key = SecretKey::from_bytes([0xab; KEY_LEN]);
        assert_eq!(format!("{key:?}"), "SecretKey(…)");
        assert!(!format!("{key:?}").contains("ab"));
    }
}
