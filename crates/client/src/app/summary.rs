//! The field agent's end-of-day summary: what was done on this device since the start of the
//! day, what reached the registry, what still waits, and what needs the agent (conflicts and
//! refused changes), so nobody leaves a village believing work was sent that was not.
//!
//! Built from the vault alone (works offline): the audit log says what was changed on this
//! device and when, and each entry's mutation id says whether the outbox still holds it.

use std::collections::HashSet;

use doorstep_domain::record::RecordKind;
use doorstep_domain::timestamp;
use serde::Serialize;

use super::refusal::refused;
use super::registration;
use super::AppError;
use crate::vault::Partition;

/// The day so far, for the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DaySummary {
    /// Changes made on this device since the start of the day.
    pub changes_made: u32,
    /// Of those, the registry has taken.
    pub sent: u32,
    /// Of those, still waiting to be sent.
    pub waiting: u32,
    /// Changes the registry refused (any day): the agent must fix or discard them.
    pub refused: u32,
    /// Changes that clash with someone else's (any day): the agent must choose.
    pub conflicts: u32,
    /// Households registered today, and the people in them who were new to the registry.
    pub households_registered: u32,
    pub people_registered: u32,
    /// Different people whose records were changed today (registered or updated).
    pub people_served: u32,
    /// Household registrations started and not yet saved.
    pub registrations_in_progress: u32,
    /// Changes of any day still waiting (today's and older).
    pub waiting_all: u32,
    /// The registry's "possible duplicate" notices not answered yet.
    pub duplicate_notices: u32,
    /// Days left before this device's data is wiped for want of a sync (its configuration sets
    /// a period), once within the last days; `None` otherwise.
    pub wipe_in_days: Option<u32>,
}

/// The summary since `since` (RFC 3339: the start of the agent's local day, which the UI knows).
pub fn day(
    partition: &Partition,
    since: &str,
    wipe_after: Option<u32>,
) -> Result<DaySummary, AppError> {
    let since = timestamp::parse(since)
        .map(timestamp::format)
        .map_err(|_| {
            refused(
                "dateFormat",
                "The start of the day must be a date and time (RFC 3339).",
            )
        })?;
    let changes = partition.changes_since(&since)?;
    let count = |f: &dyn Fn(&crate::vault::MadeChange) -> bool| {
        changes.iter().filter(|c| f(c)).count() as u32
    };
    let created = |kind: RecordKind| count(&|c| c.kind == kind.as_str() && c.action == "create");
    // A person is served by a change to their own record or to one that points at them.
    let mut served: HashSet<String> = HashSet::new();
    for change in &changes {
        if change.kind == RecordKind::Individual.as_str() {
            served.insert(change.record_id.clone());
            continue;
        }
        let Ok(id) = change.record_id.parse() else {
            continue;
        };
        if let Some(stored) = partition.record(&change.kind, id)? {
            for field in ["registrant_id", "applicant_id", "individual_id"] {
                if let Some(person) = stored.body[field].as_str() {
                    served.insert(person.to_owned());
                }
            }
        }
    }
    Ok(DaySummary {
        changes_made: changes.len() as u32,
        sent: count(&|c| c.outbox_state.is_none()),
        waiting: count(&|c| c.outbox_state.as_deref() == Some("pending")),
        refused: partition.rejections()?.len() as u32,
        conflicts: partition.conflicts()?.len() as u32,
        households_registered: created(RecordKind::Group),
        people_registered: created(RecordKind::Individual),
        people_served: served.len() as u32,
        registrations_in_progress: registration::list(partition)?.len() as u32,
        waiting_all: partition.pending_count()? as u32,
        duplicate_notices: super::duplicate_notices::list(partition)?.len() as u32,
        wipe_in_days: super::revocation::wipe_warning(wipe_after, partition)?,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::registration::{start, PersonInput, RegistrationStep};
    use crate::app::who::Who;
    use crate::app::Caseload;
    use crate::vault::{KdfParams, NoKeyStore, Vault};

    #[test]
    fn a_day_counts_what_was_made_sent_and_still_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
        let (partition, _) = vault
            .create_partition("sunflower-42", KdfParams::FAST_INSECURE_FOR_TESTS)
            .unwrap();
        let morning = "2000-01-01T00:00:00+03:00";
        let empty = day(&partition, morning, None).unwrap();
        assert_eq!((empty.changes_made, empty.households_registered), (0, 0));

        let mut r = start(&partition).unwrap();
        r.head = PersonInput {
            key: r.head.key.clone(),
            given_name: "Rose".into(),
            family_name: "Achieng".into(),
            ..PersonInput::default()
        };
        r.step = RegistrationStep::Review;
        let index = Caseload::build(&partition).unwrap();
        registration::save(&partition, &index, r.clone()).unwrap();
        assert_eq!(
            day(&partition, morning, None)
                .unwrap()
                .registrations_in_progress,
            1
        );
        registration::finish(&partition, &index, Who::default(), &r.id).unwrap();
        start(&partition).unwrap();

        let summary = day(&partition, morning, None).unwrap();
        // The household, Rose, her membership.
        assert_eq!(summary.changes_made, 3);
        assert_eq!(
            (summary.sent, summary.waiting, summary.waiting_all),
            (0, 3, 3)
        );
        assert_eq!(
            (summary.households_registered, summary.people_registered),
            (1, 1)
        );
        assert_eq!(summary.people_served, 1);
        assert_eq!(summary.registrations_in_progress, 1);

        // The registry takes the household: it leaves the outbox and counts as sent.
        let entry = partition.outbox().unwrap().remove(0);
        partition
            .record_push_results(&[doorstep_domain::sync::MutationResult::Applied {
                mutation_id: entry.mutation_id,
                rev: 1,
                merged: false,
                possible_duplicates: Vec::new(),
                record: partition
                    .record(&entry.kind, entry.record_id)
                    .unwrap()
                    .unwrap()
                    .body,
            }])
            .unwrap();
        let summary = day(&partition, morning, None).unwrap();
        assert_eq!((summary.sent, summary.waiting), (1, 2));

        // Tomorrow nothing was made yet, but yesterday's waiting work is still counted.
        let tomorrow = timestamp::format(time::OffsetDateTime::now_utc() + time::Duration::days(1));
        let next = day(&partition, &tomorrow, None).unwrap();
        assert_eq!((next.changes_made, next.waiting_all), (0, 2));
        assert!(day(&partition, "yesterday", None).is_err());
    }
}
