//! Conflicts and refusals waiting for a person, and settling them.

use std::collections::BTreeMap;

use doorstep_domain::sync::{ChangeSet, FieldConflict, MutationOp};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::CURSOR;
use crate::vault::partition::{now, Partition};
use crate::vault::VaultError;

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

impl Partition {
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
        crate::vault::audit::append(
            &tx,
            &crate::vault::audit::AuditEntry {
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
