//! The registry's "possible duplicate" notices, for the agent: someone the agent registered may
//! be a person already registered elsewhere (by another agent, on another device), which the
//! laptop could not see. The agent answers each one:
//! - **different people**: the record gets the others in its `not_duplicate_of` (an edit sent
//!   with the next sync, which also closes the registry's flag for them);
//! - **the same person**: the notice is put away on this device; the registry's flag stays
//!   open for staff, who merge the two records (an agent cannot merge).

use doorstep_domain::duplicates::Reason;
use doorstep_domain::ids::RecordId;
use doorstep_domain::individual::Individual;
use serde::Serialize;
use time::OffsetDateTime;

use super::details::actor_of;
use super::refusal::refused;
use super::who::Who;
use super::AppError;
use crate::vault::{Change, Op, Partition, POSSIBLE_DUPLICATE};

/// One notice, with the names this device knows.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateNotice {
    /// The notice's id on this device.
    pub id: String,
    /// The person the agent saved.
    pub person_id: String,
    pub person_name: String,
    /// The people the registry found alike, best first.
    pub matches: Vec<NoticeMatch>,
    /// When it arrived (RFC 3339).
    pub received_at: String,
}

/// One person the registry found alike.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NoticeMatch {
    pub id: String,
    /// `None` when the person is not on this device (another area): only the reasons are known.
    pub name: Option<String>,
    pub score: u8,
    pub reasons: Vec<Reason>,
}

/// The open notices, oldest first.
pub fn list(partition: &Partition) -> Result<Vec<DuplicateNotice>, AppError> {
    let name = |id: &RecordId| -> Result<Option<String>, AppError> {
        Ok(partition
            .get::<Individual>(*id.as_uuid())?
            .map(|p| p.display_name()))
    };
    let mut out = Vec::new();
    for notice in partition.notices(false)? {
        if notice.kind != POSSIBLE_DUPLICATE {
            continue;
        }
        let person: RecordId = notice.record_id.into();
        let mut matches = Vec::new();
        for m in notice.matches {
            matches.push(NoticeMatch {
                id: m.id.to_string(),
                name: name(&m.id)?,
                score: m.score,
                reasons: m.reasons,
            });
        }
        out.push(DuplicateNotice {
            id: notice.id.to_string(),
            person_id: notice.record_id.to_string(),
            person_name: name(&person)?.unwrap_or_default(),
            matches,
            received_at: notice.received_at,
        });
    }
    Ok(out)
}

/// Answer a notice: `same` (put away; staff merge) or different people (recorded on the record).
pub fn answer(partition: &Partition, who: Who<'_>, id: &str, same: bool) -> Result<(), AppError> {
    let unknown = || {
        refused(
            "noticeUnknown",
            "That notice is no longer open on this device.",
        )
    };
    let id: i64 = id.parse().map_err(|_| unknown())?;
    let notice = partition
        .notices(false)?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or_else(unknown)?;
    if !same {
        let mut person = partition
            .get::<Individual>(notice.record_id)?
            .ok_or_else(|| refused("personUnknown", "That person is not on this device."))?;
        for m in &notice.matches {
            if !person.not_duplicate_of.contains(&m.id) && m.id != person.meta.id {
                person.not_duplicate_of.push(m.id);
            }
        }
        person.meta.touch(OffsetDateTime::now_utc());
        let actor = actor_of(who);
        partition.apply(&Change::of(&person, Op::Update, &actor)?)?;
    }
    partition.dismiss_notice(id)?;
    Ok(())
}
