//! When the registry withdraws this device or the agent's account (issue 16: a laptop lost or
//! handed over). The registry still takes what the device holds, so a sync round pushes the
//! queued changes and uploads their documents first; its pull is then refused with the office's
//! reason (`SyncErrorKind::Revoked`), the sync service stops, and the app wipes the open
//! partition at its next step (any command, or the session view the UI asks for when the sync
//! status says "revoked"). The agent is told why, and exactly how many changes could not be
//! sent (refused, in conflict or still queued): nothing is wiped silently.
//!
//! The device's id (`Doorstep-Device` on every sync request) is a random UUID kept in the data
//! folder: it names the installation, not a person.

use std::path::Path;

use serde::Serialize;
use uuid::Uuid;

use super::{AppError, Doorstep, Stage};
use crate::sync::service::SyncStatus;
use crate::vault::VaultError;

const DEVICE_ID_FILE: &str = "device-id";

/// What the person is told after the data was removed from this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct WipeNotice {
    /// The registry office's words (when, and why).
    pub reason: String,
    /// Changes made on this device that did not reach the registry and are gone with it.
    pub lost: u32,
}

/// This installation's id: read from the data folder, made the first time.
pub(super) fn device_id(data_dir: &Path) -> Result<Uuid, VaultError> {
    let path = data_dir.join(DEVICE_ID_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(id) = text.trim().parse() {
            return Ok(id);
        }
    }
    let id = Uuid::now_v7();
    crate::vault::atomic::write(&path, id.to_string().as_bytes())
        .map_err(|e| VaultError::io("save the device id", &path, e))?;
    Ok(id)
}

/// Days of warning (on the end-of-day screen) before an agent's data is wiped for want of a sync.
pub const WIPE_WARNING_DAYS: u32 = 3;

/// Whole days since `partition` last synced successfully; `None` if it never did (nothing to
/// measure from: a new profile syncs at once, and one that never could holds nothing pulled).
pub(super) fn days_since_sync(
    partition: &crate::vault::Partition,
) -> Result<Option<u32>, AppError> {
    let Some(at) = partition.last_sync_success()? else {
        return Ok(None);
    };
    let Ok(at) = doorstep_domain::timestamp::parse(&at) else {
        return Ok(None);
    };
    let days = (time::OffsetDateTime::now_utc() - at).whole_days().max(0);
    Ok(Some(days.min(i64::from(u32::MAX)) as u32))
}

/// With a wipe period set: the days left before the data is wiped, once within the warning days.
pub(super) fn wipe_warning(
    wipe_after: Option<u32>,
    partition: &crate::vault::Partition,
) -> Result<Option<u32>, AppError> {
    let (Some(after), Some(since)) = (wipe_after, days_since_sync(partition)?) else {
        return Ok(None);
    };
    let left = after.saturating_sub(since);
    Ok((left <= WIPE_WARNING_DAYS).then_some(left))
}

impl Doorstep {
    /// If the registry withdrew this device or account, or an agent device went longer without
    /// a successful sync than its configuration allows, wipe the open data now (once).
    pub(super) async fn wipe_if_revoked(&self) -> Result<(), AppError> {
        // Cleared only once the data is gone: a failed wipe is tried again at the next step.
        let revoked = self
            .revoked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let reason = match revoked {
            Some(reason) => reason,
            None => match self.stale_reason().await? {
                Some(reason) => reason,
                None => return Ok(()),
            },
        };
        let mut stage = self.stage.lock().await;
        let previous = std::mem::replace(&mut *stage, Stage::SignedOut);
        let Stage::Ready(open) = previous else {
            *stage = previous;
            return Ok(());
        };
        self.forget_session_memory();
        let partition = (*open).close();
        let lost = partition.pending_count()?
            + partition.refused_count()?
            + partition.conflicts()?.len() as u64;
        self.wipe_partition(partition).await?;
        self.sessions.sign_out()?;
        self.status.send_replace(SyncStatus::default());
        self.revoked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        *self.wiped.lock().unwrap_or_else(|p| p.into_inner()) = Some(WipeNotice {
            reason,
            lost: lost.min(u64::from(u32::MAX)) as u32,
        });
        Ok(())
    }

    /// Why the open agent data must go for want of a sync, if it must.
    async fn stale_reason(&self) -> Result<Option<String>, AppError> {
        let Some(after) = self.config.agent_wipe_after_days else {
            return Ok(None);
        };
        let stage = self.stage.lock().await;
        let Stage::Ready(open) = &*stage else {
            return Ok(None);
        };
        let since = days_since_sync(&open.partition)?;
        Ok(since.filter(|days| *days >= after).map(|days| {
            format!(
                "This laptop had not reached the registry for {days} days; the registry office's settings remove an agent's data after {after}."
            )
        }))
    }

    /// The notice of the last wipe, for the sign-in screen (shown until the next sign-in).
    pub(super) fn wipe_notice(&self) -> Option<WipeNotice> {
        self.wiped.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
