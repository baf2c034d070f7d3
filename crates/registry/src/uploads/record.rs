//! An upload's state on disk: `<data>/uploads/<uuid>/info.json` next to the staged bytes in
//! `<data>/uploads/<uuid>/data`.
//!
//! The state is a file rather than a database row so uploads work the same whatever database the
//! registry uses, and so the offset and the bytes it counts sit on the same disk. `info.json` is
//! the truth: its `offset` is only raised after the bytes up to it are fsynced, and it is replaced
//! atomically (write a temporary file, fsync, rename, fsync the folder). Bytes in `data` beyond
//! `offset` — from a crash mid-write — are cut off by the next PATCH.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::blobs::fs::{create_private_file, sync_dir};
use crate::blobs::Sha256Hex;

pub(crate) const INFO_FILE: &str = "info.json";
pub(crate) const DATA_FILE: &str = "data";
const INFO_TMP: &str = "info.json.tmp";

/// Everything the server remembers about one upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UploadRecord {
    pub id: Uuid,
    pub owner: String,
    pub length: u64,
    /// Bytes received and fsynced.
    pub offset: u64,
    /// SHA-256 the client announced for the whole file.
    pub sha256: Sha256Hex,
    pub filename: Option<String>,
    /// The type the client claimed (kept for support, never trusted).
    pub declared_content_type: Option<String>,
    /// The type sniffed from the first bytes, once enough have arrived.
    pub mime_type: Option<String>,
    /// The bytes matched `sha256` and are in the blob store.
    pub complete: bool,
    /// `Upload-Metadata` as sent, echoed on HEAD as tus requires.
    pub metadata_header: Option<String>,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds; the sweep removes the upload after this.
    pub expires_at: u64,
}

impl UploadRecord {
    pub fn is_expired(&self, now: SystemTime) -> bool {
        unix_secs(now) >= self.expires_at
    }

    pub fn expires_at_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.expires_at)
    }
}

pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// The folder of one upload.
pub(crate) fn upload_dir(root: &Path, id: Uuid) -> PathBuf {
    root.join(id.hyphenated().to_string())
}

/// Read an upload's state; `None` if there is no such upload.
pub(crate) fn read(dir: &Path) -> io::Result<Option<UploadRecord>> {
    let text = match std::fs::read(dir.join(INFO_FILE)) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Replace an upload's state atomically and durably.
pub(crate) fn write(dir: &Path, record: &UploadRecord) -> io::Result<()> {
    let tmp = dir.join(INFO_TMP);
    {
        let mut file = create_private_file(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(record).map_err(io::Error::other)?)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(INFO_FILE))?;
    sync_dir(dir)
}
