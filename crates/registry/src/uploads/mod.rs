//! Resumable document uploads, speaking tus 1.0 (<https://tus.io/protocols/resumable-upload>).
//!
//! Field agents upload ID scans and photos over poor mobile connections; a plain POST restarts
//! from zero every time the link drops. With tus the app creates an upload, sends the bytes in
//! one or more PATCHes, and after any failure asks (HEAD) how much arrived and continues from
//! there. Supported: the core protocol and the `creation`, `termination`, `expiration` and
//! `checksum` (sha256) extensions. Routes: [`upload_routes`].
//!
//! What the registry adds on top of tus:
//! - the client announces the file's SHA-256 at creation (`Upload-Metadata: sha256 …`); the
//!   finished file must match it, and it becomes the blob's name ([`crate::blobs`]);
//! - the type is sniffed from the first bytes ([`doorstep_domain::sniff_mime`]) and must be on
//!   the domain's upload allow-list; a refused type is discarded as soon as its first bytes are
//!   in, not after the whole file crossed a slow link;
//! - every upload belongs to the caller that created it ([`UploadOwner`]); others get 404.
//!
//! State lives on disk under `<data>/uploads/<uuid>/` ([`record`]), not in the database, so this
//! module needs nothing from [`crate::storage`]. Memory per request is bounded: bodies are
//! streamed chunk by chunk into the staging file through a fixed-size buffer, and the final hash
//! is computed by reading the staged file back in fixed-size blocks.
//!
//! A document record references a finished upload through [`Uploads::blob_of`].

pub mod http;
mod locks;
pub mod metadata;
mod record;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};
use uuid::Uuid;

use crate::blobs::{BlobError, BlobStore, FsBlobStore, Sha256Hex};
use crate::problem::{Problem, ProblemKind};
use locks::{Held, Locks};
use metadata::Announced;
use record::{unix_secs, upload_dir, UploadRecord, DATA_FILE};

pub use http::upload_routes;

/// Folder for unfinished uploads inside the data directory.
pub const UPLOAD_DIR: &str = "uploads";
/// Largest upload accepted unless configured otherwise: 100 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 100 * 1024 * 1024;
/// How long an upload may stay unfinished (and a finished one unclaimed) by default.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(24 * 60 * 60);

/// Size of the buffer between the request body and the staging file. Larger writes cost fewer
/// system calls; this is the only per-request buffer besides the body chunks themselves.
const WRITE_BUFFER: usize = 1024 * 1024;
/// Block size when hashing a staged file.
const HASH_BLOCK: usize = 1024 * 1024;

/// Upload limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadConfig {
    /// Largest `Upload-Length` accepted (advertised as `Tus-Max-Size`).
    pub max_size: u64,
    /// An unfinished upload is removed this long after creation; a finished one's state this
    /// long after it finished (its blob stays): a document record must reference it before then.
    pub expiry: Duration,
}

impl Default for UploadConfig {
    fn default() -> Self {
        UploadConfig {
            max_size: DEFAULT_MAX_SIZE,
            expiry: DEFAULT_EXPIRY,
        }
    }
}

/// Who is uploading. The authentication middleware puts it in the request extensions; uploads
/// are visible only to the owner that created them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UploadOwner(pub String);

/// A finished upload, as a document record may reference it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedUpload {
    pub sha256: Sha256Hex,
    pub size: u64,
    /// Sniffed from the content; on the domain's allow-list.
    pub mime_type: String,
    /// As announced by the client, cleaned with `doorstep_domain::sanitize_file_name`.
    pub filename: Option<String>,
}

/// The state of an upload, as `GET /v1/uploads/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadInfo {
    pub id: Uuid,
    /// Bytes received so far.
    pub offset: u64,
    /// Size of the whole file.
    pub length: u64,
    /// The file arrived whole, matched its SHA-256 and is stored.
    pub complete: bool,
    /// The SHA-256 announced at creation (verified once `complete`).
    pub sha256: String,
    /// The type sniffed from the content, once its first bytes arrived.
    pub mime_type: Option<String>,
}

/// Why an upload request failed. Converted to problem+json by the handlers.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("no such upload")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("the upload is at offset {server_offset}, not {client_offset}")]
    OffsetMismatch {
        server_offset: u64,
        client_offset: u64,
    },
    #[error("{0}")]
    ChecksumMismatch(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("another request is still writing to this upload")]
    Busy,
    #[error("upload storage error while {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("upload task failed: {0}")]
    Task(String),
}

impl From<UploadError> for Problem {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::NotFound => Problem::new(
                ProblemKind::NotFound,
                "There is no such upload, or it expired. Create a new upload.",
            ),
            UploadError::BadRequest(detail) => Problem::new(ProblemKind::BadRequest, detail),
            UploadError::TooLarge(detail) => Problem::new(ProblemKind::TooLarge, detail),
            UploadError::OffsetMismatch { server_offset, client_offset } => Problem::new(
                ProblemKind::UploadMismatch,
                format!(
                    "The server has {server_offset} bytes of this upload, but the request continues \
                     at {client_offset}. Send HEAD to get Upload-Offset, then resume from \
                     byte {server_offset}."
                ),
            ),
            UploadError::ChecksumMismatch(detail) => {
                Problem::new(ProblemKind::ChecksumMismatch, detail)
            }
            UploadError::UnsupportedMediaType(detail) => {
                Problem::new(ProblemKind::UnsupportedMediaType, detail)
            }
            UploadError::Busy => Problem::new(
                ProblemKind::Conflict,
                "Another request is still writing to this upload. Wait a moment, send HEAD and resume.",
            ),
            error @ (UploadError::Io { .. } | UploadError::Blob(_) | UploadError::Task(_)) => {
                tracing::error!(%error, "upload failed on the server");
                Problem::new(
                    ProblemKind::Internal,
                    "The server could not store the upload. The bytes received so far are kept; \
                     retry later from the offset HEAD reports.",
                )
            }
        }
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> UploadError {
    let path = path.to_owned();
    move |source| UploadError::Io {
        action,
        path,
        source,
    }
}

/// A PATCH request's parameters, checked by the handler.
#[derive(Debug, Clone)]
pub struct Append {
    /// `Upload-Offset`: where the client believes the upload stands.
    pub offset: u64,
    /// `Content-Length`, when the client sent one.
    pub content_length: Option<u64>,
    /// `Upload-Checksum` digest of this request's body.
    pub checksum: Option<[u8; 32]>,
}

/// Where an upload stands after a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadStatus {
    pub id: Uuid,
    pub offset: u64,
    pub length: u64,
    pub expires: SystemTime,
    pub metadata_header: Option<String>,
    /// Set once the upload is complete.
    pub completed: Option<CompletedUpload>,
}

impl From<&UploadRecord> for UploadStatus {
    fn from(r: &UploadRecord) -> Self {
        UploadStatus {
            id: r.id,
            offset: r.offset,
            length: r.length,
            expires: r.expires_at_time(),
            metadata_header: r.metadata_header.clone(),
            completed: completed_of(r),
        }
    }
}

fn completed_of(r: &UploadRecord) -> Option<CompletedUpload> {
    match (&r.mime_type, r.complete) {
        (Some(mime_type), true) => Some(CompletedUpload {
            sha256: r.sha256.clone(),
            size: r.length,
            mime_type: mime_type.clone(),
            filename: r.filename.clone(),
        }),
        _ => None,
    }
}

/// How a PATCH body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyEnd {
    /// All the bytes the client meant to send.
    Whole,
    /// The connection failed or closed early.
    Cut,
    /// Another request asked this PATCH to stop.
    Interrupted,
    /// More bytes than the upload has left.
    Overflow,
}

/// What one PATCH body delivered: fsynced to the staging file, not yet counted.
struct Received {
    bytes: u64,
    /// SHA-256 of those bytes, computed when the request carried `Upload-Checksum`.
    digest: Option<[u8; 32]>,
    end: BodyEnd,
}

/// The upload service: where uploads are staged, the limits, and the blob store finished
/// uploads go to. Cheap to clone; share one per server (it holds the per-upload locks).
#[derive(Clone)]
pub struct Uploads {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    config: UploadConfig,
    blobs: Arc<dyn BlobStore>,
    locks: Arc<Locks>,
}

impl Uploads {
    /// Uploads staged in `<data_dir>/uploads` (created, mode 0700), finished ones moved to `blobs`.
    /// Staging and a file-system blob store should share a file system so finishing is a rename.
    pub fn open(
        data_dir: &Path,
        config: UploadConfig,
        blobs: Arc<dyn BlobStore>,
    ) -> Result<Self, UploadError> {
        let root = data_dir.join(UPLOAD_DIR);
        crate::blobs::fs::create_private_dir(&root).map_err(io_err("creating", &root))?;
        Ok(Uploads {
            inner: Arc::new(Inner {
                root,
                config,
                blobs,
                locks: Arc::default(),
            }),
        })
    }

    /// [`Uploads::open`] with an [`FsBlobStore`] in `<data_dir>/blobs`.
    pub fn open_with_fs_blobs(data_dir: &Path, config: UploadConfig) -> Result<Self, UploadError> {
        let blobs = Arc::new(FsBlobStore::in_data_dir(data_dir)?);
        Self::open(data_dir, config, blobs)
    }

    pub fn config(&self) -> &UploadConfig {
        &self.inner.config
    }

    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.inner.blobs
    }

    fn dir(&self, id: Uuid) -> PathBuf {
        upload_dir(&self.inner.root, id)
    }

    /// Start an upload of `length` bytes for `owner` (tus `creation`).
    pub async fn create(
        &self,
        owner: &UploadOwner,
        length: u64,
        announced: Announced,
        metadata_header: Option<String>,
    ) -> Result<UploadStatus, UploadError> {
        let max = self.inner.config.max_size;
        if length > max {
            return Err(UploadError::TooLarge(format!(
                "The file has {length} bytes; uploads may have at most {max} bytes (Tus-Max-Size)."
            )));
        }
        if length == 0 {
            return Err(UploadError::BadRequest(
                "Upload-Length is 0: the file is empty. Choose the file again.".into(),
            ));
        }
        let now = SystemTime::now();
        let record = UploadRecord {
            id: Uuid::now_v7(),
            owner: owner.0.clone(),
            length,
            offset: 0,
            sha256: announced.sha256,
            filename: announced.filename,
            declared_content_type: announced.content_type,
            mime_type: None,
            complete: false,
            metadata_header,
            created_at: unix_secs(now),
            expires_at: unix_secs(now + self.inner.config.expiry),
        };
        let dir = self.dir(record.id);
        let status = UploadStatus::from(&record);
        blocking(move || {
            crate::blobs::fs::create_private_dir(&dir).map_err(io_err("creating", &dir))?;
            crate::blobs::fs::create_private_file(&dir.join(DATA_FILE))
                .map_err(io_err("creating", &dir))?;
            record::write(&dir, &record).map_err(io_err("writing the state of", &dir))
        })
        .await?;
        Ok(status)
    }

    /// Read an upload's state if it exists, is `owner`'s and has not expired.
    async fn load(&self, owner: &UploadOwner, id: Uuid) -> Result<UploadRecord, UploadError> {
        let dir = self.dir(id);
        let record = blocking(move || record::read(&dir).map_err(io_err("reading", &dir))).await?;
        match record {
            Some(r) if r.owner == owner.0 && !r.is_expired(SystemTime::now()) => Ok(r),
            _ => Err(UploadError::NotFound),
        }
    }

    /// Check ownership, then take the upload's lock and read its state again under the lock.
    async fn lock(
        &self,
        owner: &UploadOwner,
        id: Uuid,
    ) -> Result<(Held, UploadRecord), UploadError> {
        self.load(owner, id).await?;
        let held = self
            .inner
            .locks
            .acquire(id)
            .await
            .map_err(|_| UploadError::Busy)?;
        let record = self.load(owner, id).await?;
        Ok((held, record))
    }

    /// The upload's state without taking its lock (`GET`): the last committed offset.
    pub async fn info(&self, owner: &UploadOwner, id: Uuid) -> Result<UploadInfo, UploadError> {
        let r = self.load(owner, id).await?;
        Ok(UploadInfo {
            id: r.id,
            offset: r.offset,
            length: r.length,
            complete: r.complete,
            sha256: r.sha256.to_string(),
            mime_type: r.mime_type,
        })
    }

    /// The upload's state for tus `HEAD`. Waits for (or, if it stalls, stops) a running PATCH so
    /// the offset returned is the one the next PATCH must use.
    pub async fn status(&self, owner: &UploadOwner, id: Uuid) -> Result<UploadStatus, UploadError> {
        let (_held, record) = self.lock(owner, id).await?;
        Ok(UploadStatus::from(&record))
    }

    /// tus `termination`: forget the upload and its staged bytes. A finished upload's blob stays
    /// (another upload or record may share it).
    pub async fn terminate(&self, owner: &UploadOwner, id: Uuid) -> Result<(), UploadError> {
        let (_held, _record) = self.lock(owner, id).await?;
        self.discard(id).await
    }

    async fn discard(&self, id: Uuid) -> Result<(), UploadError> {
        let dir = self.dir(id);
        let root = self.inner.root.clone();
        blocking(move || {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("removing", &dir)(e)),
            }
            crate::blobs::fs::sync_dir(&root).map_err(io_err("syncing", &root))
        })
        .await
    }

    /// The finished upload `upload_id` of `owner`, for a document record to reference. `None` if
    /// it does not exist, is someone else's, is unfinished or expired, or its blob is missing.
    pub async fn blob_of(&self, owner: &UploadOwner, upload_id: Uuid) -> Option<CompletedUpload> {
        let record = self.load(owner, upload_id).await.ok()?;
        let completed = completed_of(&record)?;
        match self.inner.blobs.exists(&completed.sha256).await {
            Ok(true) => Some(completed),
            Ok(false) => {
                tracing::warn!(upload = %upload_id, sha256 = %completed.sha256, "finished upload's blob is missing");
                None
            }
            Err(error) => {
                tracing::error!(%error, "cannot check a finished upload's blob");
                None
            }
        }
    }

    /// tus PATCH: append the body at `append.offset`, then finish the upload if that was its
    /// last byte.
    ///
    /// Runs in its own task, so a client that disconnects (or a server timeout that drops the
    /// handler) cannot cancel it between writing bytes and recording them: what was received is
    /// fsynced and counted, and the next HEAD reports it.
    pub async fn append<S, E>(
        &self,
        owner: &UploadOwner,
        id: Uuid,
        append: Append,
        body: S,
    ) -> Result<UploadStatus, UploadError>
    where
        S: Stream<Item = Result<axum::body::Bytes, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let this = self.clone();
        let owner = owner.clone();
        tokio::spawn(async move { this.append_task(&owner, id, append, body).await })
            .await
            .map_err(|e| UploadError::Task(e.to_string()))?
    }

    async fn append_task<S, E>(
        &self,
        owner: &UploadOwner,
        id: Uuid,
        append: Append,
        body: S,
    ) -> Result<UploadStatus, UploadError>
    where
        S: Stream<Item = Result<axum::body::Bytes, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let (held, mut record) = self.lock(owner, id).await?;
        if append.offset != record.offset {
            return Err(UploadError::OffsetMismatch {
                server_offset: record.offset,
                client_offset: append.offset,
            });
        }
        let remaining = record.length - record.offset;
        if append.content_length.is_some_and(|n| n > remaining) {
            return Err(UploadError::TooLarge(format!(
                "The request carries {} bytes but only {remaining} remain of the {} announced in \
                 Upload-Length.",
                append.content_length.unwrap_or_default(),
                record.length
            )));
        }
        let dir = self.dir(id);
        let data = dir.join(DATA_FILE);
        let start = record.offset;

        if remaining > 0 {
            let Received { bytes, digest, end } = self
                .receive(&held, &data, start, remaining, &append, body)
                .await?;
            if end == BodyEnd::Overflow {
                truncate(&data, start).await?;
                return Err(UploadError::TooLarge(format!(
                    "The request carries more bytes than the {remaining} that remain of the {} \
                     announced in Upload-Length; none of them were kept.",
                    record.length
                )));
            }
            if digest.is_some() && end != BodyEnd::Whole {
                truncate(&data, start).await?;
                return Err(UploadError::ChecksumMismatch(
                    "The request ended before its last byte, so its Upload-Checksum cannot be \
                     verified; none of its bytes were kept. Resume from the same offset."
                        .into(),
                ));
            }
            if let (Some(expected), Some(actual)) = (append.checksum, digest) {
                if expected != actual {
                    truncate(&data, start).await?;
                    return Err(UploadError::ChecksumMismatch(format!(
                        "The bytes received do not match Upload-Checksum; none were kept. Send \
                         them again from offset {start}."
                    )));
                }
            }
            if bytes == 0 {
                return Ok(UploadStatus::from(&record));
            }
            record.offset += bytes;
            if end != BodyEnd::Whole {
                tracing::info!(upload = %id, offset = record.offset, ?end, "PATCH ended early; keeping the bytes received");
            }
            if record.mime_type.is_none() {
                if let Err(e) = self.sniff(&mut record, &data).await {
                    self.discard(id).await?;
                    return Err(e);
                }
            }
            // The last byte is recorded by `finish` with the completion (one durable write, not
            // two); if finishing fails, the client resends the last PATCH, which is safe.
            if record.offset < record.length {
                self.save(&record).await?;
            }
        } else if !body_is_empty(&held, body).await {
            return Err(UploadError::TooLarge(format!(
                "All {} bytes of this upload have arrived; the request's bytes were not kept.",
                record.length
            )));
        }

        if record.offset == record.length && !record.complete {
            self.finish(&mut record, &data).await?;
        }
        drop(held);
        Ok(UploadStatus::from(&record))
    }

    /// Stream the body into the staging file at `start`, chunk by chunk through a fixed buffer.
    async fn receive<S, E>(
        &self,
        held: &Held,
        data: &Path,
        start: u64,
        remaining: u64,
        append: &Append,
        body: S,
    ) -> Result<Received, UploadError>
    where
        S: Stream<Item = Result<axum::body::Bytes, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(data)
            .await
            .map_err(io_err("opening", data))?;
        // Bytes past the recorded offset are from an interrupted write that was never counted.
        file.set_len(start)
            .await
            .map_err(io_err("truncating", data))?;
        file.seek(io::SeekFrom::Start(start))
            .await
            .map_err(io_err("seeking in", data))?;
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut hasher = append.checksum.map(|_| Sha256::new());
        let stop = held.writer_token();
        let mut body = std::pin::pin!(body);
        let mut written = 0u64;
        let end = loop {
            let next = tokio::select! {
                next = body.next() => next,
                () = stop.cancelled() => break BodyEnd::Interrupted,
            };
            match next {
                None if append.content_length.is_some_and(|n| n != written) => break BodyEnd::Cut,
                None => break BodyEnd::Whole,
                Some(Err(error)) => {
                    tracing::debug!(%error, "upload body ended with an error");
                    break BodyEnd::Cut;
                }
                Some(Ok(chunk)) => {
                    if written + chunk.len() as u64 > remaining {
                        break BodyEnd::Overflow;
                    }
                    writer
                        .write_all(&chunk)
                        .await
                        .map_err(io_err("writing", data))?;
                    if let Some(h) = hasher.as_mut() {
                        h.update(&chunk);
                    }
                    written += chunk.len() as u64;
                }
            }
        };
        writer.flush().await.map_err(io_err("writing", data))?;
        writer
            .into_inner()
            .sync_data()
            .await
            .map_err(io_err("syncing", data))?;
        Ok(Received {
            bytes: written,
            digest: hasher.map(|h| h.finalize().into()),
            end,
        })
    }

    /// Sniff the type once the first bytes are in, refusing types off the allow-list early.
    async fn sniff(&self, record: &mut UploadRecord, data: &Path) -> Result<(), UploadError> {
        let need = (doorstep_domain::mime::SNIFF_LEN as u64).min(record.length);
        if record.offset < need {
            return Ok(());
        }
        let path = data.to_owned();
        let head = blocking(move || {
            use std::io::Read;
            let mut head = Vec::with_capacity(need as usize);
            std::fs::File::open(&path)
                .and_then(|f| f.take(need).read_to_end(&mut head))
                .map_err(io_err("reading", &path))?;
            Ok(head)
        })
        .await?;
        match doorstep_domain::sniff_mime(&head) {
            Some(mime) if doorstep_domain::mime::is_allowed_upload(mime) => {
                record.mime_type = Some(mime.to_owned());
                Ok(())
            }
            found => Err(UploadError::UnsupportedMediaType(format!(
                "This file is {}; the registry accepts photos (JPEG, PNG, WebP, HEIC), scans (TIFF) \
                 and PDFs. The upload was discarded.",
                found.map_or("of an unrecognised type".to_owned(), |m| format!("of type {m}"))
            ))),
        }
    }

    /// Last byte in: check the whole file's SHA-256, then move it into the blob store.
    async fn finish(&self, record: &mut UploadRecord, data: &Path) -> Result<(), UploadError> {
        let staged = data.to_owned();
        let actual = blocking(move || hash_file(&staged)).await;
        let actual = match actual {
            Ok(actual) => actual,
            // A previous attempt moved the file but could not record it: the blob is the proof.
            Err(UploadError::Io { source, .. })
                if source.kind() == io::ErrorKind::NotFound
                    && self.inner.blobs.exists(&record.sha256).await? =>
            {
                record.sha256.clone()
            }
            Err(e) => return Err(e),
        };
        if actual != record.sha256 {
            self.discard(record.id).await?;
            return Err(UploadError::ChecksumMismatch(format!(
                "The file's SHA-256 is {actual}, not the {} announced at creation. The upload was \
                 discarded; check the file and upload it again.",
                record.sha256
            )));
        }
        if tokio::fs::try_exists(data).await.unwrap_or(false) {
            self.inner
                .blobs
                .put_file(data, &record.sha256, record.length)
                .await?;
        }
        record.complete = true;
        record.expires_at = unix_secs(SystemTime::now() + self.inner.config.expiry);
        self.save(record).await
    }

    async fn save(&self, record: &UploadRecord) -> Result<(), UploadError> {
        let dir = self.dir(record.id);
        let record = record.clone();
        blocking(move || record::write(&dir, &record).map_err(io_err("writing the state of", &dir)))
            .await
    }

    /// Remove expired uploads (unfinished ones past `Upload-Expires`, finished ones unclaimed for
    /// the expiry period). Returns how many were removed. Call it periodically, e.g. with
    /// [`Uploads::spawn_sweeper`]. Uploads in use are skipped until the next sweep.
    pub async fn sweep_expired(&self) -> usize {
        self.sweep_expired_at(SystemTime::now()).await
    }

    /// [`Uploads::sweep_expired`] as if it were `now` (tests move the clock instead of waiting).
    pub async fn sweep_expired_at(&self, now: SystemTime) -> usize {
        let root = self.inner.root.clone();
        let expiry = self.inner.config.expiry;
        let candidates = blocking(move || {
            let mut expired = Vec::new();
            for entry in std::fs::read_dir(&root).map_err(io_err("listing", &root))? {
                let Ok(entry) = entry else { continue };
                let Some(id) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<Uuid>().ok())
                else {
                    continue;
                };
                let dir = entry.path();
                let gone = match record::read(&dir) {
                    Ok(Some(r)) => r.is_expired(now),
                    // No readable state: a creation that crashed half-way. Judge by its age.
                    _ => entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|modified| modified + expiry <= now),
                };
                if gone {
                    expired.push(id);
                }
            }
            Ok(expired)
        })
        .await;
        let candidates = match candidates {
            Ok(c) => c,
            Err(error) => {
                tracing::error!(%error, "upload sweep failed");
                return 0;
            }
        };
        let mut removed = 0;
        for id in candidates {
            let Some(_held) = self.inner.locks.try_acquire(id) else {
                continue;
            };
            match self.discard(id).await {
                Ok(()) => removed += 1,
                Err(error) => tracing::warn!(%error, upload = %id, "cannot remove expired upload"),
            }
        }
        if removed > 0 {
            tracing::info!(removed, "expired uploads removed");
        }
        removed
    }

    /// Run [`Uploads::sweep_expired`] every `period` until the returned task is aborted.
    pub fn spawn_sweeper(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                this.sweep_expired().await;
            }
        })
    }
}

/// Whether a body carries no byte (an upload with nothing left to receive accepts only those).
async fn body_is_empty<S, E>(held: &Held, body: S) -> bool
where
    S: Stream<Item = Result<axum::body::Bytes, E>>,
{
    let stop = held.writer_token();
    let mut body = std::pin::pin!(body);
    loop {
        let next = tokio::select! {
            next = body.next() => next,
            () = stop.cancelled() => return true,
        };
        match next {
            Some(Ok(chunk)) if chunk.is_empty() => continue,
            Some(Ok(_)) => return false,
            // A broken empty body is still empty.
            Some(Err(_)) | None => return true,
        }
    }
}

async fn truncate(data: &Path, len: u64) -> Result<(), UploadError> {
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(data)
        .await
        .map_err(io_err("opening", data))?;
    file.set_len(len).await.map_err(io_err("truncating", data))
}

/// SHA-256 of a file, read in fixed-size blocks.
fn hash_file(path: &Path) -> Result<Sha256Hex, UploadError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(io_err("opening", path))?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; HASH_BLOCK];
    loop {
        let n = file.read(&mut block).map_err(io_err("reading", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    Ok(Sha256Hex::from_digest(&hasher.finalize().into()))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UploadError> + Send + 'static,
) -> Result<T, UploadError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| UploadError::Task(e.to_string()))?
}
