//! The byte work of an upload, on blocking threads: the staging file (open, cut back, append in
//! vectored batches with write-behind, fsync) and the whole file's running SHA-256.

use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::error::io_err;
use super::{UploadError, HASH_BLOCK, WRITE_BATCH, WRITE_BEHIND, WRITE_IOVECS};
use crate::blobs::Sha256Hex;

pub(super) async fn truncate(data: &Path, len: u64) -> Result<(), UploadError> {
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(data)
        .await
        .map_err(io_err("opening", data))?;
    file.set_len(len).await.map_err(io_err("truncating", data))
}

/// Open the staging file to append at `start`, cutting off bytes past it (from an interrupted
/// write that was never counted).
pub(super) fn open_staged(data: &Path, start: u64) -> Result<std::fs::File, UploadError> {
    use std::io::Seek;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(data)
        .map_err(io_err("opening", data))?;
    file.set_len(start).map_err(io_err("truncating", data))?;
    file.seek(io::SeekFrom::Start(start))
        .map_err(io_err("seeking in", data))?;
    Ok(file)
}

/// The hasher thread of one PATCH: feed the queued chunks to the whole file's running SHA-256.
/// Returns the bytes hashed and the hash before and after them.
///
/// `running` is the hash of the first `start` bytes kept from the previous PATCH; without it,
/// the staged prefix is read back and hashed first (meanwhile the queue fills up and the
/// request body waits).
pub(super) fn hash_body(
    data: &Path,
    start: u64,
    running: Option<Sha256>,
    mut chunks: mpsc::Receiver<axum::body::Bytes>,
) -> Result<(u64, Sha256, Sha256), UploadError> {
    let mut hasher = match running {
        Some(hasher) => hasher,
        None if start == 0 => Sha256::new(),
        _ => {
            tracing::info!(path = %data.display(), start, "hashing the staged bytes again");
            let mut file = std::fs::File::open(data).map_err(io_err("opening", data))?;
            hash_prefix(&mut file, start).map_err(io_err("reading", data))?
        }
    };
    let before = hasher.clone();
    let mut bytes = 0u64;
    while let Some(chunk) = chunks.blocking_recv() {
        hasher.update(&chunk);
        bytes += chunk.len() as u64;
    }
    Ok((bytes, before, hasher))
}

/// The writer thread of one PATCH: append the queued chunks to the staging file in batches
/// (and, with `checksum`, hash them for `Upload-Checksum`), having the kernel start writing
/// them to disk every [`WRITE_BEHIND`] bytes ([`write_behind`]); once the queue is closed, fsync.
/// Returns the bytes written, their digest and the file.
pub(super) fn write_body(
    data: &Path,
    mut file: std::fs::File,
    checksum: bool,
    mut chunks: mpsc::Receiver<axum::body::Bytes>,
) -> Result<(u64, Option<[u8; 32]>, std::fs::File), UploadError> {
    use std::io::Seek;
    let mut digest = checksum.then(Sha256::new);
    let mut batch = Vec::with_capacity(WRITE_IOVECS);
    let mut batched = 0;
    let mut bytes = 0u64;
    let mut position = file.stream_position().map_err(io_err("seeking in", data))?;
    let mut unsynced_from = position;
    loop {
        let next = chunks.blocking_recv();
        let done = next.is_none();
        if let Some(chunk) = next {
            if let Some(d) = digest.as_mut() {
                d.update(&chunk);
            }
            batched += chunk.len();
            batch.push(chunk);
        }
        if !batch.is_empty() && (done || batched >= WRITE_BATCH || batch.len() == WRITE_IOVECS) {
            write_all_vectored(&mut file, &batch).map_err(io_err("writing", data))?;
            bytes += batched as u64;
            position += batched as u64;
            batch.clear();
            batched = 0;
            if position - unsynced_from >= WRITE_BEHIND && !done {
                write_behind(&file, unsynced_from, position - unsynced_from);
                unsynced_from = position;
            }
        }
        if done {
            break;
        }
    }
    if bytes > 0 {
        file.sync_data().map_err(io_err("syncing", data))?;
    }
    Ok((bytes, digest.map(|d| d.finalize().into()), file))
}

/// Have the kernel start writing `len` bytes of `file` at `offset` to disk, without waiting
/// (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`): the disk works while the network does, and
/// the fsync before the response has little left to do. Only a hint: the fsync guarantees
/// durability and reports any write error (on the same open file).
#[cfg(target_os = "linux")]
fn write_behind(file: &std::fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: a plain system call on an open descriptor we own; no memory is passed.
    let rc = unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    };
    if rc != 0 {
        tracing::debug!(error = %io::Error::last_os_error(), "sync_file_range failed");
    }
}

#[cfg(not(target_os = "linux"))]
fn write_behind(_file: &std::fs::File, _offset: u64, _len: u64) {}

/// Write every byte of `chunks`, in as few system calls as the kernel allows.
fn write_all_vectored(file: &mut std::fs::File, chunks: &[axum::body::Bytes]) -> io::Result<()> {
    use std::io::{IoSlice, Write};
    let mut slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
    let mut slices = &mut slices[..];
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// SHA-256 state over the first `len` bytes of `file`, read in fixed-size blocks.
fn hash_prefix(file: &mut std::fs::File, len: u64) -> io::Result<Sha256> {
    use std::io::{Read, Seek};
    let mut hasher = Sha256::new();
    if len == 0 {
        return Ok(hasher);
    }
    file.seek(io::SeekFrom::Start(0))?;
    let mut prefix = Read::by_ref(file).take(len);
    let mut block = vec![0u8; HASH_BLOCK];
    let mut read = 0u64;
    loop {
        let n = match prefix.read(&mut block) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&block[..n]);
        read += n as u64;
    }
    if read != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the staged file has {read} bytes, not the {len} recorded"),
        ));
    }
    Ok(hasher)
}

/// SHA-256 of a whole file, read in fixed-size blocks.
pub(super) fn hash_file(path: &Path) -> Result<Sha256Hex, UploadError> {
    let mut file = std::fs::File::open(path).map_err(io_err("opening", path))?;
    let len = file
        .metadata()
        .map_err(io_err("reading metadata of", path))?
        .len();
    let hasher = hash_prefix(&mut file, len).map_err(io_err("reading", path))?;
    Ok(Sha256Hex::from_digest(&hasher.finalize().into()))
}

pub(super) fn joined<T>(result: Result<T, tokio::task::JoinError>) -> Result<T, UploadError> {
    result.map_err(|e| UploadError::Task(e.to_string()))
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UploadError> + Send + 'static,
) -> Result<T, UploadError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| UploadError::Task(e.to_string()))?
}
