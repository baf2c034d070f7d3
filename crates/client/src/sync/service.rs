//! Sync in the background: on start, on demand, periodically while online; exponential backoff
//! with jitter after failures; status for the UI through a watch channel. Never blocks the UI:
//! rounds run on their own task and the vault's writes are short transactions.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::{sync_once, SyncError, SyncProgress, SyncTransport};
use crate::vault::Partition;

/// How often a sync runs while all is well.
pub const PERIOD: Duration = Duration::from_secs(5 * 60);
/// First wait after a failure; doubles each time up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(2);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10 * 60);

/// What the UI's sync indicator shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// Whether the registry answered the last attempt.
    pub online: bool,
    pub running: bool,
    /// Changes waiting to be sent.
    pub pending: u64,
    /// Conflicts waiting for a person.
    pub conflicts: u64,
    /// Changes the registry refused.
    pub rejected: u64,
    /// RFC 3339 time of the last round that ended without error.
    pub last_success: Option<String>,
    /// The last error, in words a person understands (English).
    pub last_error: Option<String>,
    /// What kind of problem `last_error` is, so the UI can say it in the person's language.
    pub last_error_kind: Option<SyncErrorKind>,
    pub progress: Option<SyncProgress>,
}

/// Why sync is not working, for the UI to word in the person's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum SyncErrorKind {
    Offline,
    SignInRequired,
    Server,
    Storage,
    /// The data was opened offline: nothing is sent until the person signs in.
    OpenedOffline,
    /// The registry withdrew this device or account; the app wipes its data (see app/mod.rs).
    Revoked,
}

impl SyncErrorKind {
    pub fn of(error: &SyncError) -> Self {
        match error {
            SyncError::Offline(_) => SyncErrorKind::Offline,
            SyncError::SignInRequired => SyncErrorKind::SignInRequired,
            SyncError::Server(_) => SyncErrorKind::Server,
            SyncError::Vault(_) => SyncErrorKind::Storage,
            SyncError::Revoked(_) => SyncErrorKind::Revoked,
        }
    }
}

/// A running background sync.
pub struct SyncService {
    status: watch::Receiver<SyncStatus>,
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

impl SyncService {
    /// Start syncing `partition` through `transport`; the first round starts at once.
    pub fn start(partition: Arc<Partition>, transport: SyncTransport) -> SyncService {
        let (tx, rx) = watch::channel(SyncStatus::default());
        let wake = Arc::new(Notify::new());
        let task = tokio::spawn(run(partition, transport, tx, wake.clone()));
        SyncService {
            status: rx,
            wake,
            task,
        }
    }

    /// "Sync now": start a round without waiting for the timer or the backoff.
    pub fn sync_now(&self) {
        self.wake.notify_one();
    }

    /// Watch the status (the shell forwards changes to the UI as events).
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

async fn run(
    partition: Arc<Partition>,
    transport: SyncTransport,
    tx: watch::Sender<SyncStatus>,
    wake: Arc<Notify>,
) {
    let mut failures: u32 = 0;
    loop {
        tx.send_modify(|s| s.running = true);
        let progress_tx = tx.clone();
        let progress = move |p: SyncProgress| progress_tx.send_modify(|s| s.progress = Some(p));
        let outcome = sync_once(&partition, &transport, &progress).await;
        let counts = counts(&partition);
        tx.send_modify(|s| {
            s.running = false;
            s.progress = None;
            if let Ok((pending, conflicts, rejected)) = counts {
                (s.pending, s.conflicts, s.rejected) = (pending, conflicts, rejected);
            }
            match &outcome {
                Ok(_) => {
                    s.online = true;
                    s.last_error = None;
                    s.last_error_kind = None;
                    s.last_success = partition.last_sync_success().ok().flatten();
                }
                Err(e) => {
                    s.online = !matches!(e, SyncError::Offline(_));
                    s.last_error = Some(e.to_string());
                    s.last_error_kind = Some(SyncErrorKind::of(e));
                }
            }
        });
        let wait = match outcome {
            // Nothing more will be served: stop, and let the app wipe the data.
            Err(SyncError::Revoked(_)) => return,
            Ok(_) => {
                failures = 0;
                PERIOD
            }
            Err(_) => {
                failures = failures.saturating_add(1);
                backoff(failures, jitter())
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
        }
    }
}

fn counts(partition: &Partition) -> Result<(u64, u64, u64), crate::vault::VaultError> {
    Ok((
        partition.pending_count()?,
        partition.conflicts()?.len() as u64,
        partition.refused_count()?,
    ))
}

/// Wait after the `failures`-th failure in a row: 2 s, 4 s, 8 s … up to 10 min, times a jitter
/// factor in [0.5, 1.5) so that many devices coming back online at once do not retry in step.
pub fn backoff(failures: u32, jitter: f64) -> Duration {
    let exp =
        FIRST_BACKOFF.saturating_mul(2_u32.saturating_pow(failures.saturating_sub(1).min(20)));
    exp.min(MAX_BACKOFF).mul_f64(jitter.clamp(0.5, 1.5))
}

fn jitter() -> f64 {
    let mut bytes = [0_u8; 8];
    let _ = getrandom::getrandom(&mut bytes);
    0.5 + (u64::from_le_bytes(bytes) as f64 / u64::MAX as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        assert_eq!(backoff(1, 1.0), Duration::from_secs(2));
        assert_eq!(backoff(2, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(5, 1.0), Duration::from_secs(32));
        assert_eq!(backoff(40, 1.0), MAX_BACKOFF);
        assert_eq!(backoff(1, 0.5), Duration::from_secs(1));
        assert!(backoff(40, 1.49) <= MAX_BACKOFF.mul_f64(1.5));
        let j = jitter();
        assert!((0.5..1.5).contains(&j));
    }
}
