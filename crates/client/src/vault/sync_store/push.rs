//! The mutations waiting to be sent, and what the registry answered to them.

use doorstep_domain::sync::{ChangeSet, Mutation, MutationResult};
use doorstep_domain::RecordKind;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};

use super::adopt_server_version;
use super::notices::record_possible_duplicates;
use crate::vault::partition::{now, Partition};
use crate::vault::VaultError;

/// How many of each outcome one push page had.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PushTally {
    pub applied: usize,
    pub conflicts: usize,
    pub rejected: usize,
    /// Applied changes that came back with a notice (a possible duplicate).
    pub notices: usize,
}

impl Partition {
    /// Up to `limit` pending mutations, oldest first. Mutations of a record with an open
    /// conflict wait until the person settles it (they were made on top of the clashing value).
    pub fn pending_mutations(&self, limit: usize) -> Result<Vec<Mutation>, VaultError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT mutation_id, kind, record_id, op, base_rev, changes FROM outbox o
             WHERE state = 'pending'
               AND NOT EXISTS (SELECT 1 FROM conflicts c WHERE c.kind = o.kind AND c.record_id = o.record_id)
             ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (id, kind, record, op, base_rev, changes) = row?;
            let corrupt = |what: &str| VaultError::Corrupt(format!("outbox {what} of {id}"));
            Ok(Mutation {
                id: id.parse().map_err(|_| corrupt("id"))?,
                kind: kind.parse::<RecordKind>().map_err(|_| corrupt("kind"))?,
                record_id: record.parse().map_err(|_| corrupt("record"))?,
                op: serde_json::from_value(Value::String(op)).map_err(|_| corrupt("op"))?,
                base_rev: base_rev.map(|r| r as u64),
                changes: serde_json::from_str::<ChangeSet>(&changes)
                    .map_err(|_| corrupt("changes"))?,
            })
        })
        .collect()
    }

    /// How many mutations wait to be sent (not counting refused ones).
    pub fn pending_count(&self) -> Result<u64, VaultError> {
        let n: i64 = self.conn().query_row(
            // Requested status moves are changes the person made too (see transitions.rs).
            "SELECT (SELECT COUNT(*) FROM outbox WHERE state = 'pending')
                  + (SELECT COUNT(*) FROM transitions WHERE refusal IS NULL)",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Record the registry's answers to pushed mutations, and the notices they carry, in one
    /// transaction.
    pub fn record_push_results(&self, results: &[MutationResult]) -> Result<PushTally, VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut tally = PushTally::default();
        for result in results {
            let id = result.mutation_id().to_string();
            let entry: Option<(String, String)> = tx
                .query_row(
                    "SELECT kind, record_id FROM outbox WHERE mutation_id = ?1",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            // Already recorded (an answer repeated after a crash): nothing to do.
            let Some((kind, record)) = entry else {
                continue;
            };
            match result {
                MutationResult::Applied {
                    rev,
                    record: body,
                    possible_duplicates,
                    ..
                } => {
                    tx.execute("DELETE FROM outbox WHERE mutation_id = ?1", params![id])?;
                    adopt_server_version(&tx, &kind, &record, *rev, body)?;
                    if !possible_duplicates.is_empty() {
                        record_possible_duplicates(&tx, &id, &kind, &record, possible_duplicates)?;
                        tally.notices += 1;
                    }
                    tally.applied += 1;
                }
                MutationResult::Conflict {
                    rev,
                    record: body,
                    conflicts,
                    ..
                } => {
                    tx.execute("DELETE FROM outbox WHERE mutation_id = ?1", params![id])?;
                    for c in conflicts {
                        tx.execute(
                            "INSERT INTO conflicts (kind, record_id, field, base, mine, theirs, server_rev, mutation_id, created_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                             ON CONFLICT (kind, record_id, field) DO UPDATE SET mine = excluded.mine,
                               theirs = excluded.theirs, server_rev = excluded.server_rev, mutation_id = excluded.mutation_id",
                            params![kind, record, c.field, c.base.to_string(), c.mine.to_string(), c.theirs.to_string(), *rev as i64, id, now()],
                        )?;
                    }
                    // The record becomes the registry's version; the person's clashing values live
                    // in the conflict rows until they choose.
                    adopt_server_version(&tx, &kind, &record, *rev, body)?;
                    tally.conflicts += 1;
                }
                MutationResult::Rejected {
                    problem,
                    message,
                    errors,
                    ..
                } => {
                    tx.execute(
                        "UPDATE outbox SET state = 'rejected', rejection = ?2 WHERE mutation_id = ?1",
                        params![id, json!({"problem": problem, "message": message, "errors": errors}).to_string()],
                    )?;
                    tally.rejected += 1;
                }
            }
        }
        tx.commit()?;
        Ok(tally)
    }
}
