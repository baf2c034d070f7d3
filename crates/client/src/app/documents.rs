//! The person's documents: adding one (from a file or the webcam), previewing, replacing and
//! deleting, and what each programme still needs.
//!
//! A file is sent from the web view in chunks ([`Uploads`]): each chunk goes straight into the
//! vault's streaming encryption on a worker thread, so a 100 MB scan never sits whole in memory,
//! the UI can show progress, and nothing readable touches the disk. Cancelling (or closing the
//! app) mid-way leaves only a temp file of ciphertext, removed at once or at the next open.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use doorstep_domain::document::{ConsentTerms, DocumentKind, DocumentStatus, MAX_DOCUMENT_BYTES};
use doorstep_domain::ids::RecordId;
use doorstep_domain::record::RecordKind;
use doorstep_domain::Document;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::details::{actor_of, find_me};
use super::programmes;
use super::records::live;
use super::refusal::{refused, Refusal};
use super::who::Who;
use super::AppError;
use crate::vault::{DocumentInfo, NewDocument, Partition, VaultError};

/// Chunks in flight between the IPC handler and the encrypting thread: enough to keep both
/// busy, few enough to bound memory (the UI sends chunks of about 1 MB).
const CHUNKS_IN_FLIGHT: usize = 4;
/// Largest chunk accepted from the UI.
pub const MAX_CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// One document as the documents screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DocumentView {
    pub id: String,
    pub kind: DocumentKind,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: u32,
    /// RFC 3339.
    pub captured_at: String,
    pub state: DocumentState,
    /// The bytes are on this device, so it can be previewed offline.
    pub on_device: bool,
    /// What the registry's reviewers decided (pending until one looks at it).
    pub verification: DocumentStatus,
    /// Why a reviewer did not accept it, in their words.
    pub rejection_reason: Option<String>,
}

/// Where a document's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum DocumentState {
    /// Kept on this device; sent with the next sync.
    Waiting,
    /// The registry has all of it.
    Sent,
}

/// A programme's requirement and whether it is met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    pub programme: String,
    pub kind: DocumentKind,
    pub met: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DocumentsView {
    pub documents: Vec<DocumentView>,
    pub requirements: Vec<Requirement>,
    /// Largest file accepted, in bytes.
    pub max_bytes: u32,
}

/// A document about to be sent from the UI.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewUpload {
    pub kind: DocumentKind,
    pub file_name: String,
    /// Announced size, checked before any byte is read and again at the end.
    pub size_bytes: u32,
    /// The document this one replaces (deleted once the new one is stored).
    pub replaces: Option<String>,
    /// A consent document (kind `consent`): what the person agreed to and how.
    #[serde(default)]
    pub consent: Option<ConsentTerms>,
    /// Agent: the household registration this document is for (the household is not saved
    /// yet, so the document stays on this device alone until it is; see registration.rs): its
    /// consent, or with `person` a document of one of its people.
    #[serde(default)]
    pub registration: Option<String>,
    /// With `registration`: whose document it is (a person's key in that registration).
    #[serde(default)]
    pub person: Option<String>,
}

/// What a document stored for a registration in progress becomes part of, once stored.
enum ForRegistration {
    Consent {
        id: String,
        terms: ConsentTerms,
    },
    Document {
        id: String,
        person_key: String,
        kind: DocumentKind,
    },
}

fn kind_name(kind: DocumentKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The reviewer's reason, for a rejected document only.
pub(super) fn rejection_reason(d: &Document) -> Option<String> {
    (d.verification_status == DocumentStatus::Rejected)
        .then(|| d.review.as_ref().and_then(|r| r.reason.clone()))
        .flatten()
}

/// The person's own documents (not deleted), newest capture first.
pub(super) fn mine(partition: &Partition, session: Who<'_>) -> Result<Vec<Document>, AppError> {
    let Some(me) = find_me(partition, session)? else {
        return Ok(Vec::new());
    };
    let mut documents: Vec<Document> = live(partition, RecordKind::Document)?;
    documents.retain(|d| d.linked_record == me.meta.id);
    documents.sort_by_key(|d| std::cmp::Reverse(d.captured_at));
    Ok(documents)
}

/// The person's documents and the programmes' requirements.
pub fn view(partition: &Partition, session: Who<'_>) -> Result<DocumentsView, AppError> {
    if find_me(partition, session)?.is_none() {
        return Ok(DocumentsView {
            documents: Vec::new(),
            requirements: Vec::new(),
            max_bytes: MAX_DOCUMENT_BYTES as u32,
        });
    }
    let documents = mine(partition, session)?
        .iter()
        .map(|d| {
            let id = *d.meta.id.as_uuid();
            let uploaded = partition.document_uploaded(id)?;
            Ok(DocumentView {
                id: id.to_string(),
                kind: d.kind,
                file_name: d.file_name.clone(),
                mime_type: d.mime_type.clone(),
                size_bytes: d.size_bytes.min(u64::from(u32::MAX)) as u32,
                captured_at: doorstep_domain::timestamp::format(d.captured_at),
                // Pulled from the registry (no upload row) or fully acknowledged: sent.
                state: if uploaded == Some(false) {
                    DocumentState::Waiting
                } else {
                    DocumentState::Sent
                },
                on_device: partition.document(id)?.is_some(),
                verification: d.verification_status,
                rejection_reason: rejection_reason(d),
            })
        })
        .collect::<Result<Vec<_>, VaultError>>()?;
    let mut requirements = Vec::new();
    for p in programmes::programmes(partition, session)? {
        for kind in &p.required_documents {
            requirements.push(Requirement {
                programme: p.name.clone(),
                kind: *kind,
                met: !p.missing_documents.contains(kind),
            });
        }
    }
    Ok(DocumentsView {
        documents,
        requirements,
        max_bytes: MAX_DOCUMENT_BYTES as u32,
    })
}

/// How many documents the person has on record (the home screen's fact).
pub fn count(partition: &Partition, owner: RecordId) -> Result<u32, AppError> {
    Ok(live::<Document>(partition, RecordKind::Document)?
        .iter()
        .filter(|d| d.linked_record == owner)
        .count() as u32)
}

/// The decrypted bytes of a document on this device, for the preview.
pub fn content(partition: &Partition, id: Uuid) -> Result<Vec<u8>, AppError> {
    let mut reader = partition.open_document(id).map_err(|e| match e {
        VaultError::NotFound(_) => refused(
            "documentNotHere",
            "This document's file is kept at the registry, not on this device.",
        ),
        other => other.into(),
    })?;
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| AppError::Vault(VaultError::Corrupt(e.to_string())))?;
    Ok(bytes)
}

/// Fetch the file of a document that came from the registry (added on another device) into the
/// vault, streamed: chunks go from the network straight into the encrypting writer, so memory
/// stays bounded and no readable copy is written. Checked against the record before it is kept.
pub async fn download(
    partition: Arc<Partition>,
    transport: &crate::sync::SyncTransport,
    id: Uuid,
) -> Result<(), AppError> {
    let record = partition
        .get::<Document>(id)?
        .ok_or_else(|| refused("documentUnknown", "That document is not on this device."))?;
    let offline = || {
        refused(
            "documentOffline",
            "This document is kept at the registry. Connect to the network to open it; it is then kept on this device.",
        )
    };
    let mut response = transport.document_content(id).await.map_err(|e| match e {
        crate::registry::TransportError::Offline(_) => offline(),
        other => refused(
            "documentNotFetched",
            format!("The registry did not send the document: {other}"),
        ),
    })?;
    let (to, cancelled, reader) = ChunkReader::channel();
    let p = partition.clone();
    let writer = tokio::task::spawn_blocking(move || p.keep_downloaded_document(&record, reader));
    let mut received: u64 = 0;
    let streamed = loop {
        match response.chunk().await {
            Ok(Some(bytes)) => {
                received += bytes.len() as u64;
                if received > MAX_DOCUMENT_BYTES {
                    break Err(refused(
                        "fileTooLarge",
                        "The registry sent more than a document may hold.",
                    ));
                }
                // The writer runs on a blocking thread; a full channel waits for it there.
                let to = to.clone();
                let sent = tokio::task::spawn_blocking(move || to.send(bytes.to_vec())).await;
                if !matches!(sent, Ok(Ok(()))) {
                    break Ok(());
                }
            }
            Ok(None) => break Ok(()),
            Err(_) => break Err(offline()),
        }
    };
    if streamed.is_err() {
        cancelled.store(true, Ordering::SeqCst);
    }
    drop(to);
    let kept = writer
        .await
        .map_err(|e| refused("storeFailed", format!("Keeping the document failed: {e}")))?;
    streamed?;
    kept?;
    Ok(())
}

/// The most documents one sync round fetches for the caseload; the rest follow next rounds.
const KEEP_PER_ROUND: usize = 200;

/// Agent laptops configured to keep the caseload's documents: fetch those not on the device yet,
/// one at a time, until none is left, the network goes, or the round's share is done. A
/// failure leaves the rest for the next round.
pub async fn keep_caseload_documents(
    partition: Arc<Partition>,
    transport: &crate::sync::SyncTransport,
) -> Result<usize, AppError> {
    let p = partition.clone();
    let missing = tokio::task::spawn_blocking(move || -> Result<Vec<Uuid>, AppError> {
        let mut missing = Vec::new();
        for d in live::<Document>(&p, RecordKind::Document)? {
            let id = *d.meta.id.as_uuid();
            if p.document(id)?.is_none() {
                missing.push(id);
            }
        }
        Ok(missing)
    })
    .await
    .map_err(|e| refused("storeFailed", format!("Listing the documents failed: {e}")))??;
    let mut kept = 0;
    for id in missing.into_iter().take(KEEP_PER_ROUND) {
        download(partition.clone(), transport, id).await?;
        kept += 1;
    }
    Ok(kept)
}

/// Delete one of the person's documents (the registry's copy too, with the next sync).
pub fn delete(partition: &Partition, session: Who<'_>, id: Uuid) -> Result<(), AppError> {
    let me = find_me(partition, session)?.map(|m| m.meta.id);
    let ours = partition
        .get::<Document>(id)?
        .is_some_and(|d| Some(d.linked_record) == me);
    if !ours && partition.document(id)?.is_none() {
        return Err(refused(
            "documentUnknown",
            "That document is not among yours on this device.",
        ));
    }
    partition.delete_document(id, &actor_of(session))?;
    Ok(())
}

/// `Read` over the chunks the UI sends. The end of the file is the sender being dropped with
/// `cancelled` unset; with it set, reading fails, so the vault keeps nothing.
struct ChunkReader {
    from: Receiver<Vec<u8>>,
    cancelled: Arc<AtomicBool>,
    current: Vec<u8>,
    at: usize,
}

impl ChunkReader {
    /// A reader of the chunks sent on the returned sender; setting the flag makes it fail.
    fn channel() -> (SyncSender<Vec<u8>>, Arc<AtomicBool>, ChunkReader) {
        let (to, from) = sync_channel(CHUNKS_IN_FLIGHT);
        let cancelled = Arc::new(AtomicBool::new(false));
        let reader = ChunkReader {
            from,
            cancelled: cancelled.clone(),
            current: Vec::new(),
            at: 0,
        };
        (to, cancelled, reader)
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            let next = self.from.recv();
            if self.cancelled.load(Ordering::SeqCst) {
                // Not `Interrupted`: readers retry that one.
                return Err(io::Error::other("the upload was cancelled"));
            }
            match next {
                Ok(bytes) => {
                    self.current = bytes;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A finished upload: the stored document, the one it replaces, the partition it went into,
/// and the registration it is for.
type Finished = (
    DocumentInfo,
    Option<Uuid>,
    Arc<Partition>,
    Option<ForRegistration>,
);

struct InFlight {
    to: SyncSender<Vec<u8>>,
    cancelled: Arc<AtomicBool>,
    worker: JoinHandle<Result<DocumentInfo, VaultError>>,
    announced: u64,
    received: u64,
    replaces: Option<Uuid>,
    partition: Arc<Partition>,
    /// The registration this document is for, kept with it once stored.
    registration: Option<ForRegistration>,
}

/// Uploads from the UI in progress, by token.
#[derive(Default)]
pub struct Uploads {
    in_flight: Mutex<HashMap<Uuid, InFlight>>,
}

impl Uploads {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, InFlight>> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start storing a new document for the person; returns the token for its chunks.
    pub fn begin(
        &self,
        partition: Arc<Partition>,
        session: Who<'_>,
        upload: NewUpload,
    ) -> Result<Uuid, AppError> {
        let size = u64::from(upload.size_bytes);
        if size == 0 {
            return Err(refused(
                "fileEmpty",
                "The file is empty. Choose the file again.",
            ));
        }
        if size > MAX_DOCUMENT_BYTES {
            let max = MAX_DOCUMENT_BYTES / (1024 * 1024);
            return Err(Refusal::new(
                "fileTooLarge",
                format!(
                    "The file is larger than {max} MB. Scan at a lower resolution or split it."
                ),
            )
            .with("max", max)
            .into());
        }
        if (upload.kind == DocumentKind::Consent) != upload.consent.is_some() {
            return Err(refused(
                "consentTerms",
                "A consent needs the statement shown, its language, the person's tick and their signature.",
            ));
        }
        if upload.registration.is_some() && upload.replaces.is_some() {
            return Err(refused(
                "documentUnknown",
                "Remove the registration's document, then add the new one.",
            ));
        }
        // A household being registered has no records yet: its documents wait on this device.
        let registration = match (&upload.registration, &upload.consent, &upload.person) {
            (Some(id), Some(terms), None) => {
                super::registration::load(&partition, id)?;
                Some(ForRegistration::Consent {
                    id: id.clone(),
                    terms: terms.clone(),
                })
            }
            (Some(id), None, Some(person_key)) => {
                let registration = super::registration::load(&partition, id)?;
                if !super::registration::has_person(&registration, person_key) {
                    return Err(refused(
                        "personUnknown",
                        "That person is not in this registration.",
                    ));
                }
                Some(ForRegistration::Document {
                    id: id.clone(),
                    person_key: person_key.clone(),
                    kind: upload.kind,
                })
            }
            (Some(_), _, _) => {
                return Err(refused(
                    "consentTerms",
                    "A registration's document is either the household's consent or one person's document.",
                ))
            }
            (None, _, _) => None,
        };
        let me = match registration {
            Some(_) => None,
            None => Some(find_me(&partition, session)?.ok_or_else(|| {
                refused(
                    "registerFirst",
                    "Register your details first; documents belong to your registration.",
                )
            })?),
        };
        let replaces = upload
            .replaces
            .as_deref()
            .map(|r| {
                r.parse::<Uuid>()
                    .map_err(|_| refused("documentUnknown", "Choose the document to replace."))
            })
            .transpose()?;
        let new = NewDocument {
            kind: kind_name(upload.kind),
            file_name: upload.file_name,
            record_id: me.map(|me| *me.meta.id.as_uuid()),
            actor: actor_of(session),
            consent: if registration.is_some() {
                None
            } else {
                upload.consent
            },
        };
        let (to, cancelled, reader) = ChunkReader::channel();
        let p = partition.clone();
        let worker = std::thread::Builder::new()
            .name("document-upload".into())
            .spawn(move || p.store_document(&new, reader))
            .map_err(|e| {
                Refusal::new(
                    "storeFailed",
                    format!("Could not start storing the file: {e}"),
                )
            })?;
        let token = Uuid::now_v7();
        self.table().insert(
            token,
            InFlight {
                to,
                cancelled,
                worker,
                announced: size,
                received: 0,
                replaces,
                partition,
                registration,
            },
        );
        Ok(token)
    }

    /// Add the next chunk; returns the bytes received so far.
    pub fn chunk(&self, token: Uuid, bytes: Vec<u8>) -> Result<u64, AppError> {
        if bytes.len() > MAX_CHUNK_BYTES {
            self.cancel(token);
            return Err(refused("fileChanged", "A piece of the file was too large."));
        }
        let to = {
            let mut table = self.table();
            let upload = table.get_mut(&token).ok_or_else(unknown_upload)?;
            upload.received += bytes.len() as u64;
            if upload.received > upload.announced {
                drop(table);
                self.cancel(token);
                return Err(refused(
                    "fileChanged",
                    "The file changed while it was being added. Choose it again.",
                ));
            }
            upload.to.clone()
        };
        let received = self.table().get(&token).map_or(0, |u| u.received);
        // Blocks while the worker is CHUNKS_IN_FLIGHT behind: the UI waits, memory stays bounded.
        if to.send(bytes).is_err() {
            // The worker stopped early (a disk error, say): report why.
            let upload = self.table().remove(&token).ok_or_else(unknown_upload)?;
            return match upload.worker.join() {
                Ok(Err(e)) => Err(e.into()),
                _ => Err(refused("storeFailed", "The file could not be stored.")),
            };
        }
        Ok(received)
    }

    /// All chunks sent: wait for the document to be stored, then delete the one it replaces.
    pub fn finish(&self, token: Uuid, session: Who<'_>) -> Result<String, AppError> {
        let (info, replaces, partition, registration) = self.finish_inner(token)?;
        if let Some(old) = replaces {
            delete(&partition, session, old)?;
        }
        match registration {
            Some(ForRegistration::Consent { id, terms }) => {
                super::registration::set_consent(&partition, &id, info.id, terms)?;
            }
            Some(ForRegistration::Document {
                id,
                person_key,
                kind,
            }) => {
                super::registration::add_document(&partition, &id, &person_key, &info, kind)?;
            }
            None => {}
        }
        Ok(info.id.to_string())
    }

    fn finish_inner(&self, token: Uuid) -> Result<Finished, AppError> {
        let upload = self.table().remove(&token).ok_or_else(unknown_upload)?;
        let InFlight {
            to,
            cancelled,
            worker,
            announced,
            received,
            replaces,
            partition,
            registration,
        } = upload;
        if received != announced {
            cancelled.store(true, Ordering::SeqCst);
            drop(to);
            let _ = worker.join();
            return Err(refused(
                "fileChanged",
                "The file was not read completely. Choose it again.",
            ));
        }
        drop(to);
        let info = worker
            .join()
            .map_err(|_| refused("storeFailed", "Storing the file failed."))??;
        Ok((info, replaces, partition, registration))
    }

    /// Stop an upload; nothing of it is kept.
    pub fn cancel(&self, token: Uuid) {
        if let Some(upload) = self.table().remove(&token) {
            // The flag first: the worker then sees the sender gone as a failure, not as the end
            // of the file, removes its temp file and writes no row.
            upload.cancelled.store(true, Ordering::SeqCst);
            drop(upload.to);
            let _ = upload.worker.join();
        }
    }

    /// Stop every upload (the person signed out or the data was locked).
    pub fn cancel_all(&self) {
        let tokens: Vec<Uuid> = self.table().keys().copied().collect();
        for token in tokens {
            self.cancel(token);
        }
    }
}

fn unknown_upload() -> AppError {
    refused(
        "uploadGone",
        "That upload is no longer in progress. Add the file again.",
    )
}
