//! Why an upload request failed, and the problem+json each reason answers with.

use std::io;
use std::path::{Path, PathBuf};

use crate::blobs::BlobError;
use crate::problem::{Problem, ProblemKind};

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

pub(super) fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> UploadError {
    let path = path.to_owned();
    move |source| UploadError::Io {
        action,
        path,
        source,
    }
}
