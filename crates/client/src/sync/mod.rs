//! Offline-first sync with the registry: push the outbox, pull the change feed, upload
//! documents, and keep going in the background when the network comes and goes.
//!
//! One round ([`sync_once`]):
//! 1. **push** pending mutations in batches, oldest first; each answer (applied, conflict,
//!    refused), with any notice it carries (a possible duplicate the registry found), is
//!    recorded in one vault transaction per batch. A crash after sending and before
//!    recording is harmless: the next round resends, and the registry answers repeats from its
//!    stored result without applying them twice.
//! 2. **upload** the bytes of documents whose metadata the registry now has, resuming each from
//!    the offset the registry acknowledged ([`uploads`]).
//! 3. **request status moves** the person asked for (submitting an application), each once
//!    with its Idempotency-Key; a refused move is kept with the registry's reason.
//! 4. **who**: the registry's `GET /v1/me` (the caller's role and what it asks of them), kept
//!    for offline use.
//! 5. **pull** the change feed page by page; each page and the cursor after it are one vault
//!    transaction. A cursor from another registry means: start the pull over. Registry staff
//!    and administrators pull nothing: their desks work online.
//! 6. **areas**: the registry's gazetteer (`GET /v1/areas`, only when its ETag changed).
//!
//! [`service::SyncService`] runs rounds in the background: on start, on demand ("Sync now"),
//! periodically while online, with exponential backoff and jitter after failures.

pub mod areas;
pub mod service;
pub mod transport;
pub mod uploads;

use doorstep_domain::api::CallerRole;
use doorstep_domain::timestamp;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::vault::{Partition, VaultError};
pub use transport::{SyncTransport, TransportError};

/// Mutations per push request (the registry accepts up to 500).
pub const PUSH_BATCH: usize = 200;
/// Records per pull page.
pub const PULL_PAGE: u32 = 500;
/// Bound on push rounds in one sync, so a registry that keeps refusing to make progress cannot
/// keep a sync spinning.
const MAX_PUSH_ROUNDS: usize = 10_000;

/// Why a sync round stopped early, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("No connection to the registry: your changes are kept on this device and will be sent when the connection is back.")]
    Offline(String),
    #[error("Your sign-in has expired. Sign in again to send your changes.")]
    SignInRequired,
    #[error("The registry could not take the changes right now ({0}). They are kept on this device; sync will try again.")]
    Server(String),
    #[error("This device's data could not be read or written: {0}")]
    Vault(#[from] VaultError),
    /// The registry no longer serves this device or account: the office's reason.
    #[error("{0}")]
    Revoked(String),
}

impl From<TransportError> for SyncError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Offline(reason) => SyncError::Offline(reason),
            TransportError::Unauthorized => SyncError::SignInRequired,
            TransportError::CursorReset => SyncError::Server("the sync position was reset".into()),
            TransportError::Server { status, message } => {
                SyncError::Server(format!("HTTP {status}: {message}"))
            }
            TransportError::Revoked(reason) => SyncError::Revoked(reason),
        }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub pushed: usize,
    pub applied: usize,
    pub conflicts: usize,
    pub rejected: usize,
    /// Changes the registry answered with a notice (a possible duplicate), kept in the vault.
    pub notices: usize,
    pub pulled: usize,
    pub uploaded_documents: usize,
    pub uploaded_bytes: u64,
    /// Application status moves the registry made (submissions).
    pub transitions: usize,
    /// Whether the pull had to start over (cursor from another registry).
    pub pull_restarted: bool,
}

/// Progress while a round runs, for the UI's sync indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum SyncProgress {
    Pushing {
        sent: usize,
        pending: u64,
    },
    Uploading {
        #[specta(type = String)]
        document: uuid::Uuid,
        bytes_sent: u64,
        bytes_total: u64,
    },
    Pulling {
        received: usize,
    },
}

/// One sync round. See the module docs.
pub async fn sync_once(
    partition: &Partition,
    transport: &SyncTransport,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    for _ in 0..MAX_PUSH_ROUNDS {
        let batch = partition.pending_mutations(PUSH_BATCH)?;
        if batch.is_empty() {
            break;
        }
        let sent = batch.len();
        let results = transport.push(&batch).await?;
        if results.len() != sent {
            return Err(SyncError::Server(format!(
                "answered {} of {sent} changes",
                results.len()
            )));
        }
        let tally = partition.record_push_results(&results)?;
        report.pushed += sent;
        report.applied += tally.applied;
        report.conflicts += tally.conflicts;
        report.rejected += tally.rejected;
        report.notices += tally.notices;
        progress(SyncProgress::Pushing {
            sent: report.pushed,
            pending: partition.pending_count()?,
        });
    }

    let (documents, bytes) = uploads::upload_pending(partition, transport, progress).await?;
    report.uploaded_documents = documents;
    report.uploaded_bytes = bytes;

    // After the answers and their documents: the registry judges a submission by them.
    for pending in partition.sendable_transitions()? {
        match transport
            .transition(
                pending.application_id,
                &pending.to_status,
                pending.note.as_deref(),
                pending.id,
            )
            .await
        {
            Ok(()) => {
                partition.transition_sent(pending.id)?;
                report.transitions += 1;
            }
            // Refused (not a move the workflow allows now, or the application never reached
            // the registry): kept with the reason for the person; the rest goes on.
            Err(TransportError::Server { message, .. }) => {
                partition.transition_refused(pending.id, &message)?;
                report.rejected += 1;
            }
            Err(other) => return Err(other.into()),
        }
    }

    // 4 who the registry takes this caller for (the role that decides the app's sections) and
    // what it asks of them (an agent: consent before acting for someone), kept whole so the
    // app knows both offline too (app/roles.rs, app/consent.rs).
    let me = transport.me().await?;
    partition.save_draft(
        REGISTRY_RULES_DRAFT,
        &serde_json::to_value(&me).expect("Me serialises"),
    )?;
    // 5 pull, except for registry staff and administrators: they see every record, and their
    // desks work online on the registry's lists, so a copy of the whole registry on their
    // computer would only be a risk.
    if !matches!(me.role, CallerRole::Staff | CallerRole::Admin) {
        pull(partition, transport, progress, &mut report).await?;
    }
    // 6 the registry's areas, for the registration's area picker offline.
    areas::refresh(partition, transport, me.area.as_deref()).await?;
    let now = timestamp::format(OffsetDateTime::now_utc());
    partition.mark_sync_success(&now)?;
    Ok(report)
}

/// Step 5: the change feed, page by page; each page and the cursor after it in one transaction.
async fn pull(
    partition: &Partition,
    transport: &SyncTransport,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let mut cursor = partition.sync_cursor()?;
    for _ in 0..MAX_PUSH_ROUNDS {
        let page = match transport.pull(cursor.as_deref(), PULL_PAGE).await {
            Err(TransportError::CursorReset) if !report.pull_restarted => {
                partition.reset_sync_cursor()?;
                report.pull_restarted = true;
                cursor = None;
                continue;
            }
            other => other?,
        };
        report.pulled += page.records.len();
        partition.apply_pull(&page.records, &page.cursor)?;
        progress(SyncProgress::Pulling {
            received: report.pulled,
        });
        cursor = Some(page.cursor);
        if !page.more {
            break;
        }
    }
    Ok(())
}

/// Where the last sync (or sign-in) kept the registry's `GET /v1/me` answer.
pub const REGISTRY_RULES_DRAFT: &str = "registry:rules";
