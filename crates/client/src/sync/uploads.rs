//! Document bytes to the registry over tus 1.0 (resumable uploads).
//!
//! The document's metadata goes first, as an ordinary mutation; once the registry has it, the
//! bytes follow in chunks. The offset the registry acknowledged is saved in the vault after each
//! chunk, and a restarted app asks the registry (`HEAD`) where to continue, so an upload cut by a
//! lost connection, a crash or a closed lid resumes instead of starting over. The file is read
//! decrypted from the vault chunk by chunk: memory stays bounded whatever its size.

use std::io::Read;

use base64::Engine;

use super::transport::{check, offline, SyncTransport, TransportError};
use super::{SyncError, SyncProgress};
use crate::vault::{Partition, PendingUpload};

/// Bytes per PATCH: big enough that per-request costs (fsync, vault bookkeeping) stay small,
/// small enough that a cut loses little and memory stays bounded.
pub const CHUNK: usize = 8 * 1024 * 1024;
const TUS_VERSION: &str = "1.0.0";

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
        let response = transport
            .http()
            .patch(transport.url(&url))
            .header(reqwest::header::AUTHORIZATION, transport.bearer().await)
            .header("Tus-Resumable", TUS_VERSION)
            .header("Upload-Offset", offset.to_string())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/offset+octet-stream",
            )
            .body(buf[..n].to_vec())
            .send()
            .await
            .map_err(offline)?;
        let response = check(response).await?;
        let acknowledged = header_u64(&response, "upload-offset").unwrap_or(offset + n as u64);
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
    let response = transport
        .http()
        .post(transport.url("v1/uploads"))
        .header(reqwest::header::AUTHORIZATION, transport.bearer().await)
        .header("Tus-Resumable", TUS_VERSION)
        .header("Upload-Length", upload.size_bytes.to_string())
        .header("Upload-Metadata", metadata)
        .send()
        .await
        .map_err(offline)?;
    let response = check(response).await?;
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(|l| l.trim_start_matches('/').to_owned())
        .ok_or_else(|| TransportError::Server {
            status: 201,
            message: "no upload location".into(),
        })
}

/// `HEAD` the upload: the offset the registry has, or `None` when it no longer knows it.
async fn server_offset(
    transport: &SyncTransport,
    url: &str,
) -> Result<Option<u64>, TransportError> {
    let response = transport
        .http()
        .head(transport.url(url))
        .header(reqwest::header::AUTHORIZATION, transport.bearer().await)
        .header("Tus-Resumable", TUS_VERSION)
        .send()
        .await
        .map_err(offline)?;
    if matches!(response.status().as_u16(), 404 | 410) {
        return Ok(None);
    }
    let response = check(response).await?;
    Ok(header_u64(&response, "upload-offset"))
}

fn header_u64(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
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
