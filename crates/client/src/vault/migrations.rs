//! The partition database schema, from `migrations/client/`, applied in order on open.
//!
//! The version lives in SQLite's `PRAGMA user_version`. A database whose version is newer than
//! this build knows is refused: an older app must never write into a newer schema.

use rusqlite::Connection;

use super::VaultError;

/// (version, SQL) in order. The version is the number in the file name.
const MIGRATIONS: &[(u32, &str)] = &[
    (
        1,
        include_str!("../../../../migrations/client/0001_partition_base.sql"),
    ),
    (
        2,
        include_str!("../../../../migrations/client/0002_documents_and_audit.sql"),
    ),
    (
        3,
        include_str!("../../../../migrations/client/0003_sync.sql"),
    ),
    (
        4,
        include_str!("../../../../migrations/client/0004_application_transitions.sql"),
    ),
    (
        5,
        include_str!("../../../../migrations/client/0005_notices.sql"),
    ),
];

/// The schema version this build writes.
pub const LATEST: u32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

pub fn current_version(conn: &Connection) -> Result<u32, VaultError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Bring the schema up to [`LATEST`]. Returns the version found before.
pub fn migrate(conn: &mut Connection) -> Result<u32, VaultError> {
    migrate_to(conn, LATEST)
}

/// Bring the schema up to `target` (tests use this to build databases of earlier versions).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32, VaultError> {
    migrate_with(conn, MIGRATIONS, target)
}

/// Apply `migrations` above the database's version, up to `target`, **all in one transaction**.
///
/// One transaction, not one per step: after an app update the new version migrates a partition
/// the old version wrote. If any step fails, nothing of the upgrade stays, so the file is exactly
/// what the old version left (it can still open it), and the error says which step failed.
fn migrate_with(
    conn: &mut Connection,
    migrations: &[(u32, &str)],
    target: u32,
) -> Result<u32, VaultError> {
    let found = current_version(conn)?;
    let known = migrations.last().map_or(0, |m| m.0);
    if found > known {
        return Err(VaultError::SchemaTooNew { found, known });
    }
    let pending: Vec<_> = migrations
        .iter()
        .filter(|(v, _)| *v > found && *v <= target)
        .collect();
    if pending.is_empty() {
        return Ok(found);
    }
    let tx = conn.transaction()?;
    for &&(version, sql) in &pending {
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .map_err(|e| VaultError::MigrationFailed {
                found,
                step: version,
                reason: e.to_string(),
            })?;
    }
    tx.commit()?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, (v, _)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*v as usize, i + 1);
        }
    }

    #[test]
    fn fresh_database_reaches_latest() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        assert_eq!(current_version(&conn).unwrap(), LATEST);
        assert_eq!(migrate(&mut conn).unwrap(), LATEST, "second run is a no-op");
    }

    /// A step that fails (here the third of three) leaves the database exactly as it was: the
    /// version the old app wrote, its data, none of the earlier steps' tables.
    #[test]
    fn a_failed_upgrade_keeps_the_old_schema_and_data() {
        let mut conn = Connection::open_in_memory().unwrap();
        let steps: &[(u32, &str)] = &[
            (
                1,
                "CREATE TABLE kept (x INTEGER); INSERT INTO kept VALUES (7);",
            ),
            (2, "CREATE TABLE added (y INTEGER);"),
            (3, "ALTER TABLE missing ADD COLUMN z INTEGER;"),
        ];
        migrate_with(&mut conn, steps, 1).unwrap();
        let err = migrate_with(&mut conn, steps, 3).unwrap_err();
        match &err {
            VaultError::MigrationFailed {
                found,
                step,
                reason,
            } => {
                assert_eq!((*found, *step), (1, 3));
                assert!(reason.contains("missing"), "{reason}");
            }
            other => panic!("expected MigrationFailed, got {other}"),
        }
        assert!(err.to_string().contains("nothing was changed"), "{err}");
        assert_eq!(current_version(&conn).unwrap(), 1);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'added'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "step 2 was rolled back with step 3");
        let x: i64 = conn
            .query_row("SELECT x FROM kept", [], |r| r.get(0))
            .unwrap();
        assert_eq!(x, 7);
    }
}
