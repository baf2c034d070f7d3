//! The registry's own reminders, made on a timer: a liveness check due soon, one overdue (a
//! registrant never checked included: their first check is due one interval after they were
//! registered), and a programme's applications closing soon for people whose application is
//! still a draft.
//!
//! - **One process runs each job.** Every registry process sharing the database ticks; a job
//!   ([`Job`]: each has its own name and lease) runs only where [`Store::job_take`] succeeds —
//!   one conditional UPDATE of `scheduled_jobs`, so one process per period, under a lease (a
//!   process that stops mid-run lets another take the job once its lease runs out).
//! - **Each person is told once per event, ever.** A reminder's notification id is derived from
//!   the event, the person and the day ([`reminder_id`]; for a closing programme also the
//!   programme, [`deadline_reminder_id`]) and written as a create: a second run, a second
//!   process or a retry finds it there (the store refuses a second create of one id), whatever
//!   happened to the job's lease.
//! - **Bounded.** A run reads through an index in pages of [`PAGE`] (`records.state` holds a
//!   passed check's due day, and a programme's closing day; live individuals by registration
//!   time), at most [`MAX_PER_RUN`] rows each; the
//!   rest wait for the next run. The loop stops when the server does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use doorstep_domain::notification::{reminder, NotificationKind};
use doorstep_domain::RecordKind;
use time::{Date, OffsetDateTime};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::api::notify::{self, SYSTEM_ACTOR};
use crate::liveness::schedule;
use crate::messages::{self, Event};
use crate::outbound::{Enabled, SchedulerConfig};
use crate::storage::{CommitError, StorageError, Store, WriteContext};

/// The job that writes liveness reminders.
pub const LIVENESS_JOB: &str = "liveness_reminders";
/// The job that writes "applications close soon" reminders.
pub const DEADLINE_JOB: &str = "deadline_reminders";
/// Rows read per page.
pub const PAGE: u32 = 200;
/// Rows one run looks at, at most.
pub const MAX_PER_RUN: usize = 10_000;

/// A periodic job: its own name in `scheduled_jobs`, so its own lease and next run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Liveness checks due soon or overdue.
    Liveness,
    /// Programmes whose applications close soon, to people with a draft.
    Deadlines,
}

impl Job {
    pub const ALL: [Job; 2] = [Job::Liveness, Job::Deadlines];

    pub fn name(self) -> &'static str {
        match self {
            Job::Liveness => LIVENESS_JOB,
            Job::Deadlines => DEADLINE_JOB,
        }
    }
}

/// Which reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    LivenessDueSoon,
    LivenessOverdue,
    /// A programme's applications close soon, and the person's application is a draft.
    DeadlineSoon,
}

impl Reminder {
    fn as_str(self) -> &'static str {
        match self {
            Reminder::LivenessDueSoon => reminder::LIVENESS_DUE_SOON,
            Reminder::LivenessOverdue => reminder::LIVENESS_OVERDUE,
            Reminder::DeadlineSoon => reminder::DEADLINE_SOON,
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
                for job in Job::ALL {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        result = self.run(job, OffsetDateTime::now_utc()) => match result {
                            Ok(Some(report)) if report.written > 0 => tracing::info!(written = report.written, already = report.already, job = job.name(), "reminders written"),
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, job = job.name(), "scheduled job failed; it runs again next period"),
                        },
                    }
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(tick) => {}
                }
            }
        })
    }

    /// Run `job` if it is due and this process gets it: `None` when it did not run.
    pub async fn run(&self, job: Job, now: OffsetDateTime) -> Result<Option<Report>, StorageError> {
        // A run is bounded; its lease covers it with room to spare.
        let lease = now + self.config.period.max(Duration::from_secs(300));
        if !self
            .store
            .job_take(job.name(), &self.holder, now, lease)
            .await?
        {
            return Ok(None);
        }
        let report = match job {
            Job::Liveness => self.liveness(now).await,
            Job::Deadlines => self.deadlines(now).await,
        };
        // Released even after a failure, so the next period tries again.
        self.store
            .job_done(job.name(), &self.holder, now + self.config.period)
            .await?;
        report.map(Some)
    }

    /// The liveness reminders due at `now` (the run itself, without the job's lease).
    pub async fn liveness(&self, now: OffsetDateTime) -> Result<Report, StorageError> {
        let today = now.date();
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
                // The check's own last day of grace (the person's programmes decided it when
                // the check was recorded); a check from before it was kept: the registry's.
                let overdue_after = due.overdue_after.unwrap_or_else(|| {
                    due.due
                        .checked_add(days(self.config.liveness_grace_days))
                        .unwrap_or(Date::MAX)
                });
                let (told, event) =
                    Told::liveness(today, overdue_after, due.individual, due.check, due.due);
                let told = self.remind(told, event, now).await?;
                report.count(told);
            }
            if !full {
                break;
            }
        }
        self.first_checks(now, horizon, &mut report).await?;
        Ok(report)
    }

    /// The reminders of registrants who never passed a check: their first is due one interval
    /// (the person's rule) after they were registered, or `liveness_first_check_days` if sooner
    /// ([`LivenessRule::first_check`](doorstep_domain::liveness::LivenessRule::first_check)).
    /// Only those registered at least the shortest interval any rule has before `horizon` are
    /// read.
    async fn first_checks(
        &self,
        now: OffsetDateTime,
        horizon: Date,
        report: &mut Report,
    ) -> Result<(), StorageError> {
        let today = now.date();
        let shortest = schedule::shortest_interval(self.store.as_ref(), &self.config)
            .await?
            .min(self.config.liveness_first_check_days.unwrap_or(u32::MAX));
        // Registered on or before this day (UTC, as the registry records it), or not due yet.
        let Some(last_day) = horizon.checked_sub(days(shortest)) else {
            return Ok(());
        };
        let before = last_day
            .next_day()
            .unwrap_or(Date::MAX)
            .midnight()
            .assume_utc();
        let mut after = None;
        let mut seen = 0;
        while seen < MAX_PER_RUN {
            let page = self.store.never_checked(before, after, PAGE).await?;
            let full = page.len() == PAGE as usize;
            seen += page.len();
            after = page.last().map(|p| (p.registered_at, p.individual));
            for person in page {
                let rule = schedule::rule_for(self.store.as_ref(), &self.config, person.individual)
                    .await?;
                let Some(dates) =
                    rule.first_check(person.registered_at, self.config.liveness_first_check_days)
                else {
                    continue;
                };
                if dates.next_due > horizon {
                    continue;
                }
                // About the person themself: there is no check yet.
                let (told, event) = Told::liveness(
                    today,
                    dates.overdue_after,
                    person.individual,
                    person.individual,
                    dates.next_due,
                );
                let told = self.remind(told, event, now).await?;
                report.count(told);
            }
            if !full {
                break;
            }
        }
        Ok(())
    }

    /// The "applications close soon" reminders at `now`: to everyone with a draft application
    /// to a programme whose closing day is between today and `deadline_soon_days` from now,
    /// once per person, programme and closing day (the run itself, without the job's lease).
    pub async fn deadlines(&self, now: OffsetDateTime) -> Result<Report, StorageError> {
        let today = now.date();
        let horizon = today
            .checked_add(days(self.config.deadline_soon_days))
            .unwrap_or(Date::MAX);
        let mut names: HashMap<Uuid, Option<String>> = HashMap::new();
        let mut report = Report::default();
        let mut after = None;
        let mut seen = 0;
        while seen < MAX_PER_RUN {
            let page = self
                .store
                .drafts_closing(today, horizon, after, PAGE)
                .await?;
            let full = page.len() == PAGE as usize;
            seen += page.len();
            after = page.last().map(|d| d.application);
            for draft in page {
                let name = match names.get(&draft.programme) {
                    Some(name) => name.clone(),
                    None => {
                        let name = self.programme_name(draft.programme).await?;
                        names.insert(draft.programme, name.clone());
                        name
                    }
                };
                // Deleted meanwhile: nothing closes.
                let Some(name) = name else { continue };
                let told = self
                    .remind(
                        Told {
                            id: deadline_reminder_id(
                                draft.applicant,
                                draft.programme,
                                draft.closes_on,
                            ),
                            request: format!(
                                "{}:{}:{}:{}",
                                Reminder::DeadlineSoon.as_str(),
                                draft.applicant,
                                draft.programme,
                                draft.closes_on
                            ),
                            kind: NotificationKind::Deadline,
                            person: draft.applicant,
                            related: draft.application,
                            deadline: draft.closes_on,
                        },
                        Event::DeadlineSoon {
                            programme: &name,
                            closes_on: draft.closes_on,
                        },
                        now,
                    )
                    .await?;
                report.count(told);
            }
            if !full {
                break;
            }
        }
        Ok(report)
    }

    /// A live programme's name.
    async fn programme_name(&self, id: Uuid) -> Result<Option<String>, StorageError> {
        Ok(self
            .store
            .get(id)
            .await?
            .filter(|r| r.kind == RecordKind::Programme && !r.deleted)
            .and_then(|r| r.body["name"].as_str().map(str::to_owned)))
    }

    /// Write one reminder unless it exists; `true` if written now.
    async fn remind(
        &self,
        told: Told,
        event: Event<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StorageError> {
        if self.store.get(told.id).await?.is_some() {
            return Ok(false);
        }
        let Some(to) = notify::recipient_in(self.store.as_ref(), self.enabled, told.person).await?
        else {
            // Nobody to tell (the person's record was deleted).
            return Ok(false);
        };
        let message = messages::message(event, to.language);
        let write = notify::write_due(
            told.id,
            &to,
            told.kind,
            told.related,
            message,
            now,
            Some(told.deadline),
        )
        .map_err(|e| StorageError::Corrupt(format!("a reminder could not be written: {e:?}")))?;
        let mut ctx = WriteContext::by(SYSTEM_ACTOR);
        ctx.at = now;
        ctx.request_id = Some(told.request);
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

/// One reminder to write: its notification's id, kind, recipient, the record it is about and
/// the day it names; `request` goes in the change log.
struct Told {
    id: Uuid,
    request: String,
    kind: NotificationKind,
    person: Uuid,
    related: Uuid,
    deadline: Date,
}

impl Told {
    /// A liveness reminder to `person` about `related` (a check, or the person for a first
    /// check) naming the `due` day: "due soon", or "overdue" once `today` is past
    /// `overdue_after`; with the event its message is made from.
    fn liveness(
        today: Date,
        overdue_after: Date,
        person: Uuid,
        related: Uuid,
        due: Date,
    ) -> (Told, Event<'static>) {
        let (reminder, event) = if today > overdue_after {
            (Reminder::LivenessOverdue, Event::LivenessOverdue { due })
        } else {
            (Reminder::LivenessDueSoon, Event::LivenessDueSoon { due })
        };
        let told = Told {
            id: reminder_id(reminder, person, due),
            request: format!("{}:{}:{}", reminder.as_str(), person, due),
            kind: NotificationKind::LivenessDue,
            person,
            related,
            deadline: due,
        };
        (told, event)
    }
}

impl Report {
    fn count(&mut self, written: bool) {
        match written {
            true => self.written += 1,
            false => self.already += 1,
        }
    }
}

fn days(n: u32) -> time::Duration {
    time::Duration::days(i64::from(n))
}

/// The id of `reminder` to `person` for the due day `due` (UUIDv8 from SHA-256 of the three):
/// the same in every run and every process.
pub fn reminder_id(reminder: Reminder, person: Uuid, due: Date) -> Uuid {
    hashed_id(reminder, person, None, due)
}

/// The id of the "applications close soon" reminder to `person` about `programme` closing on
/// `closes_on`: once per person, programme and closing day (a programme that moves its closing
/// day reminds again, of the new one).
pub fn deadline_reminder_id(person: Uuid, programme: Uuid, closes_on: Date) -> Uuid {
    hashed_id(Reminder::DeadlineSoon, person, Some(programme), closes_on)
}

fn hashed_id(reminder: Reminder, person: Uuid, about: Option<Uuid>, day: Date) -> Uuid {
    doorstep_domain::notification::reminder_id(reminder.as_str(), person, about, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
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

    #[test]
    fn one_deadline_reminder_per_person_programme_and_closing_day() {
        let (p, programme) = (Uuid::now_v7(), Uuid::now_v7());
        let day = date!(2026 - 06 - 30);
        let a = deadline_reminder_id(p, programme, day);
        assert_eq!(a, deadline_reminder_id(p, programme, day));
        assert_ne!(a, deadline_reminder_id(Uuid::now_v7(), programme, day));
        assert_ne!(a, deadline_reminder_id(p, Uuid::now_v7(), day));
        assert_ne!(a, deadline_reminder_id(p, programme, date!(2026 - 07 - 31)));
        assert_ne!(a, reminder_id(Reminder::DeadlineSoon, p, day));
    }

    /// Ids written by earlier versions stay what they were, so nobody is reminded twice across
    /// an upgrade.
    #[test]
    fn liveness_reminder_ids_are_stable() {
        let person: Uuid = "0190b6a2-8a3e-7c1d-9f00-000000000001".parse().unwrap();
        let mut hash = Sha256::new();
        hash.update(b"doorstep reminder liveness_due_soon");
        hash.update(person.as_bytes());
        hash.update(b"2026-01-01");
        let mut bytes = [0_u8; 16];
        bytes.copy_from_slice(&hash.finalize()[..16]);
        assert_eq!(
            reminder_id(Reminder::LivenessDueSoon, person, date!(2026 - 01 - 01)),
            uuid::Builder::from_custom_bytes(bytes).into_uuid()
        );
    }
}
