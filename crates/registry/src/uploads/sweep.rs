//! Removing uploads nobody finished or claimed: a periodic sweep of the upload folder.

use std::time::{Duration, SystemTime};

use uuid::Uuid;

use super::error::io_err;
use super::staging::blocking;
use super::{record, Uploads};

impl Uploads {
    /// Remove expired uploads (unfinished ones past `Upload-Expires`, finished ones unclaimed for
    /// the expiry period). Returns how many were removed. Call it periodically, e.g. with
    /// [`Uploads::spawn_sweeper`]. Uploads in use are skipped until the next sweep.
    pub async fn sweep_expired(&self) -> usize {
        self.sweep_expired_at(SystemTime::now()).await
    }

    /// [`Uploads::sweep_expired`] as if it were `now` (tests move the clock instead of waiting).
    pub async fn sweep_expired_at(&self, now: SystemTime) -> usize {
        let root = self.inner.root.clone();
        let expiry = self.inner.config.expiry;
        let candidates = blocking(move || {
            let mut expired = Vec::new();
            for entry in std::fs::read_dir(&root).map_err(io_err("listing", &root))? {
                let Ok(entry) = entry else { continue };
                let Some(id) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<Uuid>().ok())
                else {
                    continue;
                };
                let dir = entry.path();
                let gone = match record::read(&dir) {
                    Ok(Some(r)) => r.is_expired(now),
                    // No readable state: a creation that crashed half-way. Judge by its age.
                    _ => entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|modified| modified + expiry <= now),
                };
                if gone {
                    expired.push(id);
                }
            }
            Ok(expired)
        })
        .await;
        let candidates = match candidates {
            Ok(c) => c,
            Err(error) => {
                tracing::error!(%error, "upload sweep failed");
                return 0;
            }
        };
        let mut removed = 0;
        for id in candidates {
            let Some(held) = self.inner.locks.try_acquire(id) else {
                continue;
            };
            match self.discard(&held, id).await {
                Ok(()) => removed += 1,
                Err(error) => tracing::warn!(%error, upload = %id, "cannot remove expired upload"),
            }
        }
        if removed > 0 {
            tracing::info!(removed, "expired uploads removed");
        }
        removed
    }

    /// Run [`Uploads::sweep_expired`] every `period` until the returned task is aborted.
    pub fn spawn_sweeper(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                this.sweep_expired().await;
            }
        })
    }
}
