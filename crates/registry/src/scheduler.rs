//! The registry's own reminders, made on a timer: a liveness check due soon, and one overdue.
//!
//! - **One process runs each job.** Every registry process sharing the database ticks; a job
//!   runs only where [`Store::job_take`] succeeds — one conditional UPDATE of `scheduled_jobs`,
//!   so one process per period, under a lease (a process that stops mid-run lets another take
//!   the job once its lease runs out).
//! - **Each person is told once per event, ever.** A reminder's notification id is derived from
//!   the event, the person and the due day ([`reminder_id`]) and written as a create: a second
//!   run, a second process or a retry finds it there (the store refuses a second create of one
//!   id), whatever happened to the job's lease.
//! - **Bounded.** A run reads the due checks in pages of [`PAGE`] through an index (`records.state`
//!   holds a passed check's due day), at most [`MAX_PER_RUN`] people; the rest wait for the next
//!   run. The loop stops when the server does.

use std::sync::Arc;
use std::time::Duration;

use doorstep_domain::notification::NotificationKind;
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::api::notify::{self, SYSTEM_ACTOR};
use crate::messages::{self, Event};
use crate::outbound::{Enabled, SchedulerConfig};
use crate::storage::{CommitError, StorageError, Store, WriteContext};

/// The job that writes liveness reminders.
pub const LIVENESS_JOB: &str = "liveness_reminders";
/// Due checks read per page.
pub const PAGE: u32 = 200;
/// People one run looks at, at most.
pub const MAX_PER_RUN: usize = 10_000;

/// Which reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    LivenessDueSoon,
    LivenessOverdue,
}

impl Reminder {
    fn as_str(self) -> &'static str {
        match self {
            Reminder::LivenessDueSoon => "liveness_due_soon",
            Reminder::LivenessOverdue => "liveness_overdue",
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Reminders written now.
    pub written: usize,
    /// Reminders found written before (by an earlier run or another process).
    pub already: usize,
}

/// The scheduler of one registry process.
#[derive(Clone)]
pub struct Scheduler {
    /// This process, as the job's lease holder.
    pub holder: String,
    store: Arc<dyn Store>,
    config: SchedulerConfig,
    enabled: Enabled,
}

impl Scheduler {
    pub fn new(store: Arc<dyn Store>, config: SchedulerConfig, enabled: Enabled) -> Self {
        Scheduler {
            holder: format!("scheduler:{}", Uuid::now_v7()),
            store,
            config,
            enabled,
        }
    }

    /// Look for due jobs every tenth of the period (1 s to 1 min) until `stop`.
    pub fn spawn(self, stop: CancellationToken) -> JoinHandle<()> {
        let tick = (self.config.period / 10).clamp(Duration::from_secs(1), Duration::from_secs(60));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    result = self.tick(OffsetDateTime::now_utc()) => match result {
                        Ok(Some(report)) if report.written > 0 => tracing::info!(written = report.written, already = report.already, job = LIVENESS_JOB, "reminders written"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, job = LIVENESS_JOB, "scheduled job failed; it runs again next period"),
                    },
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(tick) => {}
                }
            }
        })
    }

    /// Run the liveness job if it is due and this process gets it: `None` when it did not run.
    pub async fn tick(&self, now: OffsetDateTime) -> Result<Option<Report>, StorageError> {
        // A run is bounded; its lease covers it with room to spare.
        let lease = now + self.config.period.max(Duration::from_secs(300));
        if !self
            .store
            .job_take(LIVENESS_JOB, &self.holder, now, lease)
            .await?
        {
            return Ok(None);
        }
        let report = self.liveness(now).await;
        // Released even after a failure, so the next period tries again.
        self.store
            .job_done(LIVENESS_JOB, &self.holder, now + self.config.period)
            .await?;
        report.map(Some)
    }

    /// The liveness reminders due at `now` (the run itself, without the job's lease).
    pub async fn liveness(&self, now: OffsetDateTime) -> Result<Report, StorageError> {
        let today = now.date();
        let days = |n: u32| time::Duration::days(i64::from(n));
        let horizon = today
            .checked_add(days(self.config.liveness_due_soon_days))
            .unwrap_or(Date::MAX);
        let mut report = Report::default();
        let mut after = None;
        let mut seen = 0;
        while seen < MAX_PER_RUN {
            let page = self.store.liveness_due(horizon, after, PAGE).await?;
            let full = page.len() == PAGE as usize;
            seen += page.len();
            after = page.last().map(|d| (d.due, d.check));
            for due in page {
                let overdue_from = due
                    .due
                    .checked_add(days(self.config.liveness_grace_days))
                    .unwrap_or(Date::MAX);
                let reminder = if today > overdue_from {
                    Reminder::LivenessOverdue
                } else {
                    Reminder::LivenessDueSoon
                };
                match self
                    .remind(reminder, due.individual, due.check, due.due, now)
                    .await?
                {
                    true => report.written += 1,
                    false => report.already += 1,
                }
            }
            if !full {
                break;
            }
        }
        Ok(report)
    }

    /// Write one reminder unless it exists; `true` if written now.
    async fn remind(
        &self,
        reminder: Reminder,
        person: Uuid,
        related: Uuid,
        due: Date,
        now: OffsetDateTime,
    ) -> Result<bool, StorageError> {
        let id = reminder_id(reminder, person, due);
        if self.store.get(id).await?.is_some() {
            return Ok(false);
        }
        let Some(to) = notify::recipient_in(self.store.as_ref(), self.enabled, person).await?
        else {
            // Nobody to tell (the person's record was deleted).
            return Ok(false);
        };
        let event = match reminder {
            Reminder::LivenessDueSoon => Event::LivenessDueSoon { due },
            Reminder::LivenessOverdue => Event::LivenessOverdue { due },
        };
        let message = messages::message(event, to.language);
        let write = notify::write_due(
            id,
            &to,
            NotificationKind::LivenessDue,
            related,
            message,
            now,
            Some(due),
        )
        .map_err(|e| StorageError::Corrupt(format!("a reminder could not be written: {e:?}")))?;
        let mut ctx = WriteContext::by(SYSTEM_ACTOR);
        ctx.at = now;
        ctx.request_id = Some(format!("{}:{person}:{due}", reminder.as_str()));
        match self.store.commit(vec![write], &ctx).await {
            Ok(_) => Ok(true),
            // Written meanwhile by another run: once is what counts.
            Err(CommitError::Exists { .. }) => Ok(false),
            Err(CommitError::Storage(e)) => Err(e),
            Err(e) => Err(StorageError::Corrupt(format!(
                "a reminder was refused: {e}"
            ))),
        }
    }
}

/// The id of `reminder` to `person` for the due day `due` (UUIDv8 from SHA-256 of the three):
/// the same in every run and every process.
pub fn reminder_id(reminder: Reminder, person: Uuid, due: Date) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(b"doorstep reminder ");
    hash.update(reminder.as_str().as_bytes());
    hash.update(person.as_bytes());
    hash.update(doorstep_domain::date_format::format(due).as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn one_id_per_reminder_person_and_day() {
        let p = Uuid::now_v7();
        let a = reminder_id(Reminder::LivenessDueSoon, p, date!(2026 - 01 - 01));
        assert_eq!(
            a,
            reminder_id(Reminder::LivenessDueSoon, p, date!(2026 - 01 - 01))
        );
        assert_ne!(
            a,
            reminder_id(Reminder::LivenessOverdue, p, date!(2026 - 01 - 01))
        );
        assert_ne!(
            a,
            reminder_id(Reminder::LivenessDueSoon, p, date!(2026 - 01 - 02))
        );
        assert_ne!(
            a,
            reminder_id(
                Reminder::LivenessDueSoon,
                Uuid::now_v7(),
                date!(2026 - 01 - 01)
            )
        );
    }
}
