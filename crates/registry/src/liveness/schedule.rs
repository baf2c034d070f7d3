//! When a passed liveness check's successor is due, and when it is overdue: the one place the
//! registry works them out, for every path that records a check — REST and sync push, and the
//! step-up's verified check — since all go through `api::write::prepare`, which calls [`fill`].
//!
//! The rule is the person's ([`LivenessRule::for_applicant`]): the shortest interval and grace
//! among the programmes of their active applications (submitted, under review, asked for more,
//! approved), each programme without its own value following `[scheduler]`
//! `liveness_interval_days` / `liveness_grace_days`; someone with none follows those. The last
//! day of grace is kept on the check (`overdue_after`), so the scheduler's overdue reminder and
//! the app's home screen read the same day rather than each applying a grace of its own.
//!
//! A registrant none of whose checks has passed follows the same rule from the day the registry
//! recorded them ([`LivenessRule::first_check`](doorstep_domain::liveness::LivenessRule::first_check)):
//! the scheduler reminds them ([`shortest_interval`] bounds whom it reads), and the app shows
//! the to-do from that reminder.

use std::collections::BTreeSet;

use doorstep_domain::liveness::{LivenessCheck, LivenessRule};
use doorstep_domain::{Application, Programme, RecordKind};
use serde_json::Value;
use uuid::Uuid;

use crate::outbound::SchedulerConfig;
use crate::storage::{ListQuery, StorageError, Store, Visibility};

/// Most applications of one person read to find their programmes (a person has a handful).
pub const MAX_APPLICATIONS_READ: u32 = 1000;
/// Most programmes read to find the shortest interval (a registry runs a few dozen).
pub const MAX_PROGRAMMES_READ: u32 = 1000;

/// The registry's own rule (`[scheduler]`).
pub fn default_rule(config: &SchedulerConfig) -> LivenessRule {
    LivenessRule {
        interval_days: config.liveness_interval_days,
        grace_days: config.liveness_grace_days,
    }
}

/// The rule `person` follows now, from their applications and programmes as stored.
pub async fn rule_for(
    store: &dyn Store,
    config: &SchedulerConfig,
    person: Uuid,
) -> Result<LivenessRule, StorageError> {
    let mut query = ListQuery::new(
        RecordKind::Application,
        Visibility::All,
        MAX_APPLICATIONS_READ,
    );
    query.owner_id = Some(person);
    let applications: Vec<Application> = store
        .list(&query)
        .await?
        .into_iter()
        .filter_map(|r| serde_json::from_value(r.body).ok())
        .collect();
    let ids: Vec<Uuid> = applications
        .iter()
        .filter(|a| a.is_active())
        .map(|a| *a.programme_id.as_uuid())
        .collect::<BTreeSet<Uuid>>()
        .into_iter()
        .collect();
    let programmes: Vec<Programme> = store
        .get_many(&ids)
        .await?
        .into_iter()
        .filter(|r| r.kind == RecordKind::Programme && !r.deleted)
        .filter_map(|r| serde_json::from_value(r.body).ok())
        .collect();
    Ok(LivenessRule::for_applicant(
        default_rule(config),
        &applications,
        &programmes,
    ))
}

/// The shortest interval any person's rule can have now: the registry's, or a live
/// programme's shorter one. The scheduler reads only registrants registered at least this long
/// before its horizon when looking for first checks due.
pub async fn shortest_interval(
    store: &dyn Store,
    config: &SchedulerConfig,
) -> Result<u32, StorageError> {
    let query = ListQuery::new(RecordKind::Programme, Visibility::All, MAX_PROGRAMMES_READ);
    Ok(store
        .list(&query)
        .await?
        .into_iter()
        .filter(|r| !r.deleted)
        .filter_map(|r| r.body.get("liveness_interval_days")?.as_u64())
        .map(|days| u32::try_from(days).unwrap_or(u32::MAX))
        .fold(config.liveness_interval_days, u32::min))
}

/// Fill in what a passed `check` (parsed from `body`) was sent without: `next_due` and
/// `overdue_after` from the person's rule, or only `overdue_after` after a `next_due` the
/// sender chose. `true` when `body` changed. A check that did not pass, or that has both, is
/// left as sent.
pub async fn fill(
    store: &dyn Store,
    config: &SchedulerConfig,
    check: &LivenessCheck,
    body: &mut Value,
) -> Result<bool, StorageError> {
    if !check.is_passed() || (check.next_due.is_some() && check.overdue_after.is_some()) {
        return Ok(false);
    }
    let rule = rule_for(store, config, *check.individual_id.as_uuid()).await?;
    let (next_due, overdue_after) = match check.next_due {
        Some(due) => (due, rule.overdue_after(due)),
        None => match rule.dates(check.performed_at) {
            Some(dates) => (dates.next_due, dates.overdue_after),
            // Beyond the calendar: never due.
            None => return Ok(false),
        },
    };
    let day = |d| Value::String(doorstep_domain::date_format::format(d));
    body["next_due"] = day(next_due);
    body["overdue_after"] = day(overdue_after);
    Ok(true)
}
