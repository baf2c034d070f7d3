//! Documents (ID scans, certificates, photos) as encrypted files beside the database.
//!
//! Up to [`MAX_DOCUMENT_BYTES`] each, streamed in [`CHUNK_LEN`] chunks so memory stays bounded
//! whatever the size. Each file has its own random key, kept in the partition database's
//! `documents` row (itself encrypted): deleting the row shreds the file.
//!
//! File format (version 1):
//! ```text
//! magic "DSDOC\0\x01\0" (8 bytes) | stream nonce (19 bytes) | chunk 1 | chunk 2 | … | last chunk
//! ```
//! Chunks are XChaCha20-Poly1305 in the STREAM construction (a counter and a last-chunk flag in
//! the nonce), so reordering, truncating or extending the file is detected, and the document id is
//! authenticated with every chunk so a file renamed onto another document's id does not open.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::{KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::atomic;
use super::keys::{self, SecretKey};
use super::VaultError;

/// Largest document accepted: the domain's limit (100 MiB), the same the registry enforces.
pub const MAX_DOCUMENT_BYTES: u64 = doorstep_domain::document::MAX_DOCUMENT_BYTES;
/// Plaintext bytes per encrypted chunk.
pub const CHUNK_LEN: usize = 64 * 1024;
const TAG_LEN: usize = 16;
const MAGIC: &[u8; 8] = b"DSDOC\0\x01\0";
const NONCE_LEN: usize = 19;
const HEADER_LEN: usize = MAGIC.len() + NONCE_LEN;

/// What writing a document produced, for its database row.
#[derive(Debug, Clone)]
pub struct WrittenDocument {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub sha256: String,
    /// The first bytes of the plaintext, for MIME sniffing.
    pub head: Vec<u8>,
}

/// Encrypt everything `source` yields into `dir/<id>`, atomically.
pub fn write(
    dir: &Path,
    id: Uuid,
    key: &SecretKey,
    mut source: impl Read,
) -> Result<WrittenDocument, VaultError> {
    let dest = dir.join(id.to_string());
    let (temp, mut file) = atomic::create_temp(dir, &id.to_string())
        .map_err(|e| VaultError::io("create a document file", dir, e))?;
    let result = (|| {
        let nonce: [u8; NONCE_LEN] = keys::random_bytes();
        file.write_all(MAGIC)?;
        file.write_all(&nonce)?;
        let mut encryptor = EncryptorBE32::from_aead(
            XChaCha20Poly1305::new(key.as_bytes().into()),
            (&nonce).into(),
        );
        let aad = id.as_bytes();
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head = Vec::new();
        // One chunk of look-ahead: the STREAM construction must know which chunk is the last.
        let mut current = vec![0u8; CHUNK_LEN];
        let mut next = vec![0u8; CHUNK_LEN];
        let mut current_len = read_full(&mut source, &mut current)?;
        loop {
            size += current_len as u64;
            if size > MAX_DOCUMENT_BYTES {
                return Err(DocError::TooLarge);
            }
            hasher.update(&current[..current_len]);
            if head.is_empty() {
                head.extend_from_slice(&current[..current_len.min(64)]);
            }
            let next_len = if current_len == CHUNK_LEN {
                read_full(&mut source, &mut next)?
            } else {
                0
            };
            let payload = Payload {
                msg: &current[..current_len],
                aad,
            };
            if next_len == 0 {
                let sealed = encryptor
                    .encrypt_last(payload)
                    .map_err(|_| DocError::Crypto)?;
                file.write_all(&sealed)?;
                break;
            }
            let sealed = encryptor
                .encrypt_next(payload)
                .map_err(|_| DocError::Crypto)?;
            file.write_all(&sealed)?;
            std::mem::swap(&mut current, &mut next);
            current_len = next_len;
        }
        // Plaintext buffers held personal data; do not leave it in freed memory.
        zeroize::Zeroize::zeroize(&mut current);
        zeroize::Zeroize::zeroize(&mut next);
        Ok((size, hex::encode(hasher.finalize()), head))
    })();
    match result {
        Ok((size_bytes, sha256, head)) => {
            atomic::commit(&temp, file, &dest)
                .map_err(|e| VaultError::io("save a document file", &dest, e))?;
            Ok(WrittenDocument {
                path: dest,
                size_bytes,
                sha256,
                head,
            })
        }
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(&temp);
            Err(match e {
                DocError::TooLarge => VaultError::DocumentTooLarge {
                    limit: MAX_DOCUMENT_BYTES,
                },
                DocError::Crypto => VaultError::Corrupt("document encryption failed".into()),
                DocError::Io(e) => VaultError::io("write a document", dir, e),
            })
        }
    }
}

enum DocError {
    TooLarge,
    Crypto,
    Io(io::Error),
}

impl From<io::Error> for DocError {
    fn from(e: io::Error) -> Self {
        DocError::Io(e)
    }
}

/// Fill `buf` as far as the source allows; returns bytes read (less than `buf.len()` only at EOF).
fn read_full(source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Streaming, verifying reader over an encrypted document. Any tampering or truncation surfaces
/// as an `InvalidData` I/O error; no unverified byte is ever returned.
pub struct DocumentReader {
    file: File,
    decryptor: Option<DecryptorBE32<XChaCha20Poly1305>>,
    aad: [u8; 16],
    remaining: u64,
    plain: Vec<u8>,
    pos: usize,
    sealed: Vec<u8>,
}

impl DocumentReader {
    pub fn open(path: &Path, id: Uuid, key: &SecretKey) -> Result<Self, VaultError> {
        let mut file = File::open(path).map_err(|e| VaultError::io("open a document", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| VaultError::io("open a document", path, e))?
            .len();
        let mut header = [0u8; HEADER_LEN];
        file.read_exact(&mut header)
            .map_err(|_| VaultError::Corrupt(format!("document {id} is damaged (short header)")))?;
        if &header[..MAGIC.len()] != MAGIC {
            return Err(VaultError::Corrupt(format!(
                "document {id} is not a Doorstep document file"
            )));
        }
        let nonce: [u8; NONCE_LEN] = header[MAGIC.len()..]
            .try_into()
            .expect("header slice has nonce length");
        let decryptor = DecryptorBE32::from_aead(
            XChaCha20Poly1305::new(key.as_bytes().into()),
            (&nonce).into(),
        );
        Ok(DocumentReader {
            file,
            decryptor: Some(decryptor),
            aad: *id.as_bytes(),
            remaining: len - HEADER_LEN as u64,
            plain: Vec::new(),
            pos: 0,
            sealed: vec![0u8; CHUNK_LEN + TAG_LEN],
        })
    }

    fn refill(&mut self) -> io::Result<()> {
        let damaged = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "document is damaged or was altered",
            )
        };
        zeroize::Zeroize::zeroize(&mut self.plain);
        self.plain.clear();
        self.pos = 0;
        if self.decryptor.is_none() {
            return Ok(());
        }
        let chunk = (self.remaining as usize).min(CHUNK_LEN + TAG_LEN);
        if chunk < TAG_LEN {
            return Err(damaged());
        }
        self.file.read_exact(&mut self.sealed[..chunk])?;
        self.remaining -= chunk as u64;
        let payload = Payload {
            msg: &self.sealed[..chunk],
            aad: &self.aad,
        };
        self.plain = if self.remaining == 0 {
            let decryptor = self.decryptor.take().expect("checked above");
            decryptor.decrypt_last(payload).map_err(|_| damaged())?
        } else {
            self.decryptor
                .as_mut()
                .expect("checked above")
                .decrypt_next(payload)
                .map_err(|_| damaged())?
        };
        Ok(())
    }
}

impl Read for DocumentReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.plain.len() {
            self.refill()?;
            if self.plain.is_empty() {
                return Ok(0);
            }
        }
        let n = out.len().min(self.plain.len() - self.pos);
        out[..n].copy_from_slice(&self.plain[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Drop for DocumentReader {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.plain);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(len: usize) {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::generate();
        let id = Uuid::now_v7();
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let written = write(dir.path(), id, &key, &data[..]).unwrap();
        assert_eq!(written.size_bytes, len as u64);
        assert_eq!(written.sha256, hex::encode(Sha256::digest(&data)));
        let mut back = Vec::new();
        DocumentReader::open(&written.path, id, &key)
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == data, "round trip of {len} bytes");
    }

    #[test]
    fn round_trips_at_chunk_boundaries() {
        for len in [
            0,
            1,
            CHUNK_LEN - 1,
            CHUNK_LEN,
            CHUNK_LEN + 1,
            3 * CHUNK_LEN,
            3 * CHUNK_LEN + 17,
        ] {
            round_trip(len);
        }
    }

    #[test]
    fn truncation_tampering_and_wrong_id_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::generate();
        let id = Uuid::now_v7();
        let data = vec![42u8; 2 * CHUNK_LEN + 10];
        let written = write(dir.path(), id, &key, &data[..]).unwrap();
        let original = std::fs::read(&written.path).unwrap();
        let read_all = |id: Uuid| {
            let mut out = Vec::new();
            DocumentReader::open(&written.path, id, &key).and_then(|mut r| {
                r.read_to_end(&mut out)
                    .map_err(|e| VaultError::io("read", &written.path, e))
            })
        };

        // Cut after the first full chunk: every remaining chunk verifies, but the "last" flag lies.
        std::fs::write(&written.path, &original[..HEADER_LEN + CHUNK_LEN + TAG_LEN]).unwrap();
        assert!(read_all(id).is_err(), "truncation went unnoticed");

        let mut flipped = original.clone();
        flipped[HEADER_LEN + 100] ^= 1;
        std::fs::write(&written.path, &flipped).unwrap();
        assert!(read_all(id).is_err(), "a flipped bit went unnoticed");

        std::fs::write(&written.path, &original).unwrap();
        assert!(
            read_all(Uuid::now_v7()).is_err(),
            "opened under another document's id"
        );
        assert!(read_all(id).is_ok());
    }

    #[test]
    fn too_large_is_refused_and_leaves_nothing() {
        struct Endless;
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                buf.fill(1);
                Ok(buf.len())
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let err = write(dir.path(), Uuid::now_v7(), &SecretKey::generate(), Endless).unwrap_err();
        assert!(matches!(err, VaultError::DocumentTooLarge { .. }), "{err}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "temp file left behind"
        );
    }
}
