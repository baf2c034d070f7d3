//! The vault's side of sync: what to push, what the registry answered, pulled pages, conflicts.
//!
//! Every step that changes more than one row is one transaction, so a crash between sending and
//! hearing back, or halfway through a pulled page, leaves the vault as it was before that step;
//! the next sync repeats it and the registry's exactly-once rule absorbs the repeat.
//!
//! - `push.rs`: the mutations waiting to be sent, and recording the registry's answers;
//! - `pull.rs`: applying pulled pages, the cursor, when the last sync succeeded;
//! - `conflicts.rs`: conflicts and refusals waiting for a person, and settling them;
//! - `uploads.rs`: documents whose bytes still have to reach the registry;
//! - `unsent.rs`: counts of what only this device holds (kept outside, for a lost passphrase);
//! - `notices.rs`: what the registry told about a pushed record (a possible duplicate), until
//!   the person dismisses it;
//! - here: the sync state table and writing the registry's version of a record, which all share.

mod conflicts;
mod notices;
mod pull;
mod push;
mod unsent;
mod uploads;

pub use conflicts::{Choice, Rejection, StoredConflict};
pub use notices::{Notice, POSSIBLE_DUPLICATE};
pub use push::PushTally;
pub use unsent::{KindCount, UnsentSummary};
pub use uploads::PendingUpload;

use rusqlite::{params, OptionalExtension};
use serde_json::Value;

use crate::vault::partition::now;
use crate::vault::VaultError;

const CURSOR: &str = "cursor";
const LAST_SUCCESS: &str = "last_success";

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
