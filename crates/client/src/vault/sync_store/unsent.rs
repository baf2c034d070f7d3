//! What only this partition holds: the changes the registry has not received and the drafts
//! never sent. Counted, never described, so the summary can be kept outside the encrypted
//! partition (profiles.json): a person who forgot their passphrase is told exactly what starting
//! afresh loses, though the partition can no longer be read.

use serde::{Deserialize, Serialize};

use crate::vault::partition::Partition;
use crate::vault::VaultError;

/// Draft keys that hold what a person typed (the others are caches the registry refills).
const TYPED_DRAFTS: [&str; 3] = ["application:", "registration:", "form-design:"];

/// How many changes of one kind of record wait to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct KindCount {
    /// The record kind's wire name (`individual`, `group`, `document`…).
    pub kind: String,
    pub count: u32,
}

/// Counts of what the registry does not have yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UnsentSummary {
    /// Record changes waiting to be sent, per kind.
    pub changes: Vec<KindCount>,
    /// Applications submitted (or withdrawn) on this device and not yet sent.
    pub submissions: u32,
    /// Documents whose file has not reached the registry in full.
    pub documents: u32,
    /// Answers, registrations and form designs still being written (never sent).
    pub drafts: u32,
    /// When the oldest of them was made (RFC 3339), if any.
    pub oldest: Option<String>,
}

impl UnsentSummary {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.submissions == 0 && self.documents == 0 && self.drafts == 0
    }
}

impl Partition {
    /// Count what only this device holds.
    pub fn unsent_summary(&self) -> Result<UnsentSummary, VaultError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT kind, COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending'
             GROUP BY kind ORDER BY kind",
        )?;
        let mut oldest: Option<String> = None;
        let mut keep_oldest = |t: Option<String>| {
            if let Some(t) = t {
                if oldest.as_ref().is_none_or(|o| &t < o) {
                    oldest = Some(t);
                }
            }
        };
        let mut changes = Vec::new();
        for row in stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })? {
            let (kind, count, first) = row?;
            keep_oldest(first);
            changes.push(KindCount {
                kind,
                count: count as u32,
            });
        }
        let (submissions, first): (i64, Option<String>) = conn.query_row(
            "SELECT COUNT(*), MIN(created_at) FROM transitions WHERE refusal IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        keep_oldest(first);
        let documents: i64 =
            conn.query_row("SELECT COUNT(*) FROM uploads WHERE done = 0", [], |r| {
                r.get(0)
            })?;
        let like = TYPED_DRAFTS
            .iter()
            .map(|p| format!("key LIKE '{p}%'"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let (drafts, first): (i64, Option<String>) = conn.query_row(
            &format!("SELECT COUNT(*), MIN(updated_at) FROM drafts WHERE {like}"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        keep_oldest(first);
        Ok(UnsentSummary {
            changes,
            submissions: submissions as u32,
            documents: documents as u32,
            drafts: drafts as u32,
            oldest,
        })
    }
}
