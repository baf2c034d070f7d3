//! Opening a partition's SQLCipher database.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::keys::SecretKey;
use super::{migrations, VaultError};

/// Open (creating if needed) the encrypted database at `path` with `key`, set it up, and migrate
/// it to the latest schema.
pub fn open_encrypted(path: &Path, key: &SecretKey) -> Result<Connection, VaultError> {
    let mut conn = open_file(path)?;
    // The raw-key form: SQLCipher uses these 32 bytes directly, no KDF of its own.
    conn.execute_batch(&format!(
        "PRAGMA key = \"{}\";",
        key.sqlcipher_literal().as_str()
    ))?;
    // A wrong key only shows when the first page is read.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            return Err(VaultError::WrongKey);
        }
        Err(e) => return Err(e.into()),
    }
    configure(&conn)?;
    let found = migrations::migrate(&mut conn)?;
    if found != 0 && found < migrations::LATEST {
        // After an app update: worth a line for support (no personal data in it).
        tracing::info!(
            from = found,
            to = migrations::LATEST,
            "the data's schema was brought up to date"
        );
    }
    Ok(conn)
}

/// Open an unencrypted database with the same settings and schema. Only the benchmark uses this,
/// to measure what encryption costs; user data is never stored this way.
pub fn open_plain_for_benchmark(path: &Path) -> Result<Connection, VaultError> {
    let mut conn = open_file(path)?;
    configure(&conn)?;
    migrations::migrate(&mut conn)?;
    Ok(conn)
}

fn open_file(path: &Path) -> Result<Connection, VaultError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(path, flags).map_err(|e| VaultError::Open {
        path: path.to_owned(),
        source: e,
    })
}

/// Settings every partition connection uses, and why:
/// - WAL: readers never block the writer; a crash mid-transaction leaves the last committed state.
/// - synchronous = FULL: each commit is fsynced before it is acknowledged, so what the app told
///   the person was saved survives a power cut, not only an app crash. Commits are small (one
///   edit, one draft save), so the cost is one fsync per save.
/// - busy_timeout: the one writer may briefly overlap with a checkpoint; wait, do not fail.
/// - temp_store = MEMORY: sorting and temp tables never spill into plaintext temp files.
/// - secure_delete: deleted rows are overwritten, not left in free pages.
/// - foreign_keys: enforce the references the schema declares.
/// - cache_size = 16 MiB: SQLCipher decrypts and verifies a page each time it enters the cache,
///   so a cache that holds a person's or a household's working set avoids repeating that work.
fn configure(conn: &Connection) -> Result<(), VaultError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(VaultError::Corrupt(format!(
            "database refused WAL mode (got {mode})"
        )));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA temp_store = MEMORY;
         PRAGMA secure_delete = ON;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16384;",
    )?;
    Ok(())
}
