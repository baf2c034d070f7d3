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
    let found = current_version(conn)?;
    if found > LATEST {
        return Err(VaultError::SchemaTooNew {
            found,
            known: LATEST,
        });
    }
    for &(version, sql) in MIGRATIONS
        .iter()
        .filter(|(v, _)| *v > found && *v <= target)
    {
        // Each migration and its version bump commit together, or not at all.
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
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
}
