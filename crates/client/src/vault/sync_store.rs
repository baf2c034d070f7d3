//! The vault's side of sync: what to push, what the registry answered, pulled pages, conflicts.
//!
//! Every step that changes more than one row is one transaction, so a crash between sending and
//! hearing back, or halfway through a pulled page, leaves the vault as it was before that step;
//! the next sync repeats it and the registry's exactly-once rule absorbs the repeat.

use std::collections::BTreeMap;

use doorstep_domain::sync::{
    ChangeSet, FieldConflict, Mutation, MutationOp, MutationResult, PulledRecord,
};
use doorstep_domain::RecordKind;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::partition::{now, Partition};
use super::VaultError;

const CURSOR: &str = "cursor";
const LAST_SUCCESS: &str = "last_success";

/// A conflict waiting for a person, one field of one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredConflict {
    pub kind: String,
    pub record_id: Uuid,
    pub server_rev: u64,
    pub conflict: FieldConflict,
}

/// What the person chose for one conflicting field.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    Mine,
    Theirs,
    /// A value they typed, merging both.
    Value(Value),
}

/// A mutation the registry refused, kept for the person to see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    pub mutation_id: Uuid,
    pub kind: String,
    pub record_id: Uuid,
    pub problem: String,
    pub message: String,
}

/// How many of each outcome one push page had.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PushTally {
    pub applied: usize,
    pub conflicts: usize,
    pub rejected: usize,
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

    /// Record the registry's answers to pushed mutations, in one transaction.
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
                    rev, record: body, ..
                } => {
                    tx.execute("DELETE FROM outbox WHERE mutation_id = ?1", params![id])?;
                    adopt_server_version(&tx, &kind, &record, *rev, body)?;
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

    /// Apply one pulled page and move the cursor, in one transaction. A record with changes
    /// still waiting to be sent keeps the device's version (the push will merge it).
    pub fn apply_pull(&self, records: &[PulledRecord], cursor: &str) -> Result<usize, VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut applied = 0;
        for r in records {
            let kind = r.kind.as_str();
            let id = r.id.to_string();
            let waiting: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = ?1 AND record_id = ?2 AND state = 'pending')
                     OR EXISTS (SELECT 1 FROM conflicts WHERE kind = ?1 AND record_id = ?2)",
                params![kind, id],
                |row| row.get(0),
            )?;
            if waiting {
                continue;
            }
            write_server_version(&tx, kind, &id, r.rev, &r.body, r.deleted)?;
            applied += 1;
        }
        set_state(&tx, CURSOR, cursor)?;
        tx.commit()?;
        Ok(applied)
    }

    /// Where the next pull starts (`None`: from the beginning).
    pub fn sync_cursor(&self) -> Result<Option<String>, VaultError> {
        get_state(&self.conn(), CURSOR)
    }

    /// Forget the cursor (the registry said it is from elsewhere): the next pull starts over.
    pub fn reset_sync_cursor(&self) -> Result<(), VaultError> {
        self.conn()
            .execute("DELETE FROM sync_state WHERE key = ?1", params![CURSOR])?;
        Ok(())
    }

    /// Note a sync that ended without error.
    pub fn mark_sync_success(&self, at: &str) -> Result<(), VaultError> {
        set_state(&self.conn(), LAST_SUCCESS, at)
    }

    /// When the last sync ended without error.
    pub fn last_sync_success(&self) -> Result<Option<String>, VaultError> {
        get_state(&self.conn(), LAST_SUCCESS)
    }

    /// Conflicts waiting for a person, oldest first.
    pub fn conflicts(&self) -> Result<Vec<StoredConflict>, VaultError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT kind, record_id, field, base, mine, theirs, server_rev FROM conflicts ORDER BY created_at, kind, record_id, field",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })?;
        rows.map(|row| {
            let (kind, record, field, base, mine, theirs, rev) = row?;
            let json =
                |t: &str| serde_json::from_str(t).map_err(|e| VaultError::Corrupt(e.to_string()));
            Ok(StoredConflict {
                kind,
                record_id: record
                    .parse()
                    .map_err(|_| VaultError::Corrupt("conflict record id".into()))?,
                server_rev: rev as u64,
                conflict: FieldConflict {
                    field,
                    base: json(&base)?,
                    mine: json(&mine)?,
                    theirs: json(&theirs)?,
                },
            })
        })
        .collect()
    }

    /// Mutations the registry refused, with its reasons.
    pub fn rejections(&self) -> Result<Vec<Rejection>, VaultError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT mutation_id, kind, record_id, rejection FROM outbox WHERE state = 'rejected' ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (id, kind, record, rejection) = row?;
            let reason: Value = rejection
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| VaultError::Corrupt(e.to_string()))?
                .unwrap_or(Value::Null);
            Ok(Rejection {
                mutation_id: id
                    .parse()
                    .map_err(|_| VaultError::Corrupt("outbox id".into()))?,
                kind,
                record_id: record
                    .parse()
                    .map_err(|_| VaultError::Corrupt("outbox record".into()))?,
                problem: reason["problem"].as_str().unwrap_or("").to_owned(),
                message: reason["message"].as_str().unwrap_or("").to_owned(),
            })
        })
        .collect()
    }

    /// Settle every open conflict of one record with the person's choices (one per field; a
    /// field without a choice keeps theirs). The result is a new local change made on the
    /// registry's current revision, queued like any other edit.
    pub fn resolve_conflicts(
        &self,
        kind: &str,
        record_id: Uuid,
        choices: &BTreeMap<String, Choice>,
        actor: &str,
    ) -> Result<Option<Uuid>, VaultError> {
        let open: Vec<StoredConflict> = self
            .conflicts()?
            .into_iter()
            .filter(|c| c.kind == kind && c.record_id == record_id)
            .collect();
        let Some(first) = open.first() else {
            return Err(VaultError::NotFound(format!(
                "no conflict on {kind} {record_id}"
            )));
        };
        let server_rev = first.server_rev;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let (body, deleted): (String, Option<String>) = tx.query_row(
            "SELECT body, deleted_at FROM records WHERE kind = ?1 AND id = ?2",
            params![kind, record_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let theirs_record: Value =
            serde_json::from_str(&body).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        let mut mine_record = theirs_record.clone();
        let mut delete = false;
        for c in &open {
            let chosen = match choices.get(&c.conflict.field).unwrap_or(&Choice::Theirs) {
                Choice::Mine => c.conflict.mine.clone(),
                Choice::Theirs => c.conflict.theirs.clone(),
                Choice::Value(v) => v.clone(),
            };
            apply_choice(&mut mine_record, &c.conflict.field, chosen, &mut delete);
        }
        let op = match (delete, deleted.is_some()) {
            (true, _) => MutationOp::Delete,
            (false, true) => {
                // Restoring a record deleted on the registry.
                if let Some(o) = mine_record.as_object_mut() {
                    o.insert("deleted_at".into(), Value::Null);
                }
                MutationOp::Update
            }
            (false, false) => MutationOp::Update,
        };
        let changes = match op {
            MutationOp::Delete => ChangeSet::default(),
            _ => doorstep_domain::sync::diff(Some(&theirs_record), &mine_record),
        };
        tx.execute(
            "DELETE FROM conflicts WHERE kind = ?1 AND record_id = ?2",
            params![kind, record_id.to_string()],
        )?;
        let at = now();
        let mutation = if op == MutationOp::Update
            && changes.set.is_empty()
            && changes.unset.is_empty()
        {
            None // They chose the registry's version throughout: nothing to send.
        } else {
            let id = Uuid::now_v7();
            tx.execute(
                "INSERT INTO outbox (mutation_id, kind, record_id, op, base_rev, changes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id.to_string(), kind, record_id.to_string(), op_name(op), server_rev as i64,
                        serde_json::to_string(&changes).expect("change sets serialise"), at],
            )?;
            let (new_body, deleted_at) = match op {
                MutationOp::Delete => (theirs_record.to_string(), Some(at.clone())),
                _ => (mine_record.to_string(), None),
            };
            tx.execute(
                "UPDATE records SET body = ?3, deleted_at = ?4, updated_at = ?5 WHERE kind = ?1 AND id = ?2",
                params![kind, record_id.to_string(), new_body, deleted_at, at],
            )?;
            Some(id)
        };
        super::audit::append(
            &tx,
            &super::audit::AuditEntry {
                at: at.clone(),
                actor: actor.to_owned(),
                action: "resolve".into(),
                kind: kind.to_owned(),
                record_id: record_id.to_string(),
                detail: json!({ "fields": open.iter().map(|c| c.conflict.field.clone()).collect::<Vec<_>>(),
                                "mutation": mutation.map(|m| m.to_string()) }),
            },
        )?;
        tx.commit()?;
        Ok(mutation)
    }

    /// Drop a refused mutation; the record goes back to the registry's version at the next pull.
    pub fn discard_rejected(&self, mutation_id: Uuid) -> Result<(), VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let record: Option<(String, String)> = tx
            .query_row(
                "SELECT kind, record_id FROM outbox WHERE mutation_id = ?1 AND state = 'rejected'",
                params![mutation_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((kind, record)) = record else {
            return Err(VaultError::NotFound(format!(
                "refused change {mutation_id}"
            )));
        };
        tx.execute(
            "DELETE FROM outbox WHERE mutation_id = ?1",
            params![mutation_id.to_string()],
        )?;
        // Pull the registry's version again from the start of this record's history.
        tx.execute("DELETE FROM sync_state WHERE key = ?1", params![CURSOR])?;
        let _ = (kind, record);
        tx.commit()?;
        Ok(())
    }
}

fn op_name(op: MutationOp) -> &'static str {
    match op {
        MutationOp::Create => "create",
        MutationOp::Update => "update",
        MutationOp::Delete => "delete",
    }
}

/// Put one chosen value into the record: a top-level field, one element of a list merged by id
/// (`phones[<id>]`), or the whole record (`*`: `Null` means deleted).
fn apply_choice(record: &mut Value, field: &str, chosen: Value, delete: &mut bool) {
    if field == "*" {
        if chosen.is_null() {
            *delete = true;
        } else {
            *record = chosen;
        }
        return;
    }
    let Some(object) = record.as_object_mut() else {
        return;
    };
    if let Some((list, rest)) = field.split_once('[') {
        let element = rest.trim_end_matches(']');
        let items = object
            .entry(list.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = items {
            let at = items
                .iter()
                .position(|i| i.get("id").and_then(Value::as_str) == Some(element));
            match (at, chosen.is_null()) {
                (Some(i), true) => {
                    items.remove(i);
                }
                (Some(i), false) => items[i] = chosen,
                (None, false) => items.push(chosen),
                (None, true) => {}
            }
        }
    } else if chosen.is_null() {
        object.remove(field);
    } else {
        object.insert(field.to_owned(), chosen);
    }
}

/// After an acknowledged push: take the registry's version unless more local changes of the
/// record still wait to be sent (their own merge will bring them together).
fn adopt_server_version(
    tx: &rusqlite::Transaction<'_>,
    kind: &str,
    id: &str,
    rev: u64,
    body: &Value,
) -> Result<(), VaultError> {
    let waiting: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = ?1 AND record_id = ?2 AND state = 'pending')",
        params![kind, id],
        |r| r.get(0),
    )?;
    if waiting {
        tx.execute(
            "UPDATE records SET rev = ?3 WHERE kind = ?1 AND id = ?2",
            params![kind, id, rev as i64],
        )?;
        return Ok(());
    }
    let deleted = body.get("deleted_at").is_some_and(|d| !d.is_null());
    write_server_version(tx, kind, id, rev, body, deleted)
}

fn write_server_version(
    tx: &rusqlite::Transaction<'_>,
    kind: &str,
    id: &str,
    rev: u64,
    body: &Value,
    deleted: bool,
) -> Result<(), VaultError> {
    let at = now();
    let deleted_at = deleted.then(|| {
        body.get("deleted_at")
            .and_then(Value::as_str)
            .unwrap_or(&at)
            .to_owned()
    });
    tx.execute(
        "INSERT INTO records (kind, id, body, rev, created_at, updated_at, deleted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)
         ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, rev = excluded.rev,
           updated_at = excluded.updated_at, deleted_at = excluded.deleted_at",
        params![kind, id, body.to_string(), rev as i64, at, deleted_at],
    )?;
    Ok(())
}

fn get_state(conn: &rusqlite::Connection, key: &str) -> Result<Option<String>, VaultError> {
    Ok(conn
        .query_row(
            "SELECT value FROM sync_state WHERE key = ?1",
            params![key],
            |r| r.get(0),
        )
        .optional()?)
}

fn set_state(conn: &rusqlite::Connection, key: &str, value: &str) -> Result<(), VaultError> {
    conn.execute(
        "INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// A document whose bytes still have to reach the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub document_id: Uuid,
    /// The registry's upload URL, once the upload was created there.
    pub url: Option<String>,
    pub offset: u64,
    pub size_bytes: u64,
    pub sha256: String,
    pub file_name: String,
}

impl Partition {
    /// Documents whose metadata the registry has (the record has a revision) but whose bytes it
    /// does not have yet.
    pub fn pending_uploads(&self) -> Result<Vec<PendingUpload>, VaultError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT u.document_id, u.url, u.offset, d.size_bytes, d.sha256, d.file_name
             FROM uploads u JOIN documents d ON d.id = u.document_id
             JOIN records r ON r.kind = 'document' AND r.id = u.document_id
             WHERE u.done = 0 AND r.rev IS NOT NULL ORDER BY u.document_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (id, url, offset, size, sha256, file_name) = row?;
            Ok(PendingUpload {
                document_id: id
                    .parse()
                    .map_err(|_| VaultError::Corrupt("upload document id".into()))?,
                url,
                offset: offset as u64,
                size_bytes: size as u64,
                sha256,
                file_name,
            })
        })
        .collect()
    }

    /// Remember how far an upload got (called after every acknowledged chunk).
    pub fn record_upload(
        &self,
        document: Uuid,
        url: Option<&str>,
        offset: u64,
        done: bool,
    ) -> Result<(), VaultError> {
        self.conn().execute(
            "UPDATE uploads SET url = ?2, offset = ?3, done = ?4 WHERE document_id = ?1",
            params![document.to_string(), url, offset as i64, done],
        )?;
        Ok(())
    }
}
