//! One writer per upload at a time.
//!
//! Two PATCHes appending to the same file at once would interleave bytes, so every request that
//! reads-then-changes an upload (PATCH, HEAD, DELETE, the sweep) holds its lock. A PATCH whose
//! client vanished usually notices within milliseconds (the connection closes) and releases the
//! lock after keeping what it received. One on a half-open connection may wait for bytes that
//! never come; so a request that still finds the upload busy after [`LOCK_GRACE`] asks the
//! running PATCH to stop, as tusd does. The PATCH then commits what it has and returns.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OwnedMutexGuard;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How long a request politely waits for a running PATCH before asking it to stop.
pub(crate) const LOCK_GRACE: Duration = Duration::from_secs(2);
/// How long it waits after asking before giving up with "busy".
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Slot {
    lock: Arc<tokio::sync::Mutex<()>>,
    /// Set while a PATCH holds the lock: cancelling it asks that PATCH to stop reading.
    writer: Mutex<Option<CancellationToken>>,
}

/// The lock table, shared by every clone of `Uploads`.
#[derive(Default)]
pub(crate) struct Locks {
    slots: Mutex<HashMap<Uuid, Arc<Slot>>>,
}

/// The lock table could not give the lock in time.
#[derive(Debug)]
pub(crate) struct Busy;

/// Holding this means holding the upload's lock. Dropping it releases the lock and forgets the
/// slot when nobody else waits for it, so the table only holds uploads in use.
pub(crate) struct Held {
    locks: Arc<Locks>,
    id: Uuid,
    slot: Arc<Slot>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Locks {
    /// Take the upload's lock, waiting [`LOCK_GRACE`], then interrupting a running PATCH and
    /// waiting up to [`LOCK_WAIT`] more.
    pub(crate) async fn acquire(self: &Arc<Self>, id: Uuid) -> Result<Held, Busy> {
        let slot = self
            .slots
            .lock()
            .expect("lock table poisoned")
            .entry(id)
            .or_default()
            .clone();
        let held = |guard| Held {
            locks: self.clone(),
            id,
            slot: slot.clone(),
            guard: Some(guard),
        };
        if let Ok(guard) = slot.lock.clone().try_lock_owned() {
            return Ok(held(guard));
        }
        if let Ok(guard) = tokio::time::timeout(LOCK_GRACE, slot.lock.clone().lock_owned()).await {
            return Ok(held(guard));
        }
        if let Some(writer) = slot.writer.lock().expect("slot poisoned").as_ref() {
            tracing::info!(upload = %id, "asking a stalled PATCH to stop");
            writer.cancel();
        }
        match tokio::time::timeout(LOCK_WAIT, slot.lock.clone().lock_owned()).await {
            Ok(guard) => Ok(held(guard)),
            Err(_) => Err(Busy),
        }
    }

    /// Take the lock only if it is free (the sweep never waits).
    pub(crate) fn try_acquire(self: &Arc<Self>, id: Uuid) -> Option<Held> {
        let slot = self
            .slots
            .lock()
            .expect("lock table poisoned")
            .entry(id)
            .or_default()
            .clone();
        let guard = slot.lock.clone().try_lock_owned().ok();
        let held = Held {
            locks: self.clone(),
            id,
            slot,
            guard,
        };
        // Dropping an unlocked `Held` still tidies the table.
        held.guard.is_some().then_some(held)
    }
}

impl Held {
    /// Register the running PATCH so that others can ask it to stop; returns its stop signal.
    pub(crate) fn writer_token(&self) -> CancellationToken {
        let token = CancellationToken::new();
        *self.slot.writer.lock().expect("slot poisoned") = Some(token.clone());
        token
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.guard.is_some() {
            *self.slot.writer.lock().expect("slot poisoned") = None;
        }
        self.guard = None;
        let mut slots = self.locks.slots.lock().expect("lock table poisoned");
        // The table's reference and ours: nobody else is waiting.
        if Arc::strong_count(&self.slot) == 2 {
            slots.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lock_is_exclusive_and_table_is_tidied() {
        let locks = Arc::new(Locks::default());
        let id = Uuid::now_v7();
        let held = locks.acquire(id).await.unwrap();
        assert!(locks.try_acquire(id).is_none());
        drop(held);
        assert!(locks.slots.lock().unwrap().is_empty());
        assert!(locks.try_acquire(id).is_some());
        assert!(locks.slots.lock().unwrap().is_empty());
    }
}
