//! The device audit log: who changed what on this device, append-only and hash-chained.
//!
//! Entry `n` stores `hash_n = SHA-256(hash_{n-1} ‖ canonical entry n)`, with `hash_0` all zeros.
//! Editing, removing or reordering any entry changes every later hash, which [`verify`] detects.
//! (The database also forbids UPDATE and DELETE on the table with triggers.)

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::VaultError;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub kind: String,
    pub record_id: String,
    /// What changed, without the values themselves (field names, sizes).
    pub detail: Value,
}

impl AuditEntry {
    /// The exact bytes hashed: fields in a fixed order, separated by a byte that cannot occur in
    /// them (`\x1f`, unit separator), the detail as compact JSON with sorted keys.
    fn canonical(&self) -> Vec<u8> {
        let detail = serde_json::to_string(&sorted(&self.detail)).expect("JSON serialises");
        [
            &self.at,
            &self.actor,
            &self.action,
            &self.kind,
            &self.record_id,
            &detail,
        ]
        .map(|s| s.as_bytes())
        .join(&0x1f)
    }
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<_> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn chain(prev_hash: &str, entry: &AuditEntry) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(entry.canonical());
    hex::encode(h.finalize())
}

/// A change made on this device, as the audit log and the outbox tell it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeChange {
    pub kind: String,
    pub record_id: String,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// Still in the outbox: `pending`, `rejected`; `None` once the registry took it.
    pub outbox_state: Option<String>,
}

/// The changes made on this device at or after `since` (RFC 3339; compared as instants), oldest
/// first, each with what became of it: one read joining the audit log to the outbox by the
/// mutation id each entry records.
pub fn changes_since(conn: &Connection, since: &str) -> Result<Vec<MadeChange>, VaultError> {
    let mut stmt = conn.prepare(
        "SELECT a.kind, a.record_id, a.action, o.state
         FROM audit_log a
         LEFT JOIN outbox o ON o.mutation_id = json_extract(a.detail, '$.mutation')
         WHERE julianday(a.at) >= julianday(?1) AND a.action IN ('create', 'update', 'delete')
         ORDER BY a.seq",
    )?;
    let rows = stmt.query_map([since], |r| {
        Ok(MadeChange {
            kind: r.get(0)?,
            record_id: r.get(1)?,
            action: r.get(2)?,
            outbox_state: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Append `entry` inside the caller's transaction (the same one as the change it describes).
pub fn append(tx: &Transaction<'_>, entry: &AuditEntry) -> Result<(), VaultError> {
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = last
        .map(|(s, h)| (s + 1, h))
        .unwrap_or((1, GENESIS.to_owned()));
    let hash = chain(&prev, entry);
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor, action, kind, record_id, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.kind,
            entry.record_id,
            entry.detail.to_string(),
            prev,
            hash
        ],
    )?;
    Ok(())
}

/// Result of checking the whole chain.
#[derive(Debug, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
}

/// Recompute every hash from the first entry on.
pub fn verify(conn: &Connection) -> Result<AuditReport, VaultError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, kind, record_id, detail, prev_hash, hash FROM audit_log ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1i64;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let detail: String = row.get(6)?;
        let entry = AuditEntry {
            at: row.get(1)?,
            actor: row.get(2)?,
            action: row.get(3)?,
            kind: row.get(4)?,
            record_id: row.get(5)?,
            detail: serde_json::from_str(&detail).map_err(|e| VaultError::AuditBroken {
                seq,
                reason: e.to_string(),
            })?,
        };
        let (stored_prev, stored_hash): (String, String) = (row.get(7)?, row.get(8)?);
        if seq != expected_seq {
            return Err(VaultError::AuditBroken {
                seq,
                reason: format!("expected entry {expected_seq}"),
            });
        }
        if stored_prev != prev || stored_hash != chain(&prev, &entry) {
            return Err(VaultError::AuditBroken {
                seq,
                reason: "hash does not match the entry".into(),
            });
        }
        prev = stored_hash;
        expected_seq += 1;
    }
    Ok(AuditReport {
        entries: (expected_seq - 1) as u64,
    })
}
