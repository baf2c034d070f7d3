//! Group commit: writes that arrive while another is being committed go to the database
//! together, in one statement (one transaction on SQLite; see `sql.rs`).
//!
//! Writers take turns (the feed lock, see `sql.rs`), so with many clients most of a write's
//! time was waiting for the turn, and each turn paid for a transaction of its own: BEGIN, the
//! lock, reading the feed's head, COMMIT (and on PostgreSQL a flush of its log to disk). Now a
//! writer queues its job and waits for the turn; whoever gets the turn commits every job queued
//! by then, each with its own checks and its own outcome, in one read and one write. A lone
//! writer still commits alone, at once.
//!
//! Invariants kept: each job is all-or-nothing (`plan.rs` writes a job only if all its writes pass);
//! one job's refusal (stale, duplicate, replay) never touches another's; a database error fails
//! the group's transaction, and then each job is tried again alone so it cannot fail for its
//! neighbours; the group is committed by a task of its own, so a request cancelled meanwhile
//! (its client went away) cannot cancel its neighbours' writes.

use std::sync::Mutex;

use tokio::sync::oneshot;

use super::model::{CommitError, StoredRecord, Write, WriteContext};

/// What a job's writer is told.
pub(crate) type Outcome = Result<Vec<StoredRecord>, CommitError>;

/// One [`Store::commit`](super::Store::commit) waiting for its turn.
pub(crate) struct Job {
    pub(crate) writes: Vec<Write>,
    pub(crate) ctx: WriteContext,
    pub(crate) reply: oneshot::Sender<Outcome>,
}

/// Most jobs committed in one transaction (a turn commits everything queued, in transactions
/// of at most this many, so every queued job is answered by the turn that took it).
pub(crate) const MAX_GROUP: usize = 64;

/// Groups one turn commits at most: it goes on with the jobs queued while it committed, so the
/// turn is not handed to the next writer between groups (each hand-over waits for the server's
/// runtime to run that writer, which under load took as long as a group); then it lets a
/// waiting batch (a sync push) have its turn.
pub(crate) const ROUNDS_PER_TURN: usize = 8;

/// The jobs waiting for the next turn.
#[derive(Default)]
pub(crate) struct Queue {
    jobs: Mutex<Vec<Job>>,
}

impl Queue {
    /// Queue a job; returns where its outcome will arrive.
    pub(crate) fn push(&self, writes: Vec<Write>, ctx: WriteContext) -> oneshot::Receiver<Outcome> {
        let (reply, outcome) = oneshot::channel();
        self.lock().push(Job { writes, ctx, reply });
        outcome
    }

    /// Every job queued: whoever holds the turn commits them. (A job queued after the turn's
    /// last take is taken by its own writer's turn, which comes later: each writer queues
    /// before it waits.)
    pub(crate) fn take(&self) -> Vec<Job> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Job>> {
        // A panic while holding this lock cannot leave the vector half-changed.
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The outcome of a job whose group's task ended without answering (it panicked).
pub(crate) fn interrupted() -> Outcome {
    Err(CommitError::Storage(super::StorageError::Interrupted))
}
