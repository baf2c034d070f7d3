//! One writer per upload at a time.
//!
//! Two PATCHes appending to the same file at once would interleave bytes, so every request that
//! reads-then-changes an upload (PATCH, HEAD, DELETE, the sweep) holds its lock. A PATCH whose
//! client vanished usually notices within milliseconds (the connection closes) and releases the
//! lock after keeping what it received. One on a half-open connection may wait for bytes that
//! never come; so a request that still finds the upload busy after [`LOCK_GRACE`] asks the
//! running PATCH to stop, as tusd does. The PATCH then commits what it has and returns.
//!
//! The table also keeps each unfinished upload's state and running SHA-256 ([`Cached`]) between
//! its PATCHes, so a PATCH neither reads the state back from disk nor re-reads the staged bytes
//! to verify the whole file. It is only a cache, read and replaced under the lock: a request
//! takes it out and puts it back only once what it describes is durable, and a missing one (a
//! server restart, a PATCH that failed half-way) is rebuilt from disk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::Sha256;
use tokio::sync::OwnedMutexGuard;

use super::record::UploadRecord;
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
    /// Changed only under `lock`. While it is set the slot stays in the table between requests.
    cached: Mutex<Option<Cached>>,
}

/// What the table remembers of an unfinished upload between its requests.
#[derive(Clone)]
pub(crate) struct Cached {
    /// The upload's state as last written (durably) to disk.
    pub record: UploadRecord,
    /// SHA-256 state over the first `record.offset` bytes of the staged file.
    pub hasher: Sha256,
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

    /// The upload's cached state, if any, without taking its lock (only to check who owns it).
    pub(crate) fn peek(&self, id: Uuid) -> Option<UploadRecord> {
        let slot = self
            .slots
            .lock()
            .expect("lock table poisoned")
            .get(&id)
            .cloned()?;
        let cached = slot.cached.lock().expect("slot poisoned");
        cached.as_ref().map(|c| c.record.clone())
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

    /// The upload's cached state, if any.
    pub(crate) fn peek(&self) -> Option<UploadRecord> {
        let cached = self.slot.cached.lock().expect("slot poisoned");
        cached.as_ref().map(|c| c.record.clone())
    }

    /// Take the upload's cached state out of the table (a request that fails then leaves none).
    pub(crate) fn take_cached(&self) -> Option<Cached> {
        self.slot.cached.lock().expect("slot poisoned").take()
    }

    /// Remember the upload's state, durable on disk, for its next request.
    pub(crate) fn put_cached(&self, cached: Cached) {
        *self.slot.cached.lock().expect("slot poisoned") = Some(cached);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.guard.is_some() {
            *self.slot.writer.lock().expect("slot poisoned") = None;
        }
        self.guard = None;
        let mut slots = self.locks.slots.lock().expect("lock table poisoned");
        // The table's reference and ours: nobody else is waiting. A slot holding a cached state
        // stays for the upload's next request.
        if Arc::strong_count(&self.slot) == 2
            && self.slot.cached.lock().expect("slot poisoned").is_none()
        {
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

    #[tokio::test]
    async fn cached_state_is_kept_between_requests_until_taken() {
        let locks = Arc::new(Locks::default());
        let id = Uuid::now_v7();
        let held = locks.acquire(id).await.unwrap();
        assert!(held.take_cached().is_none());
        let record = UploadRecord {
            id,
            owner: "alice".into(),
            length: 10,
            offset: 7,
            sha256: crate::blobs::Sha256Hex::from_digest(&[0; 32]),
            filename: None,
            declared_content_type: None,
            mime_type: None,
            complete: false,
            metadata_header: None,
            created_at: 0,
            expires_at: 0,
        };
        held.put_cached(Cached {
            record,
            hasher: Sha256::default(),
        });
        drop(held);
        assert_eq!(
            locks.slots.lock().unwrap().len(),
            1,
            "kept for the next PATCH"
        );
        assert_eq!(locks.peek(id).map(|r| r.offset), Some(7));
        let held = locks.acquire(id).await.unwrap();
        assert_eq!(held.peek().map(|r| r.offset), Some(7));
        assert_eq!(held.take_cached().map(|c| c.record.offset), Some(7));
        drop(held);
        assert!(locks.slots.lock().unwrap().is_empty());
        assert!(locks.peek(id).is_none());
    }
}
