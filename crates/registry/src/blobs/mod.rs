//! Content-addressed storage for document bytes.
//!
//! A blob is named by the SHA-256 of its content, so the same file uploaded twice (by one agent
//! or by two) is stored once, any copy can be checked against its name, and a name can never
//! point at different bytes later. Records (`Document`) reference blobs by that hash.
//!
//! [`BlobStore`] is deliberately small — put a finished file, stream it back, ask whether it
//! exists, delete it — so that an S3-compatible object store (OpenG2P deployments use MinIO) can
//! implement it next to [`FsBlobStore`] without the upload code changing. Hashing, type checks and
//! staging happen before a blob store is involved; a store only moves verified bytes around.

pub(crate) mod fs;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncRead;

pub use fs::FsBlobStore;

/// A SHA-256 digest written as 64 lower-case hex digits: a blob's name.
///
/// Lower case only, so one file has exactly one name (and one path on disk).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Hex(String);

/// The text is not 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a SHA-256 digest (64 lower-case hex digits): {0:?}")]
pub struct InvalidSha256(pub String);

impl Sha256Hex {
    /// Validate `text` as a digest.
    pub fn parse(text: &str) -> Result<Self, InvalidSha256> {
        if doorstep_domain::validate::is_sha256_hex(text) {
            Ok(Sha256Hex(text.to_owned()))
        } else {
            Err(InvalidSha256(text.chars().take(80).collect()))
        }
    }

    /// The name of a freshly computed digest.
    pub fn from_digest(digest: &[u8; 32]) -> Self {
        Sha256Hex(hex::encode(digest))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Sha256Hex {
    type Err = InvalidSha256;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sha256Hex::parse(s)
    }
}

impl TryFrom<String> for Sha256Hex {
    type Error = InvalidSha256;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Sha256Hex::parse(&value)
    }
}

impl From<Sha256Hex> for String {
    fn from(value: Sha256Hex) -> Self {
        value.0
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What can go wrong in a blob store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob store I/O error while {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("staged file {path} has {found} bytes, expected {expected}")]
    SizeMismatch {
        path: std::path::PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("blob store task failed: {0}")]
    Task(String),
}

/// A readable blob: its size and a stream of its bytes.
pub type BlobReader = Box<dyn AsyncRead + Send + Unpin>;

/// Where verified document bytes live, addressed by their SHA-256.
///
/// Minimal on purpose so that an S3-compatible implementation (`PutObject` from the staged file,
/// `GetObject`, `HeadObject`, `DeleteObject`) fits without changing callers.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Move a finished, already hashed staging file into the store under `sha256`.
    ///
    /// The caller has verified that the file's SHA-256 is `sha256` and its length `size`; the
    /// store does not hash again (it is the expensive part) but does check the size. If the blob
    /// exists already the staged file is simply removed: content addressing dedups. The staged
    /// file is gone afterwards either way. The blob is durable when this returns.
    async fn put_file(&self, staged: &Path, sha256: &Sha256Hex, size: u64)
        -> Result<(), BlobError>;

    /// [`BlobStore::put_file`] for a staged file whose content the caller has just fsynced (the
    /// upload's last PATCH does): a store that would sync it again before naming it may skip
    /// that. By default, `put_file`.
    async fn put_synced_file(
        &self,
        staged: &Path,
        sha256: &Sha256Hex,
        size: u64,
    ) -> Result<(), BlobError> {
        self.put_file(staged, sha256, size).await
    }

    /// Stream a blob back: its size and a reader, or `None` if there is no such blob.
    async fn open(&self, sha256: &Sha256Hex) -> Result<Option<(u64, BlobReader)>, BlobError>;

    /// Whether the blob is stored.
    async fn exists(&self, sha256: &Sha256Hex) -> Result<bool, BlobError>;

    /// Remove a blob; returns whether it existed. Callers must know no record references it.
    async fn delete(&self, sha256: &Sha256Hex) -> Result<bool, BlobError>;

    /// Remember that `uploader` (an actor id) sent the whole of this blob and it matched its
    /// hash. Durable when this returns. Content addressing stores one copy for everyone who
    /// uploads the same file; this ledger is what still tells their uploads apart.
    async fn add_uploader(&self, sha256: &Sha256Hex, uploader: &str) -> Result<(), BlobError>;

    /// Whether `uploader` ever sent the whole of this blob. A document's file is served only
    /// when its record's creator did: knowing a file's hash is not owning the file.
    async fn uploaded_by(&self, sha256: &Sha256Hex, uploader: &str) -> Result<bool, BlobError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_accepts_only_lower_case_64_hex() {
        let good = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(Sha256Hex::parse(good).unwrap().as_str(), good);
        assert!(Sha256Hex::parse(&good.to_uppercase()).is_err());
        assert!(Sha256Hex::parse(&good[1..]).is_err());
        assert!(Sha256Hex::parse(&format!("{good}0")).is_err());
        assert!(Sha256Hex::parse(&good.replace('e', "g")).is_err());
        assert!(Sha256Hex::parse("../../etc/passwd").is_err());
        let json = serde_json::to_string(&Sha256Hex::parse(good).unwrap()).unwrap();
        assert_eq!(json, format!("\"{good}\""));
        assert!(serde_json::from_str::<Sha256Hex>("\"abc\"").is_err());
    }
}
