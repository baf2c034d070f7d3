//! Notices the registry sends back with its answers to pushed changes, kept until the person
//! dismisses them. Today: "possible duplicate", the registry's duplicate check found people
//! already registered who are likely the one just saved (issue 16). The UI shows them beside the
//! person with "Is this the same person?"; the answer is an edit of the record (its
//! `not_duplicate_of`, or opening the other record), then the notice is dismissed.

use doorstep_domain::duplicates::Match;
use rusqlite::params;
use serde::Serialize;
use uuid::Uuid;

use crate::vault::partition::{now, Partition};
use crate::vault::VaultError;

/// What a notice is about.
pub const POSSIBLE_DUPLICATE: &str = "possible_duplicate";

/// A notice from the registry about one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    /// The vault's id for the notice (what [`Partition::dismiss_notice`] takes).
    pub id: i64,
    /// [`POSSIBLE_DUPLICATE`].
    pub kind: String,
    /// The record it is about, e.g. `individual`.
    pub record_kind: String,
    pub record_id: Uuid,
    /// The people likely to be this one, best first. Their records may be outside this
    /// device's caseload: then only the id, score and reasons are known here.
    pub matches: Vec<Match>,
    pub received_at: String,
    /// When the person dismissed it; `None` while it is open.
    pub dismissed_at: Option<String>,
}

/// Keep a possible-duplicate notice that came with the answer to `mutation_id`, inside the
/// transaction recording that answer. It replaces the record's open notice of the same kind:
/// the latest check of a person is what the registry finds now.
pub(super) fn record_possible_duplicates(
    tx: &rusqlite::Transaction<'_>,
    mutation_id: &str,
    record_kind: &str,
    record_id: &str,
    matches: &[Match],
) -> Result<(), VaultError> {
    let at = now();
    tx.execute(
        "UPDATE notices SET dismissed_at = ?3 WHERE record_id = ?1 AND kind = ?2 AND dismissed_at IS NULL",
        params![record_id, POSSIBLE_DUPLICATE, at],
    )?;
    tx.execute(
        "INSERT INTO notices (kind, record_kind, record_id, body, mutation_id, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (mutation_id, kind) DO NOTHING",
        params![
            POSSIBLE_DUPLICATE,
            record_kind,
            record_id,
            serde_json::to_string(matches).expect("matches serialise"),
            mutation_id,
            at
        ],
    )?;
    Ok(())
}

impl Partition {
    /// Notices not yet dismissed (with `include_dismissed`, all of them), oldest first.
    pub fn notices(&self, include_dismissed: bool) -> Result<Vec<Notice>, VaultError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, kind, record_kind, record_id, body, received_at, dismissed_at FROM notices
             WHERE ?1 OR dismissed_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map(params![include_dismissed], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        rows.map(|row| {
            let (id, kind, record_kind, record_id, body, received_at, dismissed_at) = row?;
            Ok(Notice {
                id,
                kind,
                record_kind,
                record_id: record_id
                    .parse()
                    .map_err(|_| VaultError::Corrupt(format!("notice {id}: record id")))?,
                matches: serde_json::from_str(&body)
                    .map_err(|e| VaultError::Corrupt(format!("notice {id}: {e}")))?,
                received_at,
                dismissed_at,
            })
        })
        .collect()
    }

    /// The person has seen a notice (and answered it, if it asked something): it leaves the
    /// open list. Dismissing one dismissed already changes nothing.
    pub fn dismiss_notice(&self, id: i64) -> Result<(), VaultError> {
        let conn = self.conn();
        let found = conn.execute(
            "UPDATE notices SET dismissed_at = COALESCE(dismissed_at, ?2) WHERE id = ?1",
            params![id, now()],
        )?;
        if found == 0 {
            return Err(VaultError::NotFound(format!("no notice {id}")));
        }
        Ok(())
    }
}
