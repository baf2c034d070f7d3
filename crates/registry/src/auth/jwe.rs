//! Compact JWE decryption (RFC 7516 §5.2) for the identity provider's encrypted userinfo.
//!
//! Only what eSignet sends is supported: key management RSA-OAEP-256 (and RSA-OAEP, SHA-1, which
//! is the same code with another hash), content encryption A256GCM or A128GCM. Everything else is
//! refused by name, so an operator reading the error knows what to register instead. No `zip`
//! (decompressing before authenticating invites compression bombs and oracles) and no `crit`
//! (we understand no extensions, and RFC 7515 §4.1.11 says to refuse what we do not understand).
//!
//! Errors are specific (wrong key, altered content, …) although RFC 7516 §11.5 advises hiding
//! which step failed: that advice protects a decryption oracle, and this one is none. The only
//! ciphertexts the registry decrypts are the ones the provider's userinfo endpoint sends it over
//! TLS; a caller cannot submit its own.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::{Oaep, RsaPrivateKey};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// Why a JWE was refused. Messages never contain any of the JWE's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JweError {
    #[error("it is not a compact JWE (five base64url parts separated by dots)")]
    NotCompact,
    #[error("its {0} is not base64url")]
    Base64(&'static str),
    #[error("its protected header is not a JSON object")]
    Header,
    #[error("its header has no `{0}`")]
    MissingHeader(&'static str),
    #[error("it uses key management algorithm `{0}`, which is not supported (supported: RSA-OAEP-256, RSA-OAEP)")]
    UnsupportedAlg(String),
    #[error(
        "it uses content encryption `{0}`, which is not supported (supported: A256GCM, A128GCM)"
    )]
    UnsupportedEnc(String),
    #[error("it is compressed (`zip`), which is not accepted")]
    Compressed,
    #[error("its header marks extensions as critical (`crit`), which are not understood")]
    Critical,
    #[error("its content key does not decrypt with this key: it was encrypted for another key")]
    KeyUnwrap,
    #[error("its content key is {found} bytes long, but {enc} needs {expected}")]
    CekLength {
        enc: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("its initialization vector is {0} bytes long, but AES-GCM needs 12")]
    IvLength(usize),
    #[error("its authentication tag is {0} bytes long, but AES-GCM needs 16")]
    TagLength(usize),
    #[error("its content does not decrypt: it was altered, or its content key is wrong")]
    Content,
}

/// Key management algorithms (`alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    RsaOaep256,
    RsaOaep,
}

/// Content encryption algorithms (`enc`) and their key lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Enc {
    A256Gcm,
    A128Gcm,
}

impl Enc {
    fn name(self) -> &'static str {
        match self {
            Enc::A256Gcm => "A256GCM",
            Enc::A128Gcm => "A128GCM",
        }
    }

    fn key_len(self) -> usize {
        match self {
            Enc::A256Gcm => 32,
            Enc::A128Gcm => 16,
        }
    }
}

/// A decrypted JWE: its protected header and the plaintext (wiped when dropped: it is the
/// person's data).
pub struct Decrypted {
    pub header: Map<String, Value>,
    pub plaintext: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decrypted")
            .field("header", &self.header)
            .field(
                "plaintext",
                &format_args!("<{} bytes>", self.plaintext.len()),
            )
            .finish()
    }
}

/// Is this text shaped like a compact JWE (five dot-separated parts)? Says nothing about whether
/// it decrypts.
pub fn is_compact_jwe(text: &str) -> bool {
    text.split('.').count() == 5
}

/// The protected header of a compact JWE, unverified (it is authenticated only by decryption).
pub fn header(compact: &str) -> Result<Map<String, Value>, JweError> {
    let first = compact.split('.').next().unwrap_or_default();
    let bytes = decode(first, "protected header")?;
    serde_json::from_slice(&bytes).map_err(|_| JweError::Header)
}

/// Decrypt a compact JWE with the recipient's RSA private key.
pub fn decrypt(compact: &str, key: &RsaPrivateKey) -> Result<Decrypted, JweError> {
    let parts: Vec<&str> = compact.trim().split('.').collect();
    let [protected, encrypted_key, iv, ciphertext, tag] = parts[..] else {
        return Err(JweError::NotCompact);
    };
    let header = header(protected)?;
    let text = |name: &'static str| {
        header
            .get(name)
            .and_then(Value::as_str)
            .ok_or(JweError::MissingHeader(name))
    };
    // Both algorithms are checked before any key is touched.
    let alg = match text("alg")? {
        "RSA-OAEP-256" => Alg::RsaOaep256,
        "RSA-OAEP" => Alg::RsaOaep,
        other => return Err(JweError::UnsupportedAlg(other.to_owned())),
    };
    let enc = match text("enc")? {
        "A256GCM" => Enc::A256Gcm,
        "A128GCM" => Enc::A128Gcm,
        other => return Err(JweError::UnsupportedEnc(other.to_owned())),
    };
    if header.contains_key("zip") {
        return Err(JweError::Compressed);
    }
    if header.contains_key("crit") {
        return Err(JweError::Critical);
    }
    let encrypted_key = decode(encrypted_key, "encrypted key")?;
    let iv = decode(iv, "initialization vector")?;
    let ciphertext = decode(ciphertext, "ciphertext")?;
    let tag = decode(tag, "authentication tag")?;
    if iv.len() != 12 {
        return Err(JweError::IvLength(iv.len()));
    }
    if tag.len() != 16 {
        return Err(JweError::TagLength(tag.len()));
    }

    // Blinded: the RSA operation's timing does not depend on the key.
    let mut rng = rsa::rand_core::OsRng;
    let padding = match alg {
        Alg::RsaOaep256 => Oaep::new::<sha2::Sha256>(),
        Alg::RsaOaep => Oaep::new::<sha1::Sha1>(),
    };
    let cek = Zeroizing::new(
        key.decrypt_blinded(&mut rng, padding, &encrypted_key)
            .map_err(|_| JweError::KeyUnwrap)?,
    );
    if cek.len() != enc.key_len() {
        return Err(JweError::CekLength {
            enc: enc.name(),
            expected: enc.key_len(),
            found: cek.len(),
        });
    }

    // RFC 7516 §5.2 step 14: the AAD is the protected header exactly as sent, in base64url.
    let mut sealed = ciphertext;
    sealed.extend_from_slice(&tag);
    let payload = Payload {
        msg: &sealed,
        aad: protected.as_bytes(),
    };
    let nonce = Nonce::from_slice(&iv);
    let plaintext = match enc {
        Enc::A256Gcm => Aes256Gcm::new_from_slice(&cek)
            .map_err(|_| JweError::Content)?
            .decrypt(nonce, payload),
        Enc::A128Gcm => Aes128Gcm::new_from_slice(&cek)
            .map_err(|_| JweError::Content)?
            .decrypt(nonce, payload),
    }
    .map_err(|_| JweError::Content)?;
    Ok(Decrypted {
        header,
        plaintext: Zeroizing::new(plaintext),
    })
}

fn decode(part: &str, name: &'static str) -> Result<Vec<u8>, JweError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JweError::Base64(name))
}

#[cfg(test)]
#[path = "jwe_tests.rs"]
pub(crate) mod tests;
