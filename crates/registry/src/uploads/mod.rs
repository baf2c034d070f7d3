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
//! module needs nothing from [`crate::storage`]. Memory per request is bounded: body chunks go
//! through a short queue to a writer thread that hashes them and appends them to the staging
//! file, so receiving, hashing and writing overlap. The whole file's SHA-256 is kept running
//! between PATCHes (in memory, next to the upload's lock), so finishing never reads the file
//! back; after a restart, or a PATCH that failed half-way, the next PATCH re-hashes the staged
//! prefix once, in fixed-size blocks.
//!
//! A document record references a finished upload through [`Uploads::blob_of`].
//!
//! Modules: this one holds the types and an upload's life cycle (create, append, finish);
//! [`http`] the tus routes; `staging` the byte work on blocking threads (append, fsync, hash);
//! `sweep` the removal of expired uploads; `record` an upload's state on disk; `locks` one
//! writer per upload; [`metadata`] the `Upload-Metadata` header; `error` the failures.

mod error;
pub mod http;
mod locks;
pub mod metadata;
mod record;
mod staging;
mod sweep;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::blobs::{BlobStore, FsBlobStore, Sha256Hex};
use locks::{Cached, Held, Locks};
use metadata::Announced;
use record::{unix_secs, upload_dir, UploadRecord, DATA_FILE};

use error::io_err;
pub use error::UploadError;
pub use http::upload_routes;
use staging::{blocking, hash_body, hash_file, joined, open_staged, truncate, write_body};

/// Folder for unfinished uploads inside the data directory.
pub const UPLOAD_DIR: &str = "uploads";
/// Largest upload accepted unless configured otherwise: 100 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 100 * 1024 * 1024;
/// How long an upload may stay unfinished (and a finished one unclaimed) by default.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(24 * 60 * 60);

/// Body chunks queued between a PATCH's request body and each of its hasher and writer threads
/// (the queues share the chunks). hyper hands out chunks of at most ~400 KiB, so this bounds
/// what one request holds to a few MiB.
const QUEUE_CHUNKS: usize = 4;
/// The writer thread gathers chunks (without copying them) into one vectored write of at least
/// this many bytes: fewer system calls.
const WRITE_BATCH: usize = 1024 * 1024;
/// At most this many chunks per vectored write (well under `IOV_MAX`).
const WRITE_IOVECS: usize = 64;
/// The writer has the kernel start writing the file to disk every this many bytes, so that the
/// fsync before the response has little left to do.
const WRITE_BEHIND: u64 = 1024 * 1024;
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

/// What one PATCH body delivered: written to the staging file and fsynced, not yet counted.
struct Received {
    bytes: u64,
    /// SHA-256 of those bytes, computed when the request carried `Upload-Checksum`.
    digest: Option<[u8; 32]>,
    end: BodyEnd,
    /// The whole file's running hash before this request's bytes (covers `start`)...
    before: Sha256,
    /// ...and after them (covers `start + bytes`).
    after: Sha256,
    /// The staging file.
    file: std::fs::File,
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
        visible(record.ok_or(UploadError::NotFound)?, owner)
    }

    /// Check ownership, then take the upload's lock and read its state again under the lock.
    /// Between requests the state is usually cached in the lock table; otherwise it is read
    /// from disk.
    async fn lock(
        &self,
        owner: &UploadOwner,
        id: Uuid,
    ) -> Result<(Held, UploadRecord), UploadError> {
        match self.inner.locks.peek(id) {
            Some(record) => visible(record, owner)?,
            None => self.load(owner, id).await?,
        };
        let held = self
            .inner
            .locks
            .acquire(id)
            .await
            .map_err(|_| UploadError::Busy)?;
        let record = match held.peek() {
            Some(record) => visible(record, owner)?,
            None => self.load(owner, id).await?,
        };
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
        let (held, _record) = self.lock(owner, id).await?;
        self.discard(&held, id).await
    }

    /// Remove the upload's state and staged bytes (and its cached state); `held` is its lock.
    async fn discard(&self, held: &Held, id: Uuid) -> Result<(), UploadError> {
        held.take_cached();
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

        // The cached state, with the whole file's hash so far. Taken out of the table for the
        // request: whatever fails below leaves none (the next request reads the state from disk
        // and re-hashes the staged bytes) unless it is put back.
        let cached = held
            .take_cached()
            .filter(|c| c.record.offset == record.offset);
        let mut final_hash = None;
        if remaining > 0 {
            let Received {
                bytes,
                digest,
                end,
                before,
                after,
                file,
            } = self
                .receive(
                    &held,
                    &data,
                    start,
                    remaining,
                    &append,
                    cached.map(|c| c.hasher),
                    body,
                )
                .await?;
            // The staged file is cut back to `start` below: the state before this request holds.
            let keep_before = || {
                held.put_cached(Cached {
                    record: record.clone(),
                    hasher: before.clone(),
                })
            };
            if end == BodyEnd::Overflow {
                truncate(&data, start).await?;
                keep_before();
                return Err(UploadError::TooLarge(format!(
                    "The request carries more bytes than the {remaining} that remain of the {} \
                     announced in Upload-Length; none of them were kept.",
                    record.length
                )));
            }
            if digest.is_some() && end != BodyEnd::Whole {
                truncate(&data, start).await?;
                keep_before();
                return Err(UploadError::ChecksumMismatch(
                    "The request ended before its last byte, so its Upload-Checksum cannot be \
                     verified; none of its bytes were kept. Resume from the same offset."
                        .into(),
                ));
            }
            if let (Some(expected), Some(actual)) = (append.checksum, digest) {
                if expected != actual {
                    truncate(&data, start).await?;
                    keep_before();
                    return Err(UploadError::ChecksumMismatch(format!(
                        "The bytes received do not match Upload-Checksum; none were kept. Send \
                         them again from offset {start}."
                    )));
                }
            }
            if bytes == 0 {
                keep_before();
                return Ok(UploadStatus::from(&record));
            }
            record.offset += bytes;
            if end != BodyEnd::Whole {
                tracing::info!(upload = %id, offset = record.offset, ?end, "PATCH ended early; keeping the bytes received");
            }
            if record.mime_type.is_none() {
                if let Err(e) = self.sniff(&mut record, &data).await {
                    self.discard(&held, id).await?;
                    return Err(e);
                }
            }
            if record.offset < record.length {
                // The bytes are fsynced (`receive`): now count them.
                drop(file);
                self.save(&record).await?;
                held.put_cached(Cached {
                    record: record.clone(),
                    hasher: after,
                });
            } else {
                // The last byte is recorded by `finish` with the completion (one durable write,
                // not two); if finishing fails, the offset recorded is still `start` and the
                // client resends the last PATCH, which is safe.
                drop(file);
                final_hash = Some(after);
            }
        } else if !body_is_empty(&held, body).await {
            if let Some(cached) = cached {
                held.put_cached(cached);
            }
            return Err(UploadError::TooLarge(format!(
                "All {} bytes of this upload have arrived; the request's bytes were not kept.",
                record.length
            )));
        }

        if record.offset == record.length && !record.complete {
            self.finish(&held, &mut record, &data, final_hash).await?;
        }
        drop(held);
        Ok(UploadStatus::from(&record))
    }

    /// Stream the body into the staging file at `start`, then fsync it. Two threads work on the
    /// chunks as they arrive: a hasher feeds them to the whole file's running SHA-256
    /// ([`hash_body`]) and a writer appends them to the file ([`write_body`]).
    #[allow(clippy::too_many_arguments)]
    async fn receive<S, E>(
        &self,
        held: &Held,
        data: &Path,
        start: u64,
        remaining: u64,
        append: &Append,
        running: Option<Sha256>,
        body: S,
    ) -> Result<Received, UploadError>
    where
        S: Stream<Item = Result<axum::body::Bytes, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let path = data.to_owned();
        let file = blocking(move || open_staged(&path, start)).await?;
        let (to_hasher, hasher_queue) = mpsc::channel(QUEUE_CHUNKS);
        let (to_writer, writer_queue) = mpsc::channel(QUEUE_CHUNKS);
        let hasher = {
            let data = data.to_owned();
            tokio::task::spawn_blocking(move || hash_body(&data, start, running, hasher_queue))
        };
        let writer = {
            let data = data.to_owned();
            let checksum = append.checksum.is_some();
            tokio::task::spawn_blocking(move || write_body(&data, file, checksum, writer_queue))
        };
        let stop = held.writer_token();
        let mut body = std::pin::pin!(body);
        let mut sent = 0u64;
        let end = loop {
            let next = tokio::select! {
                next = body.next() => next,
                () = stop.cancelled() => break BodyEnd::Interrupted,
            };
            match next {
                None if append.content_length.is_some_and(|n| n != sent) => break BodyEnd::Cut,
                None => break BodyEnd::Whole,
                Some(Err(error)) => {
                    tracing::debug!(%error, "upload body ended with an error");
                    break BodyEnd::Cut;
                }
                Some(Ok(chunk)) => {
                    if sent + chunk.len() as u64 > remaining {
                        break BodyEnd::Overflow;
                    }
                    if chunk.is_empty() {
                        continue;
                    }
                    sent += chunk.len() as u64;
                    // A clone of `Bytes` shares the chunk; nothing is copied.
                    if to_hasher.send(chunk.clone()).await.is_err()
                        || to_writer.send(chunk).await.is_err()
                    {
                        // A thread stopped on an error, which it returns below.
                        break BodyEnd::Cut;
                    }
                }
            }
        };
        drop((to_hasher, to_writer));
        let written = joined(writer.await)?;
        let hashed = joined(hasher.await)?;
        let (bytes, digest, file) = written?;
        let (hashed, before, after) = hashed?;
        if hashed != bytes || bytes != sent {
            return Err(UploadError::Task(format!(
                "{sent} bytes received, {hashed} hashed, {bytes} written"
            )));
        }
        Ok(Received {
            bytes,
            digest,
            end,
            before,
            after,
            file,
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

    /// Last byte in: check the whole file's SHA-256, then move it into the blob store. `hasher`
    /// is the running hash over the whole staged file when this request wrote (and fsynced) its
    /// last bytes; without it the file is read back and hashed.
    async fn finish(
        &self,
        held: &Held,
        record: &mut UploadRecord,
        data: &Path,
        hasher: Option<Sha256>,
    ) -> Result<(), UploadError> {
        let synced = hasher.is_some();
        let actual = match hasher {
            Some(hasher) => Ok(Sha256Hex::from_digest(&hasher.finalize().into())),
            None => {
                let staged = data.to_owned();
                blocking(move || hash_file(&staged)).await
            }
        };
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
            self.discard(held, record.id).await?;
            return Err(UploadError::ChecksumMismatch(format!(
                "The file's SHA-256 is {actual}, not the {} announced at creation. The upload was \
                 discarded; check the file and upload it again.",
                record.sha256
            )));
        }
        if tokio::fs::try_exists(data).await.unwrap_or(false) {
            let blobs = &self.inner.blobs;
            if synced {
                blobs
                    .put_synced_file(data, &record.sha256, record.length)
                    .await?;
            } else {
                blobs.put_file(data, &record.sha256, record.length).await?;
            }
        }
        // Before the upload is marked complete: a crash in between is repaired by the retry.
        self.inner
            .blobs
            .add_uploader(&record.sha256, &record.owner)
            .await?;
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
}

/// The upload's state if it is `owner`'s and has not expired.
fn visible(record: UploadRecord, owner: &UploadOwner) -> Result<UploadRecord, UploadError> {
    if record.owner == owner.0 && !record.is_expired(SystemTime::now()) {
        Ok(record)
    } else {
        Err(UploadError::NotFound)
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
