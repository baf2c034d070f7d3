//! Document bytes to the registry over tus 1.0 (resumable uploads).
//!
//! The document's metadata goes first, as an ordinary mutation; once the registry has it, the
//! bytes follow in chunks. The offset the registry acknowledged is saved in the vault after each
//! chunk, and a restarted app asks the registry (`HEAD`) where to continue, so an upload cut by a
//! lost connection, a crash or a closed lid resumes instead of starting over. The file is read
//! decrypted from the vault chunk by chunk: memory stays bounded whatever its size.

use std::io::Read;

use base64::Engine;

use super::transport::{SyncTransport, TransportError};
use super::{SyncError, SyncProgress};
use crate::vault::{Partition, PendingUpload};

/// Bytes per PATCH: big enough that per-request costs (fsync, vault bookkeeping) stay small,
/// small enough that a cut loses little and memory stays bounded.
pub const CHUNK: usize = 8 * 1024 * 1024;

/// Upload every pending document. Returns (documents finished, bytes sent).
pub async fn upload_pending(
    partition: &Partition,
    transport: &SyncTransport,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
) -> Result<(usize, u64), SyncError> {
    let mut finished = 0;
    let mut sent = 0;
    for upload in partition.pending_uploads()? {
        sent += upload_one(partition, transport, &upload, progress).await?;
        finished += 1;
    }
    Ok((finished, sent))
}

async fn upload_one(
    partition: &Partition,
    transport: &SyncTransport,
    upload: &PendingUpload,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
) -> Result<u64, SyncError> {
    let id = upload.document_id;
    let url = match &upload.url {
        Some(url) => match server_offset(transport, url).await? {
            Some(offset) => (url.clone(), offset),
            // The registry forgot it (expired): start a new one.
            None => (create(transport, upload).await?, 0),
        },
        None => (create(transport, upload).await?, 0),
    };
    let (url, mut offset) = url;
    partition.record_upload(id, Some(&url), offset, false)?;
    let mut reader = partition.open_document(id)?;
    skip(&mut reader, offset)?;
    let mut sent = 0;
    let mut buf = vec![0_u8; CHUNK];
    while offset < upload.size_bytes {
        let n = read_full(&mut reader, &mut buf)?;
        if n == 0 {
            return Err(SyncError::Vault(crate::vault::VaultError::Corrupt(
                format!("document {id} is shorter than recorded"),
            )));
        }
        let token = transport.token().await;
        let acknowledged = transport
            .registry()
            .patch_upload(&token, &url, offset, buf[..n].to_vec())
            .await?
            .unwrap_or(offset + n as u64);
        sent += acknowledged.saturating_sub(offset);
        if acknowledged != offset + n as u64 {
            // The registry kept only part of the chunk: continue from where it is.
            offset = acknowledged;
            partition.record_upload(id, Some(&url), offset, false)?;
            reader = partition.open_document(id)?;
            skip(&mut reader, offset)?;
            continue;
        }
        offset = acknowledged;
        partition.record_upload(id, Some(&url), offset, offset >= upload.size_bytes)?;
        progress(SyncProgress::Uploading {
            document: id,
            bytes_sent: offset,
            bytes_total: upload.size_bytes,
        });
    }
    partition.record_upload(id, Some(&url), offset, true)?;
    Ok(sent)
}

/// `POST /v1/uploads`: announce the size and the SHA-256 the registry must find at the end.
async fn create(
    transport: &SyncTransport,
    upload: &PendingUpload,
) -> Result<String, TransportError> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let metadata = format!(
        "sha256 {},filename {},document_id {}",
        b64(&upload.sha256),
        b64(&upload.file_name),
        b64(&upload.document_id.to_string())
    );
    let token = transport.token().await;
    transport
        .registry()
        .create_upload(&token, upload.size_bytes, &metadata)
        .await
}

/// `HEAD` the upload: the offset the registry has, or `None` when it no longer knows it.
async fn server_offset(
    transport: &SyncTransport,
    url: &str,
) -> Result<Option<u64>, TransportError> {
    let token = transport.token().await;
    transport.registry().upload_offset(&token, url).await
}

fn skip(reader: &mut impl Read, mut n: u64) -> Result<(), SyncError> {
    let mut buf = vec![0_u8; 64 * 1024];
    while n > 0 {
        let want = buf.len().min(n as usize);
        let got = reader
            .read(&mut buf[..want])
            .map_err(|e| crate::vault::VaultError::Corrupt(e.to_string()))?;
        if got == 0 {
            break;
        }
        n -= got as u64;
    }
    Ok(())
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize, SyncError> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = reader
            .read(&mut buf[filled..])
            .map_err(|e| crate::vault::VaultError::Corrupt(e.to_string()))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}
