//! One person's unlocked data: records, the outbox, drafts, documents and the audit log.
//!
//! A partition is a SQLCipher database (`data.db`) plus a `docs/` folder of encrypted files. All
//! writes go through one connection behind a mutex: one writer, by construction.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use doorstep_domain::document::DocumentKind;
use doorstep_domain::record::{Record, RecordKind};
use doorstep_domain::sync::SERVER_OWNED_FIELDS;
use doorstep_domain::timestamp;
use doorstep_domain::validate::Validate;
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::{self, AuditEntry, AuditReport};
use super::documents::{self, DocumentReader};
use super::keys::SecretKey;
use super::{atomic, db, VaultError};

mod stored_documents;

/// What a change does to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Create,
    Update,
    Delete,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }

    fn parse(text: &str) -> Result<Self, VaultError> {
        match text {
            "create" => Ok(Op::Create),
            "update" => Ok(Op::Update),
            "delete" => Ok(Op::Delete),
            other => Err(VaultError::Corrupt(format!(
                "unknown outbox operation {other:?}"
            ))),
        }
    }
}

/// A change to one record, as the UI (through the shell) asks for it.
#[derive(Debug, Clone)]
pub struct Change {
    /// Entity name, e.g. `individual`, `group`, `membership`.
    pub kind: String,
    pub id: Uuid,
    pub op: Op,
    /// The record's full new content (a JSON object); ignored for deletes.
    pub body: Value,
    /// Who makes the change: the signed-in person or the field agent.
    pub actor: String,
}

impl Change {
    /// A change carrying a domain record: kind and id come from the record, the body from its
    /// wire form. The record's rules are checked first, so an invalid record never reaches the
    /// vault (or the registry).
    pub fn of<T: Record + Validate + Serialize>(
        record: &T,
        op: Op,
        actor: &str,
    ) -> Result<Change, VaultError> {
        record.validate().map_err(VaultError::Invalid)?;
        Ok(Change {
            kind: T::KIND.as_str().to_owned(),
            id: *record.id().as_uuid(),
            op,
            body: serde_json::to_value(record)
                .map_err(|e| VaultError::InvalidInput(e.to_string()))?,
            actor: actor.to_owned(),
        })
    }
}

/// A record as stored on the device.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub kind: String,
    pub id: Uuid,
    pub body: Value,
    pub rev: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

/// A change waiting to be sent to the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub seq: i64,
    pub mutation_id: Uuid,
    pub kind: String,
    pub record_id: Uuid,
    pub op: Op,
    pub base_rev: Option<i64>,
    /// `{"set": {field: value, …}, "unset": [field, …]}` relative to the record before the change.
    pub changes: Value,
    pub created_at: String,
}

/// Metadata of a stored document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentInfo {
    pub id: Uuid,
    pub kind: String,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub record_id: Option<Uuid>,
    pub captured_at: String,
}

/// What the caller knows about a document before its bytes are read.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub kind: String,
    pub file_name: String,
    pub record_id: Option<Uuid>,
    pub actor: String,
    /// For a consent document: what the person agreed to and how.
    pub consent: Option<doorstep_domain::document::ConsentTerms>,
}

pub struct Partition {
    id: String,
    dir: PathBuf,
    conn: Mutex<Connection>,
}

pub(crate) const DB_FILE: &str = "data.db";
pub(crate) const DOCS_DIR: &str = "docs";

pub(super) fn now() -> String {
    timestamp::format(OffsetDateTime::now_utc())
}

/// Keep [`Partition::records_generation`]: a counter in a TEMP table (in memory, this
/// connection's only, nothing on disk) that TEMP triggers bump on every write to `records`.
/// Triggers, not code at each write path, so no path can forget it; in the same transaction as
/// the write, so a rolled-back write leaves it as it was.
fn count_record_writes(conn: &Connection) -> Result<(), VaultError> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS records_generation (n INTEGER NOT NULL);
         INSERT INTO temp.records_generation (n) SELECT 0
             WHERE NOT EXISTS (SELECT 1 FROM temp.records_generation);
         CREATE TEMP TRIGGER IF NOT EXISTS records_generation_insert AFTER INSERT ON main.records
             BEGIN UPDATE records_generation SET n = n + 1; END;
         CREATE TEMP TRIGGER IF NOT EXISTS records_generation_update AFTER UPDATE ON main.records
             BEGIN UPDATE records_generation SET n = n + 1; END;
         CREATE TEMP TRIGGER IF NOT EXISTS records_generation_delete AFTER DELETE ON main.records
             BEGIN UPDATE records_generation SET n = n + 1; END;",
    )?;
    Ok(())
}

/// Only the domain model's record kinds are stored.
fn check_kind(kind: &str) -> Result<(), VaultError> {
    RecordKind::ALL
        .iter()
        .any(|k| k.as_str() == kind)
        .then_some(())
        .ok_or_else(|| {
            VaultError::InvalidInput(format!("{kind:?} is not a kind of record Doorstep keeps"))
        })
}

/// Field-level difference between two JSON objects, with the values before (the sync protocol's
/// change set: the server merges field by field against those base values).
fn field_changes(before: Option<&Map<String, Value>>, after: &Map<String, Value>) -> Value {
    let before = before.map(|b| Value::Object(b.clone()));
    let changes = doorstep_domain::sync::diff(before.as_ref(), &Value::Object(after.clone()));
    serde_json::to_value(changes).expect("change sets serialise")
}

impl Partition {
    /// Open the partition in `dir` with its data key.
    pub(crate) fn open(id: &str, dir: &Path, key: &SecretKey) -> Result<Self, VaultError> {
        Self::with_connection(id, dir, |path| db::open_encrypted(path, key))
    }

    /// The same partition code on an unencrypted database, so the benchmark can measure what
    /// encryption costs. Never used for user data.
    #[doc(hidden)]
    pub fn open_unencrypted_for_benchmark(dir: &Path) -> Result<Self, VaultError> {
        atomic::create_private_dir(dir).map_err(|e| VaultError::io("create a folder", dir, e))?;
        Self::with_connection("benchmark", dir, db::open_plain_for_benchmark)
    }

    fn with_connection(
        id: &str,
        dir: &Path,
        open: impl FnOnce(&Path) -> Result<Connection, VaultError>,
    ) -> Result<Self, VaultError> {
        let docs = dir.join(DOCS_DIR);
        atomic::create_private_dir(&docs)
            .map_err(|e| VaultError::io("create the documents folder", &docs, e))?;
        let conn = open(&dir.join(DB_FILE))?;
        count_record_writes(&conn)?;
        let partition = Partition {
            id: id.to_owned(),
            dir: dir.to_owned(),
            conn: Mutex::new(conn),
        };
        partition.sweep_documents()?;
        Ok(partition)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A number that changes whenever a record is written (by the person, by sync, by a
    /// resolution), so what is derived from the records (the agent's caseload index) knows when
    /// it is stale. Counts from 0 each time the partition is opened.
    pub fn records_generation(&self) -> Result<i64, VaultError> {
        Ok(self
            .conn()
            .query_row("SELECT n FROM temp.records_generation", [], |r| r.get(0))?)
    }

    pub(super) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll back),
        // so a poisoned lock is still safe to use.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Apply `change`, queue it for the registry and log it, all in one transaction.
    /// Returns the mutation id (the idempotency key the server will see).
    pub fn apply(&self, change: &Change) -> Result<Uuid, VaultError> {
        Ok(self.apply_batch(std::slice::from_ref(change))?[0])
    }

    /// Apply several changes atomically (a new household with its members, a page of records):
    /// all of them or none.
    pub fn apply_batch(&self, changes: &[Change]) -> Result<Vec<Uuid>, VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let ids = apply_all(&tx, changes)?;
        tx.commit()?;
        Ok(ids)
    }

    /// Finish a draft: apply `changes` and discard the draft under `draft_key`, in one
    /// transaction, so a crash can neither lose the records nor leave the draft to be saved
    /// twice. `attach` lists documents kept on this device alone until now, each with the
    /// record it now belongs to: their registry record is among `changes` (see
    /// [`Partition::document_record_for`]); here their bytes are queued for upload.
    pub fn apply_batch_and_discard_draft(
        &self,
        changes: &[Change],
        draft_key: &str,
        attach: &[(Uuid, Uuid)],
    ) -> Result<Vec<Uuid>, VaultError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let ids = apply_all(&tx, changes)?;
        for (document, linked) in attach {
            let attached = tx.execute(
                "UPDATE documents SET record_id = ?2 WHERE id = ?1 AND record_id IS NULL",
                params![document.to_string(), linked.to_string()],
            )?;
            if attached != 1 {
                return Err(VaultError::InvalidInput(format!(
                    "document {document} is not a document kept on this device alone"
                )));
            }
            tx.execute(
                "INSERT INTO uploads (document_id) VALUES (?1)",
                params![document.to_string()],
            )?;
        }
        tx.execute("DELETE FROM drafts WHERE key = ?1", [draft_key])?;
        tx.commit()?;
        Ok(ids)
    }

    pub fn record(&self, kind: &str, id: Uuid) -> Result<Option<StoredRecord>, VaultError> {
        let conn = self.conn();
        conn.query_row(
            "SELECT kind, id, body, rev, created_at, updated_at, deleted_at FROM records WHERE kind = ?1 AND id = ?2",
            params![kind, id.to_string()],
            read_record,
        )
        .optional()?
        .transpose()
    }

    /// A stored domain record, decoded. `None` if absent or deleted.
    pub fn get<T: Record + DeserializeOwned>(&self, id: Uuid) -> Result<Option<T>, VaultError> {
        let Some(stored) = self.record(T::KIND.as_str(), id)? else {
            return Ok(None);
        };
        if stored.deleted_at.is_some() {
            return Ok(None);
        }
        serde_json::from_value(stored.body)
            .map(Some)
            .map_err(|e| VaultError::Corrupt(format!("{} {id}: {e}", T::KIND.as_str())))
    }

    /// Every live (not deleted) record of `kind`, oldest first.
    pub fn records(&self, kind: &str) -> Result<Vec<StoredRecord>, VaultError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT kind, id, body, rev, created_at, updated_at, deleted_at FROM records
             WHERE kind = ?1 AND deleted_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([kind], read_record)?;
        rows.map(|r| r?).collect()
    }

    /// Pending mutations in the order they must be sent.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, VaultError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT seq, mutation_id, kind, record_id, op, base_rev, changes, created_at FROM outbox ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, mutation_id, kind, record_id, op, base_rev, changes, created_at) = row?;
            Ok(OutboxEntry {
                seq,
                mutation_id: parse_uuid(&mutation_id)?,
                kind,
                record_id: parse_uuid(&record_id)?,
                op: Op::parse(&op)?,
                base_rev,
                changes: serde_json::from_str(&changes)
                    .map_err(|e| VaultError::Corrupt(e.to_string()))?,
                created_at,
            })
        })
        .collect()
    }

    /// Save (replace) the draft under `key`. Called by the UI at most about once a second while
    /// the person types, so a crash loses at most the last keystrokes.
    pub fn save_draft(&self, key: &str, data: &Value) -> Result<(), VaultError> {
        if key.is_empty() || key.len() > 200 {
            return Err(VaultError::InvalidInput(
                "a draft key must be 1 to 200 characters".into(),
            ));
        }
        self.conn().execute(
            "INSERT INTO drafts (key, data, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            params![key, data.to_string(), now()],
        )?;
        Ok(())
    }

    pub fn draft(&self, key: &str) -> Result<Option<Value>, VaultError> {
        let text: Option<String> = self
            .conn()
            .query_row("SELECT data FROM drafts WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| VaultError::Corrupt(e.to_string())))
            .transpose()
    }

    /// Every draft whose key starts with `prefix`, as (key, data, updated at), newest first.
    pub fn drafts_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, Value, String)>, VaultError> {
        let conn = self.conn();
        // substr, not LIKE: a prefix holding `%` or `_` means itself.
        let mut stmt = conn.prepare(
            "SELECT key, data, updated_at FROM drafts
             WHERE substr(key, 1, length(?1)) = ?1 ORDER BY updated_at DESC, key",
        )?;
        let rows = stmt.query_map([prefix], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })?;
        rows.map(|row| {
            let (key, data, at) = row?;
            let data =
                serde_json::from_str(&data).map_err(|e| VaultError::Corrupt(e.to_string()))?;
            Ok((key, data, at))
        })
        .collect()
    }

    pub fn discard_draft(&self, key: &str) -> Result<bool, VaultError> {
        Ok(self
            .conn()
            .execute("DELETE FROM drafts WHERE key = ?1", [key])?
            > 0)
    }

    /// The changes made on this device since `since` (RFC 3339 UTC) and what became of each.
    pub fn changes_since(&self, since: &str) -> Result<Vec<audit::MadeChange>, VaultError> {
        audit::changes_since(&self.conn(), since)
    }

    pub fn verify_audit_log(&self) -> Result<AuditReport, VaultError> {
        audit::verify(&self.conn())
    }

    /// Move everything from the write-ahead log into the database file and empty the log, so the
    /// file alone holds every commit (before an update replaces the app; see app::updates).
    pub fn checkpoint(&self) -> Result<(), VaultError> {
        let conn = self.conn();
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy != 0 {
            return Err(VaultError::Corrupt(
                "the write-ahead log could not be checkpointed (a reader held it)".into(),
            ));
        }
        Ok(())
    }

    /// SQLite's own consistency check of the whole database.
    pub fn integrity_check(&self) -> Result<(), VaultError> {
        let result: String = self
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        (result == "ok")
            .then_some(())
            .ok_or(VaultError::Corrupt(format!("integrity check: {result}")))
    }
}

/// Every change inside the caller's transaction, in order, stamped with one time.
fn apply_all(tx: &rusqlite::Transaction<'_>, changes: &[Change]) -> Result<Vec<Uuid>, VaultError> {
    let at = now();
    changes.iter().map(|c| apply_in(tx, c, &at)).collect()
}

/// One change inside the caller's transaction: the record, its outbox entry, its audit entry.
pub(super) fn apply_in(
    tx: &rusqlite::Transaction<'_>,
    change: &Change,
    at: &str,
) -> Result<Uuid, VaultError> {
    check_kind(&change.kind)?;
    let after = match (&change.op, &change.body) {
        (Op::Delete, _) => None,
        (_, Value::Object(map)) => Some(map),
        _ => {
            return Err(VaultError::InvalidInput(
                "a record's content must be a JSON object".into(),
            ))
        }
    };
    let existing: Option<(String, Option<i64>, Option<String>)> = tx
        .query_row(
            "SELECT body, rev, deleted_at FROM records WHERE kind = ?1 AND id = ?2",
            params![change.kind, change.id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let live = existing
        .as_ref()
        .filter(|(_, _, deleted)| deleted.is_none());
    let before: Option<Map<String, Value>> = live
        .map(|(body, _, _)| serde_json::from_str(body))
        .transpose()
        .map_err(|e| VaultError::Corrupt(e.to_string()))?;
    let base_rev = existing.as_ref().and_then(|(_, rev, _)| *rev);
    let id = change.id.to_string();
    if change.op == Op::Create && change.id.get_version_num() != 7 {
        // Time-ordered ids keep inserts local in the B-tree and let the server order records.
        return Err(VaultError::InvalidInput(format!(
            "new record ids must be UUIDv7, got {id}"
        )));
    }

    let changes = match (change.op, live, after) {
        (Op::Create, None, Some(after)) if existing.is_none() => {
            tx.execute(
                "INSERT INTO records (kind, id, body, rev, created_at, updated_at) VALUES (?1, ?2, ?3, NULL, ?4, ?4)",
                params![change.kind, id, change.body.to_string(), at],
            )?;
            field_changes(None, after)
        }
        (Op::Update, Some(_), Some(after)) => {
            // The fields the registry owns keep their stored values. An edit made on a copy read
            // before a sync adopted the registry's version of the record (which carries the
            // registry's `created_by`, `rev`…) would otherwise send them back as changes, and
            // the registry refuses any change to them.
            let mut after = after.clone();
            if let Some(before) = &before {
                for field in SERVER_OWNED_FIELDS {
                    match before.get(field) {
                        Some(value) => after.insert(field.to_owned(), value.clone()),
                        None => after.remove(field),
                    };
                }
            }
            tx.execute(
                "UPDATE records SET body = ?3, updated_at = ?4 WHERE kind = ?1 AND id = ?2",
                params![
                    change.kind,
                    id,
                    Value::Object(after.clone()).to_string(),
                    at
                ],
            )?;
            field_changes(before.as_ref(), &after)
        }
        (Op::Delete, Some(_), _) => {
            tx.execute(
                "UPDATE records SET deleted_at = ?3, updated_at = ?3 WHERE kind = ?1 AND id = ?2",
                params![change.kind, id, at],
            )?;
            json!({ "set": {}, "unset": [] })
        }
        (Op::Create, _, _) => {
            return Err(VaultError::InvalidInput(format!(
                "{} {id} already exists",
                change.kind
            )))
        }
        (_, None, _) => return Err(VaultError::NotFound(format!("{} {id}", change.kind))),
        (Op::Update, Some(_), None) => unreachable!("non-delete ops have a body, checked above"),
    };
    let mutation_id = Uuid::now_v7();
    tx.execute(
        "INSERT INTO outbox (mutation_id, kind, record_id, op, base_rev, changes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![mutation_id.to_string(), change.kind, id, change.op.as_str(), base_rev, changes.to_string(), at],
    )?;
    let fields: BTreeSet<&str> = changes["set"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys().map(String::as_str))
        .chain(
            changes["unset"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        )
        .collect();
    audit::append(
        tx,
        &AuditEntry {
            at: at.to_owned(),
            actor: change.actor.clone(),
            action: change.op.as_str().to_owned(),
            kind: change.kind.clone(),
            record_id: id,
            detail: json!({ "fields": fields, "mutation": mutation_id.to_string() }),
        },
    )?;
    Ok(mutation_id)
}

fn read_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<StoredRecord, VaultError>> {
    let id: String = r.get(1)?;
    let body: String = r.get(2)?;
    let kind: String = r.get(0)?;
    let (rev, created_at, updated_at, deleted_at) = (r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?);
    Ok((|| {
        Ok(StoredRecord {
            kind,
            id: parse_uuid(&id)?,
            body: serde_json::from_str(&body).map_err(|e| VaultError::Corrupt(e.to_string()))?,
            rev,
            created_at,
            updated_at,
            deleted_at,
        })
    })())
}

pub(super) fn parse_uuid(text: &str) -> Result<Uuid, VaultError> {
    text.parse()
        .map_err(|_| VaultError::Corrupt(format!("{text:?} is not an id")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_changes_lists_set_and_unset() {
        let before = json!({"a": 1, "b": 2, "c": 3});
        let after = json!({"a": 1, "b": 5, "d": 4});
        let diff = field_changes(before.as_object(), after.as_object().unwrap());
        assert_eq!(
            diff,
            json!({"set": {"b": 5, "d": 4}, "unset": ["c"], "base": {"b": 2, "c": 3}})
        );
    }
}
