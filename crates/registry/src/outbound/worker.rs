//! The delivery worker: every `worker_period`, claim the outbox rows that are due, send each,
//! record how it went. Bounded: at most `batch` rows a round, [`CONCURRENT`] in flight at once,
//! each send bounded by its channel's timeout (shorter than the claim's lease, which the config
//! checks), and the loop stops when the server does.
//!
//! Several registry processes may run it on one database: a claim is one statement that skips
//! rows another process is claiming (PostgreSQL `SKIP LOCKED`; SQLite has one writer), and a
//! claim's outcome is recorded only while the claim is still its own.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::config::OutboundConfig;
use super::{Channels, OutboxRow, SendError};
use crate::storage::{Settle, StorageError, Store};

/// Messages sent at once.
pub const CONCURRENT: usize = 8;

/// One worker: its own id (claims are recorded under it), the store, the channels.
#[derive(Clone)]
pub struct Worker {
    pub id: String,
    store: Arc<dyn Store>,
    channels: Channels,
    config: OutboundConfig,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
    /// Outcomes not recorded: the claim was lost meanwhile (another process took the row).
    pub lost: usize,
}

impl Round {
    pub fn claimed(&self) -> usize {
        self.delivered + self.retrying + self.failed + self.lost
    }
}

impl Worker {
    pub fn new(store: Arc<dyn Store>, channels: Channels, config: OutboundConfig) -> Self {
        Worker {
            id: format!("worker:{}", uuid::Uuid::now_v7()),
            store,
            channels,
            config,
        }
    }

    /// Run rounds every `worker_period` until `stop`; a round in progress is abandoned at
    /// `stop` (its claims run out and are sent again, by whichever process is there then).
    pub fn spawn(self, stop: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    result = self.round() => match result {
                        Ok(round) if round.claimed() > 0 => tracing::info!(
                            delivered = round.delivered, retrying = round.retrying,
                            failed = round.failed, lost = round.lost, "outbox round"
                        ),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "outbox round failed; trying again next period"),
                    },
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(self.config.worker_period) => {}
                }
            }
        })
    }

    /// Claim up to `batch` due rows, [`CONCURRENT`] at a time, send them and record each outcome.
    pub async fn round(&self) -> Result<Round, StorageError> {
        let mut round = Round::default();
        let mut left = self.config.batch as usize;
        while left > 0 {
            let now = OffsetDateTime::now_utc();
            let limit = left.min(CONCURRENT);
            let lease = now + self.config.lease;
            let claimed = self
                .store
                .outbox_claim(&self.id, now, lease, limit as u32)
                .await?;
            let got = claimed.len();
            left -= got.min(left);
            let outcomes: Vec<Result<(Settle, bool), StorageError>> =
                futures_util::stream::iter(claimed)
                    .map(|row| async move {
                        let outcome = self.attempt(&row).await;
                        let kept = self
                            .store
                            .outbox_settle(row.id, &self.id, &outcome, OffsetDateTime::now_utc())
                            .await?;
                        Ok((outcome, kept))
                    })
                    .buffer_unordered(CONCURRENT)
                    .collect()
                    .await;
            for outcome in outcomes {
                match outcome? {
                    (_, false) => round.lost += 1,
                    (Settle::Delivered, true) => round.delivered += 1,
                    (Settle::Retry { .. }, true) => round.retrying += 1,
                    (Settle::Failed { .. }, true) => round.failed += 1,
                }
            }
            if got < limit {
                break;
            }
        }
        Ok(round)
    }

    /// Send one claimed row and say what becomes of it. `row.attempts` counts this attempt.
    async fn attempt(&self, row: &OutboxRow) -> Settle {
        let result = match self.channels.get(row.channel) {
            Some(channel) => channel.send(row).await,
            // Configured on the process that wrote it, not on this one (or no longer): kept for
            // a process that has it, as a failure that is retried.
            None => Err(SendError::Transient(format!(
                "{} is not configured on this registry process",
                row.channel.as_str()
            ))),
        };
        match result {
            Ok(()) => Settle::Delivered,
            Err(SendError::Permanent(error)) => Settle::Failed { error },
            Err(SendError::Transient(error)) if row.attempts >= self.config.max_attempts => {
                Settle::Failed {
                    error: format!("{error} (gave up after {} attempts)", row.attempts),
                }
            }
            Err(SendError::Transient(error)) => Settle::Retry {
                at: OffsetDateTime::now_utc() + backoff(&self.config, row.attempts),
                error,
            },
        }
    }
}

fn backoff(config: &OutboundConfig, attempts: u32) -> Duration {
    config.backoff(attempts)
}
