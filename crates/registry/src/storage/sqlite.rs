//! The embedded SQLite store: one file, `registry.sqlite3`, in the data directory.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use doorstep_domain::wire::StorageKind;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::StorageError;

static MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/server/sqlite");

/// File name of the SQLite database inside the data directory.
pub const SQLITE_FILE: &str = "registry.sqlite3";

pub struct SqliteStore {
    pool: SqlitePool,
    /// Writers take turns here before they touch the database (see [`SqliteStore::write_turn`]).
    writers: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Made once, never changes: read from the database on first use only.
    store_id: tokio::sync::OnceCell<String>,
    /// Writes waiting to be committed together (see `group.rs`).
    queue: std::sync::Arc<super::group::Queue>,
}

impl SqliteStore {
    /// Open (creating if needed) the database in `data_dir` and bring its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Self, StorageError> {
        let path = data_dir.join(SQLITE_FILE);
        let location = path.display().to_string();
        let options = SqliteConnectOptions::from_str("sqlite:")
            .expect("static sqlite url")
            .filename(&path)
            .create_if_missing(true)
            .foreign_keys(true)
            // WAL lets readers proceed while one writer commits. NORMAL is durable across
            // application crashes in WAL mode; only an OS crash or power cut may lose the last
            // transactions, never corrupt the file, and clients retry unacknowledged writes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A connection must come out of the pool outside any transaction. sqlx 0.8 can put
            // one back inside a transaction nobody owns: when a `begin_with` future is dropped
            // after SQLite ran `BEGIN IMMEDIATE` but before the `Transaction` existed (a caller
            // that went away, a timeout). Every later `begin_with` on it then fails, and a
            // `BEGIN IMMEDIATE` left open blocks the other writers too. Such a connection is
            // closed here (SQLite rolls its transaction back) and the pool opens a new one. The
            // check runs after the pool's ping, which the connection's worker answers only after
            // any rollback already queued for it, so a transaction being given back is not
            // mistaken for one left behind.
            .test_before_acquire(true)
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    use sqlx::Connection as _;
                    let clean = !conn.is_in_transaction();
                    if !clean {
                        tracing::warn!("closing a database connection left inside a transaction");
                    }
                    Ok(clean)
                })
            })
            .connect_with(options)
            .await
            .map_err(|source| StorageError::Open {
                location: location.clone(),
                source,
            })?;

        let known = MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0);
        let found = applied_version(&pool).await?;
        if found > known {
            pool.close().await;
            return Err(StorageError::SchemaTooNew {
                location,
                found,
                known,
            });
        }
        MIGRATIONS.run(&pool).await?;
        Ok(SqliteStore {
            pool,
            writers: Default::default(),
            store_id: tokio::sync::OnceCell::new(),
            queue: Default::default(),
        })
    }

    /// Wait for this process's other writers to finish. SQLite lets one writer in at a time; a
    /// writer that finds the file locked sleeps in SQLite's busy handler for up to 100 ms before
    /// it looks again, which with 16 clients made one write in a hundred wait that long. Queued
    /// here instead, each writer starts the moment the previous one commits, in arrival order.
    /// (Another process writing the same file still meets the busy handler; none does in
    /// normal operation.)
    /// Run a write group's commit (given the pool to use). SQLite's connections each have a
    /// thread of their own already; the commit task stays on the server's runtime.
    fn spawn_commits<F>(&self, commit: impl FnOnce(SqlitePool) -> F) -> tokio::task::JoinHandle<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(commit(self.pool.clone()))
    }

    async fn close_pools(&self) {
        // Closing also checkpoints the WAL into the main file.
        self.pool.close().await;
    }

    async fn write_turn(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.writers.clone().lock_owned().await
    }

    #[cfg(test)]
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

super::sql::shared_store_impl!(
    SqliteStore,
    sqlx::Sqlite,
    crate::storage::sql::Dialect::Sqlite,
    StorageKind::Sqlite
);

/// Newest successfully applied migration, or 0 for a new database.
async fn applied_version(pool: &SqlitePool) -> Result<i64, StorageError> {
    let table_exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await?;
    if !table_exists {
        return Ok(0);
    }
    let version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    Ok(version.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Store;
    use crate::storage::{open, DatabaseLocation, BLOB_DIR};

    #[tokio::test]
    async fn open_creates_schema_and_reopen_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let storage = open(&data, &DatabaseLocation::EmbeddedSqlite)
            .await
            .unwrap();
        let version = storage.schema_version().await.unwrap();
        assert!(version >= 1);
        storage.ping().await.unwrap();
        storage.close().await;

        assert!(data.join(SQLITE_FILE).is_file());
        assert!(data.join(BLOB_DIR).is_dir());
        let again = open(&data, &DatabaseLocation::EmbeddedSqlite)
            .await
            .unwrap();
        assert_eq!(again.schema_version().await.unwrap(), version);
        again.close().await;
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn data_dir_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        open(&data, &DatabaseLocation::EmbeddedSqlite)
            .await
            .unwrap()
            .close()
            .await;
        let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    /// A write's `BEGIN` abandoned at any moment (its caller went away) must not leave a
    /// connection inside a transaction for the next writer to trip over.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_begins_leave_no_connection_in_a_transaction() {
        use sqlx::Connection as _;
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStore::open(dir.path()).await.unwrap();
        // Give up on `begin_batch` after 0..400 µs: before, during and after its `BEGIN`.
        for attempt in 0..400_u64 {
            let wait = std::time::Duration::from_micros(attempt % 400);
            let _ = tokio::time::timeout(wait, Store::begin_batch(&storage)).await;
        }
        // Every connection the pool hands out now is clean, and writing works.
        let mut held = Vec::new();
        for _ in 0..8 {
            let conn = storage.pool().acquire().await.unwrap();
            assert!(!conn.is_in_transaction());
            held.push(conn);
        }
        drop(held);
        for _ in 0..16 {
            drop(Store::begin_batch(&storage).await.unwrap());
        }
        Store::close(&storage).await;
    }

    #[tokio::test]
    async fn newer_schema_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStore::open(dir.path()).await.unwrap();
        // Pretend a future server applied migration 9999.
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from the future', TRUE, X'00', 0)",
        )
        .execute(storage.pool())
        .await
        .unwrap();
        Store::close(&storage).await;

        let err = SqliteStore::open(dir.path())
            .await
            .err()
            .expect("must refuse");
        assert!(
            matches!(err, StorageError::SchemaTooNew { found: 9999, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade doorstep-registry"));
    }

    #[tokio::test]
    async fn unusable_data_dir_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let err = open(&file, &DatabaseLocation::EmbeddedSqlite)
            .await
            .err()
            .expect("must fail");
        assert!(matches!(err, StorageError::DataDir { .. }), "{err}");
        assert!(err.to_string().contains("not-a-dir"));
    }
}
